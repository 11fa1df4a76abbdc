-- id: interpreter_outbound_connection
-- title: Script interpreter with an outbound network connection
-- severity: medium
-- techniques: T1059.006, T1059.007, T1071
-- description: Lists Python, Perl, Ruby, PHP, Node.js and Lua processes, by
--   command name or executable, that hold an established TCP or connected
--   UDP socket to an address other than loopback, one row per socket.
--   Droppers, reverse shells and command-and-control agents are often
--   one-line scripts in these languages. A connection whose local port is
--   a port that some socket listens on is taken as inbound and left out, so
--   web applications serving clients do not match.
-- triage: Read the cmdline and the script it runs, look up remote_address
--   and remote_port, and check the parent (ppid): a web server or a cron job
--   that starts an interpreter calling out is suspicious. Compare with what
--   the host is meant to run, and look for the same remote address in other
--   processes.
-- false_positives: Package managers (pip, gem, npm), configuration
--   management and monitoring agents written in these languages, and
--   applications that call databases, message queues or HTTP APIs on other
--   hosts.

SELECT p.host, p.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid, p.user,
  s.fd, s.protocol, s.local_address, s.local_port, s.remote_address, s.remote_port
FROM processes p
JOIN process_sockets s ON s.pid = p.pid AND s.host = p.host
LEFT JOIN sockets l ON l.host = s.host AND l.state = 'LISTEN' AND l.protocol = s.protocol
  AND l.local_port = s.local_port
WHERE s.family IN ('inet', 'inet6')
  AND s.state = 'ESTABLISHED'
  AND NOT REGEXP_LIKE(s.remote_address, '^(127\\.|::1$|::ffff:127\\.)', 'c')
  AND (
    REGEXP_LIKE(p.name, '^(python|perl|ruby|php|lua)[0-9.]*$|^(node|nodejs|luajit)$', 'c')
    OR REGEXP_LIKE(p.exe, '/(python|perl|ruby|php|lua)[0-9.]*$|/(node|nodejs|luajit)$', 'c')
  )
  AND l.inode IS NULL
ORDER BY p.host, p.pid, s.fd
