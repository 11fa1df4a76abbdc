-- id: start_before_parent
-- title: Process that started before its parent
-- severity: medium
-- techniques: T1036, T1014
-- description: Lists user-space processes other than init whose start time
--   is earlier than their parent's. A child starts after its parent, and a
--   child whose parent exits moves to init or to a subreaper among its
--   ancestors, which also started earlier. So a hit has a parent link that
--   was changed, as a kernel rootkit does to hide where a shell came from,
--   or a start time that was forged, as in an altered copy of /proc.
-- triage: Read the parent's name, exe and command line (parent_pid and
--   parent_name), and look for processes between the two in the process
--   tree. Run the hunt again, because a pid that was reused while procsql
--   read the tree goes away. A child that keeps its early start under an
--   unrelated, newer parent needs a memory image of the kernel: check the
--   tainted_module and hidden_module hunts.
-- false_positives: A parent that exited while procsql read the process
--   list and whose pid a new process took at once. Processes restored by
--   checkpoint and restore tools such as CRIU.

SELECT c.host, c.pid, c.ppid, c.name, c.exe, c.cmdline, c.uid, c.user,
  c.start_time, p.pid AS parent_pid, p.name AS parent_name, p.start_time AS parent_start_time
FROM processes c
JOIN processes p ON p.pid = c.ppid AND p.host = c.host
WHERE c.start_time < p.start_time
  AND c.pid <> 1
  AND c.kernel_thread = 0
ORDER BY c.host, c.pid
