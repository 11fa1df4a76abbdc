package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procsql/procsql/internal/livetest"
)

// The live hunt tests read the real /proc inside fresh namespaces (see
// internal/livetest), so the hunts see only the processes the tests start
// and never read the environment of any other process.

func TestMain(m *testing.M) {
	if livetest.RunChild() {
		return
	}
	os.Exit(m.Run())
}

// plainEnv is the environment of every started process, so that nothing
// from the test's own environment, such as a token, can trip a hunt.
var plainEnv = []string{"PATH=/usr/bin:/bin", "HOME=/root", "LANG=C"}

// startProcess starts cmd, with plainEnv unless cmd.Env is set, and kills it
// at test cleanup. It returns the started pid.
func startProcess(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	if cmd.Env == nil {
		cmd.Env = plainEnv
	}
	if cmd.Dir == "" {
		// The test's own directory may lie under /tmp (a clone there), which
		// executable_in_temp_dir rightly reports as a working directory.
		cmd.Dir = "/"
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd.Process.Pid
}

// startPython runs /usr/bin/python3 -c code, kills it at test cleanup and
// waits until the program prints "ready", which it does once set up.
func startPython(t *testing.T, code string, args ...string) int {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", append([]string{"-c", code}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	pid := startProcess(t, cmd)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("python3 helper %d printed %q (%v), want \"ready\"", pid, line, err)
	}
	return pid
}

// huntHits runs "procsql --format jsonl hunt ids..." on /proc and returns
// the hits.
func huntHits(t *testing.T, ids ...string) []huntHit {
	t.Helper()
	args := append([]string{"--proc", "/proc", "--format", "jsonl", "hunt"}, ids...)
	stdout, stderr, err := runHuntApp(t, args...)
	if code := exitCode(t, err); code > 1 {
		t.Fatalf("procsql hunt %s failed: %v\nstderr:\n%s", strings.Join(ids, " "), err, stderr)
	}
	var hits []huntHit
	decoder := json.NewDecoder(strings.NewReader(stdout))
	for {
		var hit huntHit
		err := decoder.Decode(&hit)
		if err == io.EOF {
			return hits
		}
		if err != nil {
			t.Fatalf("hunt output is not JSON lines: %v\n%s", err, stdout)
		}
		hits = append(hits, hit)
	}
}

// hitPID returns the pid column of a hit, or false for a hit without one,
// such as those of tainted_module.
func hitPID(t *testing.T, hit huntHit) (int, bool) {
	t.Helper()
	var row map[string]any
	if err := json.Unmarshal(hit.Row, &row); err != nil {
		t.Fatalf("row of hunt %s is not a JSON object: %v", hit.Hunt, err)
	}
	pid, ok := row["pid"].(float64)
	return int(pid), ok
}

// waitForHit runs hunt id until it reports pid, because a started process
// may need a moment to exec, map memory or be attached to. It fails the test
// after 10 seconds.
func waitForHit(t *testing.T, id string, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var reported []int
		for _, hit := range huntHits(t, id) {
			if p, ok := hitPID(t, hit); ok {
				reported = append(reported, p)
			}
		}
		if slices.Contains(reported, pid) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("hunt %s reports pids %v, want %d among them", id, reported, pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tmpDir creates a directory under /tmp, which the temporary path rules of
// the hunts match whatever TMPDIR is, and removes it at test cleanup.
func tmpDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "procsql-live-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func copyFile(t *testing.T, src, dst string, perm os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, perm); err != nil {
		t.Fatal(err)
	}
}

// remoteAddress is an address from 192.0.2.0/24 (TEST-NET-1, RFC 5737)
// that addRemoteAddress puts on lo, so the hunts that leave loopback
// addresses out see a remote address on connections that never leave the
// private network namespace.
const remoteAddress = "192.0.2.1"

// addRemoteAddress adds remoteAddress to lo once per namespace. It fails the
// test if the network namespace has an interface other than lo, because the
// address must stay in a namespace that has no route outside.
func addRemoteAddress(t *testing.T) {
	t.Helper()
	interfaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, iface := range interfaces {
		if iface.Name != "lo" {
			t.Fatalf("network namespace has interface %s besides lo, want only lo before adding %s", iface.Name, remoteAddress)
		}
	}
	addresses, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, address := range addresses {
		if prefix, ok := address.(*net.IPNet); ok && prefix.IP.String() == remoteAddress {
			return
		}
	}
	if out, err := exec.Command("ip", "addr", "add", remoteAddress+"/32", "dev", "lo").CombinedOutput(); err != nil {
		t.Fatalf("ip addr add %s/32 dev lo: %v: %s", remoteAddress, err, out)
	}
}

