package tables

import (
	"github.com/dolthub/go-mysql-server/sql/types"
)

// process_sockets joins each socket to the processes and descriptors that
// hold it, through the socket inode in the fd link text. A socket that no
// process holds gets one row with a NULL pid. A socket shared by several
// processes (after fork, or passed over a unix socket) gets one row each.
func init() {
	columns := []column[heldSocket]{
		{Column{"pid", types.Int32, "process id of the holder; NULL when no process holds the socket"}, func(h heldSocket) any {
			return orNull(int32(h.pid), h.pid > 0)
		}},
		{Column{"fd", types.Int32, "descriptor number in the holder"}, func(h heldSocket) any {
			return orNull(int32(h.fd), h.pid > 0)
		}},
		{Column{"name", types.LongText, "command name of the holder (stat comm)"}, func(h heldSocket) any {
			if h.proc == nil {
				return nil
			}
			return orNull(h.proc.Comm())
		}},
	}
	columns = append(columns, socketColumns(func(h heldSocket) *socket { return h.s })...)
	register(&rowTable[heldSocket]{
		name:    "process_sockets",
		comment: "each socket with the pid and fd that hold it, including sockets no process holds",
		keys:    []string{"pid", "inode"},
		notNull: []string{"inode"},
		columns: columns,
		items:   forEachHeldSocket,
	})
}

type heldSocket struct {
	pid  int
	fd   int
	proc *Process
	s    *socket
}

// holder is one descriptor that refers to a socket inode.
type holder struct {
	proc *Process
	fd   int
}

// socketHolders maps socket inodes to the descriptors that hold them, from
// the fd links of every process, listed in pid and then fd order. The links
// are read on 2 × GOMAXPROCS goroutines, as table scans read processes.
func (r *Reader) socketHolders() map[uint64][]holder {
	return memoize(r, "socket_holders", func() map[uint64][]holder {
		type heldInode struct {
			inode uint64
			holder
		}
		pids := r.PIDs()
		held := make([][]heldInode, len(pids))
		eachPID(pids, func(i, pid int) {
			p := newProcess(r, pid)
			for _, it := range p.fds() {
				if it.ok && it.parsed.Type == "socket" {
					held[i] = append(held[i], heldInode{it.parsed.Inode, holder{p, it.fd}})
				}
			}
		})
		holders := map[uint64][]holder{}
		for _, list := range held {
			for _, h := range list {
				holders[h.inode] = append(holders[h.inode], h.holder)
			}
		}
		return holders
	})
}

func forEachHeldSocket(r *Reader, f Filter, emit func(heldSocket) error) error {
	all := r.sockets()
	if f.PIDs != nil {
		// Only the selected processes' descriptors need reading.
		for _, pid := range r.selectPIDs(f) {
			p := newProcess(r, pid)
			for _, it := range p.fds() {
				if !it.ok || it.parsed.Type != "socket" {
					continue
				}
				for _, s := range all.byInode[it.parsed.Inode] {
					if !matchesInode(f, s.inode) {
						continue
					}
					if err := emit(heldSocket{pid: pid, fd: it.fd, proc: p, s: s}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	holders := r.socketHolders()
	emitSocket := func(s *socket) error {
		held := holders[s.inode]
		if s.inode == 0 || len(held) == 0 {
			return emit(heldSocket{s: s})
		}
		for _, h := range held {
			if err := emit(heldSocket{pid: h.proc.PID, fd: h.fd, proc: h.proc, s: s}); err != nil {
				return err
			}
		}
		return nil
	}
	if f.Inodes != nil {
		return emitSocketsByInode(all, f.Inodes, emitSocket)
	}
	for _, s := range all.list {
		if err := emitSocket(s); err != nil {
			return err
		}
	}
	return nil
}

func matchesInode(f Filter, inode uint64) bool {
	if f.Inodes == nil {
		return true
	}
	for _, want := range f.Inodes {
		if want == inode {
			return true
		}
	}
	return false
}
