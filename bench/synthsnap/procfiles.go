package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// procContent builds the files of one /proc/<pid> directory. Its generator
// is seeded with -seed and the pid, so each directory's details are the
// same whatever order the directories are written in.
type procContent struct {
	p   *process
	h   *host
	cfg config
	rng *rand.Rand

	maps   []mapping
	totals vmTotals
	// ticks holds the user and system time of each thread, the main thread
	// first. The process's stat shows their sums, as the kernel's does.
	ticks [][2]uint64
}

func newProcContent(p *process, h *host, cfg config) *procContent {
	c := &procContent{p: p, h: h, cfg: cfg, rng: newRand(cfg.seed, uint64(p.pid)+1)}
	if !p.kernel && !p.zombie {
		c.maps = c.buildMaps()
		c.totals = sumMappings(c.maps)
	}
	age := float64(h.uptimeTicks - min(p.start, h.uptimeTicks))
	for range 1 + len(p.threadNames) {
		// Most processes are idle daemons that use a small share of a CPU.
		user := uint64(age * 0.0002 * c.rng.ExpFloat64())
		c.ticks = append(c.ticks, [2]uint64{user, user / uint64(2+c.rng.IntN(4))})
	}
	return c
}

// mapping is one line of maps with the counters its smaps entry shows.
type mapping struct {
	start, end uint64
	perms      string
	offset     uint64
	device     string
	inode      uint64
	path       string // as printed, with " (deleted)" for a deleted file
	exe        bool   // a segment of the executable
	lib        bool   // a segment of a shared library
	rssKB      uint64
	pssKB      uint64
	anonKB     uint64
	flags      string // VmFlags
}

// vmTotals are the status lines that summarise the mappings.
type vmTotals struct {
	sizeKB, rssKB, anonKB, fileKB, dataKB, exeKB, libKB, stackKB uint64
	startCode, endCode, startStack, startBrk, startData, endData uint64
}

// pathInode returns a stable inode number for a file path, so a library
// has the same inode in every process that maps it.
func pathInode(path string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(path))
	return 131072 + h.Sum64()%3_800_000
}

// pathHash returns a stable number derived from a path, for sizes.
func pathHash(path string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("size:" + path))
	return h.Sum64()
}

// deviceOf returns the major:minor of the file system holding path: the
// root file system on /dev/vda1 (254:1), /dev/shm, or the internal mount
// behind memfd files.
func deviceOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/memfd:"):
		return "00:01"
	case strings.HasPrefix(path, "/dev/shm/"):
		return "00:19"
	}
	return "fe:01"
}

// libPath returns the absolute path of a library named in program.libs.
func libPath(lib string) string {
	if strings.HasPrefix(lib, "/") {
		return lib
	}
	return libDir + lib
}

