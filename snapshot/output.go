package snapshot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// outputFile is the snapshot being written. On Linux it is an unnamed
// O_TMPFILE in the output's directory, so a capture that is killed leaves
// nothing behind; it gets its name only in commit. Where O_TMPFILE is not
// supported it is a hidden temporary file that abort removes.
type outputFile struct {
	*os.File
	path    string // the final name
	tmpName string // "" for an unnamed O_TMPFILE
	force   bool
}

// createOutput checks path and opens the file that will become it, before
// any reading starts, so a missing or read-only directory fails at once.
func createOutput(path, procRoot string, force bool) (*outputFile, error) {
	if path == "" {
		return nil, errors.New("missing output file: pass -o FILE")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve output path %q: %w", path, err)
	}
	for _, root := range []string{"/proc", procRoot} {
		rootAbs, err := filepath.Abs(root)
		if err == nil && (abs == rootAbs || strings.HasPrefix(abs, rootAbs+string(filepath.Separator))) {
			return nil, fmt.Errorf("output %q is inside %s: write the snapshot to a normal directory", path, rootAbs)
		}
	}
	if info, err := os.Lstat(path); err == nil {
		if info.IsDir() {
			return nil, fmt.Errorf("output %q is a directory: give a file name such as %s", path, filepath.Join(path, "host.procsql"))
		}
		if !force {
			return nil, fmt.Errorf("output %q already exists: choose another name or pass --force to overwrite it", path)
		}
	}
	dir := filepath.Dir(abs)
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return &outputFile{File: os.NewFile(uintptr(fd), path), path: path, force: force}, nil
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return nil, fmt.Errorf("create the output in %s: %w (choose a writable directory with -o)", dir, err)
	}
	return &outputFile{File: tmp, path: path, tmpName: tmp.Name(), force: force}, nil
}

// commit flushes the file to disk and gives it its final name. Without
// force it never replaces a file that appeared during the capture.
func (o *outputFile) commit() (int64, error) {
	if err := o.Sync(); err != nil {
		return 0, fmt.Errorf("write snapshot %s: %w", o.path, err)
	}
	info, err := o.Stat()
	if err != nil {
		return 0, fmt.Errorf("write snapshot %s: %w", o.path, err)
	}
	if o.tmpName != "" {
		err = o.commitNamed()
	} else {
		err = o.commitUnnamed()
	}
	if err != nil {
		return 0, err
	}
	return info.Size(), o.Close()
}

func (o *outputFile) commitUnnamed() error {
	fdPath := "/proc/self/fd/" + strconv.Itoa(int(o.Fd()))
	if !o.force {
		if err := unix.Linkat(unix.AT_FDCWD, fdPath, unix.AT_FDCWD, o.path, unix.AT_SYMLINK_FOLLOW); err != nil {
			return fmt.Errorf("name snapshot %s: %w (pass --force to overwrite an existing file)", o.path, err)
		}
		return nil
	}
	// Link under a temporary name, then rename over the old file, so the
	// old file is replaced in one step.
	tmp := o.path + ".procsql-tmp"
	os.Remove(tmp)
	if err := unix.Linkat(unix.AT_FDCWD, fdPath, unix.AT_FDCWD, tmp, unix.AT_SYMLINK_FOLLOW); err != nil {
		return fmt.Errorf("name snapshot %s: %w", o.path, err)
	}
	if err := os.Rename(tmp, o.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("move snapshot into place at %s: %w", o.path, err)
	}
	return nil
}

func (o *outputFile) commitNamed() error {
	if !o.force {
		if err := unix.Renameat2(unix.AT_FDCWD, o.tmpName, unix.AT_FDCWD, o.path, unix.RENAME_NOREPLACE); err != nil {
			return fmt.Errorf("name snapshot %s: %w (pass --force to overwrite an existing file)", o.path, err)
		}
		return nil
	}
	if err := os.Rename(o.tmpName, o.path); err != nil {
		return fmt.Errorf("move snapshot into place at %s: %w", o.path, err)
	}
	return nil
}

// abort discards the file; nothing named remains.
func (o *outputFile) abort() {
	o.Close()
	if o.tmpName != "" {
		os.Remove(o.tmpName)
	}
}
