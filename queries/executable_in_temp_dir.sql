-- id: executable_in_temp_dir
-- title: Process running from a temporary or hidden directory
-- severity: medium
-- techniques: T1564.001, T1105
-- description: Lists processes whose executable or working directory lies
--   in a world-writable temporary directory (/tmp, /var/tmp, /dev/shm) or
--   under a path component that starts with a dot. Attackers download tools
--   into these places because any user can write there and because hidden
--   directories escape a casual ls. The reason column names the first of
--   the four rules that matched.
-- triage: Hash the executable (exe_sha256 in the processes table) and check
--   who created the file and when. A binary in /dev/shm or in a hidden
--   directory under /tmp is rarely legitimate. For a working directory
--   match, look at what the process reads and writes there. Compare the
--   user with the owner of the directory and check the parent process.
-- false_positives: Tools installed per user under hidden directories, such
--   as ~/.local/bin, ~/.cargo/bin, ~/.vscode-server, ~/.nvm and ~/.pyenv.
--   Installers and build systems that unpack and run binaries in /tmp.
--   Shells whose user changed into /tmp or into a hidden directory such as
--   ~/.config.

SELECT host, pid, ppid, name, exe, cwd, cmdline, uid, user,
  CASE
    WHEN REGEXP_LIKE(exe, '^/(tmp|var/tmp|dev/shm)/', 'c') THEN 'executable in a temporary directory'
    WHEN exe LIKE '%/.%' THEN 'executable under a hidden directory or file'
    WHEN REGEXP_LIKE(cwd, '^/(tmp|var/tmp|dev/shm)(/|$)', 'c') THEN 'working directory in a temporary directory'
    ELSE 'working directory under a hidden directory'
  END AS reason
FROM processes
WHERE REGEXP_LIKE(exe, '^/(tmp|var/tmp|dev/shm)/', 'c')
   OR exe LIKE '%/.%'
   OR REGEXP_LIKE(cwd, '^/(tmp|var/tmp|dev/shm)(/|$)', 'c')
   OR cwd LIKE '%/.%'
ORDER BY host, pid
