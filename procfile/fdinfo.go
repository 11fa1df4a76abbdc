package procfile

import (
	"bytes"
	"fmt"
	"strconv"
)

// FDInfo holds the common lines of /proc/<pid>/fdinfo/<n>. Each Has* field
// reports whether its line was present, because older kernels print fewer
// lines ("mnt_id" since Linux 3.15, "ino" since Linux 5.14).
type FDInfo struct {
	Pos      int64 // file offset in bytes
	HasPos   bool
	Flags    uint32 // open(2) flags such as O_APPEND, printed in octal
	HasFlags bool
	MntID    int64 // mount ID, as in /proc/<pid>/mountinfo
	HasMntID bool
	Ino      uint64
	HasIno   bool
}

// ParseFDInfo parses the content of /proc/<pid>/fdinfo/<n>. It reads the
// "pos", "flags", "mnt_id" and "ino" lines and ignores other lines, such as
// the per-type lines of eventfd, epoll and inotify descriptors. It rejects a
// malformed or repeated value of a line it reads.
func ParseFDInfo(data []byte) (FDInfo, error) {
	var info FDInfo
	lineNumber := 0
	for line := range bytes.Lines(data) {
		lineNumber++
		key, value, found := bytes.Cut(bytes.TrimSuffix(line, []byte("\n")), []byte(":"))
		if !found {
			continue
		}
		text := string(bytes.TrimSpace(value))

		var seen bool
		var err error
		switch string(key) {
		case "pos":
			seen = info.HasPos
			info.Pos, err = strconv.ParseInt(text, 10, 64)
			info.HasPos = true
		case "flags":
			seen = info.HasFlags
			var flags uint64
			flags, err = strconv.ParseUint(text, 8, 32)
			info.Flags, info.HasFlags = uint32(flags), true
		case "mnt_id":
			seen = info.HasMntID
			info.MntID, err = strconv.ParseInt(text, 10, 64)
			info.HasMntID = true
		case "ino":
			seen = info.HasIno
			info.Ino, err = strconv.ParseUint(text, 10, 64)
			info.HasIno = true
		default:
			continue
		}
		if seen {
			return FDInfo{}, fmt.Errorf("%w: fdinfo line %d: key %q appears twice", ErrMalformed, lineNumber, key)
		}
		if err != nil {
			return FDInfo{}, fmt.Errorf("%w: fdinfo line %d: %s value %q is not a number",
				ErrMalformed, lineNumber, key, excerpt(text))
		}
	}
	return info, nil
}
