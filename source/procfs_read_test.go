package source

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestReadProcFileMatchesOS reads files of the test's own process both
// ways: the raw reader, with and without its one-read shortcut, must return
// what os.ReadFile returns. The fields that change between two reads, such
// as CPU times in stat, are in files compared by length only.
func TestReadProcFileMatchesOS(t *testing.T) {
	for _, name := range []string{"/proc/self/status", "/proc/self/maps", "/proc/self/cmdline", "/proc/self/fdinfo/0", "/proc/self/stat", "/proc/self/cgroup"} {
		for _, single := range []bool{false, oneRead(name)} {
			got, err := readProcFileAt(unix.AT_FDCWD, name, single)
			if err != nil {
				t.Fatalf("readProcFileAt(%s, single %v): %v", name, single, err)
			}
			want, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || (name != "/proc/self/stat" && name != "/proc/self/status" && !bytes.Equal(got, want)) {
				t.Errorf("readProcFileAt(%s, single %v) = %d bytes, os.ReadFile = %d bytes", name, single, len(got), len(want))
			}
			if !bytes.HasSuffix(got, []byte("\n")) && name != "/proc/self/cmdline" {
				t.Errorf("readProcFileAt(%s, single %v) does not end in a newline: cut short?", name, single)
			}
			// The allocator rounds up to its size class, at most 12.5% here.
			if cap(got) > len(got)+len(got)/8+16 {
				t.Errorf("readProcFileAt(%s) returned capacity %d for %d bytes, want an exact-size copy", name, cap(got), len(got))
			}
		}
	}
}

func TestReadProcFileLargerThanBuffer(t *testing.T) {
	// smaps of a Go test binary is longer than the first read buffer.
	want, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	if len(want) <= procReadBuffer {
		t.Skipf("smaps has %d bytes, no more than the %d-byte buffer", len(want), procReadBuffer)
	}
	got, err := readProcFileAt(unix.AT_FDCWD, "/proc/self/smaps", false)
	if err != nil {
		t.Fatal(err)
	}
	// smaps changes between two reads, so only its size is compared.
	if len(got) < len(want)/2 {
		t.Errorf("read %d bytes of smaps, os.ReadFile %d", len(got), len(want))
	}
}

