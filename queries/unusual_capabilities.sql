-- id: unusual_capabilities
-- title: Non-root process with effective capabilities
-- severity: medium
-- techniques: T1548, T1068
-- description: Lists user-space processes whose real uid is not 0 but
--   whose effective capability set (CapEff) is not empty. An ordinary
--   process of another user has no capabilities, so a hit has gained
--   privileges: it runs a setuid-root program, a file with capabilities
--   (setcap), a service with ambient capabilities, or an exploit that
--   raised its credentials in the kernel without changing its uid. cap_eff
--   is the mask as /proc/<pid>/status prints it, and 000001ffffffffff is
--   every capability of a current kernel.
-- triage: Decode cap_eff with "capsh --decode=MASK". Check exe against the
--   setuid programs and file capabilities the packages install (find /
--   -perm -4000, getcap -r /) and the unit file of a service
--   (AmbientCapabilities=, CapabilityBoundingSet=). A full mask on a
--   process with euid other than 0, a deleted exe, an exe under /tmp or a
--   home directory, or a shell with capabilities points to privilege
--   escalation: read its parent, open files and sockets.
-- false_positives: Setuid-root programs while they run (passwd, su, newgrp,
--   fusermount), because their real uid stays the caller's. Programs with
--   file capabilities, such as ping (cap_net_raw) or dumpcap. systemd
--   services that run as a dedicated user with ambient capabilities
--   (systemd-networkd, systemd-timesyncd, chronyd), and containers started
--   with added capabilities.

SELECT host, pid, ppid, name, exe, cmdline, uid, euid, user, cap_eff, start_time
FROM processes
WHERE kernel_thread = 0
  AND uid <> 0
  AND cap_eff <> '0000000000000000'
ORDER BY host, pid
