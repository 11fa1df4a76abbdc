package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
)

// fitSockets makes the host hold exactly -sockets sockets. When the
// processes asked for more, the sockets of lowest priority are left out of
// the /proc/net files, and their holders' descriptors then look like netlink
// sockets, which those files do not list either. When they asked for fewer,
// connections are added to the servers and clients that would have them.
// It returns how many sockets it left out.
func (b *builder) fitSockets() (int, error) {
	budget := b.cfg.sockets
	planted := 0
	for _, s := range b.h.sockets {
		if s.priority == priorityPlanted {
			planted++
		}
	}
	if planted > budget {
		return 0, fmt.Errorf("the planted behaviours need %d sockets but -sockets is %d: raise -sockets or lower -planted", planted, budget)
	}
	dropped := 0
	if extra := len(b.h.sockets) - budget; extra > 0 {
		order := make([]int, len(b.h.sockets))
		for i := range order {
			order[i] = i
		}
		// Lowest priority first, and among equals the newest first.
		slices.SortStableFunc(order, func(x, y int) int {
			if p := b.h.sockets[y].priority - b.h.sockets[x].priority; p != 0 {
				return p
			}
			return y - x
		})
		drop := make([]bool, len(b.h.sockets))
		for _, i := range order[:extra] {
			drop[i] = true
		}
		kept := b.h.sockets[:0]
		for i, s := range b.h.sockets {
			if !drop[i] {
				kept = append(kept, s)
			}
		}
		b.h.sockets = kept
		dropped = extra
	}
	for len(b.h.sockets) < budget {
		b.addFiller(budget - len(b.h.sockets))
	}
	return dropped, nil
}

// fillers are the kinds of socket added to reach -sockets, weighted to give
// the mix of a web and database server. There are inbound HTTPS
// connections, loopback connections between nginx, the applications and the
// databases, unix connections to PHP-FPM, D-Bus and journald, TIME_WAIT
// entries and DNS lookups.
var fillers = []struct {
	weight  int
	sockets int
	add     func(b *builder) bool
}{
	{30, 1, (*builder).fillInbound},
	{12, 2, (*builder).fillProxy},
	{15, 2, (*builder).fillDatabase},
	{12, 2, (*builder).fillPHP},
	{12, 2, (*builder).fillUnix},
	{6, 1, (*builder).fillTimeWait},
	{3, 1, (*builder).fillDNS},
}

// addFiller adds one filler of at most room sockets. A kind whose holders
// the host lacks is skipped and another drawn. fillUnix, fillTimeWait and
// fillDNS always succeed, so the loop ends.
func (b *builder) addFiller(room int) {
	total := 0
	for _, f := range fillers {
		total += f.weight
	}
	for {
		n := b.rng.IntN(total)
		for _, f := range fillers {
			if n -= f.weight; n >= 0 {
				continue
			}
			if f.sockets <= room && f.add(b) {
				return
			}
			break
		}
	}
}

// fillInbound adds a client connection to a web server or service.
func (b *builder) fillInbound() bool {
	if len(b.web) == 0 {
		return false
	}
	w := b.web[b.rng.IntN(len(b.web))]
	net := w.ns.net
	local := netip.AddrPortFrom(net.addr4, w.servePort)
	remote := netip.AddrPortFrom(b.clientAddr(false), b.ephemeralPort())
	switch {
	case w.prog == progJava:
		// A JVM listens on an IPv6 socket, so IPv4 clients of the load
		// balancer show as mapped addresses.
		balancer := netip.AddrFrom4([4]byte{10, 20, 0, byte(2 + b.rng.IntN(8))})
		local = netip.AddrPortFrom(netip.AddrFrom16(net.addr4.As16()), w.servePort)
		remote = netip.AddrPortFrom(netip.AddrFrom16(balancer.As16()), b.ephemeralPort())
	case net.addr6.IsValid() && b.rng.IntN(10) < 3:
		local = netip.AddrPortFrom(net.addr6, w.servePort)
		remote = netip.AddrPortFrom(b.clientAddr(true), b.ephemeralPort())
	}
	s := b.connect(local, remote, priorityFiller, w)
	s.uid = w.acceptUID
	if b.rng.IntN(20) == 0 {
		s.txQueue = uint64(b.rng.IntN(65536))
	}
	return true
}

// fillProxy adds a loopback connection from an nginx worker to an
// application server, both ends of it.
func (b *builder) fillProxy() bool {
	if len(b.proxyClients) == 0 || len(b.upstreams) == 0 {
		return false
	}
	client := b.proxyClients[b.rng.IntN(len(b.proxyClients))]
	server := b.upstreams[b.rng.IntN(len(b.upstreams))]
	b.loopbackPair(client, server, server.servePort)
	return true
}

