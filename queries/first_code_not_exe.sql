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

-- One pass over the executable mappings: x numbers each process's mappings
-- by address and carries, on every row, the path of its lowest executable
-- file mapping. The hash join reads processes once, in parallel, instead of
-- looking up each of them one pid at a time.
SELECT /*+ JOIN_ORDER(p, x) HASH_JOIN(p, x) */
  p.host, p.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid,
  HEX(x.start) AS first_exec_start, x.perms AS first_exec_perms, x.kind AS first_exec_kind,
  x.path AS first_exec_path, x.first_file AS first_exec_file
FROM processes p
JOIN (
  SELECT host, pid, start, perms, kind, path,
    ROW_NUMBER() OVER (PARTITION BY host, pid ORDER BY start) AS position,
    FIRST_VALUE(CASE WHEN kind = 'file' THEN path END)
      OVER (PARTITION BY host, pid ORDER BY kind <> 'file', start) AS first_file
  FROM maps
  WHERE SUBSTRING(perms, 3, 1) = 'x'
    AND kind <> 'pseudo'
) x ON x.pid = p.pid AND x.host = p.host
WHERE x.position = 1
  AND (x.kind <> 'file' OR x.first_file <> p.exe)
ORDER BY p.host, p.pid
