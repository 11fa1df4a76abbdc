package source

import (
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Reads of a procfs mount use raw system calls rather than os.File. An
// os.File costs five more calls per file (fcntl four times to query and set
// blocking mode, and epoll_ctl to try the poller, which procfs files reject).
// A table scan opens thousands of small files, and on 1,000 processes the
// calls per file went from 9 to 4.
//
// The entries of /proc/<pid>/fd and /proc/<pid>/fdinfo are named relative to
// an open descriptor of their directory (see procDirs), so the kernel looks
// up one component instead of walking /proc, finding the pid and
// revalidating each directory on every call.

// procReadBuffer is the stack buffer that a procfs read starts with. Most
// files (stat, status, fdinfo/N, cmdline) fit, so the only heap allocation
// is the exact-size copy that is returned.
const procReadBuffer = 4096

// readProcFileAt reads a whole procfs file of at most MaxFileSize bytes,
// named by path relative to the directory descriptor dirfd (or unix.AT_FDCWD
// for a full path). It reads until read returns 0, because procfs files
// report a size of 0 and may return less than asked before the end, unless
// single is set (see oneRead).
func readProcFileAt(dirfd int, path string, single bool) ([]byte, error) {
	fd, err := openatRetry(dirfd, path, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var first [procReadBuffer]byte
	buf := first[:0]
	for {
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			break
		}
		short := n < cap(buf)-len(buf)
		buf = buf[:len(buf)+n]
		if single && short {
			break
		}
		if len(buf) > MaxFileSize {
			return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("file is larger than %d bytes", MaxFileSize)}
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
	// The Cache keeps every file of a query, so the copy has the exact size
	// rather than the capacity of the read buffer.
	return bytes.Clone(buf), nil
}

// oneRead reports whether a procfs file is made in one piece, so that a
// read shorter than asked has reached its end and the read that would
// return 0 can be skipped. The kernel builds stat, statm, status, cgroup
// and fdinfo/N with single_open, which formats the whole file before the
// first read returns and hands out all of it when the buffer is large
// enough. Files of many records, such as maps or net/tcp, can return short
// reads before their end and are read until 0. name may be a full path or a
// name relative to the procfs root.
func oneRead(name string) bool {
	dir, base := name, name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir, base = name[:i], name[i+1:]
	}
	switch base {
	case "stat", "statm", "status", "cgroup":
		return true
	}
	return dir == "fdinfo" || strings.HasSuffix(dir, "/fdinfo")
}

// readProcDir returns the names in a procfs directory, unsorted. When keep
// is true it also returns the directory's open descriptor, which the caller
// must close. Otherwise the descriptor it returns is -1.
func readProcDir(path string, keep bool) ([]string, int, error) {
	fd, err := openatRetry(unix.AT_FDCWD, path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return nil, -1, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	buf := make([]byte, 8192)
	var names []string
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			unix.Close(fd)
			return nil, -1, &fs.PathError{Op: "readdirent", Path: path, Err: err}
		}
		if n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	if !keep {
		unix.Close(fd)
		fd = -1
	}
	return names, fd, nil
}

// readlinkAt returns the text of the link rel relative to dirfd.
func readlinkAt(dirfd int, rel string) (string, error) {
	var first [256]byte
	buf := first[:]
	for {
		n, err := unix.Readlinkat(dirfd, rel, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", err
		}
		// readlink truncates silently, so a full buffer may have cut the text.
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		if len(buf) >= unix.PathMax {
			return "", fmt.Errorf("link text is longer than %d bytes", unix.PathMax)
		}
		buf = make([]byte, 2*len(buf))
	}
}

func openatRetry(dirfd int, path string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// maxProcDirs bounds the directory descriptors that procDirs keeps open. A
// table scan uses the two directories of each process on each of its
// 2 × GOMAXPROCS workers, in a burst, so a few dozen cover one scan. The
// kept descriptors are procsql's own, and its row of the fds table lists
// them, so the bound is kept small: when all are in use, reads fall back to
// full paths.
const maxProcDirs = 32

// procDirs keeps descriptors of the /proc/<pid>/fd and /proc/<pid>/fdinfo
// directories of a procfs mount open between calls. It closes the oldest
// unused one when it holds maxProcDirs. It is safe for concurrent use.
//
// A descriptor of a directory under /proc/<pid> stays bound to the process
// it was opened for: once that process exits, every lookup through it
// fails with ENOENT or ESRCH, even when the pid has been reused. The
// descriptors outlive one query, so run retries such a failure once
// through a newly opened descriptor, and a reused pid is read as a path
// would read it.
type procDirs struct {
	root string

	mu    sync.Mutex
	dirs  map[string]*procDir // by name relative to root, such as "123/fd"
	order []*procDir          // oldest first, for eviction
}

// procDir is one kept directory descriptor. refs counts the calls that use
// fd, and a descriptor removed from the map is closed when the last of them
// ends.
type procDir struct {
	key     string
	fd      int
	refs    int
	removed bool
	closed  bool // fd was closed after its last use
}

func newProcDirs(root string) *procDirs {
	return &procDirs{root: filepath.Clean(root), dirs: map[string]*procDir{}}
}

// splitProcName splits a name relative to the procfs root into the
// directory whose descriptor procDirs keeps and the entry in it:
// "123/fd/4" into "123/fd" and "4", and "123/fdinfo/4" into "123/fdinfo"
// and "4". It returns ok false for every other name. Only these two
// directories are kept because a table reads many entries of each: one
// process directory is read a dozen times at most, which saved less than
// opening and closing its descriptor cost.
func splitProcName(name string) (dir, rel string, ok bool) {
	slash := strings.LastIndexByte(name, '/')
	if slash <= 0 || slash == len(name)-1 || !isProcDirKey(name[:slash]) {
		return "", "", false
	}
	return name[:slash], name[slash+1:], true
}

// isProcDirKey reports whether name is a directory whose descriptor
// procDirs keeps: <pid>/fd or <pid>/fdinfo.
func isProcDirKey(name string) bool {
	pid, sub, nested := strings.Cut(name, "/")
	return nested && isDigits(pid) && (sub == "fd" || sub == "fdinfo")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// path returns the full path of a name relative to the root, for errors and
// for names outside process directories.
func (c *procDirs) path(name string) string {
	if !isCleanName(name) {
		return filepath.Join(c.root, name)
	}
	if c.root == "/" {
		return "/" + name
	}
	return c.root + "/" + name
}

// isCleanName reports whether name is a relative path that filepath.Clean
// leaves unchanged, so that joining it to the root needs no cleaning. The
// names that tables build, such as "123/status", all are.
func isCleanName(name string) bool {
	if name == "" || name[0] == '/' {
		return false
	}
	for {
		component, rest, found := strings.Cut(name, "/")
		if component == "" || component == "." || component == ".." {
			return false
		}
		if !found {
			return true
		}
		name = rest
	}
}

// acquire returns the kept descriptor of dir with one more reference,
// opening it when none is kept, and reports whether it was already kept. It
// returns nil, with no error, when every kept descriptor is in use.
func (c *procDirs) acquire(dir string) (*procDir, bool, error) {
	c.mu.Lock()
	if d, ok := c.dirs[dir]; ok {
		d.refs++
		c.mu.Unlock()
		return d, true, nil
	}
	evicted, full := -1, false
	if len(c.order) >= maxProcDirs {
		evicted = c.evictLocked()
		full = evicted < 0
	}
	c.mu.Unlock()
	if evicted >= 0 {
		unix.Close(evicted)
	}
	if full {
		return nil, false, nil
	}
	fd, err := openatRetry(unix.AT_FDCWD, c.path(dir), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return nil, false, err
	}
	return c.insert(dir, fd), false, nil
}

// insert adds the open descriptor fd of dir with one reference, or closes
// it and returns the descriptor kept meanwhile by another caller. It closes
// fd and returns nil when every kept descriptor is in use.
func (c *procDirs) insert(dir string, fd int) *procDir {
	// Descriptors are closed after the lock is released, so that a close
	// does not hold up the other workers.
	c.mu.Lock()
	if d, ok := c.dirs[dir]; ok {
		d.refs++
		c.mu.Unlock()
		unix.Close(fd)
		return d
	}
	evicted := -1
	if len(c.order) >= maxProcDirs {
		if evicted = c.evictLocked(); evicted < 0 {
			c.mu.Unlock()
			unix.Close(fd)
			return nil
		}
	}
	d := &procDir{key: strings.Clone(dir), fd: fd, refs: 1}
	c.dirs[d.key] = d
	c.order = append(c.order, d)
	c.mu.Unlock()
	if evicted >= 0 {
		unix.Close(evicted)
	}
	return d
}

// keep offers fd, an open descriptor of dir that the caller no longer
// needs, such as the one a directory listing used. It takes ownership of
// fd: it keeps it when no descriptor of dir is kept and there is room, and
// closes it otherwise.
func (c *procDirs) keep(dir string, fd int) {
	// The listing is newer than a descriptor kept earlier, which may belong
	// to an exited process whose pid was reused, so the listing's replaces it.
	if old := c.lookup(dir); old != nil {
		c.remove(old)
		c.mu.Lock()
		unused := old.refs == 0 && !old.closed
		old.closed = old.closed || unused
		c.mu.Unlock()
		if unused {
			unix.Close(old.fd)
		}
	}
	if d := c.insert(dir, fd); d != nil {
		c.release(d)
	}
}

// evictLocked removes the oldest descriptor that no call uses and returns
// it for the caller to close, or -1 when all are in use.
func (c *procDirs) evictLocked() int {
	for i, d := range c.order {
		if d.refs == 0 {
			c.order = append(c.order[:i], c.order[i+1:]...)
			delete(c.dirs, d.key)
			return d.fd
		}
	}
	return -1
}

// release ends one use of d and closes its descriptor if it was removed
// and this was the last use.
func (c *procDirs) release(d *procDir) {
	c.mu.Lock()
	d.refs--
	last := d.removed && d.refs == 0 && !d.closed
	d.closed = d.closed || last
	c.mu.Unlock()
	if last {
		unix.Close(d.fd)
	}
}

// lookup returns the kept descriptor of dir, or nil.
func (c *procDirs) lookup(dir string) *procDir {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dirs[dir]
}

// remove takes d out of the map, so the next acquire opens the directory
// again. Its descriptor is closed when its last use ends.
func (c *procDirs) remove(d *procDir) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d.removed {
		return
	}
	d.removed = true
	if c.dirs[d.key] == d {
		delete(c.dirs, d.key)
	}
	for i, kept := range c.order {
		if kept == d {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
}

// run calls op with a directory descriptor and the path of name relative to
// it: a kept descriptor for the entries of fd/ and fdinfo/, and
// unix.AT_FDCWD with the full path for other names. When op fails through a
// kept descriptor with ENOENT or ESRCH, the process exited, and its pid may
// be reused, so run drops the descriptor for later calls. It does not retry
// through a new one: that would read a new process's entries under the
// listing of the old one, mixing two processes in one result.
func (c *procDirs) run(name string, op func(dirfd int, rel string) error) error {
	dir, rel, ok := splitProcName(name)
	if !ok {
		return op(unix.AT_FDCWD, c.path(name))
	}
	d, kept, err := c.acquire(dir)
	if err != nil || d == nil {
		// Without a descriptor, op by the full path returns the error
		// that names the file, such as ENOENT for an exited process.
		return op(unix.AT_FDCWD, c.path(name))
	}
	err = op(d.fd, rel)
	// op names rel in its errors, which then name the full path instead.
	if pathErr, ok := err.(*fs.PathError); ok {
		pathErr.Path = c.path(name)
	}
	if err != nil && kept && Gone(err) {
		c.remove(d)
	}
	c.release(d)
	return err
}
