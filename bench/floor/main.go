// Command floor makes the system calls that one procsql table, or the
// snapshot capture, makes on /proc, and does nothing else: it lists
// directories, opens and reads files into one reused buffer, reads links and
// stats the files behind descriptors. It parses only what it needs to find
// the next file, such as the names in a directory or the inode in an ns/net
// link, and prints one count. bench/compare.sh times it as the lower bound
// for procsql on the same host.
//
// Like procsql, it reads processes on 2 × GOMAXPROCS goroutines, stops
// reading a file that the kernel formats in one piece (stat, statm, status,
// cgroup, fdinfo/N) after the first short read, and names the entries of
// /proc/<pid>/fd and /proc/<pid>/fdinfo relative to a descriptor of that
// directory. It reads each executable once per file, as procsql does before
// hashing it, in reads of the same size, but computes no hash. It reads
// environ files and counts their bytes only.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

const usage = `Usage: floor [-what MODE] [-proc DIR] [-workers N] [-v]

Reads what a procsql table reads and prints one count on stdout:

  processes  SELECT * FROM processes: stat, status, cmdline, cgroup, the exe,
             cwd and root links, ns/{pid,net,mnt}, a stat of exe, each
             executable once, /proc/stat and /etc/passwd. Count: processes.
  ps         the columns of ps -eo pid,ppid,user,comm,args: stat, status,
             cmdline and /etc/passwd. Count: processes.
  fds        SELECT * FROM fds: fd/ listing, each fd link, its fdinfo, and a
             stat through links to files, devices and memfds. Count: fds.
  sockets    SELECT * FROM process_sockets: ns/net of each process, the
             net/{tcp,tcp6,udp,udp6,raw,raw6,unix,packet} files of each
             network namespace, every fd link, and stat of each process that
             holds a socket. Count: lines in the net files, headers excluded.
  capture    everything procsql snapshot reads (the above, plus environ, maps,
             smaps, task/*/stat, the pid probe, kernel, host and /sys/module
             files). Count: successful reads, readlinks, listings and stats.

Flags:
`

func main() {
	modeName := flag.String("what", "processes", "what to read: processes, ps, fds, sockets or capture")
	procRoot := flag.String("proc", "/proc", "procfs `directory` to read")
	workers := flag.Int("workers", 2*runtime.GOMAXPROCS(0), "number of goroutines that read processes")
	verbose := flag.Bool("v", false, "print the number of failed reads by errno on stderr")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "floor: unexpected argument %q: all options are flags\n", flag.Arg(0))
		os.Exit(2)
	}
	if *workers < 1 {
		fmt.Fprintf(os.Stderr, "floor: invalid -workers %d: give 1 or more\n", *workers)
		os.Exit(2)
	}
	modes := map[string]func(*scan) int64{
		"processes": readProcesses,
		"ps":        readPSColumns,
		"fds":       readFDs,
		"sockets":   readSockets,
		"capture":   readCapture,
	}
	mode, ok := modes[*modeName]
	if !ok {
		fmt.Fprintf(os.Stderr, "floor: invalid -what %q: give processes, ps, fds, sockets or capture\n", *modeName)
		os.Exit(2)
	}

	s := &scan{root: strings.TrimRight(*procRoot, "/"), workers: *workers, executables: map[fileID]bool{}, failures: map[string]int{}}
	count := mode(s)
	fmt.Println(count)
	if *verbose {
		s.printFailures()
	}
}

// scan is the state shared by the goroutines of one run.
type scan struct {
	root    string
	workers int

	reads atomic.Int64 // successful reads, readlinks, listings and stats

	mu          sync.Mutex
	executables map[fileID]bool
	failures    map[string]int // by errno name
}

// fileID identifies an executable's content the way procsql's hash cache
// does: device, inode, change time and size.
type fileID struct {
	dev, ino         uint64
	ctimeSec, ctimeN int64
	size             int64
}

// worker is one goroutine's view of a scan, with its own read buffers.
type worker struct {
	*scan
	buf []byte
	// exeBuf has the size of the buffer that procsql hashes executables
	// through, so the floor makes as many reads of them.
	exeBuf *[256 << 10]byte
}

func (s *scan) newWorker() *worker {
	return &worker{scan: s, buf: make([]byte, 64<<10), exeBuf: new([256 << 10]byte)}
}

