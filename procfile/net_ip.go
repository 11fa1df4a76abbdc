package procfile

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"net/netip"
	"strconv"
)

// IPSocket is one row of /proc/net/{tcp,tcp6,udp,udp6,raw,raw6,udplite,udplite6}.
type IPSocket struct {
	// Slot is the "sl" column: a row counter for tcp, but the hash bucket for
	// udp and raw, so it is not unique within a udp or raw file.
	Slot       uint64
	LocalAddr  netip.Addr
	LocalPort  uint16
	RemoteAddr netip.Addr
	RemotePort uint16
	// State is the kernel TCP state number (see TCPStateName). udp and raw
	// sockets print their sk_state with the same numbers.
	State   uint8
	TxQueue uint64 // bytes
	RxQueue uint64 // bytes, but for a TCP listener the number of connections waiting for accept()
	// Timer is the "tr" column: 0 none, 1 retransmit, 2 keepalive,
	// 3 TIME_WAIT, 4 zero-window probe.
	Timer uint8
	// TimerExpiry is the "tm->when" column: time until the timer fires, in
	// clock ticks (USER_HZ, usually 100 per second).
	TimerExpiry uint64
	Retransmits uint32
	UID         uint32
	// Inode is the socket inode that /proc/<pid>/fd links name as
	// "socket:[inode]". It is 0 for TIME_WAIT and SYN_RECV request rows,
	// which belong to no file descriptor.
	Inode uint64
}

// minIPSocketColumns is the number of columns up to and including "inode".
// TIME_WAIT and request rows end two columns later, at the socket pointer.
const minIPSocketColumns = 10

// ParseNetIP parses the contents of a /proc/net/{tcp,udp,raw,udplite}[6]
// file. All eight share one row format, and each row may hold an IPv4
// address (8 hex digits) or an IPv6 address (32 hex digits).
//
// The kernel prints each address as 32-bit words in the byte order of the host
// that produced the file, so order must be that host's order:
// binary.LittleEndian for x86_64 and arm64, binary.BigEndian for s390x. A nil
// order means binary.NativeEndian, which is right for the live /proc of the
// machine running procsql but not for a snapshot taken elsewhere. Ports are
// printed in host order and need no swap.
//
// The header line is skipped when present, and blank lines are ignored. Columns
// after "inode" are not read, so short TIME_WAIT rows parse like full ones.
// A line that does not parse is skipped. ParseNetIP then returns every row
// that did parse together with an error that wraps ErrMalformed and names the
// first bad line. An order that is neither little- nor big-endian is rejected
// with an error that does not wrap ErrMalformed.
func ParseNetIP(data []byte, order binary.ByteOrder) ([]IPSocket, error) {
	if order == nil {
		order = binary.NativeEndian
	}
	swapWords, ok := wordsNeedSwap(order)
	if !ok {
		return nil, errors.New("ParseNetIP: byte order is neither little- nor big-endian: pass binary.LittleEndian or binary.BigEndian")
	}

	return parseTableLines(data, "sl", shortestIPSocketLine, func(line []byte) (IPSocket, string) {
		return parseIPSocketLine(line, swapWords)
	})
}

