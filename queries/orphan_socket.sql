-- id: orphan_socket
-- title: Listening or connected socket that no process holds
-- severity: medium
-- techniques: T1014, T1564
-- description: Lists sockets in state LISTEN or ESTABLISHED, with a
--   non-zero inode, that no visible process holds as a file descriptor.
--   A rootkit that hides its process from /proc leaves its sockets in
--   /proc/net, so a backdoor's listener or connection shows up here
--   without an owner. TIME_WAIT entries, which have inode 0, are left out.
-- triage: Look up local_port and remote_address, and the uid that created
--   the socket. Run the query again: a socket whose process was starting
--   or exiting during the scan is gone or owned the second time. A
--   socket that stays orphaned needs a memory image of the kernel, as the
--   process holding it may be hidden.
-- false_positives: Sockets of processes that started or exited while the
--   scan ran, sockets the kernel opens for itself (NFS, SunRPC, iSCSI,
--   in-kernel TLS), and sockets of processes whose fd directory could not
--   be read, which a warning after the result counts.

SELECT s.host, s.family, s.protocol, s.local_address, s.local_port, s.remote_address, s.remote_port,
  s.state, s.inode, s.uid, s.net_ns, s.path
FROM process_sockets s
WHERE s.pid IS NULL
  AND s.state IN ('LISTEN', 'ESTABLISHED')
  AND s.inode <> 0
ORDER BY s.host, s.inode
