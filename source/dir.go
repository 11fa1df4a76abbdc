package source

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// procSuperMagic is the f_type that statfs reports for a procfs mount.
const procSuperMagic = 0x9fa0

// Dir reads a procfs root directory: the live /proc, another procfs mount such
// as /host/proc, or a copy of /proc made with ordinary tools.
//
// A copied tree stores links as regular files holding the link text. It may
// record a failed read of NAME as a file NAME.error holding the errno name
// (for example "EACCES"), the hard link count of an exe target as NAME.nlink,
// and its digest as NAME.sha256. Dir honours all of them, so a copy returns
// what the original returned.
type Dir struct {
	root     string
	procfs   bool
	readTime time.Time

	// proc keeps the fd/ and fdinfo/ directories of processes open on a
	// procfs mount. It is nil for a copied tree.
	proc *procDirs

	// The directories that a copied tree's reads are confined to, opened
	// once with O_PATH: the tree, and its parent for host files.
	treeOnce         sync.Once
	treeFD, hostFD   int
	treeErr, hostErr error

	mu     sync.Mutex
	hashes map[fileID]*hashEntry
}

// hashEntry is the digest of one executable's content. The first reader
// computes it and then closes done, and readers of the same file meanwhile
// wait for it instead of hashing the file a second time.
type hashEntry struct {
	done   chan struct{}
	digest Digest
	err    error
}

// fileID identifies a file's content by device, inode and change time, so
// that processes running one binary hash it once and a binary replaced in
// place is hashed again.
type fileID struct {
	dev, ino uint64
	ctimeSec int64
	ctimeNs  int64
	size     int64
}

// NewDir opens the procfs root at root. It fails when root is not a directory.
func NewDir(root string) (*Dir, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("open procfs root %q: %w (set --proc to a /proc directory or a copy of one)", root, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("open procfs root %q: not a directory (set --proc to a /proc directory or a copy of one)", root)
	}
	var st unix.Statfs_t
	isProcfs := unix.Statfs(root, &st) == nil && st.Type == procSuperMagic
	d := &Dir{root: root, procfs: isProcfs, readTime: time.Now().UTC(), hashes: map[fileID]*hashEntry{}}
	if isProcfs {
		d.proc = newProcDirs(root)
	}
	return d, nil
}

func (d *Dir) full(name string) string {
	return filepath.Join(d.root, filepath.FromSlash(name))
}

// MaxFileSize bounds one file read. The largest /proc files procsql reads
// (smaps of a process with many mappings, net/tcp with many connections)
// stay well below it. A larger file in a copied tree is rejected, not loaded.
//
// TODO: nothing bounds the total a copied tree can make one query read, so
// many files near this size can still exhaust memory.
const MaxFileSize = 256 << 20

