package collection

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// Limits bound what opening a collection may read and hold in memory, so a
// damaged or hostile archive cannot exhaust the analyst's machine.
type Limits struct {
	// MaxEntries bounds the entries of an archive, directories included.
	MaxEntries int
	// MaxFileSize bounds, in bytes, one file read into memory. Larger
	// files stay listed and hashed, but reading them fails.
	MaxFileSize int64
	// MaxLoaded bounds, in bytes, all the files that a tar archive keeps
	// in memory. Zip archives and directories are read on demand.
	MaxLoaded int64
	// MaxExpansion bounds the uncompressed bytes of an archive per byte
	// of the file, and MinExpanded keeps that bound from rejecting small
	// files. A file that expands further is a decompression bomb.
	MaxExpansion int64
	MinExpanded  int64
}

// DefaultLimits are the limits Open uses. /proc text compresses by 5 to 20
// times; 200 leaves room for very repetitive collections, as in the
// snapshot reader.
var DefaultLimits = Limits{
	MaxEntries:   1_000_000,
	MaxFileSize:  64 << 20,
	MaxLoaded:    4 << 30,
	MaxExpansion: 200,
	MinExpanded:  1 << 30,
}

// maxExpanded returns the most bytes an archive of size bytes may expand to.
func (l Limits) maxExpanded(size int64) int64 {
	return max(size*l.MaxExpansion, l.MinExpanded)
}

// ErrCorrupt is wrapped by every error about an archive that is truncated,
// damaged or not in a format procsql reads.
var ErrCorrupt = errors.New("invalid collection archive")

// errNotLoaded is returned when reading a file whose content an archive did
// not keep in memory: it was larger than Limits.MaxFileSize.
var errNotLoaded = errors.New("larger than procsql reads of one collected file (Limits.MaxFileSize, 64 MiB by default), so its content was not kept")

// hashAlgos are the digests computed for every archive entry while it is
// read, named as UAC names its hash lists.
var hashAlgos = []string{"md5", "sha1", "sha256"}

func newHash(algo string) hash.Hash {
	switch algo {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	default:
		return sha256.New()
	}
}

// digester is implemented by a file system that hashed every file while
// reading its archive, so no file needs to be read twice.
type digester interface {
	// FileDigest returns the lower-case hex digest of a file for algo
	// ("md5", "sha1" or "sha256"), and false for a name it does not hold.
	FileDigest(name, algo string) (string, bool)
}

// Format names the container of a collection.
type Format string

// The containers Open reads.
const (
	FormatDir   Format = "directory"
	FormatTarGz Format = "tar.gz"
	FormatTar   Format = "tar"
	FormatZip   Format = "zip"
)

// acceptedFormats lists, for messages, what Open accepts.
const acceptedFormats = "a UAC or CatScale collection as .tar.gz, .tgz, .tar or .zip, or its extracted directory"

// sniff names the container of the file or directory at p by its content,
// not its name. Gzip and zip have magic numbers, and tar has "ustar" in its
// first header, except old tar files, which only the .tar name marks. It
// returns "" for anything else.
func sniff(p string) (Format, error) {
	info, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if info.IsDir() {
		return FormatDir, nil
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("not a regular file or directory (%s)", info.Mode().Type())
	}

	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	head = head[:n]

	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return FormatTarGz, nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return FormatZip, nil
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return FormatTar, nil
	case strings.HasSuffix(strings.ToLower(p), ".tar") && n == 512:
		return FormatTar, nil
	}
	return "", nil
}

// IsCollection reports whether p is a directory or a file in an archive
// format that Open reads, so a caller can tell a collection from a procsql
// snapshot before choosing how to open it. It does not check the layout
// inside.
func IsCollection(p string) (bool, error) {
	format, err := sniff(p)
	if err != nil {
		return false, err
	}
	return format != "", nil
}

// openFS opens the archive or directory at p as a read-only file system.
// keep selects the tar entries whose content is kept in memory; the others
// are listed and hashed only. close releases what the file system holds.
func openFS(p string, limits Limits, keep func(name string) bool) (fsys fs.FS, format Format, close func() error, err error) {
	format, err = sniff(p)
	if err != nil {
		return nil, "", nil, err
	}
	switch format {
	case FormatDir:
		fsys, close, err = openDirFS(p, limits)
	case FormatTarGz, FormatTar:
		fsys, err = openTarFS(p, format, limits, keep)
		close = func() error { return nil }
	case FormatZip:
		fsys, close, err = openZipFS(p, limits)
	default:
		return nil, "", nil, fmt.Errorf("%w: neither a directory nor a gzip, tar or zip archive; procsql reads %s", ErrCorrupt, acceptedFormats)
	}
	if err != nil {
		return nil, "", nil, err
	}
	return fsys, format, close, nil
}

// cleanEntryName turns an archive entry name into an fs.FS name, dropping a
// leading "./" and a trailing slash. It rejects names that an extracting
// tool would write outside its directory.
func cleanEntryName(name string) (string, error) {
	trimmed := strings.TrimSuffix(name, "/")
	for strings.HasPrefix(trimmed, "./") {
		trimmed = trimmed[2:]
	}
	if trimmed == "." || trimmed == "" {
		return ".", nil
	}
	if strings.HasPrefix(trimmed, "/") || strings.ContainsRune(trimmed, 0) {
		return "", fmt.Errorf("%w: entry %q has an absolute path or a NUL byte, so the archive is damaged or hostile", ErrCorrupt, name)
	}
	for _, elem := range strings.Split(trimmed, "/") {
		if elem == ".." {
			return "", fmt.Errorf("%w: entry %q leads out of the archive through \"..\", so the archive is damaged or hostile", ErrCorrupt, name)
		}
	}
	clean := path.Clean(trimmed)
	if !fs.ValidPath(clean) {
		return "", fmt.Errorf("%w: entry %q is not a valid path", ErrCorrupt, name)
	}
	return clean, nil
}
