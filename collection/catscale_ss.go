package collection

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ss -anepo (iproute2) prints one socket a line: Netid, State, Recv-Q,
// Send-Q, the local and peer address, and then the process column
// users:(("comm",pid=N,fd=M),...) and details such as uid:N (only when not
// 0), ino:N and timer:(name,expiry,retransmits). Lines that start with a
// tab continue the socket above, as for the ring details of packet sockets.

// ssStates maps ss's state names to the kernel's state numbers, which ss
// indexes its names by (TCP_ESTABLISHED is 1, TCP_CLOSING 11).
var ssStates = map[string]uint8{
	"ESTAB": 1, "SYN-SENT": 2, "SYN-RECV": 3, "FIN-WAIT-1": 4, "FIN-WAIT-2": 5,
	"TIME-WAIT": 6, "UNCONN": 7, "CLOSE-WAIT": 8, "LAST-ACK": 9, "LISTEN": 10, "CLOSING": 11,
}

// ssTimers maps the names of ss's timer:(...) to the "tr" column of
// /proc/net/tcp.
var ssTimers = map[string]uint8{"off": 0, "on": 1, "keepalive": 2, "timewait": 3, "persist": 4}

// ssUnixTypes maps ss's unix Netids to socket types (SOCK_STREAM 1,
// SOCK_DGRAM 2, SOCK_SEQPACKET 5).
var ssUnixTypes = map[string]uint16{"u_str": 1, "u_dgr": 2, "u_seq": 5}

// ssHolder is one descriptor that ss's process column names.
type ssHolder struct {
	pid, fd int
	inode   uint64
}

// ssSockets is the /proc/net text rebuilt from an ss listing, with the
// descriptors of its process column and a count of the rows of kinds that
// procsql has no table for.
type ssSockets struct {
	lines   map[string][]string // "tcp", "udp6", "unix" ... → rows without header
	holders []ssHolder
	skipped map[string]int // Netid → rows
}

// Headers of the /proc/net files, as the kernel prints them.
const (
	netIPHeader     = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
	netUnixHeader   = "Num       RefCount Protocol Flags    Type St Inode Path"
	netPacketHeader = "sk               RefCnt Type Proto  Iface R Rmem   User   Inode"
)

// netFileHeaders maps each rebuilt file to its header.
var netFileHeaders = map[string]string{
	"tcp": netIPHeader, "tcp6": netIPHeader, "udp": netIPHeader, "udp6": netIPHeader,
	"raw": netIPHeader, "raw6": netIPHeader, "unix": netUnixHeader, "packet": netPacketHeader,
}

// ssToken is one space-separated word of a line and where it starts.
type ssToken struct {
	text       string
	start, end int
}

func ssTokens(line string) []ssToken {
	var tokens []ssToken
	for pos := 0; pos < len(line); {
		for pos < len(line) && (line[pos] == ' ' || line[pos] == '\t') {
			pos++
		}
		end := pos
		for end < len(line) && line[end] != ' ' && line[end] != '\t' {
			end++
		}
		if end > pos {
			tokens = append(tokens, ssToken{line[pos:end], pos, end})
		}
		pos = end
	}
	return tokens
}

// parseSS rebuilds the /proc/net files from the output of ss -anepo.
func parseSS(data []byte, problems *fileProblems) ssSockets {
	out := ssSockets{lines: map[string][]string{}, skipped: map[string]int{}}
	lineNumber := 0
	for line := range strings.Lines(string(data)) {
		lineNumber++
		line = strings.TrimRight(line, "\n")
		if strings.TrimSpace(line) == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		tokens := ssTokens(line)
		if tokens[0].text == "Netid" {
			continue
		}
		if err := out.addLine(line, tokens); err != nil {
			problems.add(lineNumber, "skipped: %v", err)
		}
	}
	return out
}

