package collection

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
)

// memEntry is one file or directory of an archive held in memory.
type memEntry struct {
	name    string // base name
	dir     bool
	size    int64
	modTime time.Time
	data    []byte // nil when the content was not kept
	kept    bool
	digests map[string]string // by algorithm, for files
}

// memFS is a read-only file system over a tar archive that was read once.
// It contains the content of the kept files and the digests of all of them.
type memFS struct {
	entries  map[string]*memEntry
	children map[string][]string // sorted base names by directory
}

func (m *memFS) lookup(op, name string) (*memEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	e, ok := m.entries[name]
	if !ok {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return e, nil
}

// Open implements fs.FS.
func (m *memFS) Open(name string) (fs.File, error) {
	e, err := m.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if e.dir {
		return &memDir{entry: e, fsys: m, path: name}, nil
	}
	if !e.kept {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errNotLoaded}
	}
	return &memFile{entry: e, r: bytes.NewReader(e.data)}, nil
}

// ReadFile implements fs.ReadFileFS. The returned slice is shared: callers
// must not change it.
func (m *memFS) ReadFile(name string) ([]byte, error) {
	e, err := m.lookup("read", name)
	if err != nil {
		return nil, err
	}
	if e.dir {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	if !e.kept {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errNotLoaded}
	}
	return e.data, nil
}

// Stat implements fs.StatFS.
func (m *memFS) Stat(name string) (fs.FileInfo, error) {
	e, err := m.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return memInfo{e}, nil
}

// ReadDir implements fs.ReadDirFS.
func (m *memFS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := m.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !e.dir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	names := m.children[name]
	out := make([]fs.DirEntry, len(names))
	for i, n := range names {
		out[i] = fs.FileInfoToDirEntry(memInfo{m.entries[path.Join(name, n)]})
	}
	return out, nil
}

// FileDigest implements digester.
func (m *memFS) FileDigest(name, algo string) (string, bool) {
	e, ok := m.entries[name]
	if !ok || e.dir {
		return "", false
	}
	d, ok := e.digests[algo]
	return d, ok
}

type memInfo struct{ e *memEntry }

func (i memInfo) Name() string       { return i.e.name }
func (i memInfo) Size() int64        { return i.e.size }
func (i memInfo) ModTime() time.Time { return i.e.modTime }
func (i memInfo) IsDir() bool        { return i.e.dir }
func (i memInfo) Sys() any           { return nil }
func (i memInfo) Mode() fs.FileMode {
	if i.e.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

type memFile struct {
	entry *memEntry
	r     *bytes.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error) { return memInfo{f.entry}, nil }
func (f *memFile) Read(b []byte) (int, error) { return f.r.Read(b) }
func (f *memFile) Close() error               { return nil }

type memDir struct {
	entry *memEntry
	fsys  *memFS
	path  string
	next  int
}

func (d *memDir) Stat() (fs.FileInfo, error) { return memInfo{d.entry}, nil }
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.path, Err: errors.New("is a directory")}
}
func (d *memDir) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	all, err := d.fsys.ReadDir(d.path)
	if err != nil {
		return nil, err
	}
	rest := all[d.next:]
	if n > 0 && len(rest) > n {
		rest = rest[:n]
	}
	d.next += len(rest)
	if n > 0 && len(rest) == 0 {
		return nil, io.EOF
	}
	return rest, nil
}

// newMemFS returns a file system with only its root directory.
func newMemFS() *memFS {
	return &memFS{
		entries:  map[string]*memEntry{".": {name: ".", dir: true}},
		children: map[string][]string{},
	}
}

// addDir adds name and its parents as directories. It fails when a file
// already has one of those names.
func (m *memFS) addDir(name string, modTime time.Time) error {
	if name == "." {
		return nil
	}
	if e, ok := m.entries[name]; ok {
		if !e.dir {
			return fmt.Errorf("%w: %q is both a file and a directory", ErrCorrupt, name)
		}
		return nil
	}
	if err := m.addDir(path.Dir(name), time.Time{}); err != nil {
		return err
	}
	m.entries[name] = &memEntry{name: path.Base(name), dir: true, modTime: modTime}
	m.children[path.Dir(name)] = append(m.children[path.Dir(name)], path.Base(name))
	return nil
}

// addFile adds a file. A name that the archive holds twice is rejected: an
// appended second copy would silently replace the first.
func (m *memFS) addFile(name string, e *memEntry) error {
	if _, ok := m.entries[name]; ok {
		return fmt.Errorf("%w: entry %q appears twice, so the archive was appended to or is damaged", ErrCorrupt, name)
	}
	if err := m.addDir(path.Dir(name), time.Time{}); err != nil {
		return err
	}
	m.entries[name] = e
	m.children[path.Dir(name)] = append(m.children[path.Dir(name)], e.name)
	return nil
}

func (m *memFS) sortChildren() {
	for _, names := range m.children {
		sort.Strings(names)
	}
}

// boundedReader fails once more than limit bytes were read through it, so
// a decompression bomb stops within one buffer of the limit, even inside a
// single huge entry.
type boundedReader struct {
	r     io.Reader
	n     int64
	limit int64
}

