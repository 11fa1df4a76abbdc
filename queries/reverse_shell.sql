-- id: reverse_shell
-- title: Shell with its standard streams on a network connection
-- severity: critical
-- techniques: T1059.004
-- description: Lists shells (sh, bash, dash, zsh, ksh, mksh, ash, tcsh, csh,
--   fish or busybox, by command name or executable) whose standard input,
--   output or error is an established TCP or UDP connection, one row per
--   shell and connection. This is the shape a reverse or bind shell leaves:
--   bash -i >& /dev/tcp/..., nc -e /bin/sh and socat exec hand a network
--   socket to the shell as descriptors 0, 1 and 2. Shells reached through
--   sshd or a terminal use a pseudo-terminal or pipes instead.
-- triage: Treat a hit as an active intrusion. Record remote_address and
--   remote_port, the user, the parent (ppid) and its command line (often a
--   web server, a vulnerable service or nc), then list the shell's children
--   to see what the intruder runs now. Block the remote address and capture
--   a snapshot before ending the process.
-- false_positives: Services started by inetd, xinetd or systemd socket
--   activation (Accept=yes) that are shell scripts, and hand-made remote
--   consoles that pass a socket to a shell on purpose.

SELECT p.host, p.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid, p.user,
  GROUP_CONCAT(f.fd ORDER BY f.fd SEPARATOR ',') AS fds,
  s.protocol, s.local_address, s.local_port, s.remote_address, s.remote_port, s.state
FROM processes p
JOIN fds f ON f.pid = p.pid AND f.host = p.host
JOIN sockets s ON s.inode = f.inode AND s.host = f.host
WHERE f.fd IN (0, 1, 2)
  AND f.type = 'socket'
  AND s.family IN ('inet', 'inet6')
  AND s.state = 'ESTABLISHED'
  AND (
    p.name IN ('sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'tcsh', 'csh', 'fish', 'busybox')
    OR REGEXP_LIKE(p.exe, '/(ba|da|z|k|mk|a|tc|c|fi)?sh$|/busybox$', 'c')
  )
GROUP BY p.host, p.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid, p.user,
  s.protocol, s.local_address, s.local_port, s.remote_address, s.remote_port, s.state
ORDER BY p.host, p.pid
