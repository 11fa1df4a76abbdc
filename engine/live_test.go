package engine_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/source"
)

// The live test reads the real /proc. It re-runs itself inside fresh PID,
// mount and network namespaces (unshare, as root), so it sees only the
// processes it starts and never the environment of anyone else's.

const (
	childModeEnv = "PROCSQL_LIVE_CHILD"
	insideEnv    = "PROCSQL_LIVE_NAMESPACE"
)

func TestMain(m *testing.M) {
	switch os.Getenv(childModeEnv) {
	case "server":
		runServerChild()
		return
	case "client":
		runClientChild()
		return
	}
	os.Exit(m.Run())
}

// childReport is what a child prints once its descriptors are open.
type childReport struct {
	Port          int    `json:"port"`
	FileFD        int    `json:"file_fd"`
	KeptFD        int    `json:"kept_fd"`
	PipeRead      int    `json:"pipe_read"`
	PipeWrite     int    `json:"pipe_write"`
	PipeInode     uint64 `json:"pipe_inode"`
	ListenFD      int    `json:"listen_fd"`
	ListenInode   uint64 `json:"listen_inode"`
	AcceptedFD    int    `json:"accepted_fd"`
	AcceptedInode uint64 `json:"accepted_inode"`
	UnixFD        int    `json:"unix_fd"`
	UnixInode     uint64 `json:"unix_inode"`
	ClientFD      int    `json:"client_fd"`
	ClientInode   uint64 `json:"client_inode"`
	ClientPort    int    `json:"client_port"`
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
}

func inodeOf(fd int) uint64 {
	var st syscall.Stat_t
	must(syscall.Fstat(fd, &st))
	return st.Ino
}

