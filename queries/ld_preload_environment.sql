-- id: ld_preload_environment
-- title: Process started with LD_PRELOAD, LD_LIBRARY_PATH or LD_AUDIT
-- severity: high
-- techniques: T1574.006
-- description: Lists processes that started with LD_PRELOAD,
--   LD_LIBRARY_PATH or LD_AUDIT set to a non-empty value. These variables
--   make the dynamic linker load or prefer libraries that the program did
--   not ask for, which user-mode rootkits and credential stealers use to
--   hook functions such as readdir, open or pam_authenticate in every child
--   of a shell. Only the environment a process started with is visible, not
--   a variable set later with setenv.
-- triage: Open each library named in the value: who owns the file, when it
--   was written, and whether a package ships it. A library in /tmp,
--   /dev/shm or a hidden directory, or a library that exports readdir, open
--   or getpwnam, is a strong sign of a rootkit. Also check
--   /etc/ld.so.preload, which this hunt cannot see, and the parent that set
--   the variable.
-- false_positives: LD_LIBRARY_PATH set by launch scripts of large
--   applications (Steam, Java and Oracle tools, CUDA, snap and Flatpak
--   wrappers). LD_PRELOAD set by profilers, memory debuggers, jemalloc or
--   tcmalloc wrappers, libfaketime and accessibility tools.

-- Scan environ first, testing the conditions on e in the scan, and look
-- up the process of each row that passes. The planner would otherwise look
-- up the environ of every process, one pid at a time.
SELECT /*+ JOIN_ORDER(e, p) LOOKUP_JOIN(e, p) */
  e.host, e.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid,
  GROUP_CONCAT(CONCAT(e.name, '=', e.value) ORDER BY e.name SEPARATOR '; ') AS variables
FROM environ e
JOIN processes p ON p.pid = e.pid AND p.host = e.host
WHERE e.name IN ('LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT')
  AND e.value <> ''
GROUP BY e.host, e.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid
ORDER BY e.host, e.pid
