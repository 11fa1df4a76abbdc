package collection

import (
	"archive/zip"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"syscall"
)

// zipFS serves a zip archive, reading and checking each file when opened.
type zipFS struct {
	r      *zip.Reader
	limits Limits
}

func openZipFS(p string, limits Limits) (fs.FS, func() error, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}

	r, err := zip.NewReader(f, info.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%w: %v (the archive is truncated or damaged)", ErrCorrupt, err)
	}
	if len(r.File) > limits.MaxEntries {
		f.Close()
		return nil, nil, fmt.Errorf("%w: %d entries, more than %d", ErrCorrupt, len(r.File), limits.MaxEntries)
	}
	if len(r.File) == 0 {
		f.Close()
		return nil, nil, fmt.Errorf("%w: the archive contains no entries", ErrCorrupt)
	}

	maxExpanded := uint64(limits.maxExpanded(info.Size()))
	var total uint64
	seen := map[string]bool{}
	for _, zf := range r.File {
		name, err := cleanEntryName(zf.Name)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		if zf.Flags&0x1 != 0 {
			f.Close()
			return nil, nil, fmt.Errorf("%w: entry %q is encrypted; decrypt the archive first (unzip -P) and pass the directory", ErrCorrupt, zf.Name)
		}
		if !strings.HasSuffix(zf.Name, "/") {
			if seen[name] {
				f.Close()
				return nil, nil, fmt.Errorf("%w: entry %q appears twice, so the archive was appended to or is damaged", ErrCorrupt, name)
			}
			seen[name] = true
		}
		total += zf.UncompressedSize64
		if total > maxExpanded {
			f.Close()
			return nil, nil, fmt.Errorf("%w: it expands to more than %d bytes, %d times its size: a decompression bomb, or extract it and pass the directory", ErrCorrupt, maxExpanded, limits.MaxExpansion)
		}
	}
	return &zipFS{r: r, limits: limits}, f.Close, nil
}

// Open implements fs.FS. A file is checked against its CRC-32 as it is
// read, and a file over MaxFileSize is rejected before it is read.
func (z *zipFS) Open(name string) (fs.File, error) {
	file, err := z.r.Open(name)
	if err != nil {
		return nil, err
	}
	return file, nil
}

// ReadFile implements fs.ReadFileFS with the size limit.
func (z *zipFS) ReadFile(name string) ([]byte, error) {
	return readLimited(z, name, z.limits.MaxFileSize)
}

// dirFS serves an extracted collection through an os.Root, so no name or
// symbolic link leads outside the directory. It opens regular files and
// directories only: a FIFO would block the open, and a symbolic link is
// not followed, as in a copied /proc tree.
type dirFS struct {
	root   *os.Root
	limits Limits
}

func openDirFS(p string, limits Limits) (fs.FS, func() error, error) {
	root, err := os.OpenRoot(p)
	if err != nil {
		return nil, nil, err
	}
	return &dirFS{root: root, limits: limits}, root.Close, nil
}

func (d *dirFS) osName(name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return name, nil
}

// Open implements fs.FS.
func (d *dirFS) Open(name string) (fs.File, error) {
	rel, err := d.osName(name)
	if err != nil {
		return nil, err
	}
	info, err := d.root.Lstat(rel)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() && !info.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("not a regular file (%s); procsql follows no links in a collection", info.Mode().Type())}
	}
	return d.root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// Stat implements fs.StatFS without following a final symbolic link.
func (d *dirFS) Stat(name string) (fs.FileInfo, error) {
	rel, err := d.osName(name)
	if err != nil {
		return nil, err
	}
	return d.root.Lstat(rel)
}

// ReadFile implements fs.ReadFileFS with the size limit.
func (d *dirFS) ReadFile(name string) ([]byte, error) {
	return readLimited(d, name, d.limits.MaxFileSize)
}

// ReadDir implements fs.ReadDirFS.
func (d *dirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := d.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir, ok := f.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	entries, err := dir.ReadDir(-1)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, err
}

// readLimited reads a whole file of fsys, failing when it is over max bytes.
func readLimited(fsys fs.FS, name string, max int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	if info.Size() > max {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%d bytes, over the limit of %d", info.Size(), max)}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(len(data)) > max {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("over the limit of %d bytes", max)}
	}
	return data, nil
}

// fileDigest returns the hex digest of a file for algo and its size, from
// the digests the file system computed while loading or by reading the
// file.
func fileDigest(fsys fs.FS, name, algo string) (string, int64, error) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return "", 0, err
	}
	if !info.Mode().IsRegular() {
		return "", 0, &fs.PathError{Op: "hash", Path: name, Err: errors.New("not a regular file")}
	}
	if d, ok := fsys.(digester); ok {
		if sum, ok := d.FileDigest(name, algo); ok {
			return sum, info.Size(), nil
		}
	}
	f, err := fsys.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := newHash(algo)
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, &fs.PathError{Op: "hash", Path: name, Err: err}
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