// runServerChild opens a file and deletes it, a pipe, a TCP listener on
// 127.0.0.1 with one accepted connection and a unix listener, reports the
// descriptor numbers and inodes, and waits for stdin to close.
func runServerChild() {
	var r childReport
	dir, err := os.Getwd()
	must(err)
	path := filepath.Join(dir, "evidence file.txt")
	fd, err := syscall.Open(path, syscall.O_CREAT|syscall.O_RDWR, 0o600)
	must(err)
	_, err = syscall.Write(fd, []byte("0123456789"))
	must(err)
	must(os.Remove(path))
	r.FileFD = fd
	r.KeptFD, err = syscall.Open(filepath.Join(dir, "kept (deleted)"), syscall.O_CREAT|syscall.O_RDONLY, 0o600)
	must(err)

	var p [2]int
	must(syscall.Pipe(p[:]))
	r.PipeRead, r.PipeWrite, r.PipeInode = p[0], p[1], inodeOf(p[0])

	ls, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	must(err)
	must(syscall.Bind(ls, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	must(syscall.Listen(ls, 8))
	sa, err := syscall.Getsockname(ls)
	must(err)
	r.Port = sa.(*syscall.SockaddrInet4).Port
	r.ListenFD, r.ListenInode = ls, inodeOf(ls)

	us, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	must(err)
	must(syscall.Bind(us, &syscall.SockaddrUnix{Name: filepath.Join(dir, "ctl sock")}))
	must(syscall.Listen(us, 8))
	r.UnixFD, r.UnixInode = us, inodeOf(us)

	// The client connects after reading the port, so report first and
	// accept afterwards; the test waits for the second line.
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	conn, _, err := syscall.Accept(ls)
	must(err)
	r.AcceptedFD, r.AcceptedInode = conn, inodeOf(conn)
	out, _ = json.Marshal(r)
	fmt.Println(string(out))
	waitForStdinClose()
}

// runClientChild connects to the port in its argv and reports the socket.
func runClientChild() {
	port, err := strconv.Atoi(os.Args[len(os.Args)-1])
	must(err)
	s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	must(err)
	must(syscall.Connect(s, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := syscall.Getsockname(s)
	must(err)
	r := childReport{ClientFD: s, ClientInode: inodeOf(s), ClientPort: sa.(*syscall.SockaddrInet4).Port}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	waitForStdinClose()
}

func waitForStdinClose() {
	buf := make([]byte, 1)
	for {
		if _, err := os.Stdin.Read(buf); err != nil {
			return
		}
	}
}

// enterNamespaces re-runs the named test inside new namespaces and reports
// whether the caller is already inside and should run the test body.
func enterNamespaces(t *testing.T) bool {
	if os.Getenv(insideEnv) == "1" {
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			t.Fatalf("ip link set lo up: %v: %s", err, out)
		}
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("the live test needs root to create PID and network namespaces with unshare")
	}
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "--net",
		os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), insideEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("inside the namespaces:\n%s", out)
	if err != nil {
		t.Fatalf("test inside namespaces failed: %v", err)
	}
	return false
}

// liveChild is a started child with its report.
type liveChild struct {
	cmd    *exec.Cmd
	stdin  interface{ Close() error }
	lines  *bufio.Scanner
	report childReport
}

func startChild(t *testing.T, mode, dir string, args []string, env []string) *liveChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append([]string{childModeEnv + "=" + mode}, env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &liveChild{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
	t.Cleanup(func() {
		c.stdin.Close()
		c.cmd.Wait()
	})
	c.next(t)
	return c
}

// next reads the child's next report line.
func (c *liveChild) next(t *testing.T) {
	t.Helper()
	if !c.lines.Scan() {
		t.Fatalf("child %d stopped before reporting: %v", c.cmd.Process.Pid, c.lines.Err())
	}
	if err := json.Unmarshal(c.lines.Bytes(), &c.report); err != nil {
		t.Fatalf("child report %q: %v", c.lines.Text(), err)
	}
}

// liveDB runs queries for one test or subtest.
type liveDB struct {
	t   *testing.T
	eng *engine.Engine
}

func (db liveDB) in(t *testing.T) liveDB { return liveDB{t, db.eng} }

func (db liveDB) query(q string) *engine.Result {
	db.t.Helper()
	res, err := db.eng.Query(db.eng.NewSession(context.Background()), q)
	if err != nil {
		db.t.Fatalf("query %q: %v", q, err)
	}
	return res
}

// one runs q, requires exactly one row and returns it.
func (db liveDB) one(q string) []any {
	db.t.Helper()
	res := db.query(q)
	if len(res.Rows) != 1 {
		db.t.Fatalf("query %q returned %d rows, want 1: %v", q, len(res.Rows), res.Rows)
	}
	return res.Rows[0]
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if doc, ok := got.(types.JSONDocument); ok {
		b, _ := json.Marshal(doc.Val)
		got = string(b)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestLiveTables(t *testing.T) {
	if !enterNamespaces(t) {
		return
	}
	dir := t.TempDir()
	argv := []string{"arg with spaces", "", "--last=x"}
	env := []string{"LIVE_TOKEN=s3cret value", "LIVE_MULTI=line1\nline2", "LIVE_BYTES=\xff\xfe", "EMPTY="}
	server := startChild(t, "server", dir, argv, env)
	client := startChild(t, "client", dir, []string{strconv.Itoa(server.report.Port)}, nil)
	server.next(t) // the accepted connection
	sp, cp := server.cmd.Process.Pid, client.cmd.Process.Pid

	src, err := source.NewDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	db := liveDB{t, engine.New(src)}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	netns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("processes", func(t *testing.T) {
		db := db.in(t)
		row := db.one(fmt.Sprintf("SELECT pid, ppid, name, state, exe, exe_deleted, argv, cmdline, cwd, root, uid, euid, user, kernel_thread, threads > 0, ABS(TIMESTAMPDIFF(SECOND, start_time, UTC_TIMESTAMP())) < 60, CONCAT('net:[', net_ns, ']') FROM processes WHERE pid = %d", sp))
		wantArgv, _ := json.Marshal(append([]string{self}, argv...))
		if row[3] == "R" {
			row[3] = "S" // the child may still be on its way to its blocking read
		}
		for i, want := range []any{sp, os.Getpid(), filepath.Base(self)[:min(15, len(filepath.Base(self)))], "S", self, 0, string(wantArgv), self + " arg with spaces  --last=x", dir, "/", 0, 0, "root", 0, true, true, netns} {
			equal(t, fmt.Sprintf("processes column %d", i), row[i], want)
		}
		all := db.query("SELECT pid FROM processes ORDER BY pid")
		if len(all.Rows) != 3 {
			t.Errorf("namespace shows %d processes, want 3 (the test and its two children): %v", len(all.Rows), all.Rows)
		}
	})

	t.Run("environ", func(t *testing.T) {
		db := db.in(t)
		res := db.query(fmt.Sprintf("SELECT name, value, value_raw FROM environ WHERE pid = %d ORDER BY name", sp))
		want := [][3]string{
			{"EMPTY", "", ""},
			{"LIVE_BYTES", `\xff\xfe`, "\xff\xfe"},
			{"LIVE_MULTI", "line1\nline2", "line1\nline2"},
			{"LIVE_TOKEN", "s3cret value", "s3cret value"},
			{childModeEnv, "server", "server"},
		}
		if len(res.Rows) != len(want) {
			t.Fatalf("got %d variables, want %d: %q", len(res.Rows), len(want), res.Rows)
		}
		for i, w := range want {
			equal(t, "name", res.Rows[i][0], w[0])
			equal(t, "value of "+w[0], res.Rows[i][1], w[1])
			equal(t, "value_raw of "+w[0], string(res.Rows[i][2].([]byte)), w[2])
		}
	})

	t.Run("fds", func(t *testing.T) {
		db := db.in(t)
		r := server.report
		file := db.one(fmt.Sprintf("SELECT type, path, deleted, pos, access FROM fds WHERE pid = %d AND fd = %d", sp, r.FileFD))
		equal(t, "file type", file[0], "file")
		equal(t, "file path", file[1], filepath.Join(dir, "evidence file.txt"))
		equal(t, "file deleted", file[2], 1)
		equal(t, "file pos", file[3], 10)
		equal(t, "file access", file[4], "rw")
		kept := db.one(fmt.Sprintf("SELECT path, deleted FROM fds WHERE pid = %d AND fd = %d", sp, r.KeptFD))
		equal(t, "kept path", kept[0], filepath.Join(dir, "kept (deleted)"))
		equal(t, "kept deleted", kept[1], 0)
		for _, fd := range []int{r.PipeRead, r.PipeWrite} {
			pipe := db.one(fmt.Sprintf("SELECT type, inode, target FROM fds WHERE pid = %d AND fd = %d", sp, fd))
			equal(t, "pipe type", pipe[0], "pipe")
			equal(t, "pipe inode", pipe[1], r.PipeInode)
			equal(t, "pipe target", pipe[2], fmt.Sprintf("pipe:[%d]", r.PipeInode))
		}
		sock := db.one(fmt.Sprintf("SELECT type, inode FROM fds WHERE pid = %d AND fd = %d", sp, r.ListenFD))
		equal(t, "listener type", sock[0], "socket")
		equal(t, "listener inode", sock[1], r.ListenInode)
	})

	t.Run("sockets", func(t *testing.T) {
		db := db.in(t)
		r := server.report
		listen := db.one(fmt.Sprintf("SELECT family, protocol, local_address, local_port, remote_address, remote_port, state, uid, CONCAT('net:[', net_ns, ']') FROM sockets WHERE inode = %d", r.ListenInode))
		for i, want := range []any{"inet", "tcp", "127.0.0.1", r.Port, "0.0.0.0", 0, "LISTEN", 0, netns} {
			equal(t, fmt.Sprintf("listener column %d", i), listen[i], want)
		}
		accepted := db.one(fmt.Sprintf("SELECT local_port, remote_port, state FROM sockets WHERE inode = %d", r.AcceptedInode))
		equal(t, "accepted local_port", accepted[0], r.Port)
		equal(t, "accepted remote_port", accepted[1], client.report.ClientPort)
		equal(t, "accepted state", accepted[2], "ESTABLISHED")
		unix := db.one(fmt.Sprintf("SELECT family, type, state, path FROM sockets WHERE inode = %d", r.UnixInode))
		for i, want := range []any{"unix", "stream", "LISTEN", filepath.Join(dir, "ctl sock")} {
			equal(t, fmt.Sprintf("unix column %d", i), unix[i], want)
		}
	})

	t.Run("process_sockets", func(t *testing.T) {
		db := db.in(t)
		held := db.one(fmt.Sprintf("SELECT pid, fd, name, state FROM process_sockets WHERE local_port = %d AND state = 'LISTEN'", server.report.Port))
		equal(t, "listener holder pid", held[0], sp)
		equal(t, "listener holder fd", held[1], server.report.ListenFD)
		client := db.one(fmt.Sprintf("SELECT pid, fd, remote_port FROM process_sockets WHERE inode = %d", client.report.ClientInode))
		equal(t, "client holder pid", client[0], cp)
		equal(t, "client remote port", client[2], server.report.Port)
		// A join from processes through fds to sockets finds the same link.
		join := db.one(fmt.Sprintf("SELECT p.pid, s.state FROM processes p JOIN fds f ON f.pid = p.pid JOIN sockets s ON s.inode = f.inode WHERE s.local_port = %d AND s.state = 'LISTEN'", server.report.Port))
		equal(t, "joined pid", join[0], sp)
	})

	t.Run("maps", func(t *testing.T) {
		db := db.in(t)
		row := db.one(fmt.Sprintf("SELECT COUNT(*) > 0, SUM(size_bytes) > 0, SUM(rss_bytes) > 0 FROM maps WHERE pid = %d AND path = '%s' AND perms LIKE '%%x%%'", sp, self))
		for i, v := range row {
			equal(t, fmt.Sprintf("maps column %d", i), v, true)
		}
	})

	t.Run("system", func(t *testing.T) {
		db := db.in(t)
		row := db.one("SELECT source, location, kernel_release IS NOT NULL, boot_time < UTC_TIMESTAMP(), architecture FROM `system`")
		equal(t, "source", row[0], "live")
		equal(t, "location", row[1], "/proc")
		equal(t, "kernel_release present", row[2], true)
		equal(t, "boot_time in the past", row[3], true)
		equal(t, "architecture", row[4], unameMachine())
	})

	t.Run("pid lookup plan", func(t *testing.T) {
		db := db.in(t)
		plan := db.query(fmt.Sprintf("EXPLAIN FORMAT=TREE SELECT name FROM processes WHERE pid = %d", sp))
		var text strings.Builder
		for _, r := range plan.Rows {
			fmt.Fprintln(&text, r...)
		}
		if !strings.Contains(text.String(), "IndexedTableAccess") {
			t.Errorf("plan does not use the pid index:\n%s", text.String())
		}
	})
}

func unameMachine() string {
	out, err := exec.Command("uname", "-m").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
