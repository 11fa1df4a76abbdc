-- id: deleted_log_still_open
-- title: Deleted log file still open
-- severity: high
-- techniques: T1070.002
-- description: Lists open descriptors of files under /var/log that were
--   deleted (link count 0) while a process still has them open. An intruder
--   who deletes auth.log, syslog or a web server's access log to hide a
--   login leaves the file alive as long as the daemon that writes it runs,
--   so its contents can still be read.
-- triage: Copy the file now with "cp /proc/PID/fd/FD /root/evidence/",
--   because it disappears when the process closes it or exits, then read
--   it for the events that were hidden. Check whether logrotate ran at that
--   time (its state file and the rotated file beside path): a rotated log
--   that the daemon has not reopened yet is benign. A log that no rotation
--   explains, or a path with nothing written in its place, points to
--   someone covering their tracks.
-- false_positives: Daemons that keep writing to a log that logrotate moved
--   and compressed, until they are told to reopen it. Programs that delete
--   their own temporary files under /var/log.

-- Scan fds first, testing the conditions on f in the scan, and look
-- up the process of each row that passes. The planner would otherwise look
-- up the fds of every process, one pid at a time.
SELECT /*+ JOIN_ORDER(f, p) LOOKUP_JOIN(f, p) */
  p.host, p.pid, p.name, p.exe, p.cmdline, p.uid, p.user,
  f.fd, f.path
FROM fds f
JOIN processes p ON p.pid = f.pid AND p.host = f.host
WHERE f.deleted = 1
  AND f.path LIKE '/var/log/%'
ORDER BY p.host, p.pid, f.fd
