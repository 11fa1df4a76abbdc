-- id: fake_kernel_thread
-- title: User process that poses as a kernel thread
-- severity: high
-- techniques: T1036.005
-- description: Lists user-space processes (no PF_KTHREAD flag) that look
--   like kernel threads. A hit has a command name such as kworker,
--   ksoftirqd, kthreadd, kswapd, migration/, rcu_, watchdog/, cpuhp/, irq/
--   or jbd2/, or a first argument in square brackets as ps shows kernel
--   threads (such as "[kworker/0:1] 3600"), or an empty command line. Cryptominers and backdoors rename
--   themselves this way so that a glance at ps shows nothing unusual.
--   Zombies, whose command line is empty, are left out.
-- triage: A real kernel thread has the PF_KTHREAD flag, no exe, and ppid 2
--   (or 0 for kthreadd itself). A hit has neither, so read its exe,
--   exe_sha256, cwd, sockets and parent. Any hit with an executable on disk
--   or in memory should be handled as malware.
-- false_positives: Very few: a process caught while it exits can show an
--   empty command line for a moment, and a user-space program that happens
--   to be named like a kernel thread.

SELECT host, pid, ppid, name, state, exe, cmdline, uid, cwd,
  CASE
    WHEN REGEXP_LIKE(name, '^(kworker|ksoftirqd|kthreadd|kswapd|kcompactd|khugepaged|kauditd|khungtaskd|kdevtmpfs|kblockd|migration/|rcu_|watchdog/|cpuhp/|irq/|jbd2/)', 'c') THEN 'kernel thread name'
    WHEN JSON_UNQUOTE(JSON_EXTRACT(argv, '$[0]')) LIKE '[%]' THEN 'first argument in square brackets'
    ELSE 'empty command line'
  END AS reason
FROM processes
WHERE kernel_thread = 0
  AND state NOT IN ('Z', 'X')
  AND (
    REGEXP_LIKE(name, '^(kworker|ksoftirqd|kthreadd|kswapd|kcompactd|khugepaged|kauditd|khungtaskd|kdevtmpfs|kblockd|migration/|rcu_|watchdog/|cpuhp/|irq/|jbd2/)', 'c')
    OR JSON_UNQUOTE(JSON_EXTRACT(argv, '$[0]')) LIKE '[%]'
    OR LENGTH(cmdline_raw) = 0
  )
ORDER BY host, pid
