-- id: unusual_listener
-- title: Listening socket opened by an unusual process
-- severity: high
-- techniques: T1205, T1571
-- description: Lists TCP sockets listening on an address other than
--   loopback whose process runs an executable from a temporary directory
--   (/tmp, /var/tmp, /dev/shm), a home directory or a hidden path, or a
--   deleted executable, and sockets on a privileged port (below 1024) that
--   a user other than root created. Bind shells and backdoor services
--   listen like this. The socket's owner (uid) is the user that created
--   it, so workers that inherit a port from a root master process do not
--   match the port rule. The reason column names the first rule that
--   matched.
-- triage: Connect the port to its process: check exe, exe_sha256 in the
--   processes table, the parent and the command line. Look for accepted
--   connections on the same local_port in process_sockets, and block the
--   port at the firewall if the process is unknown.
-- false_positives: Development servers run from a home directory or /tmp,
--   services that kept running after an upgrade deleted their executable,
--   and services granted CAP_NET_BIND_SERVICE or a lowered
--   net.ipv4.ip_unprivileged_port_start to open a low port without root.

-- Scan process_sockets first, testing the conditions on s in the scan, and look
-- up the process of each row that passes. The planner would otherwise look
-- up the process_sockets of every process, one pid at a time.
SELECT /*+ JOIN_ORDER(s, p) LOOKUP_JOIN(s, p) */
  p.host, p.pid, p.ppid, p.name, p.exe, p.exe_deleted, p.cmdline, p.uid, p.user,
  s.fd, s.protocol, s.local_address, s.local_port, s.uid AS socket_uid,
  CASE
    WHEN REGEXP_LIKE(p.exe, '^/(tmp|var/tmp|dev/shm|home)/', 'c') THEN 'executable in a temporary or home directory'
    WHEN p.exe LIKE '%/.%' THEN 'executable under a hidden directory or file'
    WHEN p.exe_deleted = 1 THEN 'deleted executable'
    ELSE 'privileged port opened by a user other than root'
  END AS reason
FROM processes p
JOIN process_sockets s ON s.pid = p.pid AND s.host = p.host
WHERE s.state = 'LISTEN'
  AND s.family IN ('inet', 'inet6')
  AND NOT REGEXP_LIKE(s.local_address, '^(127\\.|::1$|::ffff:127\\.)', 'c')
  AND (
    REGEXP_LIKE(p.exe, '^/(tmp|var/tmp|dev/shm|home)/', 'c')
    OR p.exe LIKE '%/.%'
    OR p.exe_deleted = 1
    OR (s.uid <> 0 AND s.local_port < 1024)
  )
ORDER BY p.host, p.pid, s.fd
