-- id: deleted_executable
-- title: Process running a deleted executable
-- severity: high
-- techniques: T1070.004
-- description: Lists processes whose executable file was deleted after they
--   started (link count 0). Malware often deletes its binary once it runs,
--   so the file is gone from disk while the process lives on. The bytes can
--   still be read through /proc/<pid>/exe, which exe_sha256 hashes.
--   Executables that were created with memfd_create are left to the
--   memfd_executable hunt.
-- triage: Check whether a package upgrade replaced the path: if the file at
--   exe exists again, compare the package's checksum with exe_sha256 and
--   look at the package manager's log for an upgrade after start_time. A
--   path that no package owns, a path under /tmp or a home directory, or an
--   exe_sha256 that no vendor publishes points to a dropped binary. Save it
--   with "procsql snapshot --copy-deleted-exe" before the process exits,
--   then inspect its parent (ppid), network sockets and open files.
-- false_positives: Services that kept running after a package upgrade
--   replaced their binary, until they restart. Programs that update
--   themselves in place, such as browsers. Build and test tools that run a
--   binary and delete it.

-- The join reads processes a second time only for the pids that match, so
-- only their executables are hashed.
SELECT p.host, p.pid, p.ppid, p.name, p.exe, h.exe_sha256, h.exe_size, p.cmdline, p.uid, p.user, p.cwd, p.start_time
FROM processes p
JOIN processes h ON h.pid = p.pid AND h.host = p.host
WHERE p.exe_deleted = 1
  AND p.exe NOT LIKE '/memfd:%'
ORDER BY p.host, p.pid