// errExpanded is returned by a boundedReader past its limit.
var errExpanded = errors.New("expansion limit reached")

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n > b.limit {
		return 0, errExpanded
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

// openTarFS reads a tar or gzip-compressed tar archive once, keeping the
// content of the entries that keep selects within limits and the digests of
// every file. Symbolic links, hard links and special files are skipped: a
// collector's hash list covers regular files only.
func openTarFS(p string, format Format, limits Limits, keep func(string) bool) (*memFS, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	maxExpanded := limits.maxExpanded(info.Size())

	var stream io.Reader = bufio.NewReaderSize(f, 1<<20)
	if format == FormatTarGz {
		zr, err := gzip.NewReader(stream)
		if err != nil {
			return nil, fmt.Errorf("%w: not a valid gzip stream: %v", ErrCorrupt, err)
		}
		defer zr.Close()
		stream = zr
	}
	bounded := &boundedReader{r: stream, limit: maxExpanded}
	m := newMemFS()
	if err := readTar(tar.NewReader(bounded), m, limits, keep); err != nil {
		if errors.Is(err, errExpanded) {
			return nil, fmt.Errorf("%w: it expands to more than %d bytes, %d times its size: a decompression bomb, or extract it and pass the directory", ErrCorrupt, maxExpanded, limits.MaxExpansion)
		}
		return nil, err
	}
	// The tar reader stops at the end-of-archive blocks. Reading on to the
	// end of the gzip stream makes the gzip reader check its CRC-32 and
	// length. Only the zeros that pad tar's last record may follow the end
	// blocks. Anything else, such as a second archive or another gzip
	// member, would be data that tar -x extracts and procsql would miss.
	if err := checkZeroTail(bounded); err != nil {
		return nil, err
	}
	m.sortChildren()
	return m, nil
}

// checkZeroTail reads r to its end and fails unless every byte is zero.
func checkZeroTail(r io.Reader) error {
	buf := make([]byte, 64<<10)
	var offset int64
	for {
		n, err := r.Read(buf)
		for i, b := range buf[:n] {
			if b != 0 {
				return fmt.Errorf("%w: invalid data %d bytes after the end of the tar archive: the file contains more than one archive or was appended to; extract it and check what follows", ErrCorrupt, offset+int64(i))
			}
		}
		offset += int64(n)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: after the last entry: %v (the archive is truncated or damaged)", ErrCorrupt, err)
		}
	}
}

// readTar fills m from tr.
func readTar(tr *tar.Reader, m *memFS, limits Limits, keep func(string) bool) error {
	entries := 0
	var loaded int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			if entries == 0 {
				return fmt.Errorf("%w: the archive contains no entries", ErrCorrupt)
			}
			return nil
		}
		if errors.Is(err, errExpanded) {
			return err
		}
		if err != nil {
			return fmt.Errorf("%w: after %d entries: %v (the archive is truncated or damaged)", ErrCorrupt, entries, err)
		}
		entries++
		if entries > limits.MaxEntries {
			return fmt.Errorf("%w: more than %d entries", ErrCorrupt, limits.MaxEntries)
		}
		name, err := cleanEntryName(hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := m.addDir(name, hdr.ModTime); err != nil {
				return err
			}
			continue
		case tar.TypeReg:
		default:
			// Links, devices and FIFOs carry no content of their own.
			continue
		}
		if name == "." {
			return fmt.Errorf("%w: entry %q is a file at the archive's root", ErrCorrupt, hdr.Name)
		}
		e := &memEntry{name: path.Base(name), size: hdr.Size, modTime: hdr.ModTime, digests: map[string]string{}}
		e.kept = keep(name) && hdr.Size <= limits.MaxFileSize
		if e.kept {
			loaded += hdr.Size
			if loaded > limits.MaxLoaded {
				return fmt.Errorf("%w: the files procsql reads add up to more than %d bytes; extract the archive and pass the directory", ErrCorrupt, limits.MaxLoaded)
			}
		}
		if err := readTarEntry(tr, e); err != nil {
			if errors.Is(err, errExpanded) {
				return err
			}
			return fmt.Errorf("%w: entry %q: %v (the archive is truncated or damaged)", ErrCorrupt, name, err)
		}
		if err := m.addFile(name, e); err != nil {
			return err
		}
	}
}

// readTarEntry hashes the current entry and keeps its content when e.kept.
func readTarEntry(tr *tar.Reader, e *memEntry) error {
	hashes := make([]hash.Hash, len(hashAlgos))
	writers := make([]io.Writer, 0, len(hashAlgos)+1)
	for i, algo := range hashAlgos {
		hashes[i] = newHash(algo)
		writers = append(writers, hashes[i])
	}
	var buf *bytes.Buffer
	if e.kept {
		buf = bytes.NewBuffer(make([]byte, 0, e.size))
		writers = append(writers, buf)
	}
	n, err := io.Copy(io.MultiWriter(writers...), tr)
	if err != nil {
		return err
	}
	if n != e.size {
		return fmt.Errorf("read %d of %d bytes", n, e.size)
	}
	for i, algo := range hashAlgos {
		e.digests[algo] = hex.EncodeToString(hashes[i].Sum(nil))
	}
	if buf != nil {
		e.data = buf.Bytes()
	}
	return nil
}
