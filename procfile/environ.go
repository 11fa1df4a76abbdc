package procfile

import "strings"

// EnvVar is one entry of /proc/<pid>/environ. Name and Value keep the raw
// bytes, which need not be valid UTF-8.
type EnvVar struct {
	Name  string
	Value string
	// HasValue is false for an entry without '=', which a process can put in
	// its environment. Name then holds the whole entry and Value is "".
	HasValue bool
}

// ParseEnviron parses the NUL-separated NAME=VALUE entries of
// /proc/<pid>/environ. It splits each entry at its first '=', so values may
// contain '=' and newlines. Empty entries are skipped, never taken as the end
// of the list, and the last entry may lack its terminating NUL. Empty data,
// as for kernel threads and zombies, gives no entries.
func ParseEnviron(data []byte) []EnvVar {
	// Counting the entries first sizes the slice once. Growing it by append
	// allocated about 100 bytes per input byte for a run of "=\x00" entries.
	text := string(data)
	entries := 0
	for entry := range strings.SplitSeq(text, "\x00") {
		if entry != "" {
			entries++
		}
	}
	if entries == 0 {
		return nil
	}

	vars := make([]EnvVar, 0, entries)
	for entry := range strings.SplitSeq(text, "\x00") {
		if entry == "" {
			continue
		}
		name, value, hasValue := strings.Cut(entry, "=")
		vars = append(vars, EnvVar{Name: name, Value: value, HasValue: hasValue})
	}
	return vars
}