// fillDatabase adds a loopback connection from an application to a
// PostgreSQL backend that has none yet, or else to Redis.
func (b *builder) fillDatabase() bool {
	if len(b.appClients) == 0 {
		return false
	}
	client := b.appClients[b.rng.IntN(len(b.appClients))]
	for len(b.pgBackends) > 0 {
		i := b.rng.IntN(len(b.pgBackends))
		backend := b.pgBackends[i]
		b.pgBackends[i] = b.pgBackends[len(b.pgBackends)-1]
		b.pgBackends = b.pgBackends[:len(b.pgBackends)-1]
		if backend.peerPort != 0 {
			b.loopbackPairPort(client, backend, backend.servePort, backend.peerPort)
			backend.peerPort = 0
			return true
		}
	}
	if len(b.redis) == 0 {
		return false
	}
	b.loopbackPair(client, b.redis[0], 6379)
	return true
}

// loopbackPair adds both ends of a TCP connection on 127.0.0.1.
func (b *builder) loopbackPair(client, server *process, port uint16) {
	b.loopbackPairPort(client, server, port, b.ephemeralPort())
}

func (b *builder) loopbackPairPort(client, server *process, port, clientPort uint16) {
	lo := netip.MustParseAddr("127.0.0.1")
	clientEnd := netip.AddrPortFrom(lo, clientPort)
	serverEnd := netip.AddrPortFrom(lo, port)
	b.connect(clientEnd, serverEnd, priorityFiller, client)
	if server.prog == progJava {
		mapped := netip.AddrFrom16(lo.As16())
		b.connect(netip.AddrPortFrom(mapped, port), netip.AddrPortFrom(mapped, clientPort), priorityFiller, server)
		return
	}
	b.connect(serverEnd, clientEnd, priorityFiller, server)
}

// fillPHP adds a FastCGI connection from an nginx worker to a PHP-FPM
// worker over the pool's unix socket.
func (b *builder) fillPHP() bool {
	if len(b.proxyClients) == 0 || len(b.phpWorkers) == 0 {
		return false
	}
	client := b.proxyClients[b.rng.IntN(len(b.proxyClients))]
	server := b.phpWorkers[b.rng.IntN(len(b.phpWorkers))]
	b.unixPair(server.servePath, priorityFiller, client, server)
	return true
}

// fillUnix adds a connection of a host daemon to D-Bus or to journald.
func (b *builder) fillUnix() bool {
	client := b.fallback[b.rng.IntN(len(b.fallback))]
	if b.rng.IntN(2) == 0 {
		b.unixPair(dbusSock, priorityFiller, client, b.dbus)
	} else {
		b.unixPair(journalSock, priorityFiller, client, b.journald)
	}
	return true
}

// fillTimeWait adds a TIME_WAIT entry of a closed HTTPS connection. It
// belongs to no process.
func (b *builder) fillTimeWait() bool {
	net := b.h.hostNS.net
	b.addSocket(&socket{proto: "tcp", ns: net, local: netip.AddrPortFrom(net.addr4, 443),
		remote: netip.AddrPortFrom(b.clientAddr(false), b.ephemeralPort()), state: tcpTimeWait, priority: priorityFiller})
	return true
}

// fillDNS adds a UDP socket connected to the local resolver.
func (b *builder) fillDNS() bool {
	holder := b.fallback[b.rng.IntN(len(b.fallback))]
	b.udp(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), b.ephemeralPort()), netip.MustParseAddrPort("127.0.0.53:53"), priorityFiller, holder)
	return true
}

// netFileNames are the files of /proc/<pid>/net that the sockets table reads.
var netFileNames = []string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix", "packet"}

// Headers of the /proc/net files, as Linux 6.1 prints them.
const (
	tcpHeader    = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n"
	tcp6Header   = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	udpHeader    = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             \n"
	udp6Header   = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	unixHeader   = "Num       RefCount Protocol Flags    Type St Inode Path\n"
	packetHeader = "sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n"
)

