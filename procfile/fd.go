package procfile

import (
	"strconv"
	"strings"
)

// Types of file descriptor targets returned by ParseFDTarget.
const (
	FDFile      = "file"       // a path, including files under /dev/shm/
	FDSocket    = "socket"     // "socket:[inode]"
	FDPipe      = "pipe"       // "pipe:[inode]"
	FDAnonInode = "anon_inode" // "anon_inode:<name>", such as "[eventfd]" or "inotify"
	FDMemfd     = "memfd"      // "/memfd:<name> (deleted)", from memfd_create(2)
	FDDevice    = "device"     // a path under /dev/ other than /dev/shm/
	FDNsfs      = "nsfs"       // "<namespace>:[inode]", an open namespace file
	FDOther     = "other"      // any other text, such as "onload:[tcp:2:5117]"
)

// namespaceKinds are the names of the files in /proc/<pid>/ns as of Linux 6.18.
var namespaceKinds = map[string]bool{
	"cgroup": true, "ipc": true, "mnt": true, "net": true, "pid": true,
	"pid_for_children": true, "time": true, "time_for_children": true,
	"user": true, "uts": true,
}

// FDTarget is the classified readlink text of /proc/<pid>/fd/<n>.
type FDTarget struct {
	Type string // one of the FD* constants
	// Path is the file or device path without " (deleted)", the memfd name,
	// the anon_inode name ("[eventfd]", "inotify"), the namespace kind
	// ("net"), or for FDOther the raw text. It is "" for sockets and pipes.
	Path    string
	Deleted bool // the text ended in " (deleted)", for files, devices and memfds
	// Inode is the inode number of a socket, pipe or namespace, which joins
	// sockets with the rows of /proc/net tables. It is 0 otherwise.
	Inode    uint64
	HasInode bool
	// Prefix is the text before the first ':' of an FDOther target, such as
	// "onload", and "" when there is no ':'.
	Prefix string
}

// ParseFDTarget classifies the readlink text of /proc/<pid>/fd/<n>. It
// accepts any text: an unknown or malformed form is FDOther with the raw text
// in Path, so no descriptor is dropped.
func ParseFDTarget(link string) FDTarget {
	if name, ok := strings.CutPrefix(link, "anon_inode:"); ok {
		return FDTarget{Type: FDAnonInode, Path: name}
	}
	if rest, ok := strings.CutPrefix(link, "/memfd:"); ok {
		name, deleted := SplitDeleted(rest)
		return FDTarget{Type: FDMemfd, Path: name, Deleted: deleted}
	}
	if strings.HasPrefix(link, "/") {
		path, deleted := SplitDeleted(link)
		target := FDTarget{Type: FDFile, Path: path, Deleted: deleted}
		if strings.HasPrefix(path, "/dev/") && !strings.HasPrefix(path, "/dev/shm/") {
			target.Type = FDDevice
		}
		return target
	}

	if prefix, inode, ok := splitInodeLink(link); ok {
		switch {
		case prefix == "socket":
			return FDTarget{Type: FDSocket, Inode: inode, HasInode: true}
		case prefix == "pipe":
			return FDTarget{Type: FDPipe, Inode: inode, HasInode: true}
		case namespaceKinds[prefix]:
			return FDTarget{Type: FDNsfs, Path: prefix, Inode: inode, HasInode: true}
		}
	}

	target := FDTarget{Type: FDOther, Path: link}
	if prefix, _, found := strings.Cut(link, ":"); found {
		target.Prefix = prefix
	}
	return target
}

// splitInodeLink splits "<prefix>:[<decimal inode>]" with a non-empty prefix
// and no other ':' in it.
func splitInodeLink(link string) (prefix string, inode uint64, ok bool) {
	prefix, rest, found := strings.Cut(link, ":")
	if !found || prefix == "" {
		return "", 0, false
	}
	digits, found := strings.CutPrefix(rest, "[")
	if !found {
		return "", 0, false
	}
	digits, found = strings.CutSuffix(digits, "]")
	if !found {
		return "", 0, false
	}
	inode, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return "", 0, false
	}
	return prefix, inode, true
}
