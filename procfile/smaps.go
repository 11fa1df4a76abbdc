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
	// "THPeligible" or "ProtectionKey"). It is nil for a mapping without
	// counter lines.
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
			// The counter map is made at the first counter line, so a run of
			// header lines without counters does not reserve about 1 KiB of
			// map for each header.
			entries = append(entries, SmapsEntry{Mapping: m})
			continue
		}

		if len(entries) == 0 {
			return nil, fmt.Errorf("%w: smaps line %d: counter %q before the first mapping header",
				ErrMalformed, lineNumber, excerpt(line))
		}
		entry := &entries[len(entries)-1]
		value := line[firstEnd:]
		if string(key) == "VmFlags" {
			entry.VmFlags = strings.Fields(string(value))
			continue
		}
		if entry.Fields == nil {
			entry.Fields = make(map[string]uint64, smapsKeysPerEntry)
		}
		name := smapsKey(key)
		if _, seen := entry.Fields[name]; seen {
			return nil, fmt.Errorf("%w: smaps line %d: key %q appears twice in one mapping",
				ErrMalformed, lineNumber, excerpt(key))
		}
		n, err := parseSmapsValue(value)
		if err != nil {
			return nil, fmt.Errorf("smaps line %d: %w", lineNumber, err)
		}
		entry.Fields[name] = n
	}
	return entries, nil
}

// smapsKeysPerEntry is the number of counter lines per mapping in smaps of
// Linux 6.x, so that a mapping's map never grows.
const smapsKeysPerEntry = 26

// smapsKey returns key as a string, without allocating for the counters
// that every mapping has. smaps repeats the same two dozen keys for each of
// thousands of mappings.
func smapsKey(key []byte) string {
	switch string(key) {
	case "Size":
		return "Size"
	case "KernelPageSize":
		return "KernelPageSize"
	case "MMUPageSize":
		return "MMUPageSize"
	case "Rss":
		return "Rss"
	case "Pss":
		return "Pss"
	case "Pss_Dirty":
		return "Pss_Dirty"
	case "Shared_Clean":
		return "Shared_Clean"
	case "Shared_Dirty":
		return "Shared_Dirty"
	case "Private_Clean":
		return "Private_Clean"
	case "Private_Dirty":
		return "Private_Dirty"
	case "Referenced":
		return "Referenced"
	case "Anonymous":
		return "Anonymous"
	case "KSM":
		return "KSM"
	case "LazyFree":
		return "LazyFree"
	case "AnonHugePages":
		return "AnonHugePages"
	case "ShmemPmdMapped":
		return "ShmemPmdMapped"
	case "FilePmdMapped":
		return "FilePmdMapped"
	case "Shared_Hugetlb":
		return "Shared_Hugetlb"
	case "Private_Hugetlb":
		return "Private_Hugetlb"
	case "Swap":
		return "Swap"
	case "SwapPss":
		return "SwapPss"
	case "Locked":
		return "Locked"
	case "THPeligible":
		return "THPeligible"
	case "ProtectionKey":
		return "ProtectionKey"
	}
	return string(key)
}

// parseSmapsValue converts "N kB" to bytes and returns a lone "N" unchanged.
func parseSmapsValue(text []byte) (uint64, error) {
	number, unit, _ := bytes.Cut(bytes.TrimSpace(text), []byte(" "))
	unit = bytes.TrimSpace(unit)
	if len(number) == 0 || bytes.ContainsAny(unit, " \t") {
		return 0, fmt.Errorf("%w: smaps: value %q is not \"N\" or \"N kB\"", ErrMalformed, excerpt(text))
	}
	n, err := strconv.ParseUint(string(number), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: smaps: value %q is not a decimal number", ErrMalformed, excerpt(number))
	}
	if len(unit) == 0 {
		return n, nil
	}
	if string(unit) != "kB" {
		return 0, fmt.Errorf("%w: smaps: unit %q is not \"kB\"", ErrMalformed, excerpt(unit))
	}
	if n > math.MaxUint64/1024 {
		return 0, fmt.Errorf("%w: smaps: size %d kB overflows 64 bits", ErrMalformed, n)
	}
	return n * 1024, nil
}
