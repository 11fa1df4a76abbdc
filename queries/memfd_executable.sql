-- id: memfd_executable
-- title: Process running from an in-memory file (memfd)
-- severity: critical
-- techniques: T1620
-- description: Lists processes whose executable is an anonymous in-memory
--   file made with memfd_create, shown as /memfd:<name>. Fileless loaders
--   write a payload into such a file and execute it, so no copy ever
--   reaches the disk. The name after /memfd: is chosen by the program and
--   is often empty or made to look harmless.
-- triage: Look exe_sha256 up in threat intelligence, and save the binary
--   with "procsql snapshot --copy-deleted-exe" while the process runs.
--   Inspect the parent (ppid) and its command line to find what loaded the
--   payload, and the process's sockets and open files for what it does.
--   Unless the process is runc starting a container, treat a hit as a
--   compromise.
-- false_positives: The container runtime runc can re-execute itself from a
--   memfd whose name starts with runc_cloned while it starts a container,
--   and a few sandboxes and packers do the same. Such processes live for a
--   moment only. Some sandboxes also keep long-lived helpers running from a
--   sealed memfd copy of their binary.

-- The join reads processes a second time only for the pids that match, so
-- only their executables are hashed.
SELECT p.host, p.pid, p.ppid, p.name, p.exe, h.exe_sha256, h.exe_size, p.cmdline, p.uid, p.user, p.cwd, p.start_time
FROM processes p
JOIN processes h ON h.pid = p.pid AND h.host = p.host
WHERE p.exe LIKE '/memfd:%'
ORDER BY p.host, p.pid
