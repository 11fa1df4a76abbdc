package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// loadedModules are the modules of a Debian 12 KVM guest running Docker:
// name, size in bytes, and the modules that use it.
var loadedModules = []struct {
	name   string
	size   uint64
	usedBy string
}{
	{"xt_conntrack", 16384, ""}, {"nft_chain_nat", 16384, ""}, {"xt_MASQUERADE", 20480, ""},
	{"nf_nat", 57344, "nft_chain_nat,xt_MASQUERADE"}, {"nf_conntrack_netlink", 57344, ""},
	{"nf_conntrack", 188416, "xt_conntrack,nf_nat,nf_conntrack_netlink,xt_MASQUERADE"},
	{"nf_defrag_ipv6", 24576, "nf_conntrack"}, {"nf_defrag_ipv4", 16384, "nf_conntrack"},
	{"xfrm_user", 53248, ""}, {"xfrm_algo", 16384, "xfrm_user"}, {"xt_addrtype", 16384, ""},
	{"nft_compat", 20480, ""}, {"nf_tables", 319488, "nft_compat,nft_chain_nat"},
	{"libcrc32c", 16384, "nf_conntrack,nf_nat,nf_tables"}, {"nfnetlink", 20480, "nft_compat,nf_conntrack_netlink,nf_tables"},
	{"br_netfilter", 36864, ""}, {"bridge", 311296, "br_netfilter"}, {"stp", 16384, "bridge"},
	{"llc", 16384, "bridge,stp"}, {"overlay", 163840, ""}, {"veth", 40960, ""}, {"binfmt_misc", 24576, ""},
	{"intel_rapl_msr", 20480, ""}, {"intel_rapl_common", 32768, "intel_rapl_msr"}, {"kvm_intel", 380928, ""},
	{"kvm", 1142784, "kvm_intel"}, {"irqbypass", 16384, "kvm"}, {"ghash_clmulni_intel", 16384, ""},
	{"sha512_ssse3", 53248, ""}, {"sha512_generic", 16384, "sha512_ssse3"}, {"aesni_intel", 393216, ""},
	{"crypto_simd", 16384, "aesni_intel"}, {"cryptd", 28672, "ghash_clmulni_intel,crypto_simd"},
	{"virtio_balloon", 28672, ""}, {"joydev", 28672, ""}, {"evdev", 28672, ""}, {"serio_raw", 20480, ""},
	{"button", 24576, ""}, {"sg", 40960, ""}, {"loop", 32768, ""}, {"fuse", 176128, ""}, {"efi_pstore", 16384, ""},
	{"dm_mod", 184320, ""}, {"configfs", 57344, ""}, {"ip_tables", 32768, ""}, {"x_tables", 57344, "xt_conntrack,nft_compat,xt_addrtype,xt_MASQUERADE,ip_tables"},
	{"autofs4", 53248, ""}, {"ext4", 1011712, ""}, {"crc16", 16384, "ext4"}, {"mbcache", 16384, "ext4"},
	{"jbd2", 167936, "ext4"}, {"crc32c_generic", 16384, ""}, {"virtio_net", 69632, ""}, {"net_failover", 24576, "virtio_net"},
	{"failover", 16384, "net_failover"}, {"virtio_blk", 24576, ""}, {"crc32_pclmul", 16384, ""}, {"crc32c_intel", 24576, ""},
	{"psmouse", 188416, ""}, {"virtio_pci", 24576, ""}, {"virtio_pci_legacy_dev", 16384, "virtio_pci"},
	{"virtio_pci_modern_dev", 20480, "virtio_pci"}, {"virtio", 16384, "virtio_net,virtio_blk,virtio_balloon,virtio_pci"},
	{"virtio_ring", 40960, "virtio_net,virtio_blk,virtio_balloon,virtio_pci"}, {"i2c_piix4", 32768, ""},
	{"ata_generic", 16384, ""}, {"ata_piix", 36864, ""}, {"libata", 401408, "ata_generic,ata_piix"},
	{"scsi_mod", 278528, "sg,libata"}, {"scsi_common", 16384, "scsi_mod,libata,sg"}, {"floppy", 126976, ""}, {"pcspkr", 16384, ""},
}

// builtinModules are entries of /sys/module for code built into the kernel
// that has parameters: no refcnt, initstate or coresize file.
var builtinModules = []string{"8250", "acpi", "block", "cpuidle", "debug_core", "dynamic_debug", "edac_core", "firmware_class", "fb", "i8042", "kernel", "keyboard", "module", "page_alloc", "pcie_aspm", "printk", "random", "rcupdate", "rcutree", "sysrq", "tcp_cubic", "vt", "workqueue", "xen"}

