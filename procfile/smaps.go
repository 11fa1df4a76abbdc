package procfile

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SmapsEntry is one mapping of /proc/<pid>/smaps with its counters.
type SmapsEntry struct {
	Mapping
	// Fields maps a counter name without its ':' ("Rss", "Private_Dirty") to
	// its value: bytes for lines in kB, the raw number otherwise (such as
	// "THPeligible" or "ProtectionKey").
	Fields map[string]uint64
	// VmFlags holds the two-letter flags of the "VmFlags" line, such as "rd".
	VmFlags []string
}

// ParseSmaps parses the content of /proc/<pid>/smaps or smaps_rollup.
//
// A header line is a maps line, parsed by ParseMapsLine, so an anonymous
// mapping has Path "" rather than its inode "0". The lines after it are
// "Key: N kB", "Key: N" or "VmFlags: ...". It rejects counter lines before
// the first header, units other than kB, and a key repeated within a mapping.
func ParseSmaps(data []byte) ([]SmapsEntry, error) {
	entries := []SmapsEntry{}
	lineNumber := 0
	for line := range bytes.Lines(data) {
		lineNumber++
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) == 0 {
			continue
		}

		// A header starts with the address range, which never ends in ':',
		// and every counter key does.
		firstEnd := bytes.IndexAny(line, " \t")
		if firstEnd < 0 {
			firstEnd = len(line)
		}
		key, isCounter := bytes.CutSuffix(line[:firstEnd], []byte(":"))
		if !isCounter {
			m, err := ParseMapsLine(line)
			if err != nil {
				return nil, fmt.Errorf("smaps line %d: %w", lineNumber, err)
			}
			entries = append(entries, SmapsEntry{Mapping: m, Fields: make(map[string]uint64)})
			continue
		}

		if len(entries) == 0 {
			return nil, fmt.Errorf("%w: smaps line %d: counter %q before the first mapping header",
				ErrMalformed, lineNumber, excerpt(line))
		}
		entry := &entries[len(entries)-1]
		value := string(line[firstEnd:])
		if string(key) == "VmFlags" {
			entry.VmFlags = strings.Fields(value)
			continue
		}
		if _, seen := entry.Fields[string(key)]; seen {
			return nil, fmt.Errorf("%w: smaps line %d: key %q appears twice in one mapping",
				ErrMalformed, lineNumber, excerpt(key))
		}
		n, err := parseSmapsValue(value)
		if err != nil {
			return nil, fmt.Errorf("smaps line %d: %w", lineNumber, err)
		}
		entry.Fields[string(key)] = n
	}
	return entries, nil
}

// parseSmapsValue converts "N kB" to bytes and returns a lone "N" unchanged.
func parseSmapsValue(text string) (uint64, error) {
	fields := strings.Fields(text)
	if len(fields) == 0 || len(fields) > 2 {
		return 0, fmt.Errorf("%w: smaps: value %q is not \"N\" or \"N kB\"", ErrMalformed, excerpt(text))
	}
	n, err := strconv.ParseUint(fields[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: smaps: value %q is not a decimal number", ErrMalformed, excerpt(fields[0]))
	}
	if len(fields) == 1 {
		return n, nil
	}
	if fields[1] != "kB" {
		return 0, fmt.Errorf("%w: smaps: unit %q is not \"kB\"", ErrMalformed, excerpt(fields[1]))
	}
	if n > math.MaxUint64/1024 {
		return 0, fmt.Errorf("%w: smaps: size %d kB overflows 64 bits", ErrMalformed, n)
	}
	return n * 1024, nil
}
