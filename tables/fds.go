package tables

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/procsql/procsql/procfile"
	"github.com/procsql/procsql/source"
)

// fds has one row per open file descriptor, from the /proc/<pid>/fd links
// and, when pos or flags are used, /proc/<pid>/fdinfo.
func init() {
	register(&rowTable[*fdItem]{
		name:    "fds",
		comment: "one row per open file descriptor",
		keys:    []string{"pid"},
		notNull: []string{"pid", "fd"},
		columns: fdColumns,
		process: readFDs,
	})
}

type fdItem struct {
	p      *Process
	fd     int
	entry  string // the descriptor's name in fd/ and fdinfo/, as listed
	link   string // the name of the link, "<pid>/fd/<fd>"
	target string
	ok     bool
	parsed procfile.FDTarget
	info   lazy[procfile.FDInfo]
	st     lazy[source.FileStat]
}

// stat returns the link count and size of the descriptor's file, read once.
// A failure only leaves the values unknown: copied trees rarely record them,
// and the deleted column then falls back to the kernel's marker.
func (it *fdItem) stat() (source.FileStat, bool) {
	return it.st.get(func() (source.FileStat, bool) {
		st, err := it.p.r.Src.Stat(it.link)
		return st, err == nil
	})
}

// deleted reports whether the descriptor's file was deleted. The link count
// of the open file decides when it can be read, because a live file can be
// named "x (deleted)". Otherwise the marker the kernel appends decides.
func (it *fdItem) deleted() bool {
	if !it.parsed.Deleted || (it.parsed.Type != procfile.FDFile && it.parsed.Type != procfile.FDDevice) {
		return it.parsed.Deleted
	}
	st, ok := it.stat()
	if !ok {
		return true
	}
	return st.LinkCount == 0
}

func (it *fdItem) fdinfo() (procfile.FDInfo, bool) {
	return it.info.get(func() (procfile.FDInfo, bool) {
		name := it.p.dir + "fdinfo/" + it.entry
		data, ok := it.p.r.readFile(name)
		if !ok {
			return procfile.FDInfo{}, false
		}
		info, err := procfile.ParseFDInfo(data)
		if err != nil {
			it.p.r.recordFailure(name, err)
			return procfile.FDInfo{}, false
		}
		return info, true
	})
}

var fdColumns = []column[*fdItem]{
	{Column{"pid", types.Int32, "process id"}, func(it *fdItem) any { return int32(it.p.PID) }},
	{Column{"fd", types.Int32, "file descriptor number"}, func(it *fdItem) any { return int32(it.fd) }},
	{Column{"target", types.LongText, "raw link text of /proc/<pid>/fd/<fd>"}, func(it *fdItem) any { return orNull(it.target, it.ok) }},
	{Column{"type", types.LongText, "file, socket, pipe, anon_inode, memfd, device, nsfs or other"}, func(it *fdItem) any { return orNull(it.parsed.Type, it.ok) }},
	{Column{"path", types.LongText, "file or device path without \" (deleted)\", memfd or anon_inode name; NULL for sockets and pipes"}, func(it *fdItem) any {
		if !it.ok || it.parsed.Path == "" {
			return nil
		}
		if it.parsed.Deleted && !it.deleted() {
			// A live file whose name ends in " (deleted)".
			return it.target
		}
		return it.parsed.Path
	}},
	{Column{"deleted", types.Boolean, "1 when the file was deleted: link count 0, or the \" (deleted)\" marker when the count cannot be read"}, func(it *fdItem) any {
		if !it.ok {
			return nil
		}
		return boolValue(it.deleted())
	}},
	{Column{"inode", types.Uint64, "inode of a socket, pipe or namespace target; joins sockets.inode"}, func(it *fdItem) any {
		return orNull(it.parsed.Inode, it.ok && it.parsed.HasInode)
	}},
	{Column{"size_bytes", types.Int64, "size of the open file in bytes, from stat through the fd link; NULL for sockets, pipes and anonymous inodes"}, func(it *fdItem) any {
		if !it.ok || (it.parsed.Type != procfile.FDFile && it.parsed.Type != procfile.FDDevice && it.parsed.Type != procfile.FDMemfd) {
			return nil
		}
		st, ok := it.stat()
		return orNull(st.Size, ok && st.HasSize)
	}},
	{Column{"pos", types.Int64, "file offset in bytes (fdinfo pos)"}, func(it *fdItem) any {
		info, ok := it.fdinfo()
		return orNull(info.Pos, ok && info.HasPos)
	}},
	{Column{"flags", types.LongText, "open flags in octal as the kernel prints them (fdinfo flags)"}, func(it *fdItem) any {
		info, ok := it.fdinfo()
		if !ok || !info.HasFlags {
			return nil
		}
		var text [12]byte
		return string(strconv.AppendUint(append(text[:0], '0'), uint64(info.Flags), 8))
	}},
	{Column{"access", types.LongText, "access mode from the flags: r, w or rw"}, func(it *fdItem) any {
		info, ok := it.fdinfo()
		if !ok || !info.HasFlags {
			return nil
		}
		switch info.Flags & 3 {
		case 0:
			return "r"
		case 1:
			return "w"
		default:
			return "rw"
		}
	}},
}

// readFDs emits the descriptors of one process in descriptor order.
func readFDs(r *Reader, pid int, emit func(*fdItem) error) error {
	for _, it := range newProcess(r, pid).fds() {
		if err := emit(it); err != nil {
			return err
		}
	}
	return nil
}

// fds lists and reads the descriptor links of the process. Descriptors that
// close between the listing and the readlink are dropped.
func (p *Process) fds() []*fdItem {
	names, err := p.r.Src.ReadDir(p.name("fd"))
	if err != nil {
		p.r.recordFailure(p.name("fd"), err)
		return nil
	}
	// One array holds the items of the process, so a descriptor costs no
	// allocation of its own.
	all := make([]fdItem, 0, len(names))
	for _, n := range names {
		if fd, ok := parseID(n); ok {
			all = append(all, fdItem{p: p, fd: fd, entry: n})
		}
	}
	slices.SortFunc(all, func(a, b fdItem) int { return cmp.Compare(a.fd, b.fd) })
	items := make([]*fdItem, 0, len(all))
	for i := range all {
		it := &all[i]
		it.link = p.dir + "fd/" + it.entry
		target, err := p.r.Src.ReadLink(it.link)
		if err != nil && source.Gone(err) {
			continue
		}
		if err != nil {
			p.r.recordFailure(it.link, err)
		} else {
			it.target, it.ok = target, true
			it.parsed = procfile.ParseFDTarget(target)
		}
		items = append(items, it)
	}
	return items
}