func (s *scan) fail(err error) {
	name := "other"
	var errno unix.Errno
	if errors.As(err, &errno) {
		name = unix.ErrnoName(errno)
	}
	s.mu.Lock()
	s.failures[name]++
	s.mu.Unlock()
}

func (s *scan) printFailures() {
	names := make([]string, 0, len(s.failures))
	for name := range s.failures {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %d", name, s.failures[name])
	}
	failed := "none"
	if len(parts) > 0 {
		failed = strings.Join(parts, ", ")
	}
	fmt.Fprintf(os.Stderr, "floor: %d successful operations; failed, by errno: %s\n", s.reads.Load(), failed)
}

// read reads the file at path to its end and returns its size in bytes and
// the number of newlines in it.
func (w *worker) read(path string) (size, lines int64, ok bool) {
	return w.readAt(unix.AT_FDCWD, path, oneRead(path))
}

// readAt reads the file at path, relative to dirfd, as procsql does: until
// read returns 0 or, when single is set, until the first read shorter than
// the buffer.
func (w *worker) readAt(dirfd int, path string, single bool) (size, lines int64, ok bool) {
	fd, err := unix.Openat(dirfd, path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		w.fail(err)
		return 0, 0, false
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Read(fd, w.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			w.fail(err)
			return size, lines, false
		}
		size += int64(n)
		lines += int64(bytes.Count(w.buf[:n], []byte{'\n'}))
		if n == 0 || (single && n < len(w.buf)) {
			w.reads.Add(1)
			return size, lines, true
		}
	}
}

// oneRead reports whether procsql reads a file with a single read when that
// read is shorter than asked: the files that the kernel builds with
// single_open. It has the same rule as oneRead in procsql's source package.
func oneRead(path string) bool {
	dir, base := path, path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir, base = path[:i], path[i+1:]
	}
	switch base {
	case "stat", "statm", "status", "cgroup":
		return true
	}
	return dir == "fdinfo" || strings.HasSuffix(dir, "/fdinfo")
}

// readText returns the content of a file shorter than the read buffer.
func (w *worker) readText(path string) (string, bool) {
	size, _, ok := w.read(path)
	if !ok || size >= int64(len(w.buf)) {
		return "", false
	}
	// The last read that returned data left the whole file in the buffer.
	return string(w.buf[:size]), true
}

func (w *worker) readLink(path string) (string, bool) {
	return w.readLinkAt(unix.AT_FDCWD, path)
}

// readDir returns the names in the directory at path, without . and ..
func (w *worker) readDir(path string) ([]string, bool) {
	names, fd, ok := w.readDirKeep(path)
	if ok {
		unix.Close(fd)
	}
	return names, ok
}

// readDirKeep returns the names in the directory at path and its open
// descriptor, which the caller closes.
func (w *worker) readDirKeep(path string) ([]string, int, bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		w.fail(err)
		return nil, -1, false
	}
	var names []string
	for {
		n, err := unix.ReadDirent(fd, w.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			w.fail(err)
			unix.Close(fd)
			return nil, -1, false
		}
		if n == 0 {
			w.reads.Add(1)
			return names, fd, true
		}
		_, _, names = unix.ParseDirent(w.buf[:n], -1, names)
	}
}

func (w *worker) stat(path string) bool {
	return w.statAt(unix.AT_FDCWD, path)
}

func (w *worker) statAt(dirfd int, path string) bool {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, path, &st, 0); err != nil {
		w.fail(err)
		return false
	}
	w.reads.Add(1)
	return true
}

func (w *worker) readLinkAt(dirfd int, path string) (string, bool) {
	n, err := unix.Readlinkat(dirfd, path, w.buf)
	if err != nil {
		w.fail(err)
		return "", false
	}
	w.reads.Add(1)
	return string(w.buf[:n]), true
}

// readExecutable reads the file behind an exe link unless a file with the
// same identity was read before, as procsql's hash cache does.
func (w *worker) readExecutable(path string) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		w.fail(err)
		return
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		w.fail(err)
		return
	}

	id := fileID{dev: st.Dev, ino: st.Ino, ctimeSec: st.Ctim.Sec, ctimeN: st.Ctim.Nsec, size: st.Size}
	w.mu.Lock()
	seen := w.executables[id]
	w.executables[id] = true
	w.mu.Unlock()
	if seen {
		return
	}

	for {
		n, err := unix.Read(fd, w.exeBuf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			w.fail(err)
			return
		}
		if n == 0 {
			w.reads.Add(1)
			return
		}
	}
}

