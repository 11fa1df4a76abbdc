package hardening

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nobodyID is the uid and gid of nobody and nogroup on Debian.
const nobodyID = 65534

// asNobody runs a command as nobody with no supplementary groups.
var asNobody = []string{"setpriv", "--reuid=" + strconv.Itoa(nobodyID), "--regid=" + strconv.Itoa(nobodyID), "--clear-groups"}

// linkColumns are the processes columns that come from the exe, cwd, root
// and ns/ links. proc(5) requires ptrace read access for these links, which
// nobody lacks on root's processes, while stat, status, cmdline and cgroup
// are readable by every user.
var linkColumns = []string{"exe", "exe_deleted", "exe_sha256", "exe_size", "cwd", "root", "pid_ns", "net_ns", "mnt_ns"}

// heldChild is a sleep that the test started with known arguments,
// environment and descriptors 3 to 6.
type heldChild struct {
	pid     int
	owner   string // "root" or "nobody"
	argv    []string
	env     []string
	targets map[int]string // fd -> link text that /proc shows
	inodes  []uint64       // inodes of its two listening sockets
}

// startHeldChild starts /bin/sleep as uid with a file, a pipe, a TCP
// listener on 127.0.0.1 and a unix listener as descriptors 3 to 6, and
// waits until the process runs sleep.
func startHeldChild(t *testing.T, dir, owner string, uid uint32, index int) *heldChild {
	t.Helper()
	child := &heldChild{
		owner:   owner,
		argv:    []string{"sleep", "600", strconv.Itoa(index)},
		env:     []string{"PATH=/usr/bin:/bin", "HELD_OWNER=" + owner, "HELD_INDEX=" + strconv.Itoa(index)},
		targets: map[int]string{},
	}
	evidence := filepath.Join(dir, fmt.Sprintf("evidence-%s-%d.txt", owner, index))
	if err := os.WriteFile(evidence, []byte("evidence\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(evidence)
	if err != nil {
		t.Fatal(err)
	}
	pipeRead, pipeWrite, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unix, err := net.Listen("unix", filepath.Join(dir, fmt.Sprintf("sock-%s-%d", owner, index)))
	if err != nil {
		t.Fatal(err)
	}
	tcpFile, err := tcp.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	unixFile, err := unix.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	files := []*os.File{file, pipeRead, tcpFile, unixFile}
	for i, f := range files {
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0:
			child.targets[3+i] = evidence
		case 1:
			child.targets[3+i] = fmt.Sprintf("pipe:[%d]", st.Ino)
		default:
			child.targets[3+i] = fmt.Sprintf("socket:[%d]", st.Ino)
			child.inodes = append(child.inodes, st.Ino)
		}
	}

	cmd := &exec.Cmd{Path: "/bin/sleep", Args: child.argv, Env: child.env, Dir: "/", ExtraFiles: files}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep as %s: %v", owner, err)
	}
	child.pid = cmd.Process.Pid
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		pipeWrite.Close()
		tcp.Close()
		unix.Close()
	})
	for _, f := range files {
		f.Close()
	}

	// The child runs the test binary until execve replaces it with sleep.
	for deadline := time.Now().Add(10 * time.Second); ; {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", child.pid))
		if filepath.Base(exe) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d runs %q 10s after start, want sleep", child.pid, exe)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return child
}

// readWarning returns the text of the one "warning: " line on stderr and
// fails the test on any other output there.
func readWarning(t *testing.T, stderr string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "warning: ") {
		t.Fatalf("stderr = %q, want exactly one warning line", stderr)
	}
	return strings.TrimPrefix(lines[0], "warning: ")
}

// deniedCounts parses a warning of failed reads into the count for each
// kind of file, and fails the test on a failure other than EACCES.
func deniedCounts(t *testing.T, warning string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, part := range strings.Split(warning, "; ") {
		m := deniedPattern.FindStringSubmatch(part)
		if m == nil {
			t.Errorf("warning part %q does not count failed reads with EACCES", part)
			continue
		}
		n, _ := strconv.Atoi(m[1])
		counts[m[2]] = n
	}
	return counts
}

var deniedPattern = regexp.MustCompile(`^(\d+) reads? of (\S+) failed \(EACCES\), so the values from it are NULL or missing$`)