// parseIPSocketLine parses one data row. On failure it returns a description
// of the first invalid column instead of an error, so that the caller adds the
// line number and builds one error per file.
func parseIPSocketLine(line []byte, swapWords bool) (IPSocket, string) {
	var row IPSocket
	var columns [minIPSocketColumns][]byte
	pos := 0
	for i := range columns {
		columns[i], pos = nextColumn(line, pos)
		if len(columns[i]) == 0 {
			return row, "expected at least " + strconv.Itoa(minIPSocketColumns) +
				" columns (sl to inode), found " + strconv.Itoa(i) + " in " + quoteColumn(line)
		}
	}

	var ok bool
	slot := columns[0]
	if slot[len(slot)-1] != ':' {
		return row, "invalid sl " + quoteColumn(slot) + ": expected a decimal number and ':'"
	}
	if row.Slot, ok = parseDecColumn(slot[:len(slot)-1], 64); !ok {
		return row, "invalid sl " + quoteColumn(slot) + ": expected a decimal number and ':'"
	}

	if row.LocalAddr, row.LocalPort, ok = parseSocketAddress(columns[1], swapWords); !ok {
		return row, "invalid local_address " + quoteColumn(columns[1]) + addressFormatHint
	}
	if row.RemoteAddr, row.RemotePort, ok = parseSocketAddress(columns[2], swapWords); !ok {
		return row, "invalid rem_address " + quoteColumn(columns[2]) + addressFormatHint
	}

	state, ok := parseHexColumn(columns[3], 8)
	if !ok {
		return row, "invalid st " + quoteColumn(columns[3]) + ": expected 2 hex digits"
	}
	row.State = uint8(state)

	if row.TxQueue, row.RxQueue, ok = parseHexPair(columns[4], 64, 64); !ok {
		return row, "invalid tx_queue:rx_queue " + quoteColumn(columns[4]) + ": expected two hex numbers joined by ':'"
	}

	timer, expiry, ok := parseHexPair(columns[5], 8, 64)
	if !ok {
		return row, "invalid tr:tm->when " + quoteColumn(columns[5]) + ": expected two hex numbers joined by ':'"
	}
	row.Timer, row.TimerExpiry = uint8(timer), expiry

	retransmits, ok := parseHexColumn(columns[6], 32)
	if !ok {
		return row, "invalid retrnsmt " + quoteColumn(columns[6]) + ": expected up to 8 hex digits"
	}
	row.Retransmits = uint32(retransmits)

	uid, ok := parseDecColumn(columns[7], 32)
	if !ok {
		return row, "invalid uid " + quoteColumn(columns[7]) + ": expected a decimal 32-bit number"
	}
	row.UID = uint32(uid)

	// columns[8] is "timeout" (unanswered probes for tcp, 0 otherwise). It is
	// not stored, so its content is not checked.

	if row.Inode, ok = parseDecColumn(columns[9], 64); !ok {
		return row, "invalid inode " + quoteColumn(columns[9]) + ": expected a decimal number"
	}
	return row, ""
}

// shortestIPSocketLine is the shortest line that parseIPSocketLine accepts.
const shortestIPSocketLine = "0: 00000000:0000 00000000:0000 0 0:0 0:0 0 0 0 0"

const addressFormatHint = ": expected 8 (IPv4) or 32 (IPv6) hex digits, ':' and a 4-digit hex port"

// wordsNeedSwap reports whether a 32-bit word printed by a host of the given
// byte order must have its bytes reversed to read in network order. It runs
// once per file because calling PutUint32 through the interface for every
// address moved each address buffer to the heap.
func wordsNeedSwap(order binary.ByteOrder) (swap, ok bool) {
	var probe [4]byte
	order.PutUint32(probe[:], 0x01020304)
	switch probe {
	case [4]byte{4, 3, 2, 1}:
		return true, true
	case [4]byte{1, 2, 3, 4}:
		return false, true
	}
	return false, false
}

