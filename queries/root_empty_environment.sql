-- id: root_empty_environment
-- title: Root process with an empty environment
-- severity: low
-- techniques: T1564, T1070
-- description: Lists processes of root (uid 0), other than kernel threads
--   and zombies, that started with no environment variables. init, service
--   managers, cron and login sessions all pass some, such as PATH or LANG,
--   so an empty environment points to a program started with env -i or an
--   empty envp, as exploits and implants do to leave no trace of where they
--   came from. A failed read of environ also gives no rows: those
--   processes match too, and a warning after the result counts the failed
--   reads.
-- triage: Read the warning line first: a hit whose environ could not be
--   read says nothing. Otherwise check exe, its hash and the parent (ppid),
--   and compare with the other processes of the same executable, which
--   normally carry variables.
-- false_positives: Processes whose environ read failed (see the warning),
--   programs that clear their environment on purpose before running a
--   child, some container init processes, and helpers the kernel starts
--   with a fixed environment on some distributions.

SELECT p.host, p.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid, p.user, p.state
FROM processes p
LEFT JOIN environ e ON e.pid = p.pid AND e.host = p.host
WHERE p.uid = 0
  AND p.kernel_thread = 0
  AND p.state <> 'Z'
  AND e.pid IS NULL
ORDER BY p.host, p.pid