// buildMaps lays out the process's mappings as the kernel places them on
// x86_64: the executable, the heap, anonymous memory and libraries below
// the stack, the stack, [vvar], [vdso] and [vsyscall].
func (c *procContent) buildMaps() []mapping {
	p, rng := c.p, c.rng
	target := int(math.Round(c.h.mapsScale * p.prog.maps * (0.85 + 0.3*rng.Float64())))
	var out []mapping

	exePath := p.exe
	if p.exeDeleted {
		exePath += " (deleted)"
	}
	var base uint64 = 0x400000
	if !p.prog.static {
		base = 0x550000000000 + uint64(rng.Int64N(0xaffffff))<<12
	}
	end := c.addFile(&out, base, exePath, p.exe, false)
	var exeText mapping
	for i := range out {
		out[i].exe = true
		if out[i].perms == "r-xp" && exeText.end == 0 {
			exeText = out[i]
		}
	}
	fixed := len(out) + 4 // and [stack], [vvar], [vdso], [vsyscall]

	var libs []string
	if !p.prog.static {
		if p.preload != "" {
			libs = append(libs, p.preload)
		}
		libs = append(libs, p.libs...)
		if p.libs == nil {
			libs = append(libs, p.prog.libs...)
		}
		libs = append(libs, "libc.so.6")
		fixed += 1 + 5 // the heap and the dynamic loader
	}
	jit := 0
	switch p.prog.jit {
	case "rwxp":
		jit = 3
	case "r-xp":
		jit = 2
	}
	room := max(target-fixed-jit-len(p.maps), 0)
	nLibs := min(len(libs), room*4/5/5)
	if nLibs < len(libs) && !p.prog.static {
		// Keep libc and a preloaded library however few mappings are asked for.
		kept := libs[:nLibs]
		if p.preload != "" && nLibs == 0 {
			kept = libs[:1]
		}
		libs = append(slices.Clone(kept), "libc.so.6")
	}
	anon := max(room-5*len(libs), 0)

	if !p.prog.static {
		heapStart := alignPage(end + uint64(rng.IntN(0x2000))<<12)
		heapEnd := heapStart + 0x21000 + uint64(rng.IntN(0x3000))<<12
		out = append(out, c.anonMapping(heapStart, heapEnd, "rw-p", "[heap]"))
	} else {
		// The Go runtime reserves its heap arenas at 0xc000000000.
		arena := uint64(0xc000000000)
		for i := 0; i < anon/2; i++ {
			size := uint64(1+rng.IntN(64)) << 20
			out = append(out, c.anonMapping(arena, arena+size, "rw-p", ""))
			arena += size + uint64(rng.IntN(4))<<20
		}
		anon -= anon / 2
	}

	addr := uint64(0x7f0000000000) + uint64(rng.Int64N(0xe000000))<<12
	perLib := anon / max(len(libs)+1, 1)
	anonLeft := anon
	placeAnon := func(n int) {
		for range n {
			size := uint64(1+rng.IntN(256)) << 12
			if rng.IntN(8) == 0 {
				size = uint64(1+rng.IntN(64)) << 20
			}
			out = append(out, c.anonMapping(addr, addr+size, "rw-p", ""))
			addr += size
			anonLeft--
		}
	}
	for i := range jit {
		size := uint64(0x250000)
		if i > 0 {
			size = 0x7000000
		}
		out = append(out, c.anonMapping(addr, addr+size, p.prog.jit, ""))
		addr += size + 0x1000
	}
	for _, lib := range libs {
		placeAnon(min(perLib, anonLeft))
		path := libPath(lib)
		addr = c.addFile(&out, addr, path, strings.TrimSuffix(path, " (deleted)"), true) + uint64(rng.IntN(4))<<12
	}
	placeAnon(anonLeft)
	if !p.prog.static {
		addr = c.addFile(&out, addr+0x2000, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", true)
	}

	stack := uint64(0x7ffc00000000) + uint64(rng.Int64N(0x3fff0))<<12
	out = append(out, c.anonMapping(stack, stack+0x21000, "rw-p", "[stack]"))
	vvar := stack + 0x21000 + uint64(0x100+rng.IntN(0x1000))<<12
	out = append(out, c.anonMapping(vvar, vvar+0x4000, "r--p", "[vvar]"))
	out = append(out, c.anonMapping(vvar+0x4000, vvar+0x6000, "r-xp", "[vdso]"))
	out = append(out, c.anonMapping(0xffffffffff600000, 0xffffffffff601000, "--xp", "[vsyscall]"))
	for _, m := range p.maps {
		out = append(out, c.anonMapping(m.start, m.end, m.perms, m.path))
	}
	slices.SortFunc(out, func(x, y mapping) int {
		switch {
		case x.start < y.start:
			return -1
		case x.start > y.start:
			return 1
		}
		return 0
	})
	c.totals.startCode, c.totals.endCode = exeText.start, exeText.end
	c.totals.startStack = stack + 0x20000 - uint64(rng.IntN(0x100))*16
	return out
}

func alignPage(addr uint64) uint64 { return addr &^ 0xfff }

// addFile maps an ELF file at addr as the loader does: headers, code,
// read-only data, RELRO and data, with sizes that depend only on the path.
// It returns the end of the last segment.
func (c *procContent) addFile(out *[]mapping, addr uint64, path, identity string, lib bool) uint64 {
	h := pathHash(identity)
	sizes := [5]uint64{1 + h%6, 8 + h/8%400, 4 + h/8192%120, 1 + h/2_000_000%6, 1 + h/20_000_000%4}
	perms := [5]string{"r--p", "r-xp", "r--p", "r--p", "rw-p"}
	if c.p.prog.static && !lib {
		sizes = [5]uint64{0, 200 + h%4000, 100 + h/8192%3000, 0, 8 + h/1_000_000%64}
	}
	inode := pathInode(identity)
	if strings.HasPrefix(identity, "/memfd:") {
		inode = 1024 + h%4096
	}
	var offset uint64
	for i, pages := range sizes {
		if pages == 0 {
			continue
		}
		size := pages << 12
		m := mapping{start: addr, end: addr + size, perms: perms[i], offset: offset, device: deviceOf(identity), inode: inode, path: path, lib: lib}
		if i == 4 {
			// The writable data segment shares its first page with RELRO.
			m.offset = offset - 0x1000*boolUint(sizes[3] > 0)
		}
		c.fillCounters(&m)
		*out = append(*out, m)
		addr += size
		offset += size
	}
	return addr
}

func boolUint(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

// anonMapping returns a mapping without a file: anonymous memory, a pseudo
// mapping such as [heap], or planted memory.
func (c *procContent) anonMapping(start, end uint64, perms, path string) mapping {
	m := mapping{start: start, end: end, perms: perms, device: "00:00", path: path}
	c.fillCounters(&m)
	return m
}

// fillCounters draws the smaps counters of m: resident and proportional
// sizes, and the VmFlags that go with its permissions.
func (c *procContent) fillCounters(m *mapping) {
	sizeKB := (m.end - m.start) / 1024
	rng := c.rng
	writable := m.perms[1] == 'w'
	switch {
	case m.path == "[vsyscall]" || m.path == "[vvar]":
		m.rssKB = 0
	case m.path == "[vdso]":
		m.rssKB = 4 * uint64(1+rng.IntN(2))
	case m.path == "[stack]":
		m.rssKB = 4 * uint64(2+rng.IntN(30))
	case writable:
		m.rssKB = sizeKB * uint64(rng.IntN(101)) / 100 / 4 * 4
	default:
		m.rssKB = sizeKB * uint64(10+rng.IntN(80)) / 100 / 4 * 4
	}
	m.pssKB = m.rssKB
	if m.inode != 0 && !writable {
		m.pssKB = m.rssKB / uint64(1+rng.IntN(40))
	}
	if m.inode == 0 || writable {
		m.anonKB = m.rssKB
	}
	switch {
	case m.path == "[stack]":
		m.flags = "rd wr mr mw me gd ac"
	case m.path == "[vvar]":
		m.flags = "rd mr pf io de dd sd"
	case m.path == "[vdso]":
		m.flags = "rd ex mr mw me de sd"
	case m.path == "[vsyscall]":
		m.flags = "ex"
	case m.perms == "rwxp":
		m.flags = "rd wr ex mr mw me ac sd"
	case m.perms == "r-xp":
		m.flags = "rd ex mr mw me sd"
	case writable:
		m.flags = "rd wr mr mw me ac sd"
	default:
		m.flags = "rd mr mw me sd"
	}
}

func sumMappings(maps []mapping) vmTotals {
	var t vmTotals
	for _, m := range maps {
		if m.path == "[vsyscall]" {
			continue
		}
		size := (m.end - m.start) / 1024
		t.sizeKB += size
		t.rssKB += m.rssKB
		t.anonKB += m.anonKB
		switch {
		case m.path == "[stack]":
			t.stackKB += size
		case m.perms[1] == 'w' && m.perms[3] == 'p':
			t.dataKB += size
		}
		if m.perms[2] == 'x' && m.exe {
			t.exeKB += size
		}
		if m.perms[2] == 'x' && m.lib {
			t.libKB += size
		}
		if m.path == "[heap]" {
			t.startBrk = m.start
		}
		if m.exe && m.perms == "rw-p" {
			t.startData, t.endData = m.start, m.end
		}
	}
	t.fileKB = t.rssKB - t.anonKB
	return t
}

// mapsFile returns /proc/<pid>/maps: the path starts in column 74 (the
// kernel pads to 73 characters on 64-bit), and a line without a path ends
// in a space.
func (c *procContent) mapsFile() []byte {
	buf := make([]byte, 0, len(c.maps)*100)
	for _, m := range c.maps {
		buf = appendMapsLine(buf, m)
	}
	return buf
}

func appendMapsLine(buf []byte, m mapping) []byte {
	lineStart := len(buf)
	buf = fmt.Appendf(buf, "%08x-%08x %s %08x %s %d ", m.start, m.end, m.perms, m.offset, m.device, m.inode)
	if m.path != "" {
		for len(buf)-lineStart < 73 {
			buf = append(buf, ' ')
		}
		buf = append(buf, m.path...)
	}
	return append(buf, '\n')
}

// smapsFile returns /proc/<pid>/smaps in Linux 6.1's layout.
func (c *procContent) smapsFile() []byte {
	buf := make([]byte, 0, len(c.maps)*760)
	for _, m := range c.maps {
		buf = appendMapsLine(buf, m)
		private := m.anonKB
		shared := m.rssKB - private
		dirty := private
		if m.inode != 0 && m.perms[1] != 'w' {
			dirty = 0
		}
		buf = appendKB(buf, "Size:", (m.end-m.start)/1024)
		buf = appendKB(buf, "KernelPageSize:", 4)
		buf = appendKB(buf, "MMUPageSize:", 4)
		buf = appendKB(buf, "Rss:", m.rssKB)
		buf = appendKB(buf, "Pss:", m.pssKB)
		buf = appendKB(buf, "Pss_Dirty:", dirty)
		buf = appendKB(buf, "Shared_Clean:", shared)
		buf = appendKB(buf, "Shared_Dirty:", 0)
		buf = appendKB(buf, "Private_Clean:", private-dirty)
		buf = appendKB(buf, "Private_Dirty:", dirty)
		buf = appendKB(buf, "Referenced:", m.rssKB)
		buf = appendKB(buf, "Anonymous:", m.anonKB)
		buf = appendKB(buf, "KSM:", 0)
		buf = appendKB(buf, "LazyFree:", 0)
		buf = appendKB(buf, "AnonHugePages:", 0)
		buf = appendKB(buf, "ShmemPmdMapped:", 0)
		buf = appendKB(buf, "FilePmdMapped:", 0)
		buf = appendKB(buf, "Shared_Hugetlb:", 0)
		buf = appendKB(buf, "Private_Hugetlb:", 0)
		buf = appendKB(buf, "Swap:", 0)
		buf = appendKB(buf, "SwapPss:", 0)
		buf = appendKB(buf, "Locked:", 0)
		buf = append(buf, "THPeligible:           0\nVmFlags: "...)
		buf = append(buf, m.flags...)
		buf = append(buf, " \n"...)
	}
	return buf
}

// appendKB appends "Key:" padded to 16 columns, the value right-aligned in
// 8 columns, and " kB".
func appendKB(buf []byte, key string, value uint64) []byte {
	buf = append(buf, key...)
	digits := strconv.AppendUint(nil, value, 10)
	for n := len(key) + len(digits); n < 24; n++ {
		buf = append(buf, ' ')
	}
	buf = append(buf, digits...)
	return append(buf, " kB\n"...)
}

// digest returns the SHA-256 and size a hash of the executable reports.
// Processes running the same program, or planted copies of one payload,
// share it.
func (c *procContent) digest() (string, int64) {
	key := c.p.exeDigestKey
	if key == "" {
		key = c.p.exe
	}
	sum := sha256.Sum256([]byte("synthsnap executable " + key))
	return hex.EncodeToString(sum[:]), int64(20_000 + pathHash(key)%60_000_000)
}

// cmdline returns the NUL-terminated arguments.
func (c *procContent) cmdline() []byte {
	var buf []byte
	for _, a := range c.p.argv {
		buf = append(buf, a...)
		buf = append(buf, 0)
	}
	return buf
}

// environ returns the NUL-terminated environment.
func (c *procContent) environ() []byte {
	var buf []byte
	for _, v := range c.p.env {
		buf = append(buf, v...)
		buf = append(buf, 0)
	}
	return buf
}

// processStat returns /proc/<pid>/stat.
func (c *procContent) processStat() []byte {
	var utime, stime uint64
	for _, t := range c.ticks {
		utime += t[0]
		stime += t[1]
	}
	return c.statLine(c.p.pid, c.p.comm, c.p.start, c.p.state, utime, stime)
}

// threadStat returns task/<tid>/stat of thread i, 0 being the main thread.
func (c *procContent) threadStat(i int) []byte {
	if i == 0 {
		return c.statLine(c.p.pid, c.p.comm, c.p.start, c.p.state, c.ticks[0][0], c.ticks[0][1])
	}
	start := c.p.start + uint64(1+c.rng.IntN(500))
	return c.statLine(c.p.pid+i, c.p.threadNames[i-1], start, 'S', c.ticks[i][0], c.ticks[i][1])
}

// statLine returns a stat line of the process or one of its threads, with
// all 52 fields of Linux 6.1.
func (c *procContent) statLine(tid int, comm string, start uint64, state byte, utime, stime uint64) []byte {
	p, t := c.p, c.totals
	tpgid := -1
	if p.ttyNr != 0 {
		tpgid = p.pgrp
	}
	threads := 1 + len(p.threadNames)
	vsize, rss := t.sizeKB*1024, t.rssKB/4

	var minflt, majflt uint64
	if !p.kernel {
		minflt, majflt = uint64(c.rng.IntN(400000)), uint64(c.rng.IntN(900))
	}
	wchan := 1
	if state == 'R' {
		wchan = 0
	}

	sigignore, sigcatch := "4096", "0"
	if p.kernel {
		sigignore, sigcatch = "2147483647", "0"
	} else if !p.zombie {
		sigcatch = "65536"
	}

	exitCode := 0
	var argStart, argEnd, envStart, envEnd uint64
	if len(c.maps) > 0 {
		argStart = t.startStack + 0x1000 + uint64(c.rng.IntN(0x400))
		argEnd = argStart + uint64(len(c.cmdline()))
		envStart, envEnd = argEnd, argEnd+uint64(len(c.environ()))
	}

	return fmt.Appendf(nil, "%d (%s) %c %d %d %d %d %d %d %d 0 %d 0 %d %d 0 0 %d %d %d 0 %d %d %d 18446744073709551615 %d %d %d 0 0 0 0 %s %s %d 0 0 17 %d 0 0 %d 0 0 %d %d %d %d %d %d %d %d\n",
		tid, comm, state, p.ppid, p.pgrp, p.session, p.ttyNr, tpgid, p.flags, minflt, majflt,
		utime, stime, 20+p.nice, p.nice, threads, start, vsize, rss,
		t.startCode, t.endCode, t.startStack, sigignore, sigcatch, wchan,
		c.rng.IntN(c.h.cpus), c.rng.IntN(50), t.startData, t.endData, t.startBrk,
		argStart, argEnd, envStart, envEnd, exitCode)
}

// stateNames maps stat state letters to status's "State:" text.
var stateNames = map[byte]string{'R': "R (running)", 'S': "S (sleeping)", 'I': "I (idle)", 'Z': "Z (zombie)", 'D': "D (disk sleep)", 't': "t (tracing stop)"}

// status returns /proc/<pid>/status in Linux 6.1's layout. Kernel threads
// and zombies have no address space, so they lack the Vm* lines.
func (c *procContent) status() []byte {
	p, t := c.p, c.totals
	var b strings.Builder
	line := func(key, value string) {
		b.WriteString(key)
		b.WriteString(":\t")
		b.WriteString(value)
		b.WriteByte('\n')
	}
	kb := func(key string, v uint64) { line(key, fmt.Sprintf("%8d kB", v)) }

	line("Name", p.comm)
	if !p.zombie {
		line("Umask", "0022")
	}
	line("State", stateNames[p.state])
	line("Tgid", strconv.Itoa(p.pid))
	line("Ngid", "0")
	line("Pid", strconv.Itoa(p.pid))
	line("PPid", strconv.Itoa(p.ppid))
	line("TracerPid", strconv.Itoa(p.tracerPID))

	// A setuid program keeps its effective id as the saved and file
	// system ids.
	line("Uid", fmt.Sprintf("%d\t%d\t%d\t%d", p.uid, p.euid, p.euid, p.euid))
	line("Gid", fmt.Sprintf("%d\t%d\t%d\t%d", p.gid, p.gid, p.gid, p.gid))
	fdSize := 64
	if n := len(p.sockets) + int(c.h.fdsScale*p.progFDs()); n > 60 {
		fdSize = 256
	}
	line("FDSize", strconv.Itoa(fdSize))
	line("Groups", c.groups())

	ids := func(host, inner int) string {
		if p.nsPID > 0 {
			return fmt.Sprintf("%d\t%d", host, inner)
		}
		return strconv.Itoa(host)
	}
	line("NStgid", ids(p.pid, p.nsPID))
	line("NSpid", ids(p.pid, p.nsPID))
	line("NSpgid", ids(p.pgrp, p.nsPID))
	line("NSsid", ids(p.session, p.nsPID))
	line("Kthread", strconv.Itoa(int(boolUint(p.kernel))))

	if !p.kernel && !p.zombie {
		kb("VmPeak", t.sizeKB+t.sizeKB/20)
		kb("VmSize", t.sizeKB)
		kb("VmLck", 0)
		kb("VmPin", 0)
		kb("VmHWM", t.rssKB+t.rssKB/10)
		kb("VmRSS", t.rssKB)
		kb("RssAnon", t.anonKB)
		kb("RssFile", t.fileKB)
		kb("RssShmem", 0)
		kb("VmData", t.dataKB)
		kb("VmStk", t.stackKB)
		kb("VmExe", t.exeKB)
		kb("VmLib", t.libKB)
		kb("VmPTE", 48+t.sizeKB/512)
		kb("VmSwap", 0)
		kb("HugetlbPages", 0)
	}

	line("CoreDumping", "0")
	line("THP_enabled", "1")
	line("untag_mask", "0xffffffffffffffff")
	line("Threads", strconv.Itoa(1+len(p.threadNames)))
	line("SigQ", "0/"+strconv.Itoa(int(c.h.memTotalKB/340)))
	line("SigPnd", "0000000000000000")
	line("ShdPnd", "0000000000000000")
	line("SigBlk", "0000000000000000")
	line("SigIgn", "0000000000001000")
	line("SigCgt", "0000000180004a03")

	line("CapInh", "0000000000000000")
	line("CapPrm", fmt.Sprintf("%016x", p.capEff))
	line("CapEff", fmt.Sprintf("%016x", p.capEff))
	line("CapBnd", "000001ffffffffff")
	line("CapAmb", "0000000000000000")
	line("NoNewPrivs", strconv.Itoa(int(boolUint(p.seccomp == 2))))
	line("Seccomp", strconv.Itoa(p.seccomp))
	line("Seccomp_filters", strconv.Itoa(int(boolUint(p.seccomp == 2))))
	line("Speculation_Store_Bypass", "thread vulnerable")
	line("SpeculationIndirectBranch", "conditional enabled")

	line("Cpus_allowed", fmt.Sprintf("%x", uint64(1)<<min(c.h.cpus, 63)-1))
	line("Cpus_allowed_list", fmt.Sprintf("0-%d", c.h.cpus-1))
	line("Mems_allowed", "00000000,00000001")
	line("Mems_allowed_list", "0")
	line("voluntary_ctxt_switches", strconv.Itoa(c.rng.IntN(200000)))
	line("nonvoluntary_ctxt_switches", strconv.Itoa(c.rng.IntN(2000)))
	return []byte(b.String())
}

// progFDs returns the descriptor weight of the process's program.
func (p *process) progFDs() float64 {
	if p.prog == nil {
		return 0
	}
	return p.prog.fds
}

// groups returns the supplementary groups of the process's user.
func (c *procContent) groups() string {
	for _, u := range c.h.users {
		if u.uid != c.p.uid || len(u.groupNames) == 0 || c.p.nsPID > 0 {
			continue
		}
		var gids []string
		for _, name := range u.groupNames {
			for _, g := range c.h.groups {
				if g.name == name {
					gids = append(gids, strconv.Itoa(g.gid))
				}
			}
		}
		return strings.Join(gids, " ") + " "
	}
	return ""
}

// descriptors returns the open descriptors: the standard three, those the
// builder gave the process, generated ones from its program's list, and its
// sockets, with the generated ones and the sockets in a drawn order.
func (c *procContent) descriptors() []fdSpec {
	p := c.p
	if p.kernel || p.zombie {
		return nil
	}
	var fds []fdSpec
	for i, target := range p.stdio {
		if target == "" {
			continue
		}
		spec := c.descriptorFor(target, i)
		spec.num = i
		if i > 0 && spec.flags&3 == 0 {
			spec.flags |= 1 // opened for writing
		}
		fds = append(fds, spec)
	}

	mixed := c.generatedDescriptors()
	for _, inode := range p.sockets {
		mixed = append(mixed, fdSpec{target: socketLink(inode), flags: 02000002, mntID: 8, ino: inode, size: -1})
	}
	c.rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })

	next := 3
	for _, spec := range append(slices.Clone(p.files), mixed...) {
		spec.num = next
		next++
		if c.rng.IntN(25) == 0 {
			next++ // a descriptor closed earlier leaves a gap
		}
		fds = append(fds, spec)
	}

	if p.ttyFD != "" {
		spec := c.descriptorFor(p.ttyFD, 255)
		spec.num = 255
		fds = append(fds, spec)
	}
	return fds
}