// addLine converts one socket line.
func (out *ssSockets) addLine(line string, tokens []ssToken) error {
	if len(tokens) < 6 {
		return fmt.Errorf("%d columns, want at least 6 (Netid, State, Recv-Q, Send-Q, local and peer address)", len(tokens))
	}
	netid, state := tokens[0].text, tokens[1].text
	recvQ, err1 := strconv.ParseUint(tokens[2].text, 10, 64)
	sendQ, err2 := strconv.ParseUint(tokens[3].text, 10, 64)
	switch netid {
	case "tcp", "udp", "raw", "u_str", "u_dgr", "u_seq", "p_raw", "p_dgr":
	default:
		out.skipped[netid]++
		return nil
	}
	if err1 != nil || err2 != nil {
		return fmt.Errorf("Recv-Q %q or Send-Q %q is not a number", tokens[2].text, tokens[3].text)
	}
	stateNumber, ok := ssStates[state]
	if !ok {
		return fmt.Errorf("unknown state %q", state)
	}

	if socketType, ok := ssUnixTypes[netid]; ok {
		return out.addUnix(line, tokens, socketType, state)
	}
	rest := line[tokens[5].end:]
	details, holders, err := parseSSDetails(rest)
	if err != nil {
		return err
	}
	if !details.hasInode {
		return fmt.Errorf("no ino: detail, so the socket cannot be joined to its descriptors (was ss run without -e?)")
	}
	out.addHolders(holders, details.inode)
	if netid == "p_raw" || netid == "p_dgr" {
		return out.addPacket(netid, tokens[4].text, recvQ, details)
	}

	local, localPort, err := parseSSEndpoint(tokens[4].text)
	if err != nil {
		return fmt.Errorf("local address: %w", err)
	}
	remote, remotePort, err := parseSSEndpoint(tokens[5].text)
	if err != nil {
		return fmt.Errorf("peer address: %w", err)
	}
	file := netid
	if local.Is6() || remote.Is6() {
		file += "6"
		local, remote = as16(local), as16(remote)
	}
	txQueue, rxQueue := sendQ, recvQ
	if netid == "tcp" && state == "LISTEN" {
		// ss shows a listener's backlog limit in Send-Q, where
		// /proc/net/tcp has the send queue, which a listener never fills.
		txQueue = 0
	}
	row := fmt.Sprintf("%4d: %s:%04X %s:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d",
		len(out.lines[file]), netHex(local), localPort, netHex(remote), remotePort,
		stateNumber, txQueue, rxQueue, details.timer, 0, details.retransmits, details.uid, 0, details.inode)
	out.lines[file] = append(out.lines[file], row)
	return nil
}

// addUnix converts a unix socket line. Its address columns are "name inode"
// for the local end and "name inode" for the peer, where the name is * for
// an unbound socket and a path may hold spaces.
func (out *ssSockets) addUnix(line string, tokens []ssToken, socketType uint16, state string) error {
	end := len(tokens)
	for i := 8; i < len(tokens); i++ {
		if isSSDetail(tokens[i].text) {
			end = i
			break
		}
	}
	region := tokens[4:end]
	if len(region) < 4 {
		return fmt.Errorf("unix socket with %d address words, want a name and inode for each end", len(region))
	}
	inodeText := region[len(region)-3].text
	inode, err := strconv.ParseUint(inodeText, 10, 64)
	if err != nil {
		return fmt.Errorf("unix socket inode %q is not a number", inodeText)
	}
	if peerText := region[len(region)-1].text; !isDecimal(peerText) {
		return fmt.Errorf("unix peer inode %q is not a number", peerText)
	}
	name := line[region[0].start:region[len(region)-3-1].end]
	_, holders, err := parseSSDetails(line[region[len(region)-1].end:])
	if err != nil {
		return err
	}
	out.addHolders(holders, inode)

	var flags uint32
	var st uint8
	switch state {
	case "LISTEN":
		flags, st = 0x10000, 1 // __SO_ACCEPTCON, SS_UNCONNECTED
	case "UNCONN":
		st = 1 // SS_UNCONNECTED
	case "ESTAB":
		st = 3 // SS_CONNECTED
	default:
		return fmt.Errorf("unix socket state %q has no St value in /proc/net/unix", state)
	}
	row := fmt.Sprintf("0000000000000000: %08X %08X %08X %04X %02X %5d", 0, 0, flags, socketType, st, inode)
	if name != "*" {
		row += " " + name
	}
	out.lines["unix"] = append(out.lines["unix"], row)
	return nil
}

// addPacket converts a packet socket line, whose local address is
// "protocol:interface" with * for ETH_P_ALL and for all interfaces.
func (out *ssSockets) addPacket(netid, local string, recvQ uint64, details ssDetails) error {
	socketType := 3 // SOCK_RAW
	if netid == "p_dgr" {
		socketType = 2 // SOCK_DGRAM
	}
	protocolText, _, _ := strings.Cut(local, ":")
	var protocol uint64
	switch {
	case protocolText == "*":
		protocol = 3 // ETH_P_ALL
	case strings.HasPrefix(protocolText, "0x"):
		p, err := strconv.ParseUint(protocolText[2:], 16, 16)
		if err != nil {
			return fmt.Errorf("packet protocol %q is not a hex number", protocolText)
		}
		protocol = p
	}
	row := fmt.Sprintf("0000000000000000 %-6d %-4d %04x   %-5d %1d %-6d %-6d %-6d",
		0, socketType, protocol, 0, 0, recvQ, details.uid, details.inode)
	out.lines["packet"] = append(out.lines["packet"], row)
	return nil
}

