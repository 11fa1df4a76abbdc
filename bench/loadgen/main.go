// Command loadgen starts a known set of processes for procsql's benchmarks:
// each holds open files, a pipe, a unix socket pair and, for some, TCP
// connections on 127.0.0.1, and has a few environment variables. It prints
// "ready" and the pids once all run, and stops exactly those processes when
// its stdin closes or its time limit passes.
//
// Run it inside fresh PID and network namespaces so that a benchmark sees
// only these processes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"
)

func main() {
	count := flag.Int("n", 1000, "number of processes to start")
	fds := flag.Int("fds", 20, "open descriptors per process, including stdin, stdout and stderr")
	tcpEvery := flag.Int("tcp-every", 10, "give every Nth process a TCP listener and a connected pair on 127.0.0.1")
	limit := flag.Duration("timeout", 10*time.Minute, "stop the processes after this long even if stdin stays open")
	flag.Parse()
	if err := run(*count, *fds, *tcpEvery, *limit); err != nil {
		slog.Error("loadgen failed", "err", err)
		os.Exit(1)
	}
}

func run(count, fds, tcpEvery int, limit time.Duration) error {
	dir, err := os.MkdirTemp("", "procsql-loadgen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var children []*exec.Cmd
	defer func() {
		for _, c := range children {
			c.Process.Kill()
			c.Wait()
		}
	}()
	for i := range count {
		extra, err := descriptors(dir, i, fds-3, tcpEvery > 0 && i%tcpEvery == 0)
		if err != nil {
			return fmt.Errorf("open descriptors for process %d: %w", i, err)
		}
		cmd := exec.Command("/bin/sleep", strconv.Itoa(int(limit.Seconds())+60))
		cmd.Env = []string{"LOADGEN_INDEX=" + strconv.Itoa(i), "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/nonexistent"}
		cmd.ExtraFiles = extra
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start process %d: %w", i, err)
		}
		for _, f := range extra {
			f.Close()
		}
		children = append(children, cmd)
	}

	fmt.Print("ready")
	for _, c := range children {
		fmt.Printf(" %d", c.Process.Pid)
	}
	fmt.Println()

	stdinClosed := make(chan struct{})
	go func() {
		bufio.NewReader(os.Stdin).ReadString(0)
		close(stdinClosed)
	}()
	select {
	case <-stdinClosed:
	case <-time.After(limit):
		slog.Info("time limit reached; stopping the processes", "limit", limit)
	}
	return nil
}

// descriptors opens n descriptors for one process: a pipe, a unix socket
// pair, an optional TCP listener with a connected pair, and files for the
// rest.
func descriptors(dir string, index, n int, tcp bool) ([]*os.File, error) {
	var files []*os.File
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	files = append(files, r, w)

	pair, err := unixPair()
	if err != nil {
		return nil, err
	}
	files = append(files, pair...)

	if tcp {
		tcpFiles, err := tcpTrio()
		if err != nil {
			return nil, err
		}
		files = append(files, tcpFiles...)
	}
	for len(files) < n {
		f, err := os.Create(fmt.Sprintf("%s/p%d-f%d.log", dir, index, len(files)))
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// unixPair returns both ends of a connection to an abstract unix socket.
func unixPair() ([]*os.File, error) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Net: "unix"})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	c, err := net.DialUnix("unix", nil, l.Addr().(*net.UnixAddr))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	s, err := l.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	cf, err := c.File()
	if err != nil {
		return nil, err
	}
	sf, err := s.File()
	if err != nil {
		return nil, err
	}
	return []*os.File{cf, sf}, nil
}

// tcpTrio returns a listener on 127.0.0.1 and both ends of one connection
// to it.
func tcpTrio() ([]*os.File, error) {
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	c, err := net.DialTCP("tcp", nil, l.Addr().(*net.TCPAddr))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	s, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out []*os.File
	for _, get := range []func() (*os.File, error){l.File, c.File, s.File} {
		f, err := get()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
