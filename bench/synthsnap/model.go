package main

import (
	"math/rand/v2"
	"net/netip"
)

// program describes an executable: what its processes are called, which
// libraries they map and which descriptors they typically hold.
type program struct {
	comm string
	exe  string
	libs []string // shared libraries in load order, under libDir unless a name starts with '/'
	// maps and fds weigh -maps-per-proc and -fds-per-proc for this
	// program, so a JVM maps more than a shell. The weights are relative:
	// buildHost scales them so the host's means match the flags.
	maps, fds float64
	// files are the program's characteristic descriptors, in the notation
	// that descriptorFor reads.
	files []string
	// threads names the threads beyond the main one that a process of the
	// program usually has.
	threads []string
	// static marks a statically linked program, such as a Go binary,
	// which maps no libc and no dynamic loader.
	static bool
	// jit is the permissions of the anonymous code a JIT compiler maps, such
	// as "rwxp" for HotSpot, or "" for programs without a JIT.
	jit string
}

// namespaces is the set of namespaces a process lives in. Containers get
// their own, and everything else shares the host's.
type namespaces struct {
	pid, mnt uint64
	net      *netNamespace
}

// netNamespace is one network namespace and its sockets' local addresses.
type netNamespace struct {
	inode uint64
	addr4 netip.Addr // address of the main interface
	addr6 netip.Addr // invalid for a namespace without IPv6
	// leader is the lowest pid in the namespace. The sockets table reads
	// the namespace's sockets from /proc/<leader>/net.
	leader *process
}

// process is one synthetic process or kernel thread and everything its
// /proc/<pid> directory shows. Details that no other process depends on
// (mappings, generated descriptors, counters) are drawn when the directory
// is written, from a generator seeded with -seed and the pid.
type process struct {
	pid, ppid, pgrp, session int
	nsPID                    int // pid inside a container's pid namespace, 0 on the host
	comm                     string
	state                    byte
	kernel                   bool
	zombie                   bool
	hidden                   bool // left out of the /proc listing
	prog                     *program
	uid, euid, gid           int
	capEff                   uint64
	seccomp                  int
	tracerPID                int
	nice                     int
	ttyNr                    int
	flags                    uint64 // PF_* bits of the stat flags field
	argv                     []string
	env                      []string
	exe                      string // link text of /proc/<pid>/exe without the deletion marker
	exeDeleted               bool
	exeDigestKey             string // processes with the same key share an executable digest
	cwd, root                string
	cgroup                   string
	ns                       *namespaces
	start                    uint64 // clock ticks after boot
	threadNames              []string
	// stdio holds the link text of descriptors 0, 1 and 2. "" leaves one closed.
	stdio [3]string
	// ttyFD, when set, is the terminal an interactive shell also holds as
	// descriptor 255.
	ttyFD   string
	sockets []uint64 // inodes of the sockets held beyond stdio
	files   []fdSpec // planted descriptors, numbered before the generated ones
	maps    []mapSpec
	preload string // a library mapped from LD_PRELOAD
	// libs, when set, replaces prog.libs, as for a process that maps a
	// library deleted by an upgrade.
	libs []string
	// servePort is the port that inbound connections to the process reach,
	// and peerPort the client port a database backend shows in its title.
	servePort uint16
	peerPort  uint16
	servePath string // the unix socket path a PHP-FPM worker accepts on
	// acceptUID owns the connections the process accepts on servePort: the
	// user that created the listening socket, often a root master's.
	acceptUID int
}

// fdSpec is one descriptor: its link text and what fdinfo and stat show.
type fdSpec struct {
	num    int // the descriptor number, which descriptors assigns
	target string
	flags  uint32 // open flags, printed in octal
	pos    int64
	mntID  int
	ino    uint64
	// size and nlink are written as the .size and .nlink side files that
	// source.Dir reads for the stat of a file or device. size < 0 writes none.
	size  int64
	nlink int
}

// mapSpec is a planted mapping, placed among the generated ones by address.
type mapSpec struct {
	start, end uint64
	perms      string
	path       string
}

// socket is one row of a /proc/net file.
type socket struct {
	proto   string // tcp, tcp6, udp, udp6, raw, raw6, unix or packet
	ns      *netNamespace
	local   netip.AddrPort
	remote  netip.AddrPort
	state   uint8 // TCP state number, 7 (CLOSE) for an unconnected UDP socket
	uid     int
	inode   uint64
	txQueue uint64
	rxQueue uint64
	// priority orders the sockets kept when -sockets is smaller than what
	// the processes ask for: lower is kept first.
	priority int
	// unix sockets
	unixType uint16 // 1 stream, 2 dgram, 5 seqpacket
	listen   bool
	path     string
	// packet sockets
	etherType uint16
	iface     int
}

// Socket priorities, from kept first to dropped first.
const (
	priorityPlanted  = iota // a planted behaviour depends on it
	priorityListener        // a service listens on it
	prioritySession         // an interactive session's connection
	priorityStream          // a service's journal stream or D-Bus connection
	priorityFiller          // added to reach -sockets
)

// user is one /etc/passwd entry.
type user struct {
	name       string
	uid, gid   int
	gecos      string
	home       string
	shell      string
	groupNames []string // supplementary groups
}

// host is the whole synthetic machine.
type host struct {
	hostname    string
	bootTime    int64 // seconds since the Unix epoch
	uptimeTicks uint64
	cpus        int
	memTotalKB  uint64
	users       []user
	groups      []group
	hostNS      *namespaces
	netns       []*netNamespace // the host's first, then the containers'
	procs       []*process      // in pid order, kernel threads included
	sockets     []*socket       // in creation order
	modules     []module
	preloadFile string // content of /etc/ld.so.preload, "" for none
	// mapsScale and fdsScale turn a program's weight into its mean number
	// of mappings and descriptors.
	mapsScale, fdsScale float64
	kernelCount         int
}

// group is one /etc/group entry.
type group struct {
	name    string
	gid     int
	members []string
}

// module is one loaded kernel module.
type module struct {
	name     string
	size     uint64
	refcount int
	usedBy   []string
	taint    string
	hidden   bool // listed in /sys/module only
	address  uint64
}

// newRand returns the generator for one stream of the seed, so that the
// same seed and stream always draw the same numbers.
func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}
