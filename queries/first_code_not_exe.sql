-- id: first_code_not_exe
-- title: Process whose first executable mapping is not its executable
-- severity: high
-- techniques: T1620, T1055.009
-- description: Lists processes whose executable mapping at the lowest
--   address is anonymous memory or a memfd, or whose executable file
--   mapping at the lowest address is a file other than exe. The kernel maps
--   a program's own file first in most layouts, so exe is normally the first
--   executable file. Fileless loaders such as DDexec overwrite a running
--   process (dd or a shell) through /proc/<pid>/mem and map the payload at
--   its preferred address, often 0x400000, below the original binary, while
--   exe still names the harmless program. Kernel pseudo mappings such as
--   [vdso] are not counted.
-- triage: List the mappings with SELECT HEX(start), perms, kind, path FROM
--   maps WHERE pid = N ORDER BY start, and compare the first ones with exe.
--   A dd, bash or sh whose lowest code is anonymous, or a program whose
--   first code comes from /tmp, /dev/shm or a memfd, is running something
--   else: dump the region with gdb or through /proc/<pid>/mem, then read
--   the parent and the command line that started it.
-- false_positives: JIT runtimes (Java, Node.js and other V8 embedders,
--   .NET, LuaJIT) that place generated code below the executable. Programs
--   packed with UPX or a similar packer, which unpack into anonymous
--   memory. Programs started through the dynamic loader
--   (ld-linux-x86-64.so.2 /path/to/program), whose exe is the loader.

SELECT p.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid,
  HEX(m.start) AS first_exec_start, m.perms AS first_exec_perms, m.kind AS first_exec_kind,
  m.path AS first_exec_path, mf.path AS first_exec_file
FROM processes p
JOIN (
  SELECT pid, MIN(start) AS start
  FROM maps
  WHERE SUBSTRING(perms, 3, 1) = 'x'
    AND kind <> 'pseudo'
  GROUP BY pid
) first_any ON first_any.pid = p.pid
JOIN maps m ON m.pid = first_any.pid AND m.start = first_any.start
LEFT JOIN (
  SELECT pid, MIN(start) AS start
  FROM maps
  WHERE SUBSTRING(perms, 3, 1) = 'x'
    AND kind = 'file'
  GROUP BY pid
) first_file ON first_file.pid = p.pid
LEFT JOIN maps mf ON mf.pid = first_file.pid AND mf.start = first_file.start
WHERE m.kind <> 'file'
  OR mf.path <> p.exe
ORDER BY p.pid