// listenRemote listens on remoteAddress, accepts one connection and returns
// the listening address. The listener and the accepted connection stay open
// until test cleanup, so the client's connection stays established.
func listenRemote(t *testing.T) string {
	t.Helper()
	addRemoteAddress(t)
	listener, err := net.Listen("tcp", net.JoinHostPort(remoteAddress, "0"))
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := listener.Accept()
		if err == nil {
			accepted <- conn
		}
		close(accepted)
	}()
	t.Cleanup(func() {
		listener.Close()
		if conn, ok := <-accepted; ok {
			conn.Close()
		}
	})
	return listener.Addr().String()
}

// privateVarLog mounts a tmpfs over /var/log in the test's own mount
// namespace, so the host's /var/log stays untouched, and unmounts it at
// cleanup. Pid 1 shows that the test runs in the namespaces unshare created,
// and making every mount private first stops the tmpfs from reaching the host.
func privateVarLog(t *testing.T) {
	t.Helper()
	if os.Getpid() != 1 {
		t.Fatalf("test runs as pid %d, want pid 1 of a new PID namespace before mounting on /var/log", os.Getpid())
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		t.Fatalf("make mounts private: %v", err)
	}
	if err := syscall.Mount("procsql-live", "/var/log", "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs on /var/log: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount("/var/log", syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount /var/log: %v", err)
		}
	})
}

