package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
)

// Namespace inodes of the initial namespaces, as every Linux host shows them.
const (
	initPIDNamespace = 4026531836
	initNetNamespace = 4026531840
	initMntNamespace = 4026531841
)

// Kernel flag values of the stat flags field: PF_KTHREAD and friends for
// kernel threads, PF_RANDOMIZE (and PF_SUPERPRIV for root) for processes.
const (
	flagsKernelThread = 0x208040
	flagsKworker      = 0x4208060
	flagsUser         = 0x400000
	flagsRoot         = 0x400100
)

// Capability masks as status prints them.
const (
	capsAll  = 0x000001ffffffffff
	capsNone = 0
)

// Paths that many processes share.
const (
	servicePath  = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	userPath     = "PATH=/usr/local/bin:/usr/bin:/bin:/usr/games"
	journalSock  = "/run/systemd/journal/stdout"
	dbusSock     = "/run/dbus/system_bus_socket"
	containerDir = "/run/containerd/io.containerd.runtime.v2.task/moby/"
)

// builder draws the processes and sockets of a host, in pid order, from one
// generator, so the same seed always gives the same host.
type builder struct {
	cfg config
	rng *rand.Rand
	h   *host

	nextPID   int
	clock     float64 // clock ticks after boot of the newest process
	headStep  float64 // mean ticks between two groups of processes
	nextInode uint64  // socket inodes
	nextPipe  uint64  // inodes of pipes shared between processes
	nextNS    uint64  // inodes of namespaces made for containers
	nextPort  int
	nextIP    int // containers started, which numbers their addresses
	ptys      int

	// Processes that later steps attach things to.
	pid1, journald, dbus, sshd, rsyslogd, cron *process
	adminBash, containerd, dockerd, phpMaster  *process
	humans                                     []user
	userManagers                               map[int]*process

	// Holders for the sockets added to reach -sockets.
	web        []*process // accept inbound connections on servePort
	appClients []*process // connect to databases on loopback
	pgBackends []*process
	redis      []*process
	phpWorkers []*process
	fallback   []*process // any daemon that is no interpreter

	proxyClients []*process // host nginx workers, which connect to upstreams
	upstreams    []*process // application servers behind nginx
	pgClusters   []*process
	pgTitles     map[int]string // postmaster pid to the cluster name in its children's titles
	// pgBackendCount counts the backends of each postmaster, by pid.
	pgBackendCount map[int]int
	apps           int // gunicorn, java and node applications, for their ports
	phpPools       int
}

func newBuilder(cfg config) *builder {
	b := &builder{
		cfg:            cfg,
		rng:            newRand(cfg.seed, 0),
		nextInode:      10000,
		nextPipe:       40_000_000,
		nextNS:         4026532200,
		userManagers:   map[int]*process{},
		pgTitles:       map[int]string{},
		pgBackendCount: map[int]int{},
	}
	b.h = &host{cpus: cfg.cpus}
	b.h.hostname = fmt.Sprintf("synth-%d", cfg.seed)
	// A fixed start plus up to 30 days, and an uptime of 3 to 40 days.
	b.h.bootTime = 1764547200 + b.rng.Int64N(30*86400)
	b.h.uptimeTicks = uint64(3*86400+b.rng.IntN(37*86400)) * 100
	b.h.memTotalKB = uint64(16+16*b.rng.IntN(4))*1024*1024 - uint64(b.rng.IntN(400000))
	hostNet := &netNamespace{
		inode: initNetNamespace,
		addr4: netip.AddrFrom4([4]byte{10, 20, 0, byte(10 + b.rng.IntN(200))}),
		addr6: netip.MustParseAddr(fmt.Sprintf("2001:db8:20::%x", 10+b.rng.IntN(200))),
	}
	b.h.hostNS = &namespaces{pid: initPIDNamespace, mnt: initMntNamespace, net: hostNet}
	b.h.netns = []*netNamespace{hostNet}
	return b
}

// pidGap returns how many pids to skip before the next process. They stand
// for short-lived commands that have already exited, so most gaps are small.
func (b *builder) pidGap() int {
	if b.rng.IntN(30) == 0 {
		return 20 + b.rng.IntN(400)
	}
	return b.rng.IntN(3)
}

