-- id: history_disabled
-- title: Shell history turned off through the environment
-- severity: medium
-- techniques: T1562.003, T1070.003
-- description: Lists processes that started with an environment that stops
--   shells from saving command history: HISTFILE empty or /dev/null, or
--   HISTSIZE, HISTFILESIZE or SAVEHIST (zsh) set to 0. Intruders do this so
--   their commands leave no trace in ~/.bash_history. A shell that changed
--   the variable after it started shows the change only in the children it
--   started afterwards, and only when the variable was exported.
-- triage: Find the interactive shell behind the hit: walk up ppid to the
--   login (sshd, a terminal, a web server) and note the user and the time.
--   List the commands that shell's children run now, and collect other
--   evidence of the session (auth logs, wtmp, sockets), because the history
--   file will not have it.
-- false_positives: Administrators who keep history off on purpose, CI jobs
--   and containers whose images set HISTFILE=/dev/null, and shells started by
--   scripts with an empty HISTFILE.

-- Scan environ first, testing the conditions on e in the scan, and look
-- up the process of each row that passes. The planner would otherwise look
-- up the environ of every process, one pid at a time.
SELECT /*+ JOIN_ORDER(e, p) LOOKUP_JOIN(e, p) */
  e.host, e.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid,
  GROUP_CONCAT(CONCAT(e.name, '=', e.value) ORDER BY e.name SEPARATOR ' ') AS settings
FROM environ e
JOIN processes p ON p.pid = e.pid AND p.host = e.host
WHERE (e.name = 'HISTFILE' AND TRIM(e.value) IN ('', '/dev/null'))
   OR (e.name IN ('HISTSIZE', 'HISTFILESIZE', 'SAVEHIST') AND TRIM(e.value) = '0')
GROUP BY e.host, e.pid, p.ppid, p.name, p.exe, p.cmdline, p.uid
ORDER BY e.host, e.pid
