-- id: deleted_library_mapped
-- title: Deleted shared library still mapped
-- severity: medium
-- techniques: T1574.006, T1070.004
-- description: Lists libraries that a process has mapped although their file
--   was deleted: file mappings marked deleted that are executable or whose
--   name looks like a shared object (.so), one row per process and library.
--   An injected library that removed itself, or a preloaded rootkit library
--   deleted to hide it, shows up here. The process's own deleted executable
--   is left to the deleted_executable hunt.
-- triage: Check whether a package upgrade replaced the library: a path under
--   /usr/lib that exists again after an upgrade of its package is the usual
--   case, and restarting the process clears it. A path under /tmp, /dev/shm
--   or a hidden directory, or a library that no package owns, needs a copy:
--   read it from /proc/<pid>/map_files/ as root while the process runs.
-- false_positives: Processes that kept running after an upgrade of glibc,
--   OpenSSL or another library (needrestart and checkrestart report the
--   same), and programs that unpack plugins into temporary files and delete
--   them.

-- Scan maps first, testing the conditions on m in the scan, and look
-- up the process of each row that passes. The planner would otherwise look
-- up the maps of every process, one pid at a time.
SELECT /*+ JOIN_ORDER(m, p) LOOKUP_JOIN(m, p) */
  m.host, m.pid, p.name, p.exe, m.path, m.inode,
  GROUP_CONCAT(DISTINCT m.perms ORDER BY m.perms SEPARATOR ', ') AS perms
FROM maps m
JOIN processes p ON p.pid = m.pid AND p.host = m.host
WHERE m.deleted = 1
  AND m.kind = 'file'
  AND (SUBSTRING(m.perms, 3, 1) = 'x' OR REGEXP_LIKE(m.path, '[.]so([.]|$)', 'c'))
  AND (p.exe IS NULL OR m.path <> p.exe)
GROUP BY m.host, m.pid, p.name, p.exe, m.path, m.inode
ORDER BY m.host, m.pid, m.path
