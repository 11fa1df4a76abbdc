package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
)

// listenUnix creates a unix socket at path that only this user can open.
// It binds the socket inside a new private directory beside path, sets its
// mode, and only then links it to path, so that no client can connect
// while the mode is still the umask's. The link fails if path exists.
func listenUnix(path string) (net.Listener, error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".procsql-socket-")
	if err != nil {
		return nil, fmt.Errorf("listen on unix socket %s: create a private directory beside it: %w", path, err)
	}
	defer os.RemoveAll(dir)
	private := filepath.Join(dir, "socket")
	ln, err := net.Listen("unix", private)
	if err != nil {
		return nil, fmt.Errorf("listen on unix socket %s: %w", path, err)
	}
	unix := ln.(*net.UnixListener)
	// The private name disappears with its directory; Close removes path.
	unix.SetUnlinkOnClose(false)
	if err := os.Chmod(private, 0o600); err != nil {
		unix.Close()
		return nil, fmt.Errorf("restrict unix socket %s to its owner: %w", path, err)
	}
	if err := os.Link(private, path); err != nil {
		unix.Close()
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("listen on unix socket %s: the file exists; remove it if no server uses it", path)
		}
		return nil, fmt.Errorf("listen on unix socket %s: %w", path, err)
	}
	return &unixListener{UnixListener: unix, path: path}, nil
}

// unixListener is a unix socket listener that removes its socket file on
// Close and reports the path clients connect to as its address.
type unixListener struct {
	*net.UnixListener
	path string
}

func (l *unixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	if rmErr := os.Remove(l.path); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
		err = rmErr
	}
	return err
}
