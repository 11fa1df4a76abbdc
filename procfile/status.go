package procfile

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Status is the content of /proc/<pid>/status as "Key:\tvalue" lines.
// It keeps every key, including keys newer than this package, and
// distinguishes an absent key from an empty or zero value, because the set of
// lines varies by kernel version, configuration and process state. Zombies
// and kernel threads, for example, have no Vm* lines.
type Status struct {
	keys   []string          // in file order
	values map[string]string // trimmed values by key
}

// ParseStatus parses the content of /proc/<pid>/status. It skips blank lines
// and rejects a non-blank line without ':' and a key that appears twice.
func ParseStatus(data []byte) (Status, error) {
	// One string for the whole file: keys and values are substrings of it,
	// so a status of 55 lines costs one copy instead of 110 small ones.
	text := string(data)
	lines := estimateRows(data, shortestStatusLine)
	s := Status{keys: make([]string, 0, lines), values: make(map[string]string, lines)}
	lineNumber := 0
	for line := range strings.Lines(text) {
		lineNumber++
		line = strings.TrimSuffix(line, "\n")
		if len(strings.TrimSpace(line)) == 0 {
			continue
		}

		name, value, found := strings.Cut(line, ":")
		if !found {
			return Status{}, fmt.Errorf("%w: status line %d: missing ':' in %q",
				ErrMalformed, lineNumber, excerpt(line))
		}
		if _, seen := s.values[name]; seen {
			return Status{}, fmt.Errorf("%w: status line %d: key %q appears twice",
				ErrMalformed, lineNumber, excerpt(name))
		}
		s.keys = append(s.keys, name)
		s.values[name] = strings.TrimSpace(value)
	}
	return s, nil
}

// shortestStatusLine is the shortest line that ParseStatus reads as a key.
const shortestStatusLine = "K:"

// Value returns the value of key with surrounding whitespace removed, and
// whether the key was present. An empty value such as "x86_Thread_features:\t"
// is present with value "".
//
// NOTE: the trimming also removes leading and trailing spaces of a process
// name in "Name". Stat.Comm keeps them.
func (s Status) Value(key string) (string, bool) {
	v, ok := s.values[key]
	return v, ok
}

// Keys returns the keys in file order.
func (s Status) Keys() []string {
	return append([]string(nil), s.keys...)
}

// IDs parses a "Uid" or "Gid" line: the real, effective, saved set and
// filesystem IDs. It reports false when the key is absent or the value is not
// four decimal 32-bit numbers.
func (s Status) IDs(key string) ([4]uint32, bool) {
	var ids [4]uint32
	v, ok := s.values[key]
	if !ok {
		return ids, false
	}
	fields := strings.Fields(v)
	if len(fields) != len(ids) {
		return ids, false
	}
	for i, field := range fields {
		id, err := strconv.ParseUint(field, 10, 32)
		if err != nil {
			return ids, false
		}
		ids[i] = uint32(id)
	}
	return ids, true
}

// Uint parses a plain decimal value such as "TracerPid", "Threads" or
// "Seccomp". It reports false when the key is absent or the value is not a
// single unsigned decimal number.
func (s Status) Uint(key string) (uint64, bool) {
	v, ok := s.values[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// Bytes parses a size such as "VmRSS:\t    5212 kB" and returns it in bytes
// (5212*1024). It reports false when the key is absent, the unit is not "kB"
// or the size overflows uint64.
func (s Status) Bytes(key string) (uint64, bool) {
	v, ok := s.values[key]
	if !ok {
		return 0, false
	}
	return parseKibibytes(v)
}

// Hex parses a hexadecimal value such as "CapEff:\t000001ffffffffff" or
// "SigBlk". It reports false when the key is absent or the value is not a
// hexadecimal number of at most 64 bits.
func (s Status) Hex(key string) (uint64, bool) {
	v, ok := s.values[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 16, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// parseKibibytes converts "N kB" to N*1024 bytes. The kernel writes "kB" for
// units of 1024 bytes.
func parseKibibytes(text string) (uint64, bool) {
	fields := strings.Fields(text)
	if len(fields) != 2 || fields[1] != "kB" {
		return 0, false
	}
	n, err := strconv.ParseUint(fields[0], 10, 64)
	if err != nil || n > math.MaxUint64/1024 {
		return 0, false
	}
	return n * 1024, true
}
