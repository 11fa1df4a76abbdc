-- id: hidden_module
-- title: Loaded kernel module missing from /proc/modules
-- severity: high
-- techniques: T1014, T1547.006
-- description: Lists loadable kernel modules that have an entry with a
--   reference count in /sys/module but no line in /proc/modules. The kernel
--   shows a loaded module in both, so a module in only the first has been
--   unlinked from the kernel's module list, as some rootkits do to hide
--   from lsmod while their /sys/module entry stays. Built-in code, which has
--   an entry in /sys/module but no refcnt file, is not counted. On a source
--   without /sys/module, sys_modules is empty and the hunt finds nothing.
-- triage: Compare lsmod, /proc/modules and ls /sys/module on the host, and
--   look for the module's name in the packages installed. A module that
--   lsmod does not show but /sys/module does, with a taint such as O or E,
--   is hiding. Take a memory image of the kernel (LiME, AVML) before
--   rebooting, and treat the host as compromised, because a kernel rootkit
--   can change what every tool on it reports. Run the hunt again first: a
--   hit that disappears was a module that loaded or unloaded while procsql
--   read.
-- false_positives: A module that was loading or unloading between the reads
--   of /sys/module and /proc/modules.

SELECT s.host, s.name, s.refcount, s.state, s.taint, s.core_size
FROM sys_modules s
LEFT JOIN modules m ON m.name = s.name AND m.host = s.host
WHERE s.refcount IS NOT NULL
  AND m.name IS NULL
ORDER BY s.host, s.name
