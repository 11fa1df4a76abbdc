package procfile

import "strconv"

// UnixSocket is one row of /proc/net/unix.
type UnixSocket struct {
	RefCount uint64
	Protocol uint64 // always 0 in current kernels
	// Flags is 0x10000 (__SO_ACCEPTCON) for a listening socket, else 0.
	Flags uint64
	Type  uint16 // 1 STREAM, 2 DGRAM, 5 SEQPACKET; see UnixTypeName
	State uint8  // 1 UNCONNECTED, 2 CONNECTING, 3 CONNECTED, 4 DISCONNECTING
	Inode uint64
	// Path is the bound address. Abstract names start with '@', and the kernel
	// prints every NUL byte of an abstract name as '@' too. Spaces, including
	// leading ones and inner runs, are part of the path.
	Path string
	// HasPath is false for an unbound socket, such as the accepted end of a
	// connection, whose row has no Path column at all.
	HasPath bool
}

// unixListenFlag is __SO_ACCEPTCON, which the kernel prints in the Flags
// column of a listening socket.
const unixListenFlag = 0x10000

// ParseNetUnix parses the contents of /proc/net/unix.
//
// A row has seven fixed columns, "Num: RefCount Protocol Flags Type St Inode",
// then, for a bound socket, one space and the path up to the end of the line.
// Num is the kernel socket pointer, 8 or 16 hex digits. The path is taken
// as-is, so runs of spaces inside it survive.
//
// A socket path may contain a newline, which ends the row early. A line that
// does not parse as a row, directly after a row with a path, is therefore
// joined to that path with "\n". A line that is not such a continuation is
// skipped, and ParseNetUnix returns every row that did parse together with an
// error that wraps ErrMalformed and names the first bad line.
//
// NOTE: a path whose text after a newline looks like a complete row still
// yields an extra, forged row. The file format cannot tell the two apart, so
// confirm a suspicious row with /proc/<pid>/fd or ss.
func ParseNetUnix(data []byte) ([]UnixSocket, error) {
	rows := make([]UnixSocket, 0, estimateLines(data))
	var bad malformedLines
	lineNumber := 0
	previousHasPath := false
	for len(data) > 0 {
		var line []byte
		line, data = cutTableLine(data)
		lineNumber++

		if lineNumber == 1 && firstColumnIs(line, "Num") {
			continue
		}

		row, problem := parseUnixSocketLine(line)
		if problem == "" {
			rows = append(rows, row)
			previousHasPath = row.HasPath
			continue
		}

		if previousHasPath {
			last := &rows[len(rows)-1]
			last.Path += "\n" + string(line)
			continue
		}
		if isBlankTableLine(line) {
			continue
		}
		bad.add(lineNumber, "%s", problem)
	}
	return rows, bad.err()
}

// parseUnixSocketLine parses one data row. On failure it returns a description
// of the first invalid column.
func parseUnixSocketLine(line []byte) (UnixSocket, string) {
	var row UnixSocket
	var ok bool

	pointer, pos := nextColumn(line, 0)
	if len(pointer) < 2 || pointer[len(pointer)-1] != ':' || !isKernelPointer(pointer[:len(pointer)-1]) {
		return row, "invalid Num " + quoteColumn(pointer) + ": expected 8 or 16 hex digits and ':'"
	}

	var column []byte
	column, pos = nextColumn(line, pos)
	if row.RefCount, ok = parseHexColumn(column, 64); !ok {
		return row, "invalid RefCount " + quoteColumn(column) + ": expected a hex number"
	}
	column, pos = nextColumn(line, pos)
	if row.Protocol, ok = parseHexColumn(column, 64); !ok {
		return row, "invalid Protocol " + quoteColumn(column) + ": expected a hex number"
	}
	column, pos = nextColumn(line, pos)
	if row.Flags, ok = parseHexColumn(column, 64); !ok {
		return row, "invalid Flags " + quoteColumn(column) + ": expected a hex number"
	}

	column, pos = nextColumn(line, pos)
	socketType, ok := parseHexColumn(column, 16)
	if !ok {
		return row, "invalid Type " + quoteColumn(column) + ": expected 4 hex digits"
	}
	row.Type = uint16(socketType)

	column, pos = nextColumn(line, pos)
	state, ok := parseHexColumn(column, 8)
	if !ok {
		return row, "invalid St " + quoteColumn(column) + ": expected 2 hex digits"
	}
	row.State = uint8(state)

	// Inode is printed as "%5lu", so nextColumn skips its padding spaces.
	column, pos = nextColumn(line, pos)
	if row.Inode, ok = parseDecColumn(column, 64); !ok {
		return row, "invalid Inode " + quoteColumn(column) + ": expected a decimal number"
	}

	// The kernel writes exactly one space before the path. A relative path
	// bound by the socket's owner may itself start with a space, so only that
	// one separator is dropped.
	if pos+1 < len(line) && line[pos] == ' ' {
		row.Path = string(line[pos+1:])
		row.HasPath = true
	} else if pos < len(line) && !isBlankTableLine(line[pos:]) {
		return row, "invalid text after Inode " + quoteColumn(line[pos:]) + ": expected one space and a path"
	}
	return row, ""
}

// UnixTypeName returns "stream", "dgram" or "seqpacket" for the socket types
// that AF_UNIX supports, and "unknown(n)" for any other number.
func UnixTypeName(t uint16) string {
	switch t {
	case 1:
		return "stream"
	case 2:
		return "dgram"
	case 5:
		return "seqpacket"
	}
	return "unknown(" + strconv.Itoa(int(t)) + ")"
}

// UnixStateName returns the name of a socket_state number (SS_* in
// include/uapi/linux/net.h) as printed in the St column, or "UNKNOWN(n)".
func UnixStateName(s uint8) string {
	switch s {
	case 1:
		return "UNCONNECTED"
	case 2:
		return "CONNECTING"
	case 3:
		return "CONNECTED"
	case 4:
		return "DISCONNECTING"
	}
	return "UNKNOWN(" + strconv.Itoa(int(s)) + ")"
}

// UnixSocketState returns "LISTEN" for a listening socket, whose St column
// reads UNCONNECTED, and UnixStateName(u.State) for any other socket.
func UnixSocketState(u UnixSocket) string {
	if u.Flags&unixListenFlag != 0 {
		return "LISTEN"
	}
	return UnixStateName(u.State)
}
