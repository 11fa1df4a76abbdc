-- id: truncated_log_still_open
-- title: Log file truncated while a process still writes to it
-- severity: high
-- techniques: T1070.002
-- description: Finds processes that hold a file under /var/log open at an
--   offset beyond the file's current size. A writer's offset only grows,
--   so a file shorter than the offset was truncated after the writer
--   opened it, as an intruder does to wipe log lines without deleting the
--   file. Only processes that hold a log are read for offsets and sizes.
-- triage: Compare pos with size_bytes: the difference is how many bytes
--   were lost. Check what else held the file (SELECT pid FROM fds WHERE
--   path = '<path>'), the shell histories and the processes of that time,
--   and whether a rotation tool truncates the file on purpose
--   (copytruncate in logrotate).
-- false_positives: logrotate with copytruncate, which truncates logs that
--   daemons keep open, and writers that open logs with O_APPEND, whose
--   offset can lag behind the size until their next write.

-- fds is read once: the scan tests path and deleted first, so it reads the
-- fdinfo (for pos) and stat (for size_bytes) of log files only. The
-- process of each descriptor that passes is looked up by pid.
SELECT /*+ JOIN_ORDER(f, p) LOOKUP_JOIN(f, p) */
  f.host, f.pid, p.name, p.exe, f.fd, f.path, f.pos, f.size_bytes, f.pos - f.size_bytes AS bytes_lost
FROM fds f
JOIN processes p ON p.pid = f.pid AND p.host = f.host
WHERE f.path LIKE '/var/log/%'
  AND f.deleted = 0
  AND f.pos > f.size_bytes
ORDER BY f.host, f.pid, f.fd