// beginGroup moves the clock to the start of a new group of processes.
// The clock never goes back, and it stays below 97% of the uptime, so the
// small steps between the processes of a group cannot pass the capture.
func (b *builder) beginGroup() {
	limit := float64(b.h.uptimeTicks) * 0.97
	next := b.clock + b.headStep*b.rng.ExpFloat64()
	if next > limit {
		next = b.clock + (limit-b.clock)*0.01
	}
	b.clock = next
}

// spawn creates the next process, a child of parent that inherits its
// real user and group, seccomp mode, namespaces, cgroup, working directory,
// environment and standard descriptors. Callers then change what differs.
func (b *builder) spawn(parent *process, prog *program, argv ...string) *process {
	b.nextPID += 1 + b.pidGap()
	b.clock += b.rng.Float64() * 3
	p := &process{
		pid:   b.nextPID,
		prog:  prog,
		comm:  prog.comm,
		exe:   prog.exe,
		argv:  argv,
		state: 'S',
		start: uint64(b.clock),
		cwd:   "/",
		root:  "/",
		ns:    b.h.hostNS,
	}
	p.pgrp, p.session = p.pid, p.pid
	if parent != nil {
		p.ppid = parent.pid
		p.uid, p.gid, p.seccomp = parent.uid, parent.gid, parent.seccomp
		p.cwd, p.root, p.cgroup, p.ns = parent.cwd, parent.root, parent.cgroup, parent.ns
		p.env = parent.env
		p.stdio = parent.stdio
		p.pgrp, p.session, p.ttyNr = parent.pgrp, parent.session, parent.ttyNr
	}
	b.setUser(p, p.uid, p.gid)
	b.h.procs = append(b.h.procs, p)
	if p.ns.net.leader == nil {
		p.ns.net.leader = p
	}
	return p
}

// setUser sets the real, effective and saved ids, and the capabilities
// that go with them.
func (b *builder) setUser(p *process, uid, gid int) {
	p.uid, p.euid, p.gid = uid, uid, gid
	p.flags = flagsUser
	p.capEff = capsNone
	if uid == 0 {
		p.flags = flagsRoot
		p.capEff = capsAll
	}
}

// addThreads gives p the program's threads, or count of them when count is
// not negative. Thread ids follow the pid, so it must be called before the
// next spawn.
func (b *builder) addThreads(p *process, count int) {
	if p.pid != b.nextPID {
		panic("addThreads called after another process was spawned")
	}
	names := p.prog.threads
	if count >= 0 && count < len(names) {
		names = names[:count]
	}
	for len(names) < count {
		names = append(names, names[len(names)%max(len(p.prog.threads), 1)])
	}
	p.threadNames = names
	b.nextPID += len(names)
}

// spawnKernelThread creates a kernel thread, a child of kthreadd (pid 2).
func (b *builder) spawnKernelThread(name string) *process {
	switch {
	case name == "kthreadd":
		b.nextPID = 2
	case b.h.kernelCount < len(b.bootKernelThreads())+1:
		b.nextPID++ // the kernel starts its boot threads one after another
	default:
		b.nextPID += 1 + b.pidGap()
	}
	p := &process{pid: b.nextPID, ppid: 2, comm: name, state: 'S', kernel: true, start: uint64(b.clock), cwd: "/", root: "/", ns: b.h.hostNS, cgroup: "/", flags: flagsKernelThread, capEff: capsAll}
	if strings.HasPrefix(name, "kworker/") || strings.HasPrefix(name, "rcu_") {
		p.state = 'I'
		p.flags = flagsKworker
	}
	if strings.HasSuffix(strings.SplitN(name, "-", 2)[0], "H") {
		p.nice = -20
	}
	if name == "kthreadd" {
		p.ppid = 0
	}
	b.h.procs = append(b.h.procs, p)
	b.h.kernelCount++
	return p
}

// inode returns a new socket inode. Sockets created later get larger
// inodes, as on a real host.
func (b *builder) inode() uint64 {
	b.nextInode += 1 + uint64(b.rng.IntN(24))
	return b.nextInode
}

// pipe returns the link text of a new pipe that several processes share.
func (b *builder) pipe() string {
	b.nextPipe += 1 + uint64(b.rng.IntN(8))
	return "pipe:[" + strconv.FormatUint(b.nextPipe, 10) + "]"
}

// ephemeralPort returns a client port from Linux's default range.
func (b *builder) ephemeralPort() uint16 {
	b.nextPort = (b.nextPort + 1 + b.rng.IntN(97)) % (60999 - 32768)
	return uint16(32768 + b.nextPort)
}

