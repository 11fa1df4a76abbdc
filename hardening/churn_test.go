package hardening

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// churnRole is the childRoleEnv value of a churn child.
const churnRole = "churn"

// churnSeqEnv carries the spawner's sequence number of a churn child. The
// child also gets it as its second argument, "seq=N", so a row that mixes
// two processes shows as a mismatch between environ and argv.
const churnSeqEnv = "CHURN_SEQ"

// churnLifetimeEnv carries how long a churn child runs, in milliseconds.
const churnLifetimeEnv = "CHURN_LIFETIME_MS"

// churnName is the command name a churn child gives itself. It contains the
// pid, so a row of another process that carries this name is caught.
func churnName(pid int) string { return "churn-" + strconv.Itoa(pid) }

// churnFile and churnSocket are the names of the file a churn child keeps
// open and of the unix socket it binds, in its working directory. They
// contain the pid for the same reason as churnName.
func churnFile(dir string, pid int) string {
	return filepath.Join(dir, "f-"+strconv.Itoa(pid))
}

func churnSocket(dir string, pid int) string {
	return filepath.Join(dir, "u-"+strconv.Itoa(pid))
}

// runChurnChild is the body of a churn child. It returns the exit status: 0,
// or 3 after printing what failed.
func runChurnChild() int {
	if err := churnChild(); err != nil {
		fmt.Fprintln(os.Stderr, "churn child:", err)
		return 3
	}
	return 0
}

// churnChild renames itself, opens a file (deleted at once by odd pids), a
// pipe, a TCP listener on 127.0.0.1 with a connection to itself, a UDP
// socket, a unix stream listener with a connection and a unix datagram
// socket pair. It then maps and unmaps memory and starts and ends threads
// for the time churnLifetimeEnv gives, and returns without closing
// anything, so the kernel closes the descriptors as the process exits.
func churnChild() error {
	pid := os.Getpid()
	comm, err := os.OpenFile("/proc/self/comm", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := comm.WriteString(churnName(pid)); err != nil {
		return fmt.Errorf("set command name: %w", err)
	}
	comm.Close()
	dir, err := os.Getwd()
	if err != nil {
		return err
	}

	file, err := os.OpenFile(churnFile(dir, pid), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if _, err := file.WriteString("churn evidence\n"); err != nil {
		return err
	}
	if pid%2 == 1 {
		os.Remove(file.Name())
	} else {
		defer os.Remove(file.Name())
	}

	pipeRead, pipeWrite, err := os.Pipe()
	if err != nil {
		return err
	}
	if _, err := pipeWrite.WriteString("x"); err != nil {
		return err
	}

	listener, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	client, err := net.Dial("tcp4", listener.Addr().String())
	if err != nil {
		return err
	}
	accepted, err := listener.Accept()
	if err != nil {
		return err
	}
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return err
	}

	socketPath := churnSocket(dir, pid)
	unixListener, err := net.Listen("unix", socketPath)
	if err != nil {
		return err
	}
	defer os.Remove(socketPath)
	unixClient, err := net.Dial("unix", socketPath)
	if err != nil {
		return err
	}
	unixAccepted, err := unixListener.Accept()
	if err != nil {
		return err
	}
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}

	lifetime, err := strconv.Atoi(os.Getenv(churnLifetimeEnv))
	if err != nil {
		return fmt.Errorf("%s: %w", churnLifetimeEnv, err)
	}
	deadline := time.Now().Add(time.Duration(lifetime) * time.Millisecond)
	// A goroutine that locks its thread and returns without unlocking
	// makes the runtime end that thread, so threads come and go.
	for range 2 {
		pause := time.Duration(rand.IntN(20)) * time.Millisecond
		go func() {
			runtime.LockOSThread()
			time.Sleep(pause)
		}()
	}
	for time.Now().Before(deadline) {
		mapping, err := syscall.Mmap(-1, 0, 4*os.Getpagesize(), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			return fmt.Errorf("mmap: %w", err)
		}
		mapping[0] = 1
		time.Sleep(2 * time.Millisecond)
		if err := syscall.Munmap(mapping); err != nil {
			return fmt.Errorf("munmap: %w", err)
		}
	}
	runtime.KeepAlive([]any{file, pipeRead, pipeWrite, listener, client, accepted, udp, unixListener, unixClient, unixAccepted, pair})
	return nil
}

// churn starts churn children from several goroutines until a deadline and
// reaps each one. Most children run for 20 to 120 ms. The children of the
// long-lived workers run for 0.5 to 2 s, so that a query slowed down by the
// churn still reads some of them whole. One child in eight, chosen at
// random, is killed with SIGKILL after a random delay instead of exiting
// by itself.
type churn struct {
	binary string // the test binary, run again as a child
	dir    string // working directory of the children

	started atomic.Int64
	killed  atomic.Int64
	done    sync.WaitGroup

	mu       sync.Mutex
	recent   []int    // pids of the last children started, newest last
	failures []string // children that failed, with their stderr
}

// startChurn starts short and long goroutines that each run one child at
// a time until the deadline. Call wait to join them.
func startChurn(binary, dir string, short, long int, deadline time.Time) *churn {
	c := &churn{binary: binary, dir: dir}
	workers := short + long
	for worker := range workers {
		c.done.Add(1)
		go func() {
			defer c.done.Done()
			for seq := worker; time.Now().Before(deadline); seq += workers {
				lifetime := 20 + rand.IntN(100)
				if worker >= short {
					lifetime = 500 + rand.IntN(1500)
				}
				c.runChild(seq, lifetime)
			}
		}()
	}
	return c
}

func (c *churn) runChild(seq, lifetimeMS int) {
	cmd := &exec.Cmd{Path: c.binary, Args: []string{c.binary, "seq=" + strconv.Itoa(seq)}}
	cmd.Env = []string{childRoleEnv + "=" + churnRole, churnSeqEnv + "=" + strconv.Itoa(seq), churnLifetimeEnv + "=" + strconv.Itoa(lifetimeMS)}
	cmd.Dir = c.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		c.fail(fmt.Sprintf("start churn child %d: %v", seq, err))
		return
	}
	pid := cmd.Process.Pid
	c.started.Add(1)
	c.mu.Lock()
	c.recent = append(c.recent, pid)
	if len(c.recent) > 32 {
		c.recent = c.recent[len(c.recent)-32:]
	}
	c.mu.Unlock()

	kill := rand.IntN(8) == 0
	if kill {
		time.AfterFunc(time.Duration(rand.IntN(lifetimeMS))*time.Millisecond, func() { cmd.Process.Kill() })
	}
	err := cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case kill && errors.As(err, &exitErr) && exitErr.ExitCode() == -1:
		// A killed child leaves its file and socket path behind.
		c.killed.Add(1)
		os.Remove(churnFile(c.dir, pid))
		os.Remove(churnSocket(c.dir, pid))
	default:
		c.fail(fmt.Sprintf("churn child %d (pid %d): %v: %s", seq, pid, err, stderr.String()))
	}
}

func (c *churn) fail(message string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.failures) < 20 {
		c.failures = append(c.failures, message)
	}
}

// recentPIDs returns the pids of the last children started, some of which
// have exited.
func (c *churn) recentPIDs() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.recent...)
}

// wait waits for the workers to reap their last children.
func (c *churn) wait() {
	c.done.Wait()
}