// pids lists the process directories of the procfs root.
func (s *scan) pids() []string {
	names, _ := s.newWorker().readDir(s.root)
	pids := names[:0]
	for _, name := range names {
		if isNumber(name) {
			pids = append(pids, name)
		}
	}
	return pids
}

func isNumber(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return false
		}
	}
	return true
}

// forEach calls read for every pid on s.workers goroutines.
func (s *scan) forEach(pids []string, read func(w *worker, pid string)) {
	next := make(chan string)
	var wg sync.WaitGroup
	for range min(s.workers, max(len(pids), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := s.newWorker()
			for pid := range next {
				read(w, pid)
			}
		}()
	}
	for _, pid := range pids {
		next <- pid
	}
	close(next)
	wg.Wait()
}

// readProcessFiles reads what SELECT * FROM processes reads for one process.
// It returns the ns/net link text, which is empty when that link could not
// be read, and whether the process's stat could be read.
func (w *worker) readProcessFiles(pid string) (netNS string, ok bool) {
	dir := w.root + "/" + pid + "/"
	if _, _, ok := w.read(dir + "stat"); !ok {
		return "", false
	}
	w.read(dir + "status")
	w.read(dir + "cmdline")
	w.read(dir + "cgroup")
	for _, link := range []string{"exe", "cwd", "root", "ns/pid", "ns/mnt"} {
		w.readLink(dir + link)
	}
	netNS, _ = w.readLink(dir + "ns/net")
	w.stat(dir + "exe")
	w.readExecutable(dir + "exe")
	return netNS, true
}

// readHostFiles reads the files that the processes table reads once per
// query: /proc/stat, for the boot time, and /etc/passwd.
func (s *scan) readHostFiles(w *worker) {
	w.read(s.root + "/stat")
	w.read("/etc/passwd")
}

func readProcesses(s *scan) int64 {
	s.readHostFiles(s.newWorker())
	var count atomic.Int64
	s.forEach(s.pids(), func(w *worker, pid string) {
		if _, ok := w.readProcessFiles(pid); ok {
			count.Add(1)
		}
	})
	return count.Load()
}

// readPSColumns reads what ps needs for pid, ppid, user, comm and args.
func readPSColumns(s *scan) int64 {
	s.newWorker().read("/etc/passwd")
	var count atomic.Int64
	s.forEach(s.pids(), func(w *worker, pid string) {
		dir := w.root + "/" + pid + "/"
		if _, _, ok := w.read(dir + "stat"); !ok {
			return
		}
		w.read(dir + "status")
		w.read(dir + "cmdline")
		count.Add(1)
	})
	return count.Load()
}

// readDescriptors lists fd/ of one process and reads each link. With full
// set it also reads the fdinfo of each descriptor and stats the files that
// fds.size_bytes describes. As procsql does, it names each entry relative
// to the descriptor of fd/ that the listing opened, and of fdinfo/, opened
// with O_PATH. It returns the number of links read and whether any of them
// is a socket.
func (w *worker) readDescriptors(pid string, full bool) (fds int64, socket bool) {
	dir := w.root + "/" + pid + "/"
	names, fdDir, ok := w.readDirKeep(dir + "fd")
	if !ok {
		return 0, false
	}
	defer unix.Close(fdDir)
	infoDir := -1
	defer func() {
		if infoDir >= 0 {
			unix.Close(infoDir)
		}
	}()
	for _, fd := range names {
		target, ok := w.readLinkAt(fdDir, fd)
		if !ok {
			continue
		}
		fds++
		if strings.HasPrefix(target, "socket:[") {
			socket = true
		}
		if !full {
			continue
		}
		// Files, devices and memfds all have link text that starts with /.
		if strings.HasPrefix(target, "/") {
			w.statAt(fdDir, fd)
		}
		if infoDir < 0 {
			var err error
			if infoDir, err = unix.Open(dir+"fdinfo", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
				w.fail(err)
				continue
			}
		}
		w.readAt(infoDir, fd, true)
	}
	return fds, socket
}