// clientAddr returns the address of a benign remote client, from the ranges
// reserved for benchmarks (198.18.0.0/15) and documentation (2001:db8::/32).
func (b *builder) clientAddr(v6 bool) netip.Addr {
	if v6 {
		var a [16]byte
		a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8
		for i := 4; i < 16; i++ {
			a[i] = byte(b.rng.IntN(256))
		}
		return netip.AddrFrom16(a)
	}
	return netip.AddrFrom4([4]byte{198, byte(18 + b.rng.IntN(2)), byte(b.rng.IntN(256)), byte(1 + b.rng.IntN(254))})
}

// addSocket records s and hands it to its holders.
func (b *builder) addSocket(s *socket, holders ...*process) *socket {
	// A TIME_WAIT entry belongs to no descriptor, so the kernel prints inode 0.
	timeWait := (s.proto == "tcp" || s.proto == "tcp6") && s.state == tcpTimeWait
	if !timeWait {
		s.inode = b.inode()
	}
	b.h.sockets = append(b.h.sockets, s)
	for _, p := range holders {
		p.sockets = append(p.sockets, s.inode)
	}
	return s
}

// TCP and UDP state numbers of include/net/tcp_states.h.
const (
	tcpEstablished = 1
	tcpTimeWait    = 6
	udpUnconnected = 7
	tcpListen      = 10
)

// inetProto returns "tcp" or "tcp6" (or the udp pair) for an address.
func inetProto(base string, addr netip.Addr) string {
	if addr.Is4() {
		return base
	}
	return base + "6"
}

// listen adds a listening TCP socket held by holders. The socket belongs to
// the user of the first holder, which created it.
func (b *builder) listen(addr netip.Addr, port uint16, priority int, holders ...*process) *socket {
	owner := holders[0]
	return b.addSocket(&socket{proto: inetProto("tcp", addr), ns: owner.ns.net, local: netip.AddrPortFrom(addr, port),
		remote: netip.AddrPortFrom(unspecified(addr), 0), state: tcpListen, uid: owner.euid, priority: priority}, holders...)
}

// connect adds one end of an established TCP connection.
func (b *builder) connect(local, remote netip.AddrPort, priority int, holders ...*process) *socket {
	owner := holders[0]
	return b.addSocket(&socket{proto: inetProto("tcp", local.Addr()), ns: owner.ns.net, local: local, remote: remote,
		state: tcpEstablished, uid: owner.euid, priority: priority}, holders...)
}

// udp adds a UDP socket. remote is the zero value for an unconnected one.
func (b *builder) udp(local, remote netip.AddrPort, priority int, holders ...*process) *socket {
	owner := holders[0]
	s := &socket{proto: inetProto("udp", local.Addr()), ns: owner.ns.net, local: local, remote: remote, state: udpUnconnected, uid: owner.euid, priority: priority}
	if remote.IsValid() && remote.Port() != 0 {
		s.state = tcpEstablished
	} else {
		s.remote = netip.AddrPortFrom(unspecified(local.Addr()), 0)
	}
	return b.addSocket(s, holders...)
}

// unixListen adds a bound, listening unix socket.
func (b *builder) unixListen(path string, socketType uint16, priority int, holders ...*process) *socket {
	s := &socket{proto: "unix", ns: holders[0].ns.net, unixType: socketType, path: path, priority: priority, state: 1}
	if socketType != 2 {
		s.listen = true
	}
	return b.addSocket(s, holders...)
}

// unixPair adds a connected unix stream connection: the client end, unbound,
// held by client, and the accepted end, which shows the listener's path,
// held by server. It returns the client end.
func (b *builder) unixPair(path string, priority int, client, server *process) *socket {
	end := b.addSocket(&socket{proto: "unix", ns: client.ns.net, unixType: 1, state: 3, priority: priority}, client)
	b.addSocket(&socket{proto: "unix", ns: server.ns.net, unixType: 1, state: 3, path: path, priority: priority}, server)
	return end
}

// journalStream connects a service's standard output and error to journald,
// as systemd does, and sets JOURNAL_STREAM to match.
func (b *builder) journalStream(p *process) {
	if b.journald == nil {
		return
	}
	end := b.unixPair(journalSock, priorityStream, p, b.journald)
	p.sockets = p.sockets[:len(p.sockets)-1] // held as descriptors 1 and 2
	link := socketLink(end.inode)
	p.stdio = [3]string{"/dev/null", link, link}
	p.env = replaceEnv(p.env, "JOURNAL_STREAM", "8:"+strconv.FormatUint(end.inode, 10))
}

