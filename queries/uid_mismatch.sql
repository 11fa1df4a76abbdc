-- id: uid_mismatch
-- title: Process with more privilege than its real user
-- severity: high
-- techniques: T1548.001, T1068
-- description: Lists processes whose effective user id is lower than their
--   real user id, most often effective root (euid 0) in a process that a
--   normal user started. A setuid-root binary does this by design while it
--   runs, and so does a process after a privilege escalation exploit or a
--   planted setuid shell.
-- triage: Compare exe with the setuid programs that packages install (find
--   / -perm -4000 on a trusted image, or the package database): sudo, su,
--   passwd, pkexec, mount and similar are expected while a user runs them.
--   A setuid binary under /tmp, /dev/shm or a home directory, a shell with
--   euid 0, or a long-running process in this state is suspicious: inspect
--   the parent, the exe's hash and what the process does.
-- false_positives: Setuid programs while they run (sudo, su, passwd, chsh,
--   pkexec, newgrp, fusermount, the Chrome sandbox helper, Xorg.wrap) and
--   daemons that switch their effective id on purpose.

SELECT host, pid, ppid, name, exe, cmdline, uid, euid, suid, user, cap_eff
FROM processes
WHERE euid < uid
ORDER BY host, pid