// generatedDescriptors returns descriptors from the program's list, about
// as many as the program's weight calls for. It takes the list once and then
// its entries with numbers again until it has enough.
func (c *procContent) generatedDescriptors() []fdSpec {
	p := c.p
	n := int(math.Round(c.h.fdsScale*p.prog.fds*(0.7+0.6*c.rng.Float64()))) - 3 - len(p.files)
	var repeatable []string
	for _, entry := range p.prog.files {
		if strings.Contains(entry, "%d") || strings.Contains(entry, "%x") {
			repeatable = append(repeatable, entry)
		}
	}
	var out []fdSpec
	for k := 0; k < n; k++ {
		var entry string
		switch {
		case k < len(p.prog.files):
			entry = p.prog.files[k]
		case len(repeatable) > 0:
			entry = repeatable[(k-len(p.prog.files))%len(repeatable)]
		default:
			return out
		}
		out = append(out, c.descriptorFor(c.expand(entry), 3+k))
	}
	return out
}

// expand replaces "%d", "%x" and "{id}" in a descriptor entry with drawn
// numbers.
func (c *procContent) expand(entry string) string {
	if strings.Contains(entry, "%d") {
		entry = strings.Replace(entry, "%d", strconv.Itoa(2600+c.rng.IntN(40000)), 1)
	}
	for _, marker := range []string{"%x", "{id}"} {
		for strings.Contains(entry, marker) {
			entry = strings.Replace(entry, marker, fmt.Sprintf("%08x", c.rng.Uint32()), 1)
		}
	}
	return entry
}

