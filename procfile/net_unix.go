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
// joined to that path with "\n". A row that ends in the space before the path
// is a bound socket whose path starts with a newline. A line that is not such
// a continuation is skipped, and ParseNetUnix returns every row that did parse
// together with an error that wraps ErrMalformed and names the first bad line.
//
// NOTE: a path whose text after a newline looks like a complete row still
// yields an extra, forged row. The file format cannot tell the two apart, so
// confirm a suspicious row with /proc/<pid>/fd or ss.
func ParseNetUnix(data []byte) ([]UnixSocket, error) {
	rows := make([]UnixSocket, 0, estimateRows(data, shortestUnixLine))
	var bad malformedLines
	lineNumber := 0

	// whole[pathStart:pathEnd] is the path of the last row together with the
	// lines that continue it. pathStart is -1 when that row has no path. A
	// continued path is copied once, when it is complete. Appending each
	// continuation line to Path copied the path again for every line, which
	// took quadratic time on a file of many blank lines.
	whole := data
	pathStart, pathEnd := -1, -1
	continued := false
	finishPath := func() {
		if continued {
			rows[len(rows)-1].Path = string(whole[pathStart:pathEnd])
		}
		pathStart, continued = -1, false
	}

	for len(data) > 0 {
		lineStart := len(whole) - len(data)
		var line []byte
		line, data = cutTableLine(data)
		lineNumber++

		if lineNumber == 1 && firstColumnIs(line, "Num") {
			continue
		}

		// A blank line is never a row, and parsing it would build an error
		// text for every such line. It may be part of a path.
		if isBlankTableLine(line) {
			if pathStart >= 0 {
				pathEnd = lineStart + len(line)
				continued = true
			}
			continue
		}

		row, problem := parseUnixSocketLine(line)
		if problem == "" {
			finishPath()
			rows = append(rows, row)
			if row.HasPath {
				pathEnd = lineStart + len(line)
				pathStart = pathEnd - len(row.Path)
			}
			continue
		}

		if pathStart >= 0 {
			pathEnd = lineStart + len(line)
			continued = true
			continue
		}
		bad.add(lineNumber, "%s", problem)
	}
	finishPath()
	return rows, bad.err()
}

// shortestUnixLine is the shortest line that parseUnixSocketLine accepts.
const shortestUnixLine = "00000000: 0 0 0 0 0 0"

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

	// The kernel writes exactly one space before the path, and nothing after
	// Inode for an unbound socket. A relative path bound by the socket's owner
	// may itself start with a space, so only that one separator is dropped.
	// A line that ends in the separator is a bound socket whose path starts
	// with a newline, and the lines after it continue the path.
	if pos < len(line) && line[pos] == ' ' {
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