func TestLiveHuntsFindStartedBehaviours(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}

	t.Run("deleted_executable", func(t *testing.T) {
		data, err := os.ReadFile("/bin/sleep")
		if err != nil {
			t.Fatal(err)
		}
		copied := filepath.Join(t.TempDir(), "sleep")
		if err := os.WriteFile(copied, data, 0o755); err != nil {
			t.Fatal(err)
		}
		pid := startProcess(t, exec.Command(copied, "600"))
		if err := os.Remove(copied); err != nil {
			t.Fatal(err)
		}
		waitForHit(t, "deleted_executable", pid)
	})

	t.Run("memfd_executable", func(t *testing.T) {
		// Flags 0 leave out the MFD_CLOEXEC that Python sets by default, so
		// sleep keeps the memfd open after execve as well.
		code := `import os
fd = os.memfd_create("payload", 0)
with open("/bin/sleep", "rb") as f:
    os.write(fd, f.read())
os.execve("/proc/self/fd/%d" % fd, ["sleep", "600"], {})`
		pid := startProcess(t, exec.Command("/usr/bin/python3", "-c", code))
		waitForHit(t, "memfd_executable", pid)
	})

	t.Run("ld_preload_environment", func(t *testing.T) {
		// The dynamic linker prints a warning for the missing library and
		// runs sleep anyway.
		cmd := exec.Command("/bin/sleep", "600")
		cmd.Env = append(slices.Clone(plainEnv), "LD_PRELOAD=/nonexistent/libx.so")
		cmd.Stderr = io.Discard
		waitForHit(t, "ld_preload_environment", startProcess(t, cmd))
	})

	t.Run("reverse_shell", func(t *testing.T) {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { listener.Close() })
		conn, err := net.Dial("tcp", listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		accepted, err := listener.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { accepted.Close() })

		// The shell reads commands from the connection, and none arrive,
		// so it waits with descriptors 0 and 1 on an established socket.
		socket, err := conn.(*net.TCPConn).File()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("/bin/sh")
		cmd.Stdin = socket
		cmd.Stdout = socket
		pid := startProcess(t, cmd)
		socket.Close()
		waitForHit(t, "reverse_shell", pid)
	})

	t.Run("rwx_memory", func(t *testing.T) {
		code := `import mmap, time
m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
print("ready", flush=True)
time.sleep(600)`
		waitForHit(t, "rwx_memory", startPython(t, code))
	})

	t.Run("traced_process", func(t *testing.T) {
		target := startProcess(t, exec.Command("/bin/sleep", "600"))
		// 16 is PTRACE_ATTACH. ptrace takes variadic arguments in glibc,
		// so the argument types are set to pass full-width values.
		code := `import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
if libc.ptrace(16, int(sys.argv[1]), None, None) != 0:
    sys.exit("ptrace attach failed: " + os.strerror(ctypes.get_errno()))
print("ready", flush=True)
time.sleep(600)`
		// startPython registers its cleanup after the target's, so the
		// tracer is killed first and the target is no longer traced when
		// it is killed and reaped.
		startPython(t, code, strconv.Itoa(target))
		waitForHit(t, "traced_process", target)
	})

	t.Run("history_disabled", func(t *testing.T) {
		cmd := exec.Command("/bin/sleep", "600")
		cmd.Env = append(slices.Clone(plainEnv), "HISTFILE=/dev/null")
		waitForHit(t, "history_disabled", startProcess(t, cmd))
	})

	t.Run("executable_in_temp_dir", func(t *testing.T) {
		copied := filepath.Join(tmpDir(t), "sleep")
		copyFile(t, "/bin/sleep", copied, 0o755)
		waitForHit(t, "executable_in_temp_dir", startProcess(t, exec.Command(copied, "600")))
	})

	t.Run("interpreter_with_inline_code", func(t *testing.T) {
		// b64decode in the command line matches the base64 decoding rule.
		code := `import base64, time
base64.b64decode("dGVzdA==")
print("ready", flush=True)
time.sleep(600)`
		waitForHit(t, "interpreter_with_inline_code", startPython(t, code))
	})

	t.Run("fake_kernel_thread", func(t *testing.T) {
		// cat with no file arguments waits on its stdin pipe, so argv can
		// be the bracketed name alone and the command line ends with "]".
		cmd := &exec.Cmd{Path: "/bin/cat", Args: []string{"[kworker/0:1]"}}
		input, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { input.Close() })
		waitForHit(t, "fake_kernel_thread", startProcess(t, cmd))
	})

	t.Run("process_name_mismatch", func(t *testing.T) {
		// The kernel names a process after the file name passed to execve,
		// so a symlink named sshd gives sleep the name sshd while exe is
		// the resolved sleep binary.
		link := filepath.Join(t.TempDir(), "sshd")
		if err := os.Symlink("/bin/sleep", link); err != nil {
			t.Fatal(err)
		}
		waitForHit(t, "process_name_mismatch", startProcess(t, exec.Command(link, "600")))
	})

	t.Run("uid_mismatch", func(t *testing.T) {
		// The test runs as root, so the helper may set its real uid to 1000
		// and keep effective and saved uid 0.
		code := `import os, time
os.setresuid(1000, 0, 0)
print("ready", flush=True)
time.sleep(600)`
		waitForHit(t, "uid_mismatch", startPython(t, code))
	})

	t.Run("unusual_capabilities", func(t *testing.T) {
		// 28 is PR_SET_SECUREBITS and 4 is SECBIT_NO_SETUID_FIXUP, which
		// keeps every capability set when all uids change from 0 to 1000.
		// The uids then agree, so uid_mismatch does not match as well.
		code := `import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(28, 4, 0, 0, 0) != 0:
    sys.exit("prctl PR_SET_SECUREBITS failed: " + os.strerror(ctypes.get_errno()))
os.setresuid(1000, 1000, 1000)
print("ready", flush=True)
time.sleep(600)`
		waitForHit(t, "unusual_capabilities", startPython(t, code))
	})

	// libuuid is a small library that Debian's python3 does not load by
	// itself, so the copy is the only mapping of it.
	const library = "/usr/lib/x86_64-linux-gnu/libuuid.so.1"
	loadLibrary := `import ctypes, os, sys, time
ctypes.CDLL(sys.argv[1])
if sys.argv[2] == "delete":
    os.remove(sys.argv[1])
print("ready", flush=True)
time.sleep(600)`

	t.Run("library_from_temp_path", func(t *testing.T) {
		if _, err := os.Stat(library); err != nil {
			t.Skipf("library to copy is missing: %v", err)
		}
		copied := filepath.Join(tmpDir(t), "libuuid.so.1")
		copyFile(t, library, copied, 0o755)
		waitForHit(t, "library_from_temp_path", startPython(t, loadLibrary, copied, "keep"))
	})

	t.Run("deleted_library_mapped", func(t *testing.T) {
		if _, err := os.Stat(library); err != nil {
			t.Skipf("library to copy is missing: %v", err)
		}
		copied := filepath.Join(t.TempDir(), "libuuid.so.1")
		copyFile(t, library, copied, 0o755)
		waitForHit(t, "deleted_library_mapped", startPython(t, loadLibrary, copied, "delete"))
	})

	t.Run("deleted_log_still_open", func(t *testing.T) {
		privateVarLog(t)
		logFile, err := os.Create("/var/log/auth.log")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("/bin/sleep", "600")
		cmd.ExtraFiles = []*os.File{logFile}
		pid := startProcess(t, cmd)
		logFile.Close()
		if err := os.Remove("/var/log/auth.log"); err != nil {
			t.Fatal(err)
		}
		waitForHit(t, "deleted_log_still_open", pid)
	})

	t.Run("truncated_log_still_open", func(t *testing.T) {
		privateVarLog(t)
		writer := `import sys, time
log = open(sys.argv[1], "w")
log.write("x" * 100)
log.flush()
print("ready", flush=True)
time.sleep(600)`
		pid := startPython(t, writer, "/var/log/app.log")
		// Cut the file behind the writer's back: its offset stays at 100.
		if err := os.Truncate("/var/log/app.log", 0); err != nil {
			t.Fatal(err)
		}
		waitForHit(t, "truncated_log_still_open", pid)
	})

	t.Run("orphan_parent", func(t *testing.T) {
		t.Skip("orphan_parent cannot match in the PID namespace: an orphan is reparented to " +
			"the test process, which is pid 1 and visible, and only a process whose parent is " +
			"outside the namespace shows ppid 0, which the hunt leaves out")
	})

	t.Run("interpreter_outbound_connection", func(t *testing.T) {
		code := `import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
conn = socket.create_connection((host, int(port)))
print("ready", flush=True)
time.sleep(600)`
		waitForHit(t, "interpreter_outbound_connection", startPython(t, code, listenRemote(t)))
	})

	t.Run("sensitive_file_with_connection", func(t *testing.T) {
		// A made-up credentials file under .aws matches the cloud
		// credentials rule without opening any real secret.
		awsDir := filepath.Join(t.TempDir(), ".aws")
		if err := os.Mkdir(awsDir, 0o700); err != nil {
			t.Fatal(err)
		}
		credentials := filepath.Join(awsDir, "credentials")
		if err := os.WriteFile(credentials, []byte("[default]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		conn, err := net.Dial("tcp", listenRemote(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		socket, err := conn.(*net.TCPConn).File()
		if err != nil {
			t.Fatal(err)
		}
		file, err := os.Open(credentials)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("/bin/sleep", "600")
		cmd.ExtraFiles = []*os.File{socket, file}
		pid := startProcess(t, cmd)
		socket.Close()
		file.Close()
		waitForHit(t, "sensitive_file_with_connection", pid)
	})

	t.Run("unusual_listener", func(t *testing.T) {
		addRemoteAddress(t)
		listener, err := net.Listen("tcp", net.JoinHostPort(remoteAddress, "0"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { listener.Close() })
		listenerFile, err := listener.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		// A sleep copied to /tmp holds the listening socket as descriptor 3,
		// which matches the executable in a temporary directory rule.
		copied := filepath.Join(tmpDir(t), "sleep")
		copyFile(t, "/bin/sleep", copied, 0o755)
		cmd := exec.Command(copied, "600")
		cmd.ExtraFiles = []*os.File{listenerFile}
		pid := startProcess(t, cmd)
		listenerFile.Close()
		waitForHit(t, "unusual_listener", pid)
	})

	t.Run("root_empty_environment", func(t *testing.T) {
		// startProcess keeps a non-nil Env, and exec.Cmd adds PWD only when
		// Env is nil, so sleep starts with no variables at all.
		cmd := exec.Command("/bin/sleep", "600")
		cmd.Env = []string{}
		pid := startProcess(t, cmd)
		environ, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err != nil {
			t.Fatal(err)
		}
		if len(environ) != 0 {
			t.Fatalf("environ of started sleep %d is %q, want it empty", pid, environ)
		}
		waitForHit(t, "root_empty_environment", pid)
	})

	t.Run("sniffer_socket", func(t *testing.T) {
		// The hunt leaves out only known network tools under system paths,
		// so python3 holding a packet socket matches. Opening one needs
		// CAP_NET_RAW, which root has in the test's network namespace.
		code := `import socket, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
print("ready", flush=True)
time.sleep(600)`
		waitForHit(t, "sniffer_socket", startPython(t, code))
	})

	t.Run("shared_deleted_exe_hash", func(t *testing.T) {
		// Two copies of one binary under different names give the same
		// digest with two command names once both files are deleted.
		dir := t.TempDir()
		var pids []int
		for _, name := range []string{"kworker", "atd"} {
			copied := filepath.Join(dir, name)
			copyFile(t, "/bin/sleep", copied, 0o755)
			pids = append(pids, startProcess(t, exec.Command(copied, "600")))
			if err := os.Remove(copied); err != nil {
				t.Fatal(err)
			}
		}
		for _, pid := range pids {
			waitForHit(t, "shared_deleted_exe_hash", pid)
		}
	})

	t.Run("secrets_in_environment", func(t *testing.T) {
		// A made-up value of the length of a real AWS secret access key.
		const secret = "procsqlFakeSecretValue0123456789abcdefgh"
		if len(secret) != 40 {
			t.Fatalf("fake secret has %d characters, want 40", len(secret))
		}
		cmd := exec.Command("/bin/sleep", "600")
		cmd.Env = append(slices.Clone(plainEnv), "AWS_SECRET_ACCESS_KEY="+secret)
		pid := startProcess(t, cmd)
		waitForHit(t, "secrets_in_environment", pid)

		for _, format := range []string{"table", "csv", "json", "jsonl"} {
			stdout, stderr, err := runHuntApp(t, "--proc", "/proc", "--format", format, "hunt", "secrets_in_environment")
			if code := exitCode(t, err); code > 1 {
				t.Fatalf("procsql --format %s hunt secrets_in_environment failed: %v\nstderr:\n%s", format, err, stderr)
			}
			if strings.Contains(stdout, secret) {
				t.Errorf("procsql --format %s hunt secrets_in_environment prints the full secret value on stdout, want only the redacted form", format)
			}
			if strings.Contains(stderr, secret) {
				t.Errorf("procsql --format %s hunt secrets_in_environment prints the full secret value on stderr, want it left out", format)
			}
			if redacted := secret[:4] + "****"; !strings.Contains(stdout, redacted) {
				t.Errorf("procsql --format %s hunt secrets_in_environment output lacks redacted value %q:\n%s", format, redacted, stdout)
			}
		}
	})

	t.Run("executable_anonymous_memory", func(t *testing.T) {
		// A private anonymous mapping that is readable and executable but
		// not writable, which rwx_memory does not match. A shared one would
		// show as "/dev/zero (deleted)" in maps and count as a file.
		code := `import mmap, time
m = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ | mmap.PROT_EXEC)
print("ready", flush=True)
time.sleep(600)`
		pid := startPython(t, code)
		waitForHit(t, "executable_anonymous_memory", pid)

		found := false
		for _, hit := range huntHits(t, "executable_anonymous_memory") {
			if p, ok := hitPID(t, hit); !ok || p != pid {
				continue
			}
			found = true
			var row struct {
				Perms string `json:"perms"`
			}
			if err := json.Unmarshal(hit.Row, &row); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(row.Perms, "r-xp") {
				t.Errorf("hit for python3 %d has perms %q, want r-xp among them", pid, row.Perms)
			}
		}
		if !found {
			t.Errorf("hunt executable_anonymous_memory no longer reports python3 %d", pid)
		}
	})
}

func TestLiveHuntsIgnoreOrdinaryProcesses(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}

	// A shell that waits for commands on a pipe.
	shell := exec.Command("/bin/sh")
	shellInput, err := shell.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shellInput.Close() })
	shellPID := startProcess(t, shell)

	sleepPID := startProcess(t, exec.Command("/bin/sleep", "600"))

	// A sleep that holds a listening socket on 127.0.0.1 as descriptor 3.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close() })
	listenerFile, err := listener.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("/bin/sleep", "600")
	holder.ExtraFiles = []*os.File{listenerFile}
	holderPID := startProcess(t, holder)
	listenerFile.Close()

	ordinary := []int{shellPID, sleepPID, holderPID}
	for _, hit := range huntHits(t) {
		pid, ok := hitPID(t, hit)
		if !ok {
			// Hunts without a pid column, such as tainted_module, are about
			// the host's kernel, which the namespaces do not isolate.
			continue
		}
		if pid == os.Getpid() {
			// The test process is also the procsql engine. On amd64 it may
			// trip rwx_memory and executable_anonymous_memory, because
			// go-mysql-server evaluates REGEXP with ICU compiled by wazero
			// into rwx memory, which those hunts list as a false positive.
			continue
		}
		if slices.Contains(ordinary, pid) {
			t.Errorf("hunt %s reports ordinary process %d: %s", hit.Hunt, pid, hit.Row)
			continue
		}
		t.Errorf("hunt %s reports pid %d, which the test did not start: %s", hit.Hunt, pid, hit.Row)
	}
	t.Logf("ran every hunt with ordinary processes %v", ordinary)
}