// descriptorFor returns the descriptor for an entry of program.files or a
// link text. k makes the inodes of a process's own pipes distinct.
func (c *procContent) descriptorFor(entry string, k int) fdSpec {
	anon := func(name string, flags uint32) fdSpec {
		return fdSpec{target: "anon_inode:" + name, flags: flags, mntID: 15, ino: 1057, size: -1}
	}
	switch {
	case entry == "@eventpoll":
		return anon("[eventpoll]", 02000002)
	case entry == "@eventfd":
		return anon("[eventfd]", 02004002)
	case entry == "@timerfd":
		return anon("[timerfd]", 02004002)
	case entry == "@signalfd":
		return anon("[signalfd]", 02004002)
	case strings.HasPrefix(entry, "@inotify"):
		return anon("inotify", 02004000)
	case strings.HasPrefix(entry, "@pidfd"):
		return anon("[pidfd]", 02000002)
	case entry == "@pipe":
		// A pipe the process made for itself. Its inode lies far above
		// those of sockets and shared pipes.
		inode := 100_000_000 + uint64(c.p.pid)*1024 + uint64(k%1024)
		return fdSpec{target: "pipe:[" + strconv.FormatUint(inode, 10) + "]", flags: uint32(k % 2), mntID: 14, ino: inode, size: -1}
	case strings.HasPrefix(entry, "pipe:["):
		inode, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(entry, "pipe:["), "]"), 10, 64)
		return fdSpec{target: entry, flags: 0, mntID: 14, ino: inode, size: -1}
	case strings.HasPrefix(entry, "socket:["):
		inode, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(entry, "socket:["), "]"), 10, 64)
		return fdSpec{target: entry, flags: 02, mntID: 8, ino: inode, size: -1}
	case strings.HasPrefix(entry, "@deleted:"):
		path := strings.TrimPrefix(entry, "@deleted:")
		return fdSpec{target: path + " (deleted)", flags: 02100002, mntID: 29, ino: pathInode(path), size: 0, nlink: 0}
	case strings.HasPrefix(entry, "+"):
		path := entry[1:]
		size := int64(50_000 + c.rng.IntN(200_000_000))
		return fdSpec{target: path, flags: 02102001, pos: size, mntID: 29, ino: pathInode(path), size: size, nlink: 1}
	case strings.HasPrefix(entry, "/dev/pts/"):
		n, _ := strconv.Atoi(strings.TrimPrefix(entry, "/dev/pts/"))
		return fdSpec{target: entry, flags: 02, mntID: 27, ino: uint64(3 + n), size: 0, nlink: 1}
	case strings.HasPrefix(entry, "/dev/"):
		return fdSpec{target: entry, flags: 02100002, mntID: 24, ino: pathInode(entry) % 2000, size: 0, nlink: 1}
	case strings.HasPrefix(entry, "/proc/"):
		return fdSpec{target: entry, flags: 02100000, mntID: 22, ino: pathInode(entry) % 100000, size: 0, nlink: 1}
	case strings.HasPrefix(entry, "/sys/"):
		return fdSpec{target: entry, flags: 02304000, mntID: 30, ino: 1, size: 0, nlink: 2}
	}
	size := int64(4096 + c.rng.IntN(50_000_000))
	return fdSpec{target: entry, flags: 02100000, pos: c.rng.Int64N(size), mntID: 29, ino: pathInode(entry), size: size, nlink: 1}
}

// fdinfo returns /proc/<pid>/fdinfo/<n>.
func fdinfo(spec fdSpec) []byte {
	return fmt.Appendf(nil, "pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n", spec.pos, spec.flags, spec.mntID, spec.ino)
}
