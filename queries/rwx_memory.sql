-- id: rwx_memory
-- title: Memory that is writable and executable at once
-- severity: medium
-- techniques: T1055, T1620
-- description: Lists processes with mappings whose permissions start with
--   rwx, one row per process. Injected shellcode and in-memory loaders need
--   memory they can write and then run, and the simplest way is a mapping
--   that allows both. Current compilers and loaders do not create such
--   mappings for ordinary programs, so outside just-in-time compilers they
--   are rare. No runtime is excluded: check the false positives.
-- triage: Look at the process first: a JIT runtime (java, node, a browser,
--   dotnet, LuaJIT) explains anonymous rwx memory. For any other program,
--   list the regions with SELECT HEX(start), size_bytes, path FROM maps
--   WHERE pid = N AND perms LIKE 'rwx%', then dump them with gdb, or
--   through /proc/<pid>/mem as root, and look for shellcode or an ELF or PE
--   header. An rwx mapping backed by a file under /tmp or by a deleted file
--   is suspicious in any process.
-- false_positives: Java (HotSpot code cache), older Node.js and V8 builds,
--   Mono and .NET, LuaJIT, QEMU's TCG, emulators and some game engines. Old
--   binaries that request an executable stack, which shows as an rwx
--   [stack]. procsql itself on amd64: go-mysql-server evaluates REGEXP with
--   ICU built as WebAssembly, which wazero v1.8.2 compiles into rwx memory.

-- Scan maps first, testing the conditions on m in the scan, and look
-- up the process of each row that passes. The planner would otherwise look
-- up the maps of every process, one pid at a time.
SELECT /*+ JOIN_ORDER(m, p) LOOKUP_JOIN(m, p) */
  m.host, m.pid, p.name, p.exe, p.cmdline,
  COUNT(*) AS mappings,
  CAST(SUM(m.size_bytes) AS UNSIGNED) AS total_bytes,
  HEX(MIN(m.start)) AS first_start,
  GROUP_CONCAT(DISTINCT COALESCE(m.path, '[anonymous]') ORDER BY COALESCE(m.path, '[anonymous]') SEPARATOR ', ') AS backing
FROM maps m
JOIN processes p ON p.pid = m.pid AND p.host = m.host
WHERE m.perms LIKE 'rwx%'
GROUP BY m.host, m.pid, p.name, p.exe, p.cmdline
ORDER BY m.host, m.pid
