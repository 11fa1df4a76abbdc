-- id: executable_anonymous_memory
-- title: Executable memory without a file behind it
-- severity: medium
-- techniques: T1055, T1620
-- description: Lists processes with executable mappings that no file on
--   disk backs: anonymous memory, named anonymous memory ([anon:...]) and
--   memfd files, one row per process. Code that was injected or unpacked in
--   memory lives in such mappings, often after an mprotect from writable to
--   executable, so unlike the rwx_memory hunt this also finds r-x regions.
--   Kernel pseudo mappings such as [vdso] are not counted.
-- triage: Rule out a JIT runtime from name and exe. Otherwise list the
--   regions with SELECT HEX(start), perms, size_bytes, path FROM maps WHERE
--   pid = N AND kind IN ('anonymous', 'anon_named', 'memfd') AND
--   SUBSTRING(perms, 3, 1) = 'x', then dump them with gdb, or through
--   /proc/<pid>/mem as root, and look for shellcode, ELF headers or
--   strings. A memfd mapping names its memfd in backing, so look for the
--   process that created it among those holding a memfd descriptor
--   (fds.type = 'memfd').
-- false_positives: JIT runtimes (Java, Node.js and other V8 embedders,
--   browsers, .NET, LuaJIT, PyPy), libffi closures in some Python and Ruby
--   builds, and sandboxes that copy code into memfds. procsql itself on
--   amd64: go-mysql-server evaluates REGEXP with ICU built as WebAssembly,
--   which wazero v1.8.2 compiles into anonymous rwx memory.

-- Scan maps first, testing the conditions on m in the scan, and look
-- up the process of each row that passes. The planner would otherwise look
-- up the maps of every process, one pid at a time.
SELECT /*+ JOIN_ORDER(m, p) LOOKUP_JOIN(m, p) */
  m.host, m.pid, p.name, p.exe, p.cmdline,
  COUNT(*) AS mappings,
  CAST(SUM(m.size_bytes) AS UNSIGNED) AS total_bytes,
  HEX(MIN(m.start)) AS first_start,
  GROUP_CONCAT(DISTINCT m.perms ORDER BY m.perms SEPARATOR ', ') AS perms,
  GROUP_CONCAT(DISTINCT COALESCE(m.path, '[anonymous]') ORDER BY COALESCE(m.path, '[anonymous]') SEPARATOR ', ') AS backing
FROM maps m
JOIN processes p ON p.pid = m.pid AND p.host = m.host
WHERE m.kind IN ('anonymous', 'anon_named', 'memfd')
  AND SUBSTRING(m.perms, 3, 1) = 'x'
GROUP BY m.host, m.pid, p.name, p.exe, p.cmdline
ORDER BY m.host, m.pid