func readFDs(s *scan) int64 {
	var count atomic.Int64
	s.forEach(s.pids(), func(w *worker, pid string) {
		n, _ := w.readDescriptors(pid, true)
		count.Add(n)
	})
	return count.Load()
}

// namespaces maps each network namespace's link text to the lowest pid in
// it, through which its net/ files are read.
type namespaces struct {
	mu     sync.Mutex
	lowest map[string]int
}

func (n *namespaces) add(link, pid string) {
	p, err := strconv.Atoi(pid)
	if err != nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if old, ok := n.lowest[link]; !ok || p < old {
		n.lowest[link] = p
	}
}

// socketFiles are the net/ files that the sockets table reads in each
// network namespace.
var socketFiles = []string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix", "packet"}

// readSocketFiles reads the socket files of each namespace and returns the
// number of socket lines, one header line per file excluded.
func (s *scan) readSocketFiles(ns *namespaces) int64 {
	w := s.newWorker()
	var sockets int64
	for _, pid := range ns.lowest {
		for _, file := range socketFiles {
			if _, lines, ok := w.read(s.root + "/" + strconv.Itoa(pid) + "/net/" + file); ok && lines > 0 {
				sockets += lines - 1
			}
		}
	}
	return sockets
}

func readSockets(s *scan) int64 {
	ns := &namespaces{lowest: map[string]int{}}
	s.forEach(s.pids(), func(w *worker, pid string) {
		if link, ok := w.readLink(w.root + "/" + pid + "/ns/net"); ok {
			ns.add(link, pid)
		}
		// process_sockets.name comes from the stat of each holder.
		if _, socket := w.readDescriptors(pid, false); socket {
			w.read(w.root + "/" + pid + "/stat")
		}
	})
	return s.readSocketFiles(ns)
}

// probeMargin and maxProbe bound the pid probe as procsql's pid_probe table
// does: up to pid_max, and at most this margin above the highest listed pid.
const (
	probeMargin = 65536
	maxProbe    = 4194304
)

func readCapture(s *scan) int64 {
	pids := s.pids()
	ns := &namespaces{lowest: map[string]int{}}
	s.forEach(pids, func(w *worker, pid string) {
		netNS, ok := w.readProcessFiles(pid)
		if !ok {
			return
		}
		if netNS != "" {
			ns.add(netNS, pid)
		}
		dir := w.root + "/" + pid + "/"
		w.readDescriptors(pid, true)
		// environ is read to its end and discarded, never printed.
		w.read(dir + "environ")
		w.read(dir + "maps")
		w.read(dir + "smaps")
		if tids, ok := w.readDir(dir + "task"); ok {
			for _, tid := range tids {
				w.read(dir + "task/" + tid + "/stat")
			}
		}
	})
	s.readSocketFiles(ns)

	w := s.newWorker()
	s.readHostFiles(w)
	for _, name := range []string{"meminfo", "modules", "sys/kernel/hostname", "sys/kernel/osrelease", "sys/kernel/version"} {
		w.read(s.root + "/" + name)
	}
	s.probe(w, pids)
	for _, name := range []string{"/etc/group", "/etc/ld.so.preload"} {
		w.read(name)
	}
	if modules, ok := w.readDir("/sys/module"); ok {
		for _, m := range modules {
			for _, attr := range []string{"refcnt", "initstate", "taint", "coresize"} {
				w.read("/sys/module/" + m + "/" + attr)
			}
		}
	}
	return s.reads.Load()
}

// probe looks up /proc/<n> for every n up to the bound that procsql's
// pid_probe table uses, and reads status for each pid found that the
// listing lacks, such as a thread id.
func (s *scan) probe(w *worker, listed []string) {
	bound := maxProbe
	if text, ok := w.readText(s.root + "/sys/kernel/pid_max"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(text)); err == nil && n > 0 && n < bound {
			bound = n
		}
	}
	highest := 0
	inListing := map[int]bool{}
	for _, pid := range listed {
		n, _ := strconv.Atoi(pid)
		inListing[n] = true
		highest = max(highest, n)
	}
	bound = min(bound, highest+probeMargin)
	for pid := 1; pid <= bound; pid++ {
		path := s.root + "/" + strconv.Itoa(pid)
		if unix.Access(path, unix.F_OK) != nil || inListing[pid] {
			continue
		}
		w.read(path + "/status")
	}
}