// deniedWarning is the warning that counts n failed reads of each kind of
// file, as tables.Reader.Warnings writes it.
func deniedWarning(n int, kinds ...string) string {
	parts := make([]string, len(kinds))
	for i, kind := range kinds {
		parts[i] = fmt.Sprintf("%d reads of %s failed (EACCES), so the values from it are NULL or missing", n, kind)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

func TestUnprivilegedRunSeesOwnProcesses(t *testing.T) {
	if !enterNamespaces(t) {
		return
	}
	binary := procsqlBinary(t)
	dir := t.TempDir()
	sleepPath, err := filepath.EvalSymlinks("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	rootChildren := []*heldChild{startHeldChild(t, dir, "root", 0, 1), startHeldChild(t, dir, "root", 0, 2)}
	nobodyChildren := []*heldChild{startHeldChild(t, dir, "nobody", nobodyID, 3), startHeldChild(t, dir, "nobody", nobodyID, 4)}
	children := slices.Concat(rootChildren, nobodyChildren)
	// Root's processes are the test itself, pid 1, and the root children.
	rootPIDs := []int{1, rootChildren[0].pid, rootChildren[1].pid}

	query := func(t *testing.T, sql string) (procsqlRun, []row) {
		t.Helper()
		run := mustRunProcsql(t, binary, runOptions{prefix: asNobody, dir: "/"}, "--format", "jsonl", "query", sql)
		if run.status != 0 {
			t.Fatalf("procsql query as nobody exited with status %d, want 0; stderr:\n%s", run.status, run.stderr)
		}
		rows, err := decodeRows(run.stdout)
		if err != nil {
			t.Fatal(err)
		}
		return run, rows
	}
	byPID := func(rows []row) map[int][]row {
		grouped := map[int][]row{}
		for _, r := range rows {
			pid, _ := strconv.Atoi(fmt.Sprint(r["pid"]))
			grouped[pid] = append(grouped[pid], r)
		}
		return grouped
	}

	t.Run("processes", func(t *testing.T) {
		run, rows := query(t, "SELECT * FROM processes")
		grouped := byPID(rows)
		var owners []int
		for pid, list := range grouped {
			if fmt.Sprint(list[0]["uid"]) == "0" {
				owners = append(owners, pid)
			}
		}
		sort.Ints(owners)
		if !slices.Equal(owners, rootPIDs) {
			t.Fatalf("processes owned by root: %v, want %v (the test and its root children)", owners, rootPIDs)
		}
		// Each of root's processes denies its cwd, exe and root links
		// and its three ns links.
		counts := deniedCounts(t, readWarning(t, run.stderr))
		want := map[string]int{"cwd": len(rootPIDs), "exe": len(rootPIDs), "root": len(rootPIDs), "ns": 3 * len(rootPIDs)}
		for _, kind := range []string{"cwd", "root", "ns"} {
			if counts[kind] != want[kind] {
				t.Errorf("warning counts %d failed reads of %s, want %d", counts[kind], kind, want[kind])
			}
		}
		if len(counts) != len(want) {
			t.Errorf("warning counts failed reads of %v, want only %v", sortedKeys(counts), sortedKeys(want))
		}
		t.Run("exe counted once per process", func(t *testing.T) {
			if counts["exe"] != want["exe"] {
				t.Errorf("warning counts %d failed reads of exe, want %d, one per process of root", counts["exe"], want["exe"])
			}
		})
		for pid, list := range grouped {
			r := list[0]
			var nulls []string
			for column, value := range r {
				if value == nil {
					nulls = append(nulls, column)
				}
			}
			sort.Strings(nulls)
			want := []string{}
			if slices.Contains(rootPIDs, pid) {
				want = slices.Sorted(slices.Values(linkColumns))
			}
			if !slices.Equal(nulls, want) {
				t.Errorf("pid %d (uid %v): NULL columns %v, want %v", pid, r["uid"], nulls, want)
			}
		}
		for _, child := range children {
			list := grouped[child.pid]
			if len(list) != 1 {
				t.Errorf("%s child %d has %d processes rows, want 1", child.owner, child.pid, len(list))
				continue
			}
			r := list[0]
			if got := fmt.Sprint(r["argv"]); got != fmt.Sprint(child.argv) {
				t.Errorf("%s child %d: argv %s, want %s, which cmdline shows to every user", child.owner, child.pid, got, fmt.Sprint(child.argv))
			}
			if child.owner == "nobody" {
				if r["exe"] != sleepPath || r["cwd"] != "/" || r["user"] != "nobody" {
					t.Errorf("nobody's child %d: exe %v, cwd %v, user %v, want %s, / and nobody", child.pid, r["exe"], r["cwd"], r["user"], sleepPath)
				}
			}
		}
	})

	t.Run("environ", func(t *testing.T) {
		run, rows := query(t, "SELECT pid, name, value FROM environ")
		if want := deniedWarning(len(rootPIDs), "environ"); readWarning(t, run.stderr) != want {
			t.Errorf("warning = %q, want %q", readWarning(t, run.stderr), want)
		}
		grouped := byPID(rows)
		for _, pid := range rootPIDs {
			if n := len(grouped[pid]); n != 0 {
				t.Errorf("root's process %d has %d environ rows, want none, because nobody cannot read its environment", pid, n)
			}
		}
		for _, child := range nobodyChildren {
			var got []string
			for _, r := range grouped[child.pid] {
				got = append(got, fmt.Sprintf("%v=%v", r["name"], r["value"]))
			}
			if !slices.Equal(got, child.env) {
				t.Errorf("nobody's child %d: environ %q, want %q", child.pid, got, child.env)
			}
		}
	})

	t.Run("fds", func(t *testing.T) {
		run, rows := query(t, "SELECT pid, fd, target FROM fds")
		if want := deniedWarning(len(rootPIDs), "fd"); readWarning(t, run.stderr) != want {
			t.Errorf("warning = %q, want %q", readWarning(t, run.stderr), want)
		}
		grouped := byPID(rows)
		for _, pid := range rootPIDs {
			if n := len(grouped[pid]); n != 0 {
				t.Errorf("root's process %d has %d fds rows, want none, because nobody cannot list its fd directory", pid, n)
			}
		}
		for _, child := range nobodyChildren {
			got := map[int]string{}
			for _, r := range grouped[child.pid] {
				fd, _ := strconv.Atoi(fmt.Sprint(r["fd"]))
				got[fd] = fmt.Sprint(r["target"])
			}
			want := map[int]string{0: "/dev/null", 1: "/dev/null", 2: "/dev/null"}
			for fd, target := range child.targets {
				want[fd] = target
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("nobody's child %d: fds %v, want %v", child.pid, got, want)
			}
		}
	})

	t.Run("process_sockets", func(t *testing.T) {
		var inodes []string
		for _, child := range children {
			for _, inode := range child.inodes {
				inodes = append(inodes, strconv.FormatUint(inode, 10))
			}
		}
		run, rows := query(t, "SELECT inode, pid, fd FROM process_sockets WHERE inode IN ("+strings.Join(inodes, ", ")+")")
		if want := deniedWarning(len(rootPIDs), "fd"); readWarning(t, run.stderr) != want {
			t.Errorf("warning = %q, want %q", readWarning(t, run.stderr), want)
		}
		holders := map[string]string{}
		for _, r := range rows {
			holders[fmt.Sprint(r["inode"])] = fmt.Sprintf("%v/%v", r["pid"], r["fd"])
		}
		for _, child := range children {
			for i, inode := range child.inodes {
				want := fmt.Sprintf("%d/%d", child.pid, 5+i)
				if child.owner == "root" {
					// nobody cannot read root's fd links, so the socket
					// shows without a holder.
					want = "<nil>/<nil>"
				}
				if got := holders[strconv.FormatUint(inode, 10)]; got != want {
					t.Errorf("%s child %d: socket %d has holder pid/fd %q, want %q", child.owner, child.pid, inode, got, want)
				}
			}
		}
	})

	t.Run("hunt", func(t *testing.T) {
		run := mustRunProcsql(t, binary, runOptions{prefix: asNobody, dir: "/"}, "--format", "jsonl", "hunt")
		if run.status != 0 && run.status != 1 {
			t.Fatalf("procsql hunt as nobody exited with status %d, want 0 or 1; stderr:\n%s", run.status, run.stderr)
		}
		var warnings []string
		for _, line := range strings.Split(strings.TrimSuffix(run.stderr, "\n"), "\n") {
			if strings.HasPrefix(line, "warning: ") {
				warnings = append(warnings, line)
			}
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], fmt.Sprintf("%d reads of environ failed (EACCES)", len(rootPIDs))) {
			t.Errorf("hunt warnings %q, want one line that counts %d failed reads of environ", warnings, len(rootPIDs))
		}
	})
}