// buildModules fills the host's module list. With planted behaviours it
// adds an unsigned out-of-tree driver (tainted_module) and a rootkit that
// removed itself from /proc/modules but not from /sys/module
// (hidden_module).
func (b *builder) buildModules(planted bool) {
	address := uint64(0xffffffffc0200000)
	users := map[string]int{}
	for _, m := range loadedModules {
		if m.usedBy != "" {
			users[m.name] = strings.Count(m.usedBy, ",") + 1
		}
	}
	for _, m := range loadedModules {
		mod := module{name: m.name, size: m.size, refcount: users[m.name], address: address}
		if m.usedBy != "" {
			mod.usedBy = strings.Split(m.usedBy, ",")
		}
		if m.name == "ext4" || m.name == "overlay" {
			mod.refcount = 1 + b.rng.IntN(4)
		}
		b.h.modules = append(b.h.modules, mod)
		address += (m.size + 0xfff) &^ 0xfff
		address += uint64(1+b.rng.IntN(8)) << 12
	}
	if planted {
		b.h.modules = append(b.h.modules,
			module{name: "vboxdrv", size: 696320, refcount: 0, taint: "OE", address: address},
			module{name: "reptile", size: 40960, refcount: 0, taint: "OE", hidden: true, address: address + 0xb0000})
	}
}