func unspecified(addr netip.Addr) netip.Addr {
	if addr.Is4() {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

// hexID returns n random lower-case hex digits, such as a container id.
func (b *builder) hexID(n int) string {
	const digits = "0123456789abcdef"
	out := make([]byte, n)
	for i := range out {
		out[i] = digits[b.rng.IntN(16)]
	}
	return string(out)
}

// buildEnv returns core followed by variables from pool, and then numbered
// application settings, until the process has about -env-per-proc
// variables. A longer core, such as a login shell's, is kept whole.
func (b *builder) buildEnv(core, pool []string) []string {
	n := max(int(math.Round(float64(b.cfg.envPerProc)*(0.8+0.4*b.rng.Float64()))), len(core))
	env := append(make([]string, 0, n), core...)
	for i := 0; len(env) < n; i++ {
		if i < len(pool) {
			env = append(env, pool[i])
			continue
		}
		env = append(env, fmt.Sprintf("APP_SETTING_%d=%d", i-len(pool)+1, b.rng.IntN(10000)))
	}
	return env
}

// serviceEnv returns the environment systemd gives a service. journalStream
// adds JOURNAL_STREAM.
func (b *builder) serviceEnv(p *process, name, home string) []string {
	core := []string{"LANG=C.UTF-8", servicePath, "HOME=" + home, "INVOCATION_ID=" + b.hexID(32), "SYSTEMD_EXEC_PID=" + strconv.Itoa(p.pid)}
	pool := []string{"NOTIFY_SOCKET=/run/systemd/notify", "RUNTIME_DIRECTORY=/run/" + name, "STATE_DIRECTORY=/var/lib/" + name, "LOGS_DIRECTORY=/var/log/" + name, "MEMORY_PRESSURE_WATCH=/sys/fs/cgroup/system.slice/" + name + ".service/memory.pressure", "WATCHDOG_USEC=180000000", "TZ=UTC", "LC_ALL=C.UTF-8"}
	if u := b.userByID(p.uid); u != nil && p.uid != 0 {
		pool = append([]string{"USER=" + u.name, "LOGNAME=" + u.name, "SHELL=" + u.shell}, pool...)
	}
	return b.buildEnv(core, pool)
}

// replaceEnv returns env with the variable name set to value, as a new
// slice, because children share their parent's slice.
func replaceEnv(env []string, name, value string) []string {
	out := make([]string, 0, len(env)+1)
	found := false
	for _, v := range env {
		if strings.HasPrefix(v, name+"=") {
			v = name + "=" + value
			found = true
		}
		out = append(out, v)
	}
	if !found {
		out = append(out, name+"="+value)
	}
	return out
}

// withEnv returns env with the variables appended, as a new slice.
func withEnv(env []string, vars ...string) []string {
	return append(append(make([]string, 0, len(env)+len(vars)), env...), vars...)
}

// service creates a systemd service's main process: a child of pid 1 in
// its own session, under its own cgroup, with its output on the journal.
func (b *builder) service(prog *program, unit string, uid, gid int, home string, argv ...string) *process {
	p := b.serviceWithoutJournal(prog, unit, uid, gid, home, argv...)
	b.journalStream(p)
	return p
}

// serviceWithoutJournal creates a service whose standard descriptors are
// /dev/null, or a terminal that the caller sets.
func (b *builder) serviceWithoutJournal(prog *program, unit string, uid, gid int, home string, argv ...string) *process {
	p := b.spawn(b.pid1, prog, argv...)
	b.setUser(p, uid, gid)
	p.cgroup = "/system.slice/" + unit
	p.env = b.serviceEnv(p, strings.TrimSuffix(unit, ".service"), home)
	p.stdio = [3]string{"/dev/null", "/dev/null", "/dev/null"}
	return p
}

// newPTY returns the next pseudo-terminal and its tty_nr (major 136).
func (b *builder) newPTY() (string, int) {
	n := b.ptys
	b.ptys++
	return "/dev/pts/" + strconv.Itoa(n), 136<<8 | (n & 0xff) | (n&^0xff)<<12
}
