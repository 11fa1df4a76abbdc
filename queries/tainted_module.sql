-- id: tainted_module
-- title: Kernel module that taints the kernel
-- severity: medium
-- techniques: T1547.006, T1014
-- description: Lists loaded kernel modules whose taint flags include O
--   (built outside the kernel tree), E (unsigned, on a kernel that signs its
--   modules), P (proprietary licence) or F (force-loaded past version
--   checks). Kernel rootkits such as Diamorphine and Reptile are out-of-tree,
--   unsigned modules, so they carry O and E. The meaning column spells out
--   each flag.
-- triage: Check each module against the packages installed on the host:
--   vendor drivers (NVIDIA, VirtualBox, VMware, ZFS, DKMS builds) are known
--   by name and come with a package. An unknown name, a module that no
--   package ships, or a loaded module in sys_modules (state not NULL) that
--   is missing here needs a memory image of the kernel. A rootkit can hide
--   itself from /proc and lie to user space.
-- false_positives: Graphics drivers (nvidia), virtualisation guest and host
--   modules (vboxdrv, vmw_*), ZFS, and any module built with DKMS or by hand
--   for local hardware.

SELECT host, name, taint,
  CONCAT_WS(', ',
    IF(REGEXP_LIKE(taint, 'O', 'c'), 'O out-of-tree', NULL),
    IF(REGEXP_LIKE(taint, 'E', 'c'), 'E unsigned', NULL),
    IF(REGEXP_LIKE(taint, 'P', 'c'), 'P proprietary', NULL),
    IF(REGEXP_LIKE(taint, 'F', 'c'), 'F force-loaded', NULL)) AS meaning,
  state, size, refcount, used_by, HEX(address) AS address
FROM modules
WHERE REGEXP_LIKE(taint, '[OEPF]', 'c')
ORDER BY host, name
