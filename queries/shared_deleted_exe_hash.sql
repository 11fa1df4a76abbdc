-- id: shared_deleted_exe_hash
-- title: One deleted executable running under several names
-- severity: high
-- techniques: T1036.005, T1070.004
-- description: Lists processes whose executable was deleted (link count 0)
--   and has the same SHA-256 as that of another process on the same host
--   with a deleted executable and a different command name, one row per
--   process. Droppers copy one payload to several paths, start each copy
--   under a name that blends in (kworker, sshd, atd) and delete the files,
--   so the copies share a digest but not a name. processes_sharing_hash
--   counts the processes of the host with a deleted executable of that
--   digest.
-- triage: Treat the digest as one program: look it up in threat
--   intelligence, and save the bytes with "procsql snapshot
--   --copy-deleted-exe" before the processes exit. Compare each exe and
--   cmdline with the package that should own the name it uses. A digest
--   that runs under names of unrelated programs, or from /tmp, /dev/shm or
--   a home directory, marks every process in the group as malware.
-- false_positives: A multi-call or linked binary that a package upgrade
--   replaced while it ran under several names, such as bash running as
--   bash and sh, busybox applets or a coreutils multi-call build, until the
--   processes restart.

-- The join back to processes reads the second copy only for the pids that
-- match, so only the deleted executables are hashed. A digest runs under two
-- or more names on a host when the least and the greatest name of its group
-- on that host differ.
SELECT host, pid, ppid, name, exe, exe_sha256, processes_sharing_hash,
  cmdline, uid, user, start_time
FROM (
  SELECT p.host, p.pid, p.ppid, p.name, p.exe, h.exe_sha256, p.cmdline, p.uid, p.user, p.start_time,
    COUNT(*) OVER (PARTITION BY p.host, h.exe_sha256) AS processes_sharing_hash,
    MIN(p.name) OVER (PARTITION BY p.host, h.exe_sha256) AS least_name,
    MAX(p.name) OVER (PARTITION BY p.host, h.exe_sha256) AS greatest_name
  FROM processes p
  JOIN processes h ON h.pid = p.pid AND h.host = p.host
  WHERE p.exe_deleted = 1
) deleted
WHERE least_name <> greatest_name
  AND exe_sha256 IS NOT NULL
ORDER BY host, exe_sha256, pid
