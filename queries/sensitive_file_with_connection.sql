-- id: sensitive_file_with_connection
-- title: Process holding credentials open with a remote connection
-- severity: high
-- techniques: T1003.008, T1552.004, T1552.001, T1041
-- description: Lists processes that hold open a credential file and also
--   an established TCP or UDP connection to an address outside loopback,
--   one row per process. The credential files are /etc/shadow,
--   /etc/gshadow, SSH private keys (/root/.ssh/id_*, /home/*/.ssh/id_*
--   without .pub, /etc/ssh/ssh_host_*_key) and cloud credentials
--   (.aws/credentials and files under .config/gcloud/ or .azure/). A stealer
--   or an intruder copying keys out reads the file while its upload runs,
--   so both show at the same time.
-- triage: Look at connections: a remote address that belongs to neither
--   the cloud provider nor a backup or sync service the host uses is
--   suspect. Check exe, the parent and the user: a shell, interpreter or
--   unknown binary that reads /etc/shadow or another user's keys has no
--   benign reason to. On a hit, rotate the credentials in files, block the
--   remote address and capture a snapshot.
-- false_positives: Backup and file sync agents that upload home
--   directories or /etc (restic, rclone, Dropbox). Cloud command-line tools
--   (aws, gcloud, az) while they read their own credentials and call the
--   provider. Configuration management agents that manage SSH keys.

-- Scan fds first, testing the conditions on f in the scan, then look up the
-- process and the sockets of each file that passes. The planner would
-- otherwise look up the descriptors of every process, one pid at a time.
SELECT /*+ JOIN_ORDER(f, p, s) LOOKUP_JOIN(f, p) LOOKUP_JOIN(p, s) */
  p.host, p.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid, p.user,
  GROUP_CONCAT(DISTINCT f.path ORDER BY f.path SEPARATOR ', ') AS files,
  GROUP_CONCAT(DISTINCT CONCAT(s.protocol, ' ', s.remote_address, ' port ', s.remote_port)
    ORDER BY CONCAT(s.protocol, ' ', s.remote_address, ' port ', s.remote_port) SEPARATOR ', ') AS connections
FROM processes p
JOIN fds f ON f.pid = p.pid AND f.host = p.host
JOIN process_sockets s ON s.pid = p.pid AND s.host = p.host
WHERE f.type = 'file'
  AND (
    f.path IN ('/etc/shadow', '/etc/gshadow')
    OR (REGEXP_LIKE(f.path, '^(/root|/home/[^/]+)/\\.ssh/id_[^/]*$', 'c') AND f.path NOT LIKE '%.pub')
    OR REGEXP_LIKE(f.path, '^/etc/ssh/ssh_host_[^/]*_key$', 'c')
    OR REGEXP_LIKE(f.path, '/\\.aws/credentials$|/\\.config/gcloud/|/\\.azure/', 'c')
  )
  AND s.family IN ('inet', 'inet6')
  AND s.state = 'ESTABLISHED'
  AND NOT REGEXP_LIKE(s.remote_address, '^(127\\.|::1$|::ffff:127\\.)', 'c')
GROUP BY p.host, p.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid, p.user
ORDER BY p.host, p.pid