func (out *ssSockets) addHolders(holders []ssHolder, inode uint64) {
	for _, h := range holders {
		h.inode = inode
		out.holders = append(out.holders, h)
	}
}

func isDecimal(text string) bool {
	_, err := strconv.ParseUint(text, 10, 64)
	return err == nil
}

// isSSDetail reports whether a word starts the process column or the
// details after a unix socket's addresses.
func isSSDetail(word string) bool {
	if strings.HasPrefix(word, "users:(") || word == "<->" || word == "<--" || word == "-->" || word == "---" {
		return true
	}
	for _, prefix := range []string{"ino:", "dev:", "peers:", "uid:", "sk:", "cgroup:", "skmem:", "timer:", "fwmark:"} {
		if strings.HasPrefix(word, prefix) {
			return true
		}
	}
	return false
}

// ssDetails holds the details ss printed after the addresses.
type ssDetails struct {
	inode       uint64
	hasInode    bool
	uid         uint32
	timer       uint8
	retransmits uint64
}

// ssUser matches one entry of the process column. A command name may hold
// any byte, including quotes, so the name ends at the first `",pid=N,fd=M)`.
var ssUser = regexp.MustCompile(`\A\("(.*?)",pid=([0-9]+),fd=([0-9]+)\)`)

// ssTimer matches timer:(name,expiry,retransmits).
var ssTimer = regexp.MustCompile(`^timer:\(([a-z]+),[^,]*,([0-9]+)\)$`)

// parseSSDetails reads the process column and the details of one line,
// given the text after the peer address.
func parseSSDetails(rest string) (ssDetails, []ssHolder, error) {
	var d ssDetails
	var holders []ssHolder
	if i := strings.Index(rest, "users:("); i >= 0 {
		pos := i + len("users:(")
		for {
			m := ssUser.FindStringSubmatchIndex(rest[pos:])
			if m == nil {
				return d, nil, fmt.Errorf("process column %q is not users:((\"name\",pid=N,fd=M),...)", excerptText(rest[i:]))
			}
			pid, ok := parsePID(rest[pos+m[4] : pos+m[5]])
			fd, err := strconv.Atoi(rest[pos+m[6] : pos+m[7]])
			if !ok || err != nil {
				return d, nil, fmt.Errorf("process column %q has an invalid pid or fd", excerptText(rest[i:]))
			}
			holders = append(holders, ssHolder{pid: pid, fd: fd})
			pos += m[1]
			if strings.HasPrefix(rest[pos:], ",") {
				pos++
				continue
			}
			if !strings.HasPrefix(rest[pos:], ")") {
				return d, nil, fmt.Errorf("process column %q does not end in \")\"", excerptText(rest[i:]))
			}
			rest = rest[:i] + rest[pos+1:]
			break
		}
	}
	for _, word := range strings.Fields(rest) {
		switch {
		case strings.HasPrefix(word, "ino:"):
			inode, err := strconv.ParseUint(word[len("ino:"):], 10, 64)
			if err != nil {
				return d, nil, fmt.Errorf("detail %q is not ino:<number>", word)
			}
			d.inode, d.hasInode = inode, true
		case strings.HasPrefix(word, "uid:"):
			uid, err := strconv.ParseUint(word[len("uid:"):], 10, 32)
			if err != nil {
				return d, nil, fmt.Errorf("detail %q is not uid:<number>", word)
			}
			d.uid = uint32(uid)
		case strings.HasPrefix(word, "timer:("):
			if m := ssTimer.FindStringSubmatch(word); m != nil {
				d.timer = ssTimers[m[1]]
				d.retransmits, _ = strconv.ParseUint(m[2], 10, 32)
			}
		}
	}
	return d, holders, nil
}

// excerptText shortens text for a message.
func excerptText(text string) string {
	if len(text) > 60 {
		return text[:60] + "..."
	}
	return text
}

