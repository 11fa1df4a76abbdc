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
