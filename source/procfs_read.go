package source

import (
	"fmt"
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Reads of a procfs mount use raw system calls rather than os.File. An
// os.File costs five more calls per file (fcntl four times to query and set
// blocking mode, and epoll_ctl to try the poller, which procfs files reject).
// A table scan opens thousands of small files, and on 1,000 processes the
// calls per file went from 9 to 4.

// readProcFile reads a whole procfs file of at most MaxFileSize bytes. It
// reads until read returns 0, because procfs files report a size of 0 and
// may return less than asked before the end, except for the files that
// oneRead accepts.
func readProcFile(path string) ([]byte, error) {
	single := oneRead(path)
	fd, err := openRetry(path, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 4096)
	for {
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		short := n < cap(buf)-len(buf)
		buf = buf[:len(buf)+n]
		if single && short {
			return buf, nil
		}
		if len(buf) > MaxFileSize {
			return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("file is larger than %d bytes", MaxFileSize)}
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// oneRead reports whether a procfs file is made in one piece, so that a
// read shorter than asked has reached its end and the read that would
// return 0 can be skipped. The kernel builds stat, statm, status and
// fdinfo/N with single_open, which formats the whole file before the first
// read returns and hands out all of it when the buffer is large enough.
// Files of many records, such as maps or net/tcp, can return short reads
// before their end and are read until 0.
func oneRead(path string) bool {
	base := filepath.Base(path)
	switch base {
	case "stat", "statm", "status":
		return true
	}
	return filepath.Base(filepath.Dir(path)) == "fdinfo"
}

// readProcDir returns the names in a procfs directory, unsorted.
func readProcDir(path string) ([]string, error) {
	fd, err := openRetry(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 8192)
	var names []string
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "readdirent", Path: path, Err: err}
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}