// modulesFile returns /proc/modules, newest module first as the kernel
// lists them.
func modulesFile(h *host) []byte {
	var b strings.Builder
	for i := len(h.modules) - 1; i >= 0; i-- {
		m := h.modules[i]
		if m.hidden {
			continue
		}
		deps := "-"
		if len(m.usedBy) > 0 {
			deps = strings.Join(m.usedBy, ",") + ","
		}
		fmt.Fprintf(&b, "%s %d %d %s Live 0x%016x", m.name, m.size, m.refcount, deps, m.address)
		if m.taint != "" {
			fmt.Fprintf(&b, " (%s)", m.taint)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// sysModuleFiles returns the files under /sys/module by path relative to
// /sys/module, with the directories of built-in code as "<name>/".
func sysModuleFiles(h *host) map[string]string {
	files := map[string]string{}
	for _, m := range h.modules {
		files[m.name+"/refcnt"] = strconv.Itoa(m.refcount) + "\n"
		files[m.name+"/initstate"] = "live\n"
		files[m.name+"/taint"] = m.taint + "\n"
		files[m.name+"/coresize"] = strconv.FormatUint(m.size, 10) + "\n"
	}
	for _, name := range builtinModules {
		files[name+"/parameters/"] = ""
	}
	return files
}

// passwdFile returns /etc/passwd.
func passwdFile(h *host) []byte {
	var b strings.Builder
	for _, u := range h.users {
		fmt.Fprintf(&b, "%s:x:%d:%d:%s:%s:%s\n", u.name, u.uid, u.gid, u.gecos, u.home, u.shell)
	}
	return []byte(b.String())
}

// groupFile returns /etc/group.
func groupFile(h *host) []byte {
	var b strings.Builder
	for _, g := range h.groups {
		fmt.Fprintf(&b, "%s:x:%d:%s\n", g.name, g.gid, strings.Join(g.members, ","))
	}
	return []byte(b.String())
}

// meminfoFile returns /proc/meminfo for the host's memory size, with the
// used share drawn from the process count.
func meminfoFile(h *host, procs int) []byte {
	total := h.memTotalKB
	used := min(total*6/10, uint64(400_000+procs*45_000))
	free := (total - used) / 3
	cached := total - used - free
	lines := []struct {
		name  string
		value uint64
		kB    bool
	}{
		{"MemTotal", total, true}, {"MemFree", free, true}, {"MemAvailable", free + cached*9/10, true},
		{"Buffers", cached / 40, true}, {"Cached", cached, true}, {"SwapCached", 0, true},
		{"Active", used/2 + cached/2, true}, {"Inactive", used/3 + cached/2, true},
		{"Active(anon)", used / 2, true}, {"Inactive(anon)", used / 3, true},
		{"Active(file)", cached / 2, true}, {"Inactive(file)", cached / 2, true},
		{"Unevictable", 0, true}, {"Mlocked", 0, true}, {"SwapTotal", 0, true}, {"SwapFree", 0, true},
		{"Zswap", 0, true}, {"Zswapped", 0, true}, {"Dirty", 1204, true}, {"Writeback", 0, true},
		{"AnonPages", used * 8 / 10, true}, {"Mapped", used / 5, true}, {"Shmem", 24_000, true},
		{"KReclaimable", cached / 30, true}, {"Slab", cached / 20, true}, {"SReclaimable", cached / 30, true},
		{"SUnreclaim", cached / 60, true}, {"KernelStack", uint64(procs) * 32, true}, {"PageTables", uint64(procs) * 180, true},
		{"SecPageTables", 0, true}, {"NFS_Unstable", 0, true}, {"Bounce", 0, true}, {"WritebackTmp", 0, true},
		{"CommitLimit", total / 2, true}, {"Committed_AS", used * 3, true}, {"VmallocTotal", 34359738367, true},
		{"VmallocUsed", 65_000, true}, {"VmallocChunk", 0, true}, {"Percpu", uint64(h.cpus) * 3_000, true},
		{"HardwareCorrupted", 0, true}, {"AnonHugePages", 0, true}, {"ShmemHugePages", 0, true},
		{"ShmemPmdMapped", 0, true}, {"FileHugePages", 0, true}, {"FilePmdMapped", 0, true},
		{"HugePages_Total", 0, false}, {"HugePages_Free", 0, false}, {"HugePages_Rsvd", 0, false},
		{"HugePages_Surp", 0, false}, {"Hugepagesize", 2048, true}, {"Hugetlb", 0, true},
		{"DirectMap4k", 190_000, true}, {"DirectMap2M", total/2 - 190_000, true}, {"DirectMap1G", total / 2, true},
	}
	var b strings.Builder
	for _, l := range lines {
		if l.kB {
			fmt.Fprintf(&b, "%-15s %8d kB\n", l.name+":", l.value)
		} else {
			fmt.Fprintf(&b, "%-15s %8d\n", l.name+":", l.value)
		}
	}
	return []byte(b.String())
}

// kernelStatFile returns /proc/stat: CPU time since boot, btime (which the
// tables read for start times) and the process counters.
func kernelStatFile(h *host, forks int) []byte {
	var b strings.Builder
	perCPU := h.uptimeTicks
	line := func(name string, scale uint64) {
		idle := perCPU * 85 / 100 * scale
		fmt.Fprintf(&b, "%s %d %d %d %d %d 0 %d %d 0 0\n", name, perCPU*8/100*scale, perCPU/1000*scale, perCPU*4/100*scale, idle, perCPU/200*scale, perCPU/500*scale, perCPU/300*scale)
	}
	line("cpu ", uint64(h.cpus))
	for cpu := range h.cpus {
		line("cpu"+strconv.Itoa(cpu), 1)
	}
	fmt.Fprintf(&b, "intr %d 0 9 0 0 0 0 0 0 0 0 0 0 0\n", h.uptimeTicks*40)
	fmt.Fprintf(&b, "ctxt %d\n", h.uptimeTicks*900)
	fmt.Fprintf(&b, "btime %d\n", h.bootTime)
	fmt.Fprintf(&b, "processes %d\n", forks)
	b.WriteString("procs_running 2\nprocs_blocked 0\n")
	fmt.Fprintf(&b, "softirq %d 0 %d 0 %d 0 0 %d %d 0 %d\n", h.uptimeTicks*30, h.uptimeTicks*9, h.uptimeTicks*6, h.uptimeTicks*2, h.uptimeTicks, h.uptimeTicks*8)
	return []byte(b.String())
}

// topLevelNames are the non-numeric entries of /proc on Linux 6.1, which
// the listing shows beside the process directories.
var topLevelNames = []string{"acpi", "bootconfig", "buddyinfo", "bus", "cgroups", "cmdline", "consoles", "cpuinfo", "crypto", "devices", "diskstats", "dma", "driver", "dynamic_debug", "execdomains", "fb", "filesystems", "fs", "interrupts", "iomem", "ioports", "irq", "kallsyms", "kcore", "key-users", "keys", "kmsg", "kpagecgroup", "kpagecount", "kpageflags", "loadavg", "locks", "meminfo", "misc", "modules", "mounts", "mtrr", "net", "pagetypeinfo", "partitions", "pressure", "schedstat", "self", "slabinfo", "softirqs", "stat", "swaps", "sys", "sysrq-trigger", "sysvipc", "thread-self", "timer_list", "tty", "uptime", "version", "vmallocinfo", "vmstat", "zoneinfo"}

// listingFile returns listing.txt, what readdir(/proc) returned: every
// process directory except hidden ones, and the top-level names.
func listingFile(h *host) []byte {
	names := append([]string(nil), topLevelNames...)
	for _, p := range h.procs {
		if !p.hidden {
			names = append(names, strconv.Itoa(p.pid))
		}
	}
	sort.Strings(names)
	return []byte(strings.Join(names, "\n") + "\n")
}
