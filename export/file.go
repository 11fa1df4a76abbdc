package export

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// pendingFile is one output file of a run.
type pendingFile struct {
	table string // "" for the timeline
	name  string // file name in the output directory
	path  string // final path
	tmp   string // temporary path until the file is committed
	rows  int64
	bytes int64
}

// outputDir writes files into a directory under temporary names and gives
// them their final names only when every file of the run is complete.
type outputDir struct {
	dir   string
	force bool
	temps map[string]bool // temporary files not yet renamed
}

// writeBuffer is the size in bytes of the buffer in front of each file.
const writeBuffer = 256 << 10

// newOutputDir opens dir, creating it when missing. A directory it creates
// is private to the user (0700), because the files hold environment
// variables and command lines that may contain secrets.
func newOutputDir(dir string, force bool) (*outputDir, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create output directory %s: %w", dir, err)
		}
	case err != nil:
		return nil, fmt.Errorf("open output directory %s: %w", dir, err)
	case !info.IsDir():
		return nil, fmt.Errorf("output %s is not a directory: give a directory with --out", dir)
	}
	return &outputDir{dir: dir, force: force, temps: map[string]bool{}}, nil
}

// check sets the final path of every planned file and fails, before
// anything is written, when one exists and force is off.
func (o *outputDir) check(plan []pendingFile) error {
	var existing []string
	for i := range plan {
		p := &plan[i]
		p.path = filepath.Join(o.dir, p.name)
		info, err := os.Lstat(p.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return fmt.Errorf("check output file %s: %w", p.path, err)
		case info.IsDir():
			return fmt.Errorf("output file %s is a directory: remove it or choose another --out directory", p.path)
		case !o.force:
			existing = append(existing, p.name)
		}
	}
	if len(existing) > 0 {
		return fmt.Errorf("%s already in %s: choose another --out directory or pass --force to replace them",
			strings.Join(existing, ", "), o.dir)
	}
	return nil
}

// write creates p's temporary file, fills it with write, which returns the
// number of rows, and flushes it to disk.
func (o *outputDir) write(p *pendingFile, write func(io.Writer) (int64, error)) error {
	f, err := os.CreateTemp(o.dir, "."+p.name+".*.partial")
	if err != nil {
		return fmt.Errorf("create a temporary file for %s: %w", p.path, err)
	}
	p.tmp = f.Name()
	o.temps[p.tmp] = true
	buf := bufio.NewWriterSize(f, writeBuffer)
	rows, err := write(buf)
	if err == nil {
		err = buf.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	info, err := os.Stat(p.tmp)
	if err != nil {
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	p.rows, p.bytes = rows, info.Size()
	return nil
}

// commit gives every written file its final name. Without force it never
// replaces a file, even one that appeared while the export ran.
func (o *outputDir) commit(plan []pendingFile) error {
	var done []string
	for i := range plan {
		p := &plan[i]
		if err := o.rename(p.tmp, p.path); err != nil {
			if len(done) > 0 {
				return fmt.Errorf("name %s: %w (already in place: %s)", p.path, err, strings.Join(done, ", "))
			}
			return fmt.Errorf("name %s: %w", p.path, err)
		}
		delete(o.temps, p.tmp)
		done = append(done, p.name)
	}
	// Syncing the directory makes the new names durable, as the files'
	// contents already are.
	d, err := os.Open(o.dir)
	if err != nil {
		return fmt.Errorf("sync output directory %s: %w", o.dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync output directory %s: %w", o.dir, err)
	}
	return nil
}

func (o *outputDir) rename(tmp, path string) error {
	if o.force {
		return os.Rename(tmp, path)
	}
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, path, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("%s appeared during the export: pass --force to replace it: %w", path, err)
	}
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) {
		return err
	}
	// The file system has no RENAME_NOREPLACE; link(2) also fails when
	// path exists.
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return os.Remove(tmp)
}

// discard removes the temporary files that were not committed.
func (o *outputDir) discard() {
	for tmp := range o.temps {
		os.Remove(tmp)
	}
}
