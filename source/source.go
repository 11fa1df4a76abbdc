// Package source provides the files that procsql's tables read: a live procfs
// mount, a copied /proc tree, or (later) a snapshot archive. Tables see only
// the Source interface, so the same parsing code serves every backend.
package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Source reads /proc-style data. Every name is a slash-separated path relative
// to the procfs root, such as "123/stat" or "net/tcp6".
//
// Errors keep their errno: a missing file matches fs.ErrNotExist, a vanished
// process matches syscall.ESRCH or fs.ErrNotExist, and a denied read matches
// fs.ErrPermission, so callers can tell evidence of absence from a failure.
type Source interface {
	// ReadFile returns the whole content of a file. Callers must not
	// change the bytes: a Cache or a snapshot hands the same slice to
	// every reader of the file.
	ReadFile(name string) ([]byte, error)
	// ReadLink returns the target text of a symbolic link, such as
	// "socket:[4711]" for "123/fd/3".
	ReadLink(name string) (string, error)
	// ReadDir returns the entry names of a directory in lexical order.
	ReadDir(name string) ([]string, error)
	// Stat returns the hard link count and size of the file that a magic
	// link such as "123/exe" or "123/fd/4" refers to. A link count of 0
	// means the file was deleted.
	Stat(name string) (FileStat, error)
	// Hash returns the SHA-256 digest and size of the file that a magic
	// link such as "123/exe" refers to. It reads the file through the link,
	// so a deleted or memfd executable is hashed too.
	Hash(name string) (Digest, error)
	// ProbePIDs returns, in ascending order, the numbers from 1 to max for
	// which a directory /proc/<n> exists when looked up by name. The kernel
	// resolves such lookups for every thread id too, and a rootkit that hides
	// a process from the directory listing usually does not hide it here.
	ProbePIDs(max int) ([]int, error)
	// HostFile returns a file of the host outside /proc, such as
	// "etc/passwd", used to name users and groups.
	HostFile(name string) ([]byte, error)
	// HostDir returns the entry names of a host directory outside /proc,
	// such as "sys/module", in lexical order.
	HostDir(name string) ([]string, error)
	// Describe returns what the source is and when it was read.
	Describe() Description
}

// FileStat is the part of stat(2) that procsql reads through a magic link.
type FileStat struct {
	LinkCount uint64 // st_nlink; 0 for a deleted file
	Size      int64  // st_size in bytes
	HasSize   bool   // false when the source recorded only the link count
}

// Digest identifies the content of a file.
type Digest struct {
	SHA256 string // lower-case hex
	Size   int64  // bytes
	// SizeUnknown is set by sources that know the digest but not the
	// size, such as a collector's hash list; Size is then 0.
	SizeUnknown bool
}

// Description identifies a source for the system table and for messages.
type Description struct {
	// Kind is "live" for a procfs mount, "tree" for a copied directory,
	// "snapshot", or the collector format of an imported collection:
	// "uac" or "catscale".
	Kind         string
	Location     string // the procfs root directory, snapshot file or collection
	Architecture string // machine name as uname reports it; "" when unknown
	ByteOrder    binary.ByteOrder
	ReadTime     time.Time // when the source was opened; the capture start for a snapshot or collection
	// The fields below are known for snapshots and collections only.
	CaptureEnd time.Time
	Collector  string // the program and version that captured the data, such as "UAC 3.3.0"
	// Lossy lists, one sentence each, what a collector changed or dropped
	// on its way from /proc, naming the columns affected.
	Lossy []string
	// Problems lists integrity findings about a collection, such as a
	// file that does not match the collector's own hash list.
	Problems []string
}

// ErrNotCollected is wrapped by the error for a file that a copied tree or a
// snapshot does not contain, without a record that its read failed. It
// matches fs.ErrNotExist, but unlike a vanished process it means the data
// was not collected.
var ErrNotCollected = fmt.Errorf("not collected by the source: %w", fs.ErrNotExist)

// ErrDamaged is wrapped by the error for data that a source holds but
// cannot serve intact, such as a snapshot segment that fails its digest.
// Unlike a failed read of /proc, which leaves columns NULL, it must fail
// the query, because the result would silently miss the damaged data.
var ErrDamaged = errors.New("damaged source data")

// Gone reports whether err means that the process owning the file no longer
// exists: the kernel returns ENOENT when the pid directory is gone and ESRCH
// when the process exits between open and read.
func Gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// ErrnoName returns the symbolic errno of err, such as "EACCES", or "" when err
// carries no errno.
func ErrnoName(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return ""
	}
	return unix.ErrnoName(errno)
}

// ParseErrno converts a symbolic errno name such as "EACCES" into its value.
func ParseErrno(name string) (syscall.Errno, bool) {
	errno, ok := errnoByName()[name]
	return errno, ok
}

// errnoByName maps every errno name of this platform to its value.
var errnoByName = sync.OnceValue(func() map[string]syscall.Errno {
	names := map[string]syscall.Errno{}
	for errno := syscall.Errno(1); errno < 4096; errno++ {
		if name := unix.ErrnoName(errno); name != "" {
			names[name] = errno
		}
	}
	return names
})
