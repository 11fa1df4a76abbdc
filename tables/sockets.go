package tables

import (
	"errors"
	"sort"
	"strconv"

	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/procsql/procsql/procfile"
	"github.com/procsql/procsql/source"
)

// sockets has one row per socket in every network namespace, from the
// net/{tcp,tcp6,udp,udp6,raw,raw6,unix,packet} files. Each namespace is read
// once, through the first process found in it, because /proc/net shows only
// the reader's own namespace.
func init() {
	register(&rowTable[*socket]{
		name:    "sockets",
		comment: "one row per socket, in every network namespace",
		keys:    []string{"inode"},
		notNull: []string{"inode"},
		columns: socketColumns(func(s *socket) *socket { return s }),
		items: func(r *Reader, f Filter, emit func(*socket) error) error {
			all := r.sockets()
			if f.Inodes != nil {
				return emitSocketsByInode(all, f.Inodes, emit)
			}
			for _, s := range all.list {
				if err := emit(s); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

// socket is one parsed row of a net/ file.
type socket struct {
	family     string // inet, inet6, unix or packet
	protocol   string // tcp, tcp6, udp, udp6, raw, raw6, unix or packet
	local      string
	localPort  uint16
	remote     string
	remotePort uint16
	hasAddress bool
	state      string
	inode      uint64
	uid        uint32
	hasUID     bool
	txQueue    uint64
	rxQueue    uint64
	hasQueues  bool
	netNS      uint64
	hasNetNS   bool
	path       string
	hasPath    bool
	unixType   string
}

// socketColumns returns the socket columns for a table whose items lead to a
// socket, so sockets and process_sockets share one definition.
func socketColumns[T any](get func(T) *socket) []column[T] {
	value := func(f func(*socket) any) func(T) any {
		return func(item T) any {
			s := get(item)
			if s == nil {
				return nil
			}
			return f(s)
		}
	}
	return []column[T]{
		{Column{"family", types.LongText, "inet, inet6, unix or packet"}, value(func(s *socket) any { return s.family })},
		{Column{"protocol", types.LongText, "tcp, tcp6, udp, udp6, raw, raw6, unix or packet"}, value(func(s *socket) any { return s.protocol })},
		{Column{"local_address", types.LongText, "local IP address"}, value(func(s *socket) any { return orNull(s.local, s.hasAddress) })},
		{Column{"local_port", types.Uint16, "local port"}, value(func(s *socket) any { return orNull(s.localPort, s.hasAddress) })},
		{Column{"remote_address", types.LongText, "remote IP address; the unspecified address for listeners"}, value(func(s *socket) any { return orNull(s.remote, s.hasAddress) })},
		{Column{"remote_port", types.Uint16, "remote port, 0 for listeners"}, value(func(s *socket) any { return orNull(s.remotePort, s.hasAddress) })},
		{Column{"state", types.LongText, "TCP state name (LISTEN, ESTABLISHED ...), or the unix socket state"}, value(func(s *socket) any { return orNull(s.state, s.state != "") })},
		{Column{"inode", types.Uint64, "socket inode; joins fds.inode, 0 for sockets no longer attached (TIME_WAIT)"}, value(func(s *socket) any { return s.inode })},
		{Column{"uid", types.Uint32, "owner uid; NULL for TIME_WAIT entries, which have no owner"}, value(func(s *socket) any { return orNull(s.uid, s.hasUID) })},
		{Column{"tx_queue", types.Uint64, "bytes in the send queue"}, value(func(s *socket) any { return orNull(s.txQueue, s.hasQueues) })},
		{Column{"rx_queue", types.Uint64, "bytes in the receive queue"}, value(func(s *socket) any { return orNull(s.rxQueue, s.hasQueues) })},
		{Column{"net_ns", types.Uint64, "network namespace inode"}, value(func(s *socket) any { return orNull(s.netNS, s.hasNetNS) })},
		{Column{"path", types.LongText, "unix socket path; abstract names start with @"}, value(func(s *socket) any { return orNull(s.path, s.hasPath) })},
		{Column{"type", types.LongText, "unix socket type: stream, dgram or seqpacket"}, value(func(s *socket) any { return orNull(s.unixType, s.unixType != "") })},
	}
}

// socketSet is every socket of the source, read once per query.
type socketSet struct {
	list    []*socket
	byInode map[uint64][]*socket
}

func emitSocketsByInode(all *socketSet, inodes []uint64, emit func(*socket) error) error {
	sorted := append([]uint64(nil), inodes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	for i, inode := range sorted {
		if i > 0 && inode == sorted[i-1] {
			continue
		}
		for _, s := range all.byInode[inode] {
			if err := emit(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// netNamespaces maps each network namespace inode to the lowest pid in it.
// It is empty when no ns/net link can be read, as in a copied tree without
// links or for an unprivileged reader on a hardened host.
func (r *Reader) netNamespaces() map[uint64]int {
	return memoize(r, "netns", func() map[uint64]int {
		pids := r.PIDs()
		// inodes[i] is the namespace of pids[i], or 0 when unknown.
		inodes := make([]uint64, len(pids))
		eachPID(pids, func(i, pid int) {
			link, err := r.Src.ReadLink(strconv.Itoa(pid) + "/ns/net")
			if err != nil {
				return
			}
			if _, inode, err := procfile.ParseNamespaceLink(link); err == nil {
				inodes[i] = inode
			}
		})
		found := map[uint64]int{}
		for i, inode := range inodes {
			if _, seen := found[inode]; inode != 0 && !seen {
				found[inode] = pids[i]
			}
		}
		return found
	})
}

// sockets reads the socket files of every network namespace once per query.
func (r *Reader) sockets() *socketSet {
	return memoize(r, "sockets", func() *socketSet {
		set := &socketSet{byInode: map[uint64][]*socket{}}
		namespaces := r.netNamespaces()
		inodes := make([]uint64, 0, len(namespaces))
		for inode := range namespaces {
			// A copied tree may hold the ns links but only the top-level
			// net directory, as cp -r /proc/net leaves it.
			if r.netCollected(strconv.Itoa(namespaces[inode]) + "/net") {
				inodes = append(inodes, inode)
			}
		}
		if len(inodes) == 0 {
			r.readNamespaceSockets(set, "net", 0, false)
		}
		sort.Slice(inodes, func(i, j int) bool { return inodes[i] < inodes[j] })
		for _, inode := range inodes {
			r.readNamespaceSockets(set, strconv.Itoa(namespaces[inode])+"/net", inode, true)
		}
		for _, s := range set.list {
			set.byInode[s.inode] = append(set.byInode[s.inode], s)
		}
		return set
	})
}

// tcpTimeWait is the kernel's TCP_TIME_WAIT state number.
const tcpTimeWait = 6

// netCollected reports whether the source holds any socket file in dir.
func (r *Reader) netCollected(dir string) bool {
	names := []string{"unix", "packet"}
	for _, f := range ipSocketFiles {
		names = append(names, f.file)
	}
	for _, name := range names {
		if _, err := r.Src.ReadFile(dir + "/" + name); !errors.Is(err, source.ErrNotCollected) {
			return true
		}
	}
	return false
}

var ipSocketFiles = []struct{ file, family string }{
	{"tcp", "inet"}, {"tcp6", "inet6"},
	{"udp", "inet"}, {"udp6", "inet6"},
	{"raw", "inet"}, {"raw6", "inet6"},
}

func (r *Reader) readNamespaceSockets(set *socketSet, dir string, netNS uint64, hasNetNS bool) {
	order := r.Src.Describe().ByteOrder
	for _, f := range ipSocketFiles {
		data, ok := r.readFile(dir + "/" + f.file)
		if !ok {
			continue
		}
		rows, err := procfile.ParseNetIP(data, order)
		if err != nil {
			r.recordFailure(dir+"/"+f.file, err)
		}
		rows, _ = procfile.DedupIPSockets(rows)
		for _, row := range rows {
			s := &socket{
				family: f.family, protocol: f.file,
				local: row.LocalAddr.String(), localPort: row.LocalPort,
				remote: row.RemoteAddr.String(), remotePort: row.RemotePort, hasAddress: true,
				inode: row.Inode, uid: row.UID, hasUID: true,
				txQueue: row.TxQueue, rxQueue: row.RxQueue, hasQueues: true,
				netNS: netNS, hasNetNS: hasNetNS,
			}
			if f.file == "tcp" || f.file == "tcp6" {
				s.state = procfile.TCPStateName(row.State)
				// A TIME_WAIT entry has no owner: the kernel prints uid 0
				// and inode 0 for it, and uid 0 would read as root.
				s.hasUID = row.State != tcpTimeWait
			} else if f.file == "udp" || f.file == "udp6" {
				s.state = udpStateName(row.State)
			}
			set.list = append(set.list, s)
		}
	}
	if data, ok := r.readFile(dir + "/unix"); ok {
		rows, err := procfile.ParseNetUnix(data)
		if err != nil {
			r.recordFailure(dir+"/unix", err)
		}
		// A file read in several read calls while sockets come and go can
		// repeat a row, as tcp's can (see DedupIPSockets). An inode names
		// one socket, so the first row of each inode is kept.
		seen := map[uint64]bool{}
		for _, row := range rows {
			if row.Inode != 0 && seen[row.Inode] {
				continue
			}
			seen[row.Inode] = true
			set.list = append(set.list, &socket{
				family: "unix", protocol: "unix",
				state: procfile.UnixSocketState(row), inode: row.Inode,
				netNS: netNS, hasNetNS: hasNetNS,
				path: row.Path, hasPath: row.HasPath, unixType: procfile.UnixTypeName(row.Type),
			})
		}
	}
	if data, ok := r.readFile(dir + "/packet"); ok {
		rows, err := procfile.ParseNetPacket(data)
		if err != nil {
			r.recordFailure(dir+"/packet", err)
		}
		seen := map[uint64]bool{}
		for _, row := range rows {
			if row.Inode != 0 && seen[row.Inode] {
				continue
			}
			seen[row.Inode] = true
			set.list = append(set.list, &socket{
				family: "packet", protocol: "packet", inode: row.Inode,
				uid: row.UID, hasUID: true, netNS: netNS, hasNetNS: hasNetNS,
			})
		}
	}
}

// udpStateName names the states a UDP socket shows: 7 (CLOSE) is an unbound
// or listening socket, 1 a connected one.
func udpStateName(state uint8) string {
	switch state {
	case 1:
		return "ESTABLISHED"
	case 7:
		return "UNCONN"
	}
	return procfile.TCPStateName(state)
}
