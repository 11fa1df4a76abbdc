package tables

import (
	"errors"
	"fmt"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/procsql/procsql/procfile"
	"github.com/procsql/procsql/source"
)

// Reader holds the state of one query: the source every table reads through,
// values computed once per query (user names, boot time, sockets), and the
// read failures that left columns NULL.
type Reader struct {
	Src source.Source

	mu       sync.Mutex
	memo     map[string]any
	failures map[failureKey]map[string]bool // the names that failed
	notes    []string
	damaged  error // the first read that wraps source.ErrDamaged
}

type failureKey struct {
	file  string // base name of the /proc file, such as "environ"
	errno string
}

// NewReader returns a Reader over src. Callers that run one query should
// pass a source.Cache so that the query reads each file once.
func NewReader(src source.Source) *Reader {
	return &Reader{Src: src, memo: map[string]any{}, failures: map[failureKey]map[string]bool{}}
}

// memoize returns the value stored under key, computing it with compute on
// first use. Values live as long as the Reader, that is one query.
func memoize[V any](r *Reader, key string, compute func() V) V {
	r.mu.Lock()
	if v, ok := r.memo[key]; ok {
		r.mu.Unlock()
		return v.(V)
	}
	r.mu.Unlock()
	v := compute()
	r.mu.Lock()
	defer r.mu.Unlock()
	if first, ok := r.memo[key]; ok {
		return first.(V)
	}
	r.memo[key] = v
	return v
}

// recordFailure counts a read failure that is not a vanished process. A
// vanished process is normal during a scan and is not reported.
func (r *Reader) recordFailure(name string, err error) {
	if errors.Is(err, source.ErrDamaged) {
		r.mu.Lock()
		if r.damaged == nil {
			r.damaged = err
		}
		r.mu.Unlock()
		return
	}
	if errors.Is(err, source.ErrNotCollected) {
		r.recordMissing(name)
		return
	}
	if err == nil || source.Gone(err) {
		return
	}
	r.countFailure(name, failureReason(err))
}

// Err returns the first read of damaged source data, which must fail the
// query, or nil. When Src keeps such errors itself, as source.Cache does,
// reads whose errors a table set aside count too.
func (r *Reader) Err() error {
	r.mu.Lock()
	damaged := r.damaged
	r.mu.Unlock()
	if damaged != nil {
		return damaged
	}
	if src, ok := r.Src.(interface{ Err() error }); ok {
		return src.Err()
	}
	return nil
}

// recordMissing counts a file that a copied tree lacks although its process
// directory exists, so the data was not collected rather than gone.
func (r *Reader) recordMissing(name string) {
	r.countFailure(name, "not found")
}

func (r *Reader) countFailure(name, reason string) {
	key := failureKey{file: fileKind(name), errno: reason}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Files, not calls, are counted: the exe link is read, stated and
	// hashed, and a denied exe is still one failed file.
	if r.failures[key] == nil {
		r.failures[key] = map[string]bool{}
	}
	r.failures[key][name] = true
}

// failureReason names err by its errno, or by its kind when it has none, so
// the warning line stays short however many different files fail.
func failureReason(err error) string {
	if errno := source.ErrnoName(err); errno != "" {
		return errno
	}
	if errors.Is(err, procfile.ErrMalformed) {
		return "malformed content"
	}
	return "another error"
}

// fileKind reduces "123/fd/4" to "fd", "123/task/7/stat" to "task" and
// "123/environ" to "environ", so failures are counted by kind of file rather
// than one line per process.
func fileKind(name string) string {
	parts := strings.Split(name, "/")
	if len(parts) > 1 {
		if _, err := strconv.Atoi(parts[0]); err == nil {
			parts = parts[1:]
		}
	}
	if len(parts) > 1 && (parts[0] == "fd" || parts[0] == "fdinfo" || parts[0] == "ns" || parts[0] == "task") {
		return parts[0]
	}
	return path.Join(parts...)
}

// Note records a message about the query's data that is not a read failure,
// such as a kernel without /proc/modules. Repeated notes are kept once.
func (r *Reader) Note(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.notes {
		if n == msg {
			return
		}
	}
	r.notes = append(r.notes, msg)
}

// Warnings returns one line per kind of read failure and per note, in a
// stable order, for printing after a result or for SHOW WARNINGS.
func (r *Reader) Warnings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for key, names := range r.failures {
		n := len(names)
		reads := "reads"
		if n == 1 {
			reads = "read"
		}
		out = append(out, fmt.Sprintf("%d %s of %s failed (%s), so the values from it are NULL or missing", n, reads, key.file, key.errno))
	}
	sort.Strings(out)
	return append(out, r.notes...)
}

// readFile reads a file and records a failure, reporting whether it succeeded.
func (r *Reader) readFile(name string) ([]byte, bool) {
	data, err := r.Src.ReadFile(name)
	if err != nil {
		r.recordFailure(name, err)
		return nil, false
	}
	return data, true
}

// readLink reads a link and records a failure, reporting whether it succeeded.
func (r *Reader) readLink(name string) (string, bool) {
	target, err := r.Src.ReadLink(name)
	if err != nil {
		r.recordFailure(name, err)
		return "", false
	}
	return target, true
}

// PIDs returns the process ids listed in the procfs root, ascending.
func (r *Reader) PIDs() []int {
	return memoize(r, "pids", func() []int {
		names, err := r.Src.ReadDir(".")
		if err != nil {
			r.recordFailure(".", err)
			return nil
		}
		pids := make([]int, 0, len(names))
		for _, name := range names {
			if pid, ok := parseID(name); ok {
				pids = append(pids, pid)
			}
		}
		if len(pids) == 0 {
			r.Note("the source lists no process directories: check that --proc names a /proc directory or a copy of one, or --snapshot a snapshot file")
		}
		sort.Ints(pids)
		return pids
	})
}

// selectPIDs returns the pids a per-process table scans: those of the filter,
// probed directly so that a pid hidden from the listing is still found, or
// every listed pid.
func (r *Reader) selectPIDs(f Filter) []int {
	if f.PIDs == nil {
		return r.PIDs()
	}
	pids := append([]int(nil), f.PIDs...)
	sort.Ints(pids)
	kept := pids[:0]
	for i, pid := range pids {
		if pid > 0 && (i == 0 || pid != pids[i-1]) && r.threadGroupLeader(pid) {
			kept = append(kept, pid)
		}
	}
	return kept
}

// threadGroupLeader reports whether a probed pid is a process rather than
// one of its threads. /proc/<tid> exists for every thread although the
// listing shows only processes, so a lookup of a thread id would otherwise
// return the process's rows a second time. When status cannot be read the
// pid is kept and the table's own reads decide. The result is kept for the
// statement, because a lookup join checks once per table and row.
func (r *Reader) threadGroupLeader(pid int) bool {
	return memoize(r, "leader/"+strconv.Itoa(pid), func() bool {
		data, err := r.Src.ReadFile(strconv.Itoa(pid) + "/status")
		if err != nil {
			return true
		}
		st, err := procfile.ParseStatus(data)
		if err != nil {
			return true
		}
		tgid, ok := st.Uint("Tgid")
		return !ok || tgid == uint64(pid)
	})
}

// parseID parses a pid, tid or fd directory name. Only the kernel's own
// spelling is accepted, so "04" or "+4" in a copied tree cannot stand for
// pid 4 a second time.
func parseID(name string) (int, bool) {
	id, err := strconv.Atoi(name)
	if err != nil || id < 0 || id > math.MaxInt32 || strconv.Itoa(id) != name {
		return 0, false
	}
	return id, true
}
