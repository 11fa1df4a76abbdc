package procfile

import (
	"bytes"
	"strconv"
)

// ParsePasswd maps user IDs to names from the content of /etc/passwd
// ("name:password:UID:GID:..."). It skips blank lines, '#' comments, NIS
// "+" and "-" entries and lines without a valid name and 32-bit ID. Where
// several names share an ID, the first one wins, as with getpwuid(3).
func ParsePasswd(data []byte) map[uint32]string {
	return parseIDFile(data)
}

// ParseGroup maps group IDs to names from the content of /etc/group
// ("name:password:GID:members"), with the same rules as ParsePasswd.
func ParseGroup(data []byte) map[uint32]string {
	return parseIDFile(data)
}

// parseIDFile reads the name in field 1 and the ID in field 3, which
// /etc/passwd and /etc/group share.
func parseIDFile(data []byte) map[uint32]string {
	names := make(map[uint32]string)
	for line := range bytes.Lines(data) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		fields := bytes.SplitN(line, []byte(":"), 4)
		if len(fields) < 3 || len(fields[0]) == 0 {
			continue
		}
		id, err := strconv.ParseUint(string(fields[2]), 10, 32)
		if err != nil {
			continue
		}
		if _, seen := names[uint32(id)]; !seen {
			names[uint32(id)] = string(fields[0])
		}
	}
	return names
}
