-- id: hidden_process
-- title: Process missing from the /proc listing but present when looked up
-- severity: critical
-- techniques: T1014, T1564.001
-- description: Compares the /proc directory listing with a lookup of
--   /proc/<pid> by name for every pid up to a bound (see the pid_probe
--   table). A rootkit that hooks getdents to hide a process usually leaves
--   lookups by name alone, so the process answers the probe while the
--   listing, and so ps and every other table, leaves it out. Threads also
--   answer the probe but name another process as their thread group, and
--   are not reported.
-- triage: Query the pid directly (SELECT * FROM processes WHERE pid = N,
--   and the fds, maps and process_sockets of that pid: lookups by pid
--   still reach it) and capture a snapshot at once. Check the modules and
--   sys_modules tables and the hidden_module hunt for the rootkit that
--   hides it, and take a memory image of the kernel before rebooting.
-- false_positives: A process that started between the listing and the
--   probe; run the hunt again, as a hidden process stays hidden. On a
--   copied tree, a process directory that listing.txt does not name.

SELECT p.host, p.pid, p.tgid, p.bound, q.ppid, q.name, q.exe, q.cmdline, q.uid, q.start_time
FROM pid_probe p
LEFT JOIN processes q ON q.pid = p.pid AND q.host = p.host
WHERE p.kind = 'hidden'
ORDER BY p.host, p.pid
