-- id: library_from_temp_path
-- title: Library or executable code mapped from a temporary or hidden path
-- severity: high
-- techniques: T1574.006, T1055.001
-- description: Lists processes with a file mapping that is executable, or
--   whose name ends in .so or contains .so., when the file lies in /tmp,
--   /var/tmp or /dev/shm or under a path component that starts with a dot.
--   Injected libraries, LD_PRELOAD rootkits and loaders that map a payload
--   are often dropped there. The process's own executable is left to the
--   executable_in_temp_dir hunt. One row per process and file.
-- triage: Hash the file, check who wrote it and when, and look for an
--   LD_PRELOAD variable or an /etc/ld.so.preload entry that loads it. A
--   library in /dev/shm or in a hidden directory inside a system service
--   such as sshd is a strong sign of injection.
-- false_positives: Programs that unpack and load their own libraries into
--   /tmp (PyInstaller and other self-extracting bundles, JNA, Electron
--   apps), per-user installs under hidden directories (~/.vscode-server,
--   ~/.local, ~/.cargo, ~/.steam), and test and build runs.

-- Scan maps first, testing the conditions on m in the scan, and look up the
-- process of each mapping that passes. The planner would otherwise look up
-- the maps of every process, one pid at a time. The rare temporary or hidden
-- path is tested first, and REGEXP_LIKE finds "/." faster than LIKE '%/.%'.
SELECT /*+ JOIN_ORDER(m, p) LOOKUP_JOIN(m, p) */
  p.host, p.pid, p.ppid, p.name, p.exe, p.uid, p.user,
  m.path, GROUP_CONCAT(m.perms ORDER BY m.start SEPARATOR ',') AS perms
FROM maps m
JOIN processes p ON p.pid = m.pid AND p.host = m.host
WHERE m.kind = 'file'
  AND (REGEXP_LIKE(m.path, '^/(tmp|var/tmp|dev/shm)/', 'c') OR REGEXP_LIKE(m.path, '/\\.', 'c'))
  AND (m.perms LIKE '__x_' OR REGEXP_LIKE(m.path, '\\.so(\\.|$)', 'c'))
  AND (p.exe IS NULL OR m.path <> p.exe)
GROUP BY p.host, p.pid, p.ppid, p.name, p.exe, p.uid, p.user, m.path
ORDER BY p.host, p.pid, m.path
