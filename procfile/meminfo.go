package procfile

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// MeminfoEntry is one line of /proc/meminfo.
type MeminfoEntry struct {
	Name string // the key without ':', such as "MemTotal" or "Active(anon)"
	// Value is in bytes when the line ends in "kB", and a raw count, such as
	// "HugePages_Total", when it has no unit.
	Value uint64
	Unit  string // "bytes" for lines converted from kB, "" for raw counts
}

// ParseMeminfo parses the content of /proc/meminfo in file order. It skips
// blank lines. A line that does not parse, such as one with a unit other
// than kB, is skipped, and the other entries come back with an error that
// names the first bad line.
func ParseMeminfo(data []byte) ([]MeminfoEntry, error) {
	return parseTableLines(data, "", shortestMeminfoLine, parseMeminfoLine)
}

// shortestMeminfoLine is the shortest line that parseMeminfoLine accepts.
const shortestMeminfoLine = "M:0"

// parseMeminfoLine parses one "Name: N [kB]" line. On failure it returns a
// description of the problem.
func parseMeminfoLine(line []byte) (MeminfoEntry, string) {
	name, rest, found := bytes.Cut(line, []byte(":"))
	if !found || len(name) == 0 {
		return MeminfoEntry{}, fmt.Sprintf("missing \"Name:\" in %q", excerpt(line))
	}
	fields := bytes.Fields(rest)
	if len(fields) == 0 || len(fields) > 2 {
		return MeminfoEntry{}, fmt.Sprintf("value %q is not \"N\" or \"N kB\"", excerpt(rest))
	}
	value, err := strconv.ParseUint(string(fields[0]), 10, 64)
	if err != nil {
		return MeminfoEntry{}, fmt.Sprintf("value %q is not a decimal number", excerpt(fields[0]))
	}
	entry := MeminfoEntry{Name: string(name), Value: value}
	if len(fields) == 2 {
		if string(fields[1]) != "kB" {
			return MeminfoEntry{}, fmt.Sprintf("unit %q is not \"kB\"", excerpt(fields[1]))
		}
		if value > math.MaxUint64/1024 {
			return MeminfoEntry{}, fmt.Sprintf("%d kB overflows 64 bits", value)
		}
		entry.Value, entry.Unit = value*1024, "bytes"
	}
	return entry, ""
}