func TestOneRead(t *testing.T) {
	for name, want := range map[string]bool{
		"/proc/1/stat":          true,
		"/proc/1/task/2/status": true,
		"/proc/1/fdinfo/7":      true,
		"1/fdinfo/7":            true,
		"fdinfo/7":              true,
		"1/cgroup":              true,
		"/proc/1/maps":          false,
		"/proc/net/tcp":         false,
		"/proc/1/environ":       false,
		"/proc/1/fd/7":          false,
		"1/notfdinfo/7":         false,
	} {
		if got := oneRead(name); got != want {
			t.Errorf("oneRead(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestSplitProcName(t *testing.T) {
	for _, c := range []struct {
		name, dir, rel string
		ok             bool
	}{
		{"123/fd/4", "123/fd", "4", true},
		{"123/fdinfo/4", "123/fdinfo", "4", true},
		{"123/stat", "", "", false},
		{"123/ns/net", "", "", false},
		{"123/task/124/fd/4", "", "", false},
		{"123/fd", "", "", false},
		{"123/fd/", "", "", false},
		{"123", "", "", false},
		{"net/tcp", "", "", false},
		{"self/fd/4", "", "", false},
		{"/123/fd/4", "", "", false},
	} {
		dir, rel, ok := splitProcName(c.name)
		if dir != c.dir || rel != c.rel || ok != c.ok {
			t.Errorf("splitProcName(%q) = %q, %q, %v, want %q, %q, %v", c.name, dir, rel, ok, c.dir, c.rel, c.ok)
		}
	}
}

// startSleeper starts a child process that runs until the test ends.
func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// TestProcDirsRetryStaleDescriptor keeps, under the name of a running
// process, the descriptor of a process that has exited, as a descriptor
// kept across queries is after its pid is reused. Reads through it must
// fall back to a new descriptor and return the running process's files.
// TestProcDirsDropStaleDescriptor checks that a read through a descriptor
// of an exited process fails as gone instead of being retried through the
// new process of the same pid, and that the next read uses a new
// descriptor.
func TestProcDirsDropStaleDescriptor(t *testing.T) {
	exited := exec.Command("true")
	if err := exited.Start(); err != nil {
		t.Fatal(err)
	}
	staleFD, err := unix.Open("/proc/"+strconv.Itoa(exited.Process.Pid)+"/fdinfo", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := exited.Wait(); err != nil {
		t.Fatal(err)
	}

	running := startSleeper(t)
	pid := strconv.Itoa(running.Process.Pid)
	d, err := NewDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if d.proc == nil {
		t.Skip("/proc is not a procfs mount")
	}
	key := pid + "/fdinfo"
	d.proc.keep(key, staleFD)
	stale := d.proc.dirs[key]
	if stale == nil {
		t.Fatal("procDirs did not keep the descriptor")
	}
	if err := unix.Fstatat(staleFD, "0", new(unix.Stat_t), 0); err == nil {
		t.Fatal("the exited process's fdinfo/0 still resolves; the test cannot make a stale descriptor")
	}

	if _, err := d.ReadFile(key + "/0"); !Gone(err) {
		t.Fatalf("read %s/0 through a stale descriptor: %v, want the exited process's error", key, err)
	}
	if d.proc.dirs[key] == stale {
		t.Errorf("the stale descriptor is still kept for %s", key)
	}
	data, err := d.ReadFile(key + "/0")
	if err != nil {
		t.Fatalf("read %s/0 again: %v", key, err)
	}
	if !bytes.HasPrefix(data, []byte("pos:")) {
		t.Errorf("%s/0 = %q, want the running sleep's fdinfo", key, data)
	}
}

func TestDirReadsExitedProcessAsGone(t *testing.T) {
	cmd := startSleeper(t)
	pid := strconv.Itoa(cmd.Process.Pid)
	d, err := NewDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadFile(pid + "/stat"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadDir(pid + "/fd"); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	for _, name := range []string{pid + "/status", pid + "/fdinfo/0"} {
		if _, err := d.ReadFile(name); !Gone(err) {
			t.Errorf("read %s of an exited process: %v, want ENOENT or ESRCH", name, err)
		}
	}
	if _, err := d.ReadLink(pid + "/fd/0"); !Gone(err) {
		t.Errorf("readlink %s/fd/0 of an exited process: %v, want ENOENT", pid, err)
	}
	var pathErr *os.PathError
	if _, err := d.ReadLink(pid + "/cwd"); !errors.As(err, &pathErr) || pathErr.Path != "/proc/"+pid+"/cwd" {
		t.Errorf("readlink error %v does not name the full path /proc/%s/cwd", err, pid)
	}
}

// TestProcDirsEvictUnused fills procDirs beyond maxProcDirs and checks that
// it closes the descriptors it evicts and never one in use.
func TestProcDirsEvictUnused(t *testing.T) {
	c := newProcDirs("/proc")
	self := strconv.Itoa(os.Getpid())
	inUse, _, err := c.acquire(self + "/fd")
	if err != nil || inUse == nil {
		t.Fatalf("acquire %s: %v", self, err)
	}
	var evicted []int
	for i := range maxProcDirs + 10 {
		fd, err := unix.Open("/proc/self", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if i < 5 {
			evicted = append(evicted, fd)
		}
		c.keep("x"+strconv.Itoa(i), fd)
	}
	if len(c.order) != maxProcDirs {
		t.Errorf("procDirs keeps %d descriptors, want at most %d", len(c.order), maxProcDirs)
	}
	if c.dirs[self+"/fd"] != inUse {
		t.Errorf("the descriptor in use for %s was evicted", self)
	}
	for _, fd := range evicted {
		// A closed descriptor number may have been reused by a later open,
		// but then it is kept under another name.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			found := false
			for _, d := range c.order {
				found = found || d.fd == fd
			}
			if !found {
				t.Errorf("evicted descriptor %d is still open", fd)
			}
		}
	}
	c.release(inUse)
}

func TestProcDirsPathMatchesJoin(t *testing.T) {
	for _, root := range []string{"/proc", "/proc/", "/", "host/proc", "/host//proc/."} {
		c := newProcDirs(root)
		for _, name := range []string{"123/status", "net/tcp", "stat", ".", "", "123/fd/", "123//fd", "./123", "123/../124/stat", "/etc/passwd", "123/./stat"} {
			if got, want := c.path(name), filepath.Join(root, name); got != want {
				t.Errorf("path(%q) under %q = %q, want %q", name, root, got, want)
			}
		}
	}
}

// BenchmarkDirDescriptors reads what the fds table reads for each
// descriptor of the benchmark's own process, which holds 64 open files: the
// fd/ listing, then each link, fdinfo file and a stat through the link.
func BenchmarkDirDescriptors(b *testing.B) {
	dir := b.TempDir()
	for i := range 64 {
		f, err := os.Create(filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
	}
	d, err := NewDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	pid := strconv.Itoa(os.Getpid())
	for b.Loop() {
		names, err := d.ReadDir(pid + "/fd")
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range names {
			// A descriptor of the runtime may close between the listing
			// and the reads, so their errors are not failures.
			d.ReadLink(pid + "/fd/" + n)
			d.ReadFile(pid + "/fdinfo/" + n)
			d.Stat(pid + "/fd/" + n)
		}
	}
}