// parseSocketAddress parses "ADDR:PORT" where ADDR is one (IPv4) or four
// (IPv6) 32-bit words printed as %08X in the producing host's byte order.
// Each word, with its bytes reversed when swapWords is set, holds 4 bytes of
// the address in network order.
func parseSocketAddress(b []byte, swapWords bool) (netip.Addr, uint16, bool) {
	colon := len(b) - 5
	if colon < 0 || b[colon] != ':' {
		return netip.Addr{}, 0, false
	}
	port, ok := parseHexColumn(b[colon+1:], 16)
	if !ok {
		return netip.Addr{}, 0, false
	}

	hexAddr := b[:colon]
	switch len(hexAddr) {
	case 8:
		word, ok := parseHexColumn(hexAddr, 32)
		if !ok {
			return netip.Addr{}, 0, false
		}
		var raw [4]byte
		binary.BigEndian.PutUint32(raw[:], networkWord(word, swapWords))
		return netip.AddrFrom4(raw), uint16(port), true
	case 32:
		var raw [16]byte
		for i := 0; i < 4; i++ {
			word, ok := parseHexColumn(hexAddr[i*8:i*8+8], 32)
			if !ok {
				return netip.Addr{}, 0, false
			}
			binary.BigEndian.PutUint32(raw[i*4:], networkWord(word, swapWords))
		}
		return netip.AddrFrom16(raw), uint16(port), true
	}
	return netip.Addr{}, 0, false
}

func networkWord(word uint64, swap bool) uint32 {
	if swap {
		return bits.ReverseBytes32(uint32(word))
	}
	return uint32(word)
}

// parseHexPair parses "X:Y" with two hex numbers of at most the given bit sizes.
func parseHexPair(b []byte, firstBits, secondBits uint) (uint64, uint64, bool) {
	for i, c := range b {
		if c != ':' {
			continue
		}
		first, ok := parseHexColumn(b[:i], firstBits)
		if !ok {
			return 0, 0, false
		}
		second, ok := parseHexColumn(b[i+1:], secondBits)
		return first, second, ok
	}
	return 0, 0, false
}

// tcpStateNames maps the kernel's TCP state numbers (include/net/tcp_states.h)
// to the names that ss and netstat print.
var tcpStateNames = [...]string{
	1:  "ESTABLISHED",
	2:  "SYN_SENT",
	3:  "SYN_RECV",
	4:  "FIN_WAIT1",
	5:  "FIN_WAIT2",
	6:  "TIME_WAIT",
	7:  "CLOSE",
	8:  "CLOSE_WAIT",
	9:  "LAST_ACK",
	10: "LISTEN",
	11: "CLOSING",
	12: "NEW_SYN_RECV",
}

// TCPStateName returns the name of a kernel TCP state number, or
// "UNKNOWN(n)" for a number outside 1 to 12.
func TCPStateName(st uint8) string {
	if int(st) < len(tcpStateNames) && tcpStateNames[st] != "" {
		return tcpStateNames[st]
	}
	return "UNKNOWN(" + strconv.Itoa(int(st)) + ")"
}

// ipSocketTuple identifies a socket that has no inode.
type ipSocketTuple struct {
	localAddr  netip.Addr
	localPort  uint16
	remoteAddr netip.Addr
	remotePort uint16
	state      uint8
}

// DedupIPSockets drops rows that the kernel printed twice. A socket table file
// is produced over several read() calls, and when the table changes between
// calls a row can appear again. Rows are the same socket when they share a
// non-zero inode. Rows with inode 0 (TIME_WAIT, SYN_RECV) are the same only
// when local address, remote address and state all match, because many
// unrelated TIME_WAIT rows share inode 0. The first row of each socket is
// kept, in input order. DedupIPSockets returns the kept rows in a new slice
// and the number of rows dropped.
func DedupIPSockets(rows []IPSocket) ([]IPSocket, int) {
	kept := make([]IPSocket, 0, len(rows))
	seenInodes := make(map[uint64]struct{}, len(rows))
	seenTuples := make(map[ipSocketTuple]struct{})
	for _, row := range rows {
		if row.Inode != 0 {
			if _, seen := seenInodes[row.Inode]; seen {
				continue
			}
			seenInodes[row.Inode] = struct{}{}
		} else {
			tuple := ipSocketTuple{row.LocalAddr, row.LocalPort, row.RemoteAddr, row.RemotePort, row.State}
			if _, seen := seenTuples[tuple]; seen {
				continue
			}
			seenTuples[tuple] = struct{}{}
		}
		kept = append(kept, row)
	}
	return kept, len(rows) - len(kept)
}
