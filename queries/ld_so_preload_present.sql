-- id: ld_so_preload_present
-- title: Libraries forced into every process by /etc/ld.so.preload
-- severity: high
-- techniques: T1574.006
-- description: Lists the libraries named in the host's /etc/ld.so.preload.
--   The dynamic loader maps each of them into every dynamically linked
--   program before the program's own libraries, so one line there hooks
--   every process on the host. The file is absent on a clean install, and
--   userland rootkits such as those that hide files and processes by
--   hooking libc write to it.
-- triage: Hash each library and check which package owns it (dpkg -S or
--   rpm -qf). Find the processes that map it with SELECT pid, name FROM
--   maps m JOIN processes p USING (pid) WHERE m.path = '<path>'. An entry
--   that no package owns, or a library in /tmp, /dev/shm, /usr/local/lib or
--   a hidden directory, points to a compromise; preserve the file before
--   removing it.
-- false_positives: Memory debuggers and performance tools installed on
--   purpose (libjemalloc, libtcmalloc, some endpoint agents) add entries;
--   compare with the host's configuration management.

SELECT host, line, path
FROM ld_so_preload
ORDER BY host, line, path