// openFile opens path, a full path under the root or, for host files, under
// its parent. For a procfs mount it is a plain open. A copied tree may come
// from a hostile host, so openat2 confines the open to the tree and rejects
// a symbolic link in any component. A link then cannot lead to the
// analyst's own files or to the live /proc.
func (d *Dir) openFile(path string, flags int) (*os.File, error) {
	if d.procfs {
		return os.OpenFile(path, flags&^syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	}
	d.treeOnce.Do(func() {
		d.treeFD, d.treeErr = unix.Open(d.root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		d.hostFD, d.hostErr = unix.Open(filepath.Dir(filepath.Clean(d.root)), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	base, baseFD, baseErr := filepath.Clean(d.root), d.treeFD, d.treeErr
	rel, err := filepath.Rel(base, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		base, baseFD, baseErr = filepath.Dir(base), d.hostFD, d.hostErr
		rel, err = filepath.Rel(base, path)
		if err != nil || strings.HasPrefix(rel, "../") {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("outside the tree %s", d.root)}
		}
	}
	if baseErr != nil {
		return nil, &fs.PathError{Op: "open", Path: base, Err: baseErr}
	}
	how := &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC | unix.O_NOFOLLOW),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(baseFD, rel, how)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// ReadFile implements Source. It reads until EOF instead of trusting the size
// that stat reports, because /proc files report a size of 0.
func (d *Dir) ReadFile(name string) ([]byte, error) {
	if d.procfs {
		var data []byte
		err := d.proc.run(name, func(dirfd int, rel string) error {
			var err error
			data, err = readProcFileAt(dirfd, rel, oneRead(name))
			return err
		})
		return data, err
	}
	data, err := d.readAll(d.full(name))
	if err != nil {
		return nil, d.recordedError(name, err)
	}
	return data, nil
}

// readAll reads a whole file of at most MaxFileSize bytes. In a copied tree,
// which may come from a hostile host, it does not follow symbolic links and
// reads only regular files, so a link to /dev/zero or a FIFO cannot exhaust
// memory or block the scan.
func (d *Dir) readAll(name string) ([]byte, error) {
	if d.procfs {
		return readProcFileAt(unix.AT_FDCWD, name, oneRead(name))
	}
	f, err := d.openFile(name, os.O_RDONLY|syscall.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(4096)
	if !d.procfs {
		info, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if !info.Mode().IsRegular() {
			return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("not a regular file (%s) in a copied tree", info.Mode().Type())}
		}
		// A copied file's size is known, and most are link texts or
		// counters of a few bytes; one byte more lets the read see EOF.
		size = min(info.Size()+1, MaxFileSize+1)
	}
	buf := make([]byte, 0, size)
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) > MaxFileSize {
			return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("file is larger than %d bytes", MaxFileSize)}
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// ReadLink implements Source. In a copied tree a link is a regular file whose
// content is the link text.
func (d *Dir) ReadLink(name string) (string, error) {
	if d.procfs {
		var target string
		err := d.proc.run(name, func(dirfd int, rel string) error {
			var err error
			if target, err = readlinkAt(dirfd, rel); err != nil {
				return &fs.PathError{Op: "readlink", Path: rel, Err: err}
			}
			return nil
		})
		return target, err
	}
	target, err := d.readlink(d.full(name))
	if err == nil {
		return target, nil
	}
	if errors.Is(err, syscall.EINVAL) {
		data, readErr := d.readAll(d.full(name))
		if readErr != nil {
			return "", d.recordedError(name, readErr)
		}
		// Tools that save link text, such as readlink > file, add a newline
		// that readlink(2) never returns.
		return strings.TrimSuffix(string(data), "\n"), nil
	}
	return "", d.recordedError(name, err)
}

// readlink reads a link's text in a copied tree, only through directories
// that are not links themselves.
func (d *Dir) readlink(path string) (string, error) {
	dir, err := d.openFile(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return "", err
	}
	defer dir.Close()
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(int(dir.Fd()), filepath.Base(path), buf)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: path, Err: err}
	}
	return string(buf[:n]), nil
}

// ReadDir implements Source. In a copied tree the .error, .nlink, .size and
// .sha256 side files are hidden.
func (d *Dir) ReadDir(name string) ([]string, error) {
	if !d.procfs && (name == "." || name == "") {
		// A copy may record what readdir(/proc) returned, which can differ
		// from the directories copied when a rootkit hid some of them.
		if data, err := d.readAll(filepath.Join(d.root, "listing.txt")); err == nil {
			names := strings.Fields(string(data))
			sort.Strings(names)
			return names, nil
		}
	}
	var names []string
	if d.procfs {
		// A listed directory such as 123/fd is read through next, so its
		// descriptor is kept for those reads.
		keep := isProcDirKey(name)
		var fd int
		var err error
		if names, fd, err = readProcDir(d.full(name), keep); err != nil {
			return nil, err
		}
		if keep {
			d.proc.keep(name, fd)
		}
	} else {
		f, err := d.openFile(d.full(name), os.O_RDONLY|syscall.O_DIRECTORY)
		if err != nil {
			return nil, d.recordedError(name, err)
		}
		defer f.Close()
		if names, err = f.Readdirnames(-1); err != nil {
			return nil, d.recordedError(name, err)
		}
	}
	if !d.procfs {
		kept := names[:0]
		for _, n := range names {
			if !strings.HasSuffix(n, ".error") && !strings.HasSuffix(n, ".nlink") && !strings.HasSuffix(n, ".size") && !strings.HasSuffix(n, ".sha256") {
				kept = append(kept, n)
			}
		}
		names = kept
	}
	sort.Strings(names)
	return names, nil
}

// Stat implements Source by following the magic link to its file. In a
// copied tree, NAME.nlink holds the link count and an optional NAME.size
// the size.
func (d *Dir) Stat(name string) (FileStat, error) {
	if !d.procfs {
		data, err := d.readAll(d.full(name) + ".nlink")
		if err != nil {
			return FileStat{}, d.recordedError(name, fs.ErrNotExist)
		}
		n, err := strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
		if err != nil {
			return FileStat{}, fmt.Errorf("read link count %q: %w", name+".nlink", err)
		}
		st := FileStat{LinkCount: n}
		if data, err := d.readAll(d.full(name) + ".size"); err == nil {
			if size, err := strconv.ParseInt(string(bytes.TrimSpace(data)), 10, 64); err == nil && size >= 0 {
				st.Size, st.HasSize = size, true
			}
		}
		return st, nil
	}
	var st unix.Stat_t
	err := d.proc.run(name, func(dirfd int, rel string) error {
		if err := unix.Fstatat(dirfd, rel, &st, 0); err != nil {
			return &fs.PathError{Op: "stat", Path: rel, Err: err}
		}
		return nil
	})
	if err != nil {
		return FileStat{}, err
	}
	return FileStat{LinkCount: uint64(st.Nlink), Size: st.Size, HasSize: true}, nil
}

// Hash implements Source. In a copied tree, which cannot hold the file behind
// a link, NAME.sha256 may hold "<hex digest> <size>".
func (d *Dir) Hash(name string) (Digest, error) {
	if !d.procfs {
		data, err := d.readAll(d.full(name) + ".sha256")
		if err != nil {
			return Digest{}, d.recordedError(name, fs.ErrNotExist)
		}
		var dg Digest
		if _, err := fmt.Sscan(string(data), &dg.SHA256, &dg.Size); err != nil {
			return Digest{}, fmt.Errorf("read digest %q: %w", name+".sha256", err)
		}
		return dg, nil
	}
	var dg Digest
	err := d.proc.run(name, func(dirfd int, rel string) error {
		var err error
		dg, err = d.hashAt(dirfd, rel)
		return err
	})
	return dg, err
}

// hashAt hashes the file that path, relative to dirfd, opens. Files with
// the same identity share one digest, computed by the first caller.
func (d *Dir) hashAt(dirfd int, path string) (Digest, error) {
	fd, err := openatRetry(dirfd, path, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return Digest{}, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Digest{}, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	id := fileID{dev: st.Dev, ino: st.Ino, ctimeSec: st.Ctim.Sec, ctimeNs: st.Ctim.Nsec, size: st.Size}
	d.mu.Lock()
	e, found := d.hashes[id]
	if !found {
		e = &hashEntry{done: make(chan struct{})}
		d.hashes[id] = e
	}
	d.mu.Unlock()
	if found {
		<-e.done
		if e.err == nil {
			return e.digest, nil
		}
		// The first reader failed; this descriptor may still read.
		return hashFD(fd, path)
	}
	e.digest, e.err = hashFD(fd, path)
	if e.err != nil {
		d.mu.Lock()
		delete(d.hashes, id)
		d.mu.Unlock()
	}
	close(e.done)
	return e.digest, e.err
}

// hashBuffers holds the read buffers of hashFD. 256 KiB takes a 70 MB
// executable in about 300 reads instead of the 2,200 of io.Copy's 32 KiB.
var hashBuffers = sync.Pool{New: func() any { return new([256 << 10]byte) }}

// hashFD returns the SHA-256 and size of what fd reads from its offset to
// the end.
func hashFD(fd int, path string) (Digest, error) {
	buf := hashBuffers.Get().(*[256 << 10]byte)
	defer hashBuffers.Put(buf)
	h := sha256.New()
	var size int64
	for {
		n, err := unix.Read(fd, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return Digest{}, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return Digest{SHA256: hex.EncodeToString(h.Sum(nil)), Size: size}, nil
		}
		h.Write(buf[:n])
		size += int64(n)
	}
}

// Open opens a file under the root for streaming, such as "123/exe" to copy
// a deleted executable through its magic link. It is not part of Source
// because only a procfs mount can reach the file behind such a link: in a
// copied tree it fails.
func (d *Dir) Open(name string) (*os.File, error) {
	if !d.procfs {
		return nil, &fs.PathError{Op: "open", Path: d.full(name), Err: errors.New("not available in a copied tree, which stores the link text but not the linked file")}
	}
	return d.openFile(d.full(name), os.O_RDONLY)
}

// ProbePIDs implements Source. In a copied tree, which has no hidden
// entries of its own, it returns the numeric directories, and the listing
// may come from listing.txt instead (see ReadDir).
func (d *Dir) ProbePIDs(max int) ([]int, error) {
	var found []int
	if !d.procfs {
		f, err := d.openFile(d.root, os.O_RDONLY|syscall.O_DIRECTORY)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		names, err := f.Readdirnames(-1)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if pid, err := strconv.Atoi(n); err == nil && pid > 0 && pid <= max && strconv.Itoa(pid) == n {
				found = append(found, pid)
			}
		}
		sort.Ints(found)
		return found, nil
	}
	root := filepath.Clean(d.root) + "/"
	for pid := 1; pid <= max; pid++ {
		if unix.Access(root+strconv.Itoa(pid), unix.F_OK) == nil {
			found = append(found, pid)
		}
	}
	return found, nil
}

// HostFile implements Source.
func (d *Dir) HostFile(name string) ([]byte, error) {
	return d.readAll(d.hostPath(name))
}

// HostDir implements Source.
func (d *Dir) HostDir(name string) ([]string, error) {
	f, err := d.openFile(d.hostPath(name), os.O_RDONLY|syscall.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// hostPath maps a host path such as "etc/passwd" to the file to read. For the
// live /proc it is the host's own; for another root it lies beside that root,
// so /host/proc pairs with /host/etc.
func (d *Dir) hostPath(name string) string {
	base := "/"
	if filepath.Clean(d.root) != "/proc" {
		base = filepath.Dir(filepath.Clean(d.root))
	}
	return filepath.Join(base, filepath.FromSlash(path.Clean("/"+name)))
}

// Describe implements Source.
func (d *Dir) Describe() Description {
	desc := Description{Kind: "tree", Location: d.root, ByteOrder: binary.NativeEndian, ReadTime: d.readTime}
	if d.procfs {
		desc.Kind = "live"
		var uts unix.Utsname
		if unix.Uname(&uts) == nil {
			desc.Architecture = unix.ByteSliceToString(uts.Machine[:])
		}
	}
	return desc
}

// recordedError replaces a not-found error in a copied tree with the errno
// stored in NAME.error, when the copy recorded one.
func (d *Dir) recordedError(name string, err error) error {
	if d.procfs || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	data, readErr := d.readAll(d.full(name) + ".error")
	if readErr != nil {
		// A file missing from a process directory that exists, or from the
		// top of the tree, was not collected. A missing process directory
		// means the process itself is absent.
		top, _, nested := strings.Cut(name, "/")
		if !nested {
			top = "."
		}
		if dir, dirErr := d.openFile(filepath.Join(d.root, top), unix.O_PATH|unix.O_DIRECTORY); dirErr == nil {
			dir.Close()
			return &fs.PathError{Op: "read", Path: d.full(name), Err: ErrNotCollected}
		}
		return err
	}
	errno, ok := ParseErrno(strings.TrimSpace(string(data)))
	if !ok {
		return fmt.Errorf("read %q: unknown errno %q recorded in %s.error", name, strings.TrimSpace(string(data)), name)
	}
	return &fs.PathError{Op: "read", Path: d.full(name), Err: errno}
}
