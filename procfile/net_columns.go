package procfile

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// Column helpers shared by the /proc/net and /proc/modules parsers. They work
// on byte slices so that the same code reads a live file and a snapshot held in
// memory, and they never index past the slice they are given.

// quoteColumn returns b cut to maxExcerpt bytes and quoted as by %q, for
// error messages.
func quoteColumn(b []byte) string {
	return strconv.Quote(excerpt(b))
}

func isColumnBlank(c byte) bool {
	return c == ' ' || c == '\t'
}

// nextColumn returns the next run of non-blank bytes at or after pos and the
// index just past it. The column is empty when the line has no more columns.
func nextColumn(line []byte, pos int) ([]byte, int) {
	for pos < len(line) && isColumnBlank(line[pos]) {
		pos++
	}
	start := pos
	for pos < len(line) && !isColumnBlank(line[pos]) {
		pos++
	}
	return line[start:pos], pos
}

// firstColumnIs reports whether the first column of line equals name, which is
// how the parsers recognize a header line.
func firstColumnIs(line []byte, name string) bool {
	column, _ := nextColumn(line, 0)
	return string(column) == name
}

// parseHexColumn parses b as an unsigned hexadecimal number of at most bits
// bits (1 to 64). Leading zeros are allowed, a sign or "0x" prefix is not.
func parseHexColumn(b []byte, bits uint) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		if v > (^uint64(0))>>4 {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, fitsBits(v, bits)
}

// parseDecColumn parses b as an unsigned decimal number of at most bits bits.
func parseDecColumn(b []byte, bits uint) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (^uint64(0)-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, fitsBits(v, bits)
}

// parseSignedDecColumn parses b as a decimal int64 with an optional leading '-'.
func parseSignedDecColumn(b []byte) (int64, bool) {
	negative := len(b) > 0 && b[0] == '-'
	if negative {
		b = b[1:]
	}
	magnitude, ok := parseDecColumn(b, 64)
	if !ok {
		return 0, false
	}
	if negative {
		if magnitude > 1<<63 {
			return 0, false
		}
		if magnitude == 1<<63 {
			return math.MinInt64, true
		}
		return -int64(magnitude), true
	}
	if magnitude > 1<<63-1 {
		return 0, false
	}
	return int64(magnitude), true
}

func fitsBits(v uint64, bits uint) bool {
	return bits >= 64 || v>>bits == 0
}

// isKernelPointer reports whether b is a kernel pointer as printed by %pK.
// That is 8 or 16 hex digits for a 32- or 64-bit kernel, all zeros when
// kptr_restrict hides it. Early in boot, before its pointer hashing key is
// ready, vsprintf prints a "(ptrval)" placeholder of the same width instead.
func isKernelPointer(b []byte) bool {
	if len(b) != 8 && len(b) != 16 {
		return false
	}
	if string(b) == "(ptrval)" || string(b) == "(____ptrval____)" {
		return true
	}
	_, ok := parseHexColumn(b, 64)
	return ok
}

// malformedLines keeps the first parse error of a file and counts the bad
// lines, so that a parser can return every good row together with one error.
type malformedLines struct {
	first error
	count int
}

func (m *malformedLines) add(lineNumber int, format string, args ...any) {
	m.count++
	if m.first == nil {
		m.first = fmt.Errorf("%w: line %d: "+format, append([]any{ErrMalformed, lineNumber}, args...)...)
	}
}

// err returns nil when every line parsed. Otherwise the error wraps
// ErrMalformed, describes the first bad line and counts the others.
func (m *malformedLines) err() error {
	switch m.count {
	case 0:
		return nil
	case 1:
		return m.first
	}
	return fmt.Errorf("%w (and %d more malformed lines)", m.first, m.count-1)
}

// estimateRows returns a capacity hint for the rows of data: the number of
// lines, but at most one row per len(shortestRow)+1 bytes. shortestRow is the
// shortest line that parses as a row. Without that cap, a file of blank lines
// reserved a row of up to 120 bytes for each input byte.
func estimateRows(data []byte, shortestRow string) int {
	return min(bytes.Count(data, []byte{'\n'})+1, len(data)/(len(shortestRow)+1)+1)
}

// cutTableLine splits data after its first '\n' and returns the line without
// the newline and the rest.
func cutTableLine(data []byte) (line, rest []byte) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return data[:i], data[i+1:]
	}
	return data, nil
}

func isBlankTableLine(line []byte) bool {
	for _, c := range line {
		if !isColumnBlank(c) {
			return false
		}
	}
	return true
}

// parseTableLines parses a /proc table file line by line. It skips the first
// line when its first column is header (no header when header is ""), and
// blank lines. parse returns a description of the first invalid column, or
// "" for a good row. A bad line is skipped, and the rows of every good line
// come back with one error that names the first bad line. shortestRow sizes
// the row slice, as estimateRows describes.
func parseTableLines[T any](data []byte, header, shortestRow string, parse func(line []byte) (T, string)) ([]T, error) {
	rows := make([]T, 0, estimateRows(data, shortestRow))
	var bad malformedLines
	lineNumber := 0
	for len(data) > 0 {
		var line []byte
		line, data = cutTableLine(data)
		lineNumber++

		if lineNumber == 1 && header != "" && firstColumnIs(line, header) {
			continue
		}
		if isBlankTableLine(line) {
			continue
		}

		row, problem := parse(line)
		if problem != "" {
			bad.add(lineNumber, "%s", problem)
			continue
		}
		rows = append(rows, row)
	}
	return rows, bad.err()
}
