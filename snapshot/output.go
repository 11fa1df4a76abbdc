package snapshot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// outputFile is the snapshot being written. On Linux it is an unnamed
// O_TMPFILE in the output's directory and gets its name only in commit, so a
// capture that is killed leaves nothing behind. Where O_TMPFILE is not
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
	if strings.HasSuffix(path, "/") {
		return nil, fmt.Errorf("output %q names a directory: give a file name such as %shost.procsql", path, path)
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
	if !o.force {
		if err := o.link(o.path); err != nil {
			return fmt.Errorf("name snapshot %s: %w", o.path, err)
		}
		return nil
	}
	// Link under a fresh temporary name, then rename over the old file, so
	// the old file is replaced in one step and no other file is touched.
	for attempt := 0; ; attempt++ {
		tmp := fmt.Sprintf("%s.%d.%d.procsql-tmp", o.path, os.Getpid(), attempt)
		err := o.link(tmp)
		if errors.Is(err, unix.EEXIST) && attempt < 100 {
			continue
		}
		if err != nil {
			return fmt.Errorf("name snapshot %s: %w", o.path, err)
		}
		if err := os.Rename(tmp, o.path); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("move snapshot into place at %s: %w", o.path, err)
		}
		return nil
	}
}

// link gives the unnamed file the name path, failing if path exists. It
// tries AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH), then the /proc/self/fd
// link, and without either copies the file to path.
func (o *outputFile) link(path string) error {
	err := unix.Linkat(int(o.Fd()), "", unix.AT_FDCWD, path, unix.AT_EMPTY_PATH)
	if err == nil || errors.Is(err, unix.EEXIST) {
		return err
	}
	fdPath := "/proc/self/fd/" + strconv.Itoa(int(o.Fd()))
	err = unix.Linkat(unix.AT_FDCWD, fdPath, unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	if err == nil || errors.Is(err, unix.EEXIST) {
		return err
	}
	return o.copyTo(path)
}

// copyTo writes the unnamed file's content to a new file at path.
func (o *outputFile) copyTo(path string) error {
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := o.Seek(0, io.SeekStart); err == nil {
		_, err = io.Copy(dst, o.File)
	}
	if err == nil {
		err = dst.Sync()
	}
	if closeErr := dst.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

func (o *outputFile) commitNamed() error {
	if !o.force {
		if err := unix.Renameat2(unix.AT_FDCWD, o.tmpName, unix.AT_FDCWD, o.path, unix.RENAME_NOREPLACE); err != nil {
			return fmt.Errorf("name snapshot %s: %w", o.path, err)
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
