package procfile

import "strconv"

// PacketSocket is one row of /proc/net/packet (AF_PACKET sockets, as used by
// tcpdump, DHCP clients and packet sniffers).
type PacketSocket struct {
	RefCount uint64
	Type     uint16 // SOCK_RAW 3, SOCK_DGRAM 2
	// Protocol is the bound ethertype in host order as printed with %04x,
	// for example 0x0003 (ETH_P_ALL) or 0x0800 (IPv4). It is 0 for a socket
	// opened with protocol 0 and not yet bound to one.
	Protocol uint16
	// Iface is the bound interface index, 0 when bound to all interfaces.
	Iface int64
	// Running reports whether the socket is hooked into the receive path.
	Running   bool
	RmemAlloc uint64 // bytes of receive buffer memory in use (sk_rmem_alloc)
	UID       uint32
	Inode     uint64
}

// minPacketColumns is the number of columns from sk to Inode. Columns after
// Inode are ignored so that a later kernel can append one.
const minPacketColumns = 9

// ParseNetPacket parses the contents of /proc/net/packet, whose columns are
// "sk RefCnt Type Proto Iface R Rmem User Inode". All numbers are decimal
// except sk (the kernel socket pointer) and Proto, which are hex. The header
// line is skipped and blank lines are ignored. A line that does not parse is
// skipped. ParseNetPacket then returns every row that did parse together with
// an error that wraps ErrMalformed and names the first bad line.
func ParseNetPacket(data []byte) ([]PacketSocket, error) {
	return parseTableLines(data, "sk", shortestPacketLine, parsePacketSocketLine)
}

// shortestPacketLine is the shortest line that parsePacketSocketLine accepts.
const shortestPacketLine = "00000000 0 0 0 0 0 0 0 0"

// parsePacketSocketLine parses one data row. On failure it returns a
// description of the first invalid column.
func parsePacketSocketLine(line []byte) (PacketSocket, string) {
	var row PacketSocket
	var columns [minPacketColumns][]byte
	pos := 0
	for i := range columns {
		columns[i], pos = nextColumn(line, pos)
		if len(columns[i]) == 0 {
			return row, "expected 9 columns (sk to Inode), found " + strconv.Itoa(i) + " in " + quoteColumn(line)
		}
	}

	if !isKernelPointer(columns[0]) {
		return row, "invalid sk " + quoteColumn(columns[0]) + ": expected 8 or 16 hex digits"
	}

	var ok bool
	if row.RefCount, ok = parseDecColumn(columns[1], 64); !ok {
		return row, "invalid RefCnt " + quoteColumn(columns[1]) + ": expected a decimal number"
	}

	socketType, ok := parseDecColumn(columns[2], 16)
	if !ok {
		return row, "invalid Type " + quoteColumn(columns[2]) + ": expected a decimal number"
	}
	row.Type = uint16(socketType)

	protocol, ok := parseHexColumn(columns[3], 16)
	if !ok {
		return row, "invalid Proto " + quoteColumn(columns[3]) + ": expected 4 hex digits"
	}
	row.Protocol = uint16(protocol)

	if row.Iface, ok = parseSignedDecColumn(columns[4]); !ok {
		return row, "invalid Iface " + quoteColumn(columns[4]) + ": expected a decimal interface index"
	}

	switch string(columns[5]) {
	case "0":
		row.Running = false
	case "1":
		row.Running = true
	default:
		return row, "invalid R " + quoteColumn(columns[5]) + ": expected 0 or 1"
	}

	if row.RmemAlloc, ok = parseDecColumn(columns[6], 64); !ok {
		return row, "invalid Rmem " + quoteColumn(columns[6]) + ": expected a decimal number"
	}

	uid, ok := parseDecColumn(columns[7], 32)
	if !ok {
		return row, "invalid User " + quoteColumn(columns[7]) + ": expected a decimal 32-bit number"
	}
	row.UID = uint32(uid)

	if row.Inode, ok = parseDecColumn(columns[8], 64); !ok {
		return row, "invalid Inode " + quoteColumn(columns[8]) + ": expected a decimal number"
	}
	return row, ""
}
