// Package livetest runs tests against the live /proc inside fresh PID, mount
// and network namespaces, with child processes whose arguments, environment,
// files and sockets the test chose. Only tests import it.
package livetest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Environment variables that tell the test binary which role it runs in.
const (
	ChildModeEnv = "PROCSQL_LIVE_CHILD"     // "server" or "client" in a child process
	InsideEnv    = "PROCSQL_LIVE_NAMESPACE" // "1" inside the new namespaces
)

// RunChild runs the child role named in the environment and reports whether
// it did. Call it first in TestMain and return when it reports true, because
// the test binary is then a child process of a live test.
func RunChild() bool {
	switch os.Getenv(ChildModeEnv) {
	case "server":
		runServerChild()
		return true
	case "client":
		runClientChild()
		return true
	}
	return false
}

// Report is the JSON line a child prints once its descriptors are open.
type Report struct {
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
	var r Report
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
	r := Report{ClientFD: s, ClientInode: inodeOf(s), ClientPort: sa.(*syscall.SockaddrInet4).Port}
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

// EnterNamespaces re-runs the named test inside new namespaces and reports
// whether the caller is already inside and should run the test body.
func EnterNamespaces(t *testing.T) bool {
	if os.Getenv(InsideEnv) == "1" {
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
	cmd.Env = append(os.Environ(), InsideEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("inside the namespaces:\n%s", out)
	if err != nil {
		t.Fatalf("test inside namespaces failed: %v", err)
	}
	return false
}

// Child is a started child process and its latest report.
type Child struct {
	Cmd    *exec.Cmd
	stdin  interface{ Close() error }
	lines  *bufio.Scanner
	Report Report
}

// StartChild starts the test binary as a child in role mode ("server" or
// "client") in dir, with exactly env as its environment plus the role, and
// waits for its first report. The child exits when the test ends.
func StartChild(t *testing.T, mode, dir string, args []string, env []string) *Child {
	t.Helper()
	return StartChildBinary(t, os.Args[0], mode, dir, args, env)
}

// StartChildBinary is StartChild with another copy of the test binary, for
// example one the test deletes once the child runs.
func StartChildBinary(t *testing.T, binary, mode, dir string, args []string, env []string) *Child {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{ChildModeEnv + "=" + mode}, env...)
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
	c := &Child{Cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
	t.Cleanup(func() {
		// A child blocked elsewhere, such as a server still in accept,
		// never sees stdin close, so it is killed as well.
		c.stdin.Close()
		c.Cmd.Process.Kill()
		c.Cmd.Wait()
	})
	c.Next(t)
	return c
}

// Next reads the child's next report line into Report.
func (c *Child) Next(t *testing.T) {
	t.Helper()
	if !c.lines.Scan() {
		t.Fatalf("child %d stopped before reporting: %v", c.Cmd.Process.Pid, c.lines.Err())
	}
	if err := json.Unmarshal(c.lines.Bytes(), &c.Report); err != nil {
		t.Fatalf("child report %q: %v", c.lines.Text(), err)
	}
}
