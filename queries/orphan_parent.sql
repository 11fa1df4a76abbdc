-- id: orphan_parent
-- title: Process whose parent is missing from the process list
-- severity: medium
-- techniques: T1014, T1564
-- description: Lists user-space processes whose parent pid (ppid) matches
--   no process in the /proc directory listing. When a parent exits, the
--   kernel hands its children to init or the nearest subreaper at once and
--   changes their ppid. So a ppid that names no listed process means that
--   the parent is hidden, by a rootkit that filters the /proc listing or by
--   a copied tree that left the parent out. A ppid of 0, which the kernel
--   shows for init and for processes whose parent lies outside the
--   reader's pid namespace, is not counted.
--   The hunt reports nothing when pid 1 is not listed, because then the
--   listing is partial: a copied tree that holds only some processes, or a
--   /proc mounted with hidepid read by a user who cannot see root's
--   processes.
-- triage: Probe the parent directly with "cat /proc/PPID/status" and
--   "procsql query 'SELECT * FROM processes WHERE pid = PPID'", which read
--   /proc/PPID without the listing: a parent that answers there but not in
--   ps is hidden by a rootkit. Compare the loaded modules (tainted_module,
--   hidden_module) and /etc/ld.so.preload, which user-space rootkits use to
--   filter /proc. Run the hunt again: a hit that disappears was most likely
--   a parent that exited while procsql read.
-- false_positives: A parent that exited while procsql read the process
--   list, after its child was read. Copied trees that hold pid 1 but not
--   every other process.

-- "p.pid + 0" keeps the engine from probing /proc/<ppid> for each child,
-- which would find a parent that is hidden only from the listing, so the
-- join compares with the listing instead. The join with init does the same
-- for pid 1 and yields no rows for a host whose listing lacks it. Reading
-- init first skips the scan of the processes when no host lists pid 1.
SELECT /*+ JOIN_ORDER(init, c, p) */
  c.host, c.pid, c.ppid, c.name, c.state, c.exe, c.cmdline, c.uid, c.user, c.start_time
FROM processes c
JOIN processes init ON init.pid + 0 = 1 AND init.host = c.host
LEFT JOIN processes p ON p.pid + 0 = c.ppid AND p.host = c.host
WHERE c.ppid > 0
  AND c.kernel_thread = 0
  AND p.pid IS NULL
ORDER BY c.host, c.pid
