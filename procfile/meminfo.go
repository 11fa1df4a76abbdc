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
// blank lines and rejects units other than kB.
func ParseMeminfo(data []byte) ([]MeminfoEntry, error) {
	entries := []MeminfoEntry{}
	lineNumber := 0
	for line := range bytes.Lines(data) {
		lineNumber++
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}

		name, rest, found := bytes.Cut(line, []byte(":"))
		if !found || len(name) == 0 {
			return nil, fmt.Errorf("%w: meminfo line %d: missing \"Name:\" in %q",
				ErrMalformed, lineNumber, excerpt(line))
		}
		fields := bytes.Fields(rest)
		if len(fields) == 0 || len(fields) > 2 {
			return nil, fmt.Errorf("%w: meminfo line %d: value %q is not \"N\" or \"N kB\"",
				ErrMalformed, lineNumber, excerpt(rest))
		}
		value, err := strconv.ParseUint(string(fields[0]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: meminfo line %d: value %q is not a decimal number",
				ErrMalformed, lineNumber, excerpt(fields[0]))
		}

		entry := MeminfoEntry{Name: string(name), Value: value}
		if len(fields) == 2 {
			if string(fields[1]) != "kB" {
				return nil, fmt.Errorf("%w: meminfo line %d: unit %q is not \"kB\"",
					ErrMalformed, lineNumber, excerpt(fields[1]))
			}
			if value > math.MaxUint64/1024 {
				return nil, fmt.Errorf("%w: meminfo line %d: %d kB overflows 64 bits", ErrMalformed, lineNumber, value)
			}
			entry.Value, entry.Unit = value*1024, "bytes"
		}
		entries = append(entries, entry)
	}
	return entries, nil
}
