-- id: process_name_mismatch
-- title: Process whose name differs from its executable
-- severity: medium
-- techniques: T1036.004, T1036.005
-- description: Lists user-space processes whose command name (comm, which
--   the kernel cuts to 15 bytes) is not a prefix of the base name of their
--   executable. The kernel sets comm from the file name passed to execve.
--   The two differ when a program renamed itself with prctl(PR_SET_NAME),
--   was started through a link with another name, or was run from a file
--   descriptor, where fexecve shows the descriptor number. Malware renames
--   itself to pose as sshd, kworker or dbus-daemon in ps. The comparison is
--   case-sensitive. Processes whose exe cannot be read are left out, and so
--   are shells, busybox and script interpreters (Python, Perl, Ruby, PHP,
--   Lua, Tcl, Node.js), whose comm is the name of the script or link they
--   were started through.
-- triage: Compare name with exe_name and the command line. Check whether a
--   symbolic link or an alternatives entry with the name of comm points to
--   exe (for example /usr/bin/vi to vim.basic), and whether the package that
--   owns exe documents renaming its processes. An exe under /tmp, /dev/shm,
--   a home directory or a memfd, a deleted exe, or a name that copies a
--   system daemon or a kernel thread is a strong sign: read its
--   exe_sha256, open files, sockets and parent.
-- false_positives: Programs started through a link or alternatives entry
--   with another name (vi, editor, x-terminal-emulator, mawk as awk).
--   Programs that name their processes by role, such as the Firefox content
--   processes (Web Content, Isolated Web Co), Chromium helpers and some
--   databases and proxies. Scripts run by an interpreter that is not in the
--   list above.

SELECT host, pid, ppid, name, SUBSTRING_INDEX(exe, '/', -1) AS exe_name, exe,
  exe_deleted, cmdline, uid, user, start_time
FROM processes
WHERE kernel_thread = 0
  AND exe IS NOT NULL
  AND BINARY LEFT(SUBSTRING_INDEX(exe, '/', -1), LENGTH(name)) <> BINARY name
  AND NOT REGEXP_LIKE(SUBSTRING_INDEX(exe, '/', -1),
    '^((ba|da|z|k|mk|a|tc|c|fi)?sh|busybox|node|nodejs|luajit|tclsh[0-9.]*|(python|perl|ruby|php|lua)[0-9.]*)$', 'c')
ORDER BY host, pid