// parseSSEndpoint parses an address and port as ss -n prints them:
// "127.0.0.1:22", "[::1]:22", "*:22" for the IPv6 wildcard of a dual-stack
// socket, with "%ifname" after the address of a socket bound to a device
// and "*" for port 0.
func parseSSEndpoint(text string) (netip.Addr, uint16, error) {
	colon := strings.LastIndexByte(text, ':')
	if colon < 0 {
		return netip.Addr{}, 0, fmt.Errorf("%q has no ':' before the port", text)
	}
	host, portText := text[:colon], text[colon+1:]
	var port uint16
	if portText != "*" {
		p, err := strconv.ParseUint(portText, 10, 16)
		if err != nil {
			return netip.Addr{}, 0, fmt.Errorf("port %q in %q is not a number (was ss run without -n?)", portText, text)
		}
		port = uint16(p)
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	if host == "*" {
		return netip.IPv6Unspecified(), port, nil
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("address %q in %q is not an IP address", host, text)
	}
	return addr, port, nil
}

// as16 returns an IPv4 address as IPv4-mapped IPv6, as a tcp6 row of a
// dual-stack socket holds it.
func as16(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.AddrFrom16(a.As16())
	}
	return a
}

// netHex formats an address as /proc/net/tcp does on a little-endian
// host: each 32-bit word of the address in host byte order, as %08X.
func netHex(a netip.Addr) string {
	var b strings.Builder
	raw := a.AsSlice()
	for i := 0; i+4 <= len(raw); i += 4 {
		fmt.Fprintf(&b, "%08X", binary.LittleEndian.Uint32(raw[i:i+4]))
	}
	return b.String()
}

// netFile returns the text of one rebuilt /proc/net file.
func (out ssSockets) netFile(file string) []byte {
	var b strings.Builder
	b.WriteString(netFileHeaders[file])
	b.WriteString("\n")
	for _, row := range out.lines[file] {
		b.WriteString(row)
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// loadSockets rebuilds /proc/net/{tcp,tcp6,udp,udp6,raw,raw6,unix,packet}
// from ss -anepo, and the socket descriptors that process-fd-links lacks
// from ss's process column.
func (s *catScaleSet) loadSockets() error {
	data, ok, err := s.read("ss-anepo.txt")
	if err != nil {
		return err
	}
	if !ok {
		var netstat []string
		for suffix := range s.files {
			if strings.HasPrefix(suffix, "netstat-") {
				netstat = append(netstat, s.files[suffix])
			}
		}
		if len(netstat) > 0 {
			sort.Strings(netstat)
			s.tree.AddLossy(fmt.Sprintf("The sockets and process_sockets tables are empty because the importer reads ss -anepo output only, not %s.", strings.Join(netstat, ", ")))
		} else {
			s.tree.AddLossy("The sockets and process_sockets tables are empty because the collection has no ss-anepo.")
		}
		return nil
	}
	problems := &fileProblems{name: s.files["ss-anepo.txt"]}
	sockets := parseSS(data, problems)
	for file := range netFileHeaders {
		s.tree.AddFile("net/"+file, sockets.netFile(file))
	}
	s.addSSHolders(sockets.holders, problems.name)
	s.tree.AddLossy("The sockets rows come from ss -anepo: tx_queue of TCP listeners is 0 because ss shows their backlog limit instead, and the /proc/net columns that no table reads (sl, tm->when, RefCount, packet Iface) are 0.")
	if len(sockets.skipped) > 0 {
		kinds := make([]string, 0, len(sockets.skipped))
		for netid, n := range sockets.skipped {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, netid))
		}
		sort.Strings(kinds)
		s.tree.AddLossy(fmt.Sprintf("The sockets table has no rows for the ss lines of kinds procsql has no /proc/net file for: %s.", strings.Join(kinds, ", ")))
	}
	problems.report(s.tree)
	return nil
}

// addSSHolders adds the descriptor links that ss's process column names
// and process-fd-links lacks, and reports those that disagree with it.
func (s *catScaleSet) addSSHolders(holders []ssHolder, file string) {
	var added, disagree []string
	for _, h := range holders {
		link := fmt.Sprintf("%d/fd/%d", h.pid, h.fd)
		target := fmt.Sprintf("socket:[%d]", h.inode)
		existing, err := s.tree.ReadLink(link)
		if err != nil {
			s.tree.AddLink(link, target)
			added = append(added, link)
			continue
		}
		if existing != target {
			disagree = append(disagree, fmt.Sprintf("%s is %s in process-fd-links", link, existing))
		}
	}
	if len(added) > 0 {
		sort.Strings(added)
		example := strings.Join(added[:min(len(added), 5)], ", ")
		if len(added) > 5 {
			example += fmt.Sprintf(" and %d more", len(added)-5)
		}
		s.tree.AddLossy(fmt.Sprintf("The socket descriptors %s come from ss's process column because process-fd-links lacks them.", example))
	}
	for _, d := range disagree {
		s.tree.AddProblem(fmt.Sprintf("%s names a socket for %s, as when a descriptor was reused between the two commands", file, d))
	}
}
