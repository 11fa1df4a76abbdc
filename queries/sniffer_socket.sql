-- id: sniffer_socket
-- title: Packet or raw socket held by an unknown process
-- severity: high
-- techniques: T1040, T1205.002
-- description: Lists processes that hold a packet socket (AF_PACKET) or a
--   raw IP socket, one row per socket. Such a socket sees or forges traffic
--   below TCP and UDP, so sniffers that capture passwords and backdoors
--   woken by a magic packet (BPFDoor, for example) use one. tcpdump,
--   dhclient, dhcpcd, NetworkManager, systemd-networkd, wpa_supplicant and
--   lldpd are left out only when their executable lies under /bin, /sbin,
--   /usr/bin, /usr/sbin, /usr/local/bin, /usr/local/sbin or /usr/lib, so a
--   copy renamed to one of these names elsewhere still matches.
--   Sockets that no process holds are left to the orphan_socket hunt.
-- triage: Check exe and its hash against the packages on the host, and the
--   parent and start time. A packet socket in a process with a kernel-like
--   name, a deleted executable or an executable in /tmp or /dev/shm is a
--   strong sign of a sniffer or a passive backdoor. Capture a snapshot and
--   the executable before ending the process.
-- false_positives: The tools named above when installed elsewhere, other
--   capture tools (Wireshark's dumpcap, tshark, ngrep, iftop), ping or
--   traceroute while they run on systems without ICMP datagram sockets,
--   keepalived, VPN clients, and intrusion detection or monitoring agents
--   such as Suricata, Zeek and arpwatch.

-- Scan process_sockets first, testing the conditions on s in the scan, and look
-- up the process of each row that passes. The planner would otherwise look
-- up the process_sockets of every process, one pid at a time.
SELECT /*+ JOIN_ORDER(s, p) LOOKUP_JOIN(s, p) */
  p.host, p.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid, p.user,
  s.fd, s.family, s.protocol, s.local_address, s.local_port
FROM processes p
JOIN process_sockets s ON s.pid = p.pid AND s.host = p.host
WHERE (s.family = 'packet' OR s.protocol IN ('raw', 'raw6'))
  AND NOT (
    p.name IN ('tcpdump', 'dhclient', 'dhcpcd', 'NetworkManager', 'systemd-network', 'systemd-networkd', 'wpa_supplicant', 'lldpd')
    AND REGEXP_LIKE(p.exe, '^/(usr/|usr/local/)?s?bin/|^/usr/lib/', 'c')
  )
ORDER BY p.host, p.pid, s.fd