// netFiles returns the content of the net/ files of each namespace, keyed
// by namespace and then file name.
func netFiles(h *host) map[*netNamespace]map[string][]byte {
	byNS := map[*netNamespace][]*socket{}
	for _, s := range h.sockets {
		byNS[s.ns] = append(byNS[s.ns], s)
	}
	out := map[*netNamespace]map[string][]byte{}
	for _, ns := range h.netns {
		files := map[string][]byte{
			"tcp": []byte(tcpHeader), "tcp6": []byte(tcp6Header), "udp": []byte(udpHeader), "udp6": []byte(udp6Header),
			"raw": []byte(udpHeader), "raw6": []byte(udp6Header), "unix": []byte(unixHeader), "packet": []byte(packetHeader),
		}
		// The kernel lists listeners before connections: they sit in
		// separate hash tables that it walks first.
		sockets := slices.Clone(byNS[ns])
		slices.SortStableFunc(sockets, func(x, y *socket) int { return boolRank(!x.listening()) - boolRank(!y.listening()) })
		slot := map[string]int{}
		for _, s := range sockets {
			files[s.proto] = appendSocketLine(files[s.proto], s, slot[s.proto])
			slot[s.proto]++
		}
		out[ns] = files
	}
	return out
}

func (s *socket) listening() bool {
	return s.state == tcpListen && (s.proto == "tcp" || s.proto == "tcp6") || s.listen
}

func boolRank(v bool) int {
	if v {
		return 1
	}
	return 0
}

// kernelPointer returns what a %pK field shows a root reader: a hashed
// pointer, 32 bits of hash printed as 16 hex digits.
func kernelPointer(inode uint64) string {
	return fmt.Sprintf("%016x", uint32(inode*2654435761+0x9e3779b9))
}

// appendSocketLine appends the row of s in its file's format.
func appendSocketLine(buf []byte, s *socket, slot int) []byte {
	switch s.proto {
	case "unix":
		flags, refs, state := 0, 3, s.state
		if s.listen {
			flags, refs, state = 0x10000, 2, 1
		} else if s.unixType == 2 {
			refs = 2
		}
		buf = fmt.Appendf(buf, "%s: %08X %08X %08X %04X %02X %5d", kernelPointer(s.inode), refs, 0, flags, s.unixType, state, s.inode)
		if s.path != "" {
			buf = append(buf, ' ')
			buf = append(buf, s.path...)
		}
		return append(buf, '\n')
	case "packet":
		return fmt.Appendf(buf, "ffff%s %-6d %-4d %04x   %-5d %1d %-6d %-6d %-6d\n", kernelPointer(s.inode)[4:], 3, 3, s.etherType, s.iface, 1, 0, s.uid, s.inode)
	case "udp", "udp6", "raw", "raw6":
		return fmt.Appendf(buf, "%5d: %s %s %02X %08X:%08X 00:00000000 00000000 %5d %8d %d 2 %s 0\n",
			int(s.local.Port())%1024, hexAddrPort(s.local), hexAddrPort(s.remote), s.state, s.txQueue, s.rxQueue, s.uid, 0, s.inode, kernelPointer(s.inode))
	}
	if s.state == tcpTimeWait {
		return fmt.Appendf(buf, "%4d: %s %s %02X 00000000:00000000 03:%08X 00000000     0        0 0 3 0000000000000000\n",
			slot, hexAddrPort(s.local), hexAddrPort(s.remote), s.state, 1000+s.remote.Port()%5000)
	}
	timer := "00:00000000"
	if s.state == tcpEstablished {
		timer = "02:" + fmt.Sprintf("%08X", 100000+int(s.inode%600000))
	}
	return fmt.Appendf(buf, "%4d: %s %s %02X %08X:%08X %s 00000000 %5d %8d %d 1 %s 20 4 30 10 -1\n",
		slot, hexAddrPort(s.local), hexAddrPort(s.remote), s.state, s.txQueue, s.rxQueue, timer, s.uid, 0, s.inode, kernelPointer(s.inode))
}

// hexAddrPort prints an address the way the kernel does: each 32-bit word
// of the address in the host's byte order as %08X, then ':' and the port
// as %04X.
func hexAddrPort(ap netip.AddrPort) string {
	addr := ap.Addr()
	out := make([]byte, 0, 37)
	if addr.Is4() {
		a := addr.As4()
		out = fmt.Appendf(out, "%08X", binary.NativeEndian.Uint32(a[:]))
	} else {
		a := addr.As16()
		for i := 0; i < 16; i += 4 {
			out = fmt.Appendf(out, "%08X", binary.NativeEndian.Uint32(a[i:i+4]))
		}
	}
	return string(out) + ":" + fmt.Sprintf("%04X", ap.Port())
}

// socketCount returns the sockets of each protocol, for the summary.
func socketCount(h *host) string {
	counts := map[string]int{}
	for _, s := range h.sockets {
		counts[s.proto]++
	}
	out := ""
	for _, proto := range netFileNames {
		if counts[proto] > 0 {
			if out != "" {
				out += ", "
			}
			out += proto + " " + strconv.Itoa(counts[proto])
		}
	}
	return out
}
