package snapshot

import (
	"bytes"
	"fmt"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Bounds that a capture of a real /proc stays within. Limits bounds the
// bytes a file expands to, and these bound what those bytes may describe.
// Each command-line argument, environment entry, listed pid, descriptor
// or thread becomes a row, and a row costs a query far more than the one
// or two compressed bytes that a crafted file needs for it. docs/snapshot.md
// gives the measured costs.
const (
	// maxArgStrings bounds the NUL-separated strings of one process's
	// cmdline and environ together. Since Linux 4.13, execve keeps the
	// argument and environment strings within 3/4 of _STK_LIM, 6 MiB
	// (fs/exec.c), and a string takes at least its NUL byte. A process
	// may overwrite that area with NULs, so 6 Mi strings are possible.
	// Older kernels allow a quarter of RLIMIT_STACK, and 8 Mi covers
	// stack limits up to 32 MiB there.
	//
	// NOTE: a process with CAP_SYS_RESOURCE can point its argument range
	// at any memory with prctl(PR_SET_MM_ARG_START). A kernel older than
	// 4.13 with an unlimited stack bounds nothing. A capture of such a
	// process can exceed this bound, and its segment is then rejected.
	maxArgStrings = 8 << 20

	// pidMaxLimit is PID_MAX_LIMIT of 64-bit kernels (4 Mi, in
	// include/linux/threads.h), the largest value kernel.pid_max accepts.
	// 32-bit kernels allow 32768. The kernel allocates pids and thread ids
	// from 1 to pid_max - 1.
	pidMaxLimit = 1 << 22

	// fdLimit is sysctl_nr_open_max of 64-bit kernels (fs/file.c): INT_MAX
	// rounded down to a multiple of 64, the largest value of fs.nr_open.
	// Every descriptor number is below it. The number of descriptors needs
	// no bound of its own: each must have its readlink record, so they
	// cost the file at least their records.
	fdLimit = math.MaxInt32 &^ 63
)

// checkCaptureBounds checks a loaded segment against what a capture of a
// real /proc can hold: the strings of each process's cmdline and environ,
// and every listing whose names become rows. The capture reads each listed
// pid, descriptor, thread and kernel module, so a listed name without
// those reads was added after the capture. hasSegment reports whether the
// snapshot has a segment of the given name.
func checkCaptureBounds(seg *segment, hasSegment func(name string) bool) error {
	// Record indexes of the cmdline and environ of each process or thread
	// directory, and the directories in path order, so that the error is
	// the same in every run.
	args := map[string][]int{}
	var dirs []string
	for i := range seg.records {
		rec := &seg.records[i]
		switch {
		case isFileRead(rec) && isArgFile(rec.Path):
			dir := path.Dir(rec.Path)
			if _, seen := args[dir]; !seen {
				dirs = append(dirs, dir)
			}
			args[dir] = append(args[dir], i)
		case rec.Op == OpReadDir && rec.Path == procPath("."):
			if err := checkPIDListing(rec, hasSegment); err != nil {
				return err
			}
		case rec.Op == OpProbe:
			if err := checkProbe(rec, hasSegment); err != nil {
				return err
			}
		case rec.Op == OpReadDir && isProcSubdir(rec.Path, "fd"):
			if err := checkFDListing(seg, rec); err != nil {
				return err
			}
		case rec.Op == OpReadDir && isProcSubdir(rec.Path, "task"):
			if err := checkTaskListing(seg, rec); err != nil {
				return err
			}
		case rec.Op == OpHostReadDir && rec.Path == hostPath("sys/module"):
			if err := checkModuleListing(seg, rec); err != nil {
				return err
			}
		}
	}
	for _, dir := range dirs {
		if err := checkArgStrings(seg, args[dir]); err != nil {
			return err
		}
	}
	return nil
}

// isArgFile reports whether p is the cmdline or environ of a process or
// thread, such as proc/1234/cmdline or proc/1234/task/1240/environ.
func isArgFile(p string) bool {
	rest, ok := strings.CutPrefix(p, "proc/")
	if !ok {
		return false
	}
	pid, _, _ := strings.Cut(rest, "/")
	base := path.Base(p)
	return isDecimal(pid) && (base == "cmdline" || base == "environ")
}

// isProcSubdir reports whether p is proc/<pid>/<dir>.
func isProcSubdir(p, dir string) bool {
	rest, ok := strings.CutPrefix(p, "proc/")
	if !ok {
		return false
	}
	pid, sub, ok := strings.Cut(rest, "/")
	return ok && isDecimal(pid) && sub == dir
}

// countArgStrings returns how many NUL-separated strings data holds: one
// per NUL, and one more for a last string without its NUL.
func countArgStrings(data []byte) int {
	n := bytes.Count(data, []byte{0})
	if len(data) > 0 && data[len(data)-1] != 0 {
		n++
	}
	return n
}

// checkArgStrings checks the cmdline and environ of one directory, the
// records of seg at the indexes files, against maxArgStrings.
func checkArgStrings(seg *segment, files []int) error {
	total := 0
	counts := make([]string, 0, len(files))
	for _, i := range files {
		n := countArgStrings(seg.content[i])
		total += n
		counts = append(counts, fmt.Sprintf("%s has %d", seg.records[i].Path, n))
	}
	if total <= maxArgStrings {
		return nil
	}
	what := counts[0] + " NUL-separated strings"
	if len(counts) > 1 {
		what = fmt.Sprintf("%s NUL-separated strings, %d in all", strings.Join(counts, " and "), total)
	}
	return fmt.Errorf("%w: %s, above the bound of %d for one process's arguments and environment together: execve keeps both within 6 MiB, and a string takes at least one byte",
		ErrCorrupt, what, maxArgStrings)
}

// parseID parses a pid, thread id or descriptor as the kernel spells it,
// the only spelling that the tables read: decimal, without a sign or a
// leading zero, at most math.MaxInt32.
func parseID(name string) (int64, bool) {
	if !isDecimal(name) || len(name) > 10 || (len(name) > 1 && name[0] == '0') {
		return 0, false
	}
	id, err := strconv.ParseInt(name, 10, 64)
	return id, err == nil && id <= math.MaxInt32
}

// checkSorted checks that the names of rec are sorted and distinct, as the
// capture writes them, so that no name is listed twice. The listing checks
// call it last, because an error about one name explains a forged listing
// better.
func checkSorted(rec *Record) error {
	for i := 1; i < len(rec.Names); i++ {
		if rec.Names[i-1] >= rec.Names[i] {
			return fmt.Errorf("%w: the names of %s %s are not sorted and distinct: %q follows %q", ErrCorrupt, rec.Op, rec.Path, rec.Names[i], rec.Names[i-1])
		}
	}
	return nil
}

// checkPIDListing checks the /proc listing: each pid in it lies below
// pidMaxLimit and has a segment, because the capture reads the status of
// every pid it lists.
func checkPIDListing(rec *Record, hasSegment func(string) bool) error {
	for _, name := range rec.Names {
		pid, ok := parseID(name)
		if !ok {
			continue // self, net, cpuinfo and the other /proc entries
		}
		if err := checkPID(rec, name, pid, hasSegment); err != nil {
			return err
		}
	}
	return checkSorted(rec)
}

// checkProbe checks the pids that a lookup of /proc/<n> found: each is a
// pid below pidMaxLimit, listed once in ascending order, with a segment,
// because the capture reads the status of every pid it finds.
func checkProbe(rec *Record, hasSegment func(string) bool) error {
	previous := int64(0)
	for _, name := range rec.Names {
		pid, ok := parseID(name)
		if !ok {
			return fmt.Errorf("%w: the %s record %s lists %q, which is not a pid", ErrCorrupt, rec.Op, rec.Path, name)
		}
		if pid <= previous {
			return fmt.Errorf("%w: the pids of %s are not ascending and distinct: %d follows %d", ErrCorrupt, rec.Path, pid, previous)
		}
		previous = pid
		if err := checkPID(rec, name, pid, hasSegment); err != nil {
			return err
		}
	}
	return nil
}

func checkPID(rec *Record, name string, pid int64, hasSegment func(string) bool) error {
	if pid < 1 || pid >= pidMaxLimit {
		return fmt.Errorf("%w: %s lists pid %d, outside the range 1 to %d that the kernel allocates pids from (below PID_MAX_LIMIT, %d)", ErrCorrupt, rec.Path, pid, pidMaxLimit-1, pidMaxLimit)
	}
	if !hasSegment(procPath(name)) {
		return fmt.Errorf("%w: %s lists pid %d, but the snapshot has no segment %s: a capture reads every pid it lists, so the listing was changed after the capture", ErrCorrupt, rec.Path, pid, procPath(name))
	}
	return nil
}

// checkFDListing checks a process's fd listing: each descriptor lies below
// fdLimit and has its readlink record, because the capture reads the link
// of every descriptor it lists.
func checkFDListing(seg *segment, rec *Record) error {
	for _, name := range rec.Names {
		fd, ok := parseID(name)
		if !ok {
			continue
		}
		if fd >= fdLimit {
			return fmt.Errorf("%w: %s lists descriptor %d, at or above %d, the largest fs.nr_open that the kernel accepts", ErrCorrupt, rec.Path, fd, fdLimit)
		}
		link := rec.Path + "/" + name
		if _, ok := seg.find(OpReadLink, link); !ok {
			return fmt.Errorf("%w: %s lists descriptor %d, but the snapshot has no readlink record of %s: a capture reads the link of every descriptor it lists, so the listing was changed after the capture", ErrCorrupt, rec.Path, fd, link)
		}
	}
	return checkSorted(rec)
}

// checkTaskListing checks a process's thread listing: each thread id lies
// below pidMaxLimit and has a record under its directory, because the
// capture reads the stat of every thread it lists.
func checkTaskListing(seg *segment, rec *Record) error {
	for _, name := range rec.Names {
		tid, ok := parseID(name)
		if !ok {
			continue
		}
		if tid < 1 || tid >= pidMaxLimit {
			return fmt.Errorf("%w: %s lists thread %d, outside the range 1 to %d that the kernel allocates thread ids from (below PID_MAX_LIMIT, %d)", ErrCorrupt, rec.Path, tid, pidMaxLimit-1, pidMaxLimit)
		}
		if dir := rec.Path + "/" + name + "/"; !hasRecordUnder(seg, dir) {
			return fmt.Errorf("%w: %s lists thread %d, but the snapshot has no record under %s: a capture reads every thread it lists, so the listing was changed after the capture", ErrCorrupt, rec.Path, tid, dir)
		}
	}
	return checkSorted(rec)
}

// checkModuleListing checks the listing of /sys/module: each module has a
// record under its directory, because the capture reads the attributes of
// every module it lists.
func checkModuleListing(seg *segment, rec *Record) error {
	for _, name := range rec.Names {
		if dir := rec.Path + "/" + name + "/"; !hasRecordUnder(seg, dir) {
			return fmt.Errorf("%w: %s lists module %q, but the snapshot has no record under %s: a capture reads every module it lists, so the listing was changed after the capture", ErrCorrupt, rec.Path, name, dir)
		}
	}
	return checkSorted(rec)
}

// hasRecordUnder reports whether seg has a record whose path starts with
// dir. The records are sorted by path, so the first such record follows
// every path that sorts before dir.
func hasRecordUnder(seg *segment, dir string) bool {
	i := sort.Search(len(seg.records), func(i int) bool { return seg.records[i].Path >= dir })
	return i < len(seg.records) && strings.HasPrefix(seg.records[i].Path, dir)
}
