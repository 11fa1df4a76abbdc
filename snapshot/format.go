package snapshot

import (
	"archive/tar"
	"encoding/binary"
	"fmt"
	"path"
	"strings"
)

// Names of the archive entries that are not captured files.
const (
	manifestName     = "manifest.json"
	manifestHashName = "manifest.json.sha256"
	segmentsName     = "segments.json"
	recordsDir       = "records/"
)

// zstdMagic starts every zstd frame (RFC 8878).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// The footer is the last 32 bytes of the file: a zstd skippable frame, which
// decompressors skip, holding where the manifest frame starts and how long
// it is. Without it a reader would have to decompress the whole file to
// find the manifest.
const (
	footerSize      = 32
	footerFrameType = 0x184D2A5E // a skippable-frame magic number (RFC 8878, 3.1.2)
	footerMagic     = "PROCSQLS"
)

// footer locates the manifest frame.
type footer struct {
	manifestOffset int64
	manifestLength int64
}

func (f footer) encode() []byte {
	b := make([]byte, footerSize)
	binary.LittleEndian.PutUint32(b[0:], footerFrameType)
	binary.LittleEndian.PutUint32(b[4:], footerSize-8)
	copy(b[8:], footerMagic)
	binary.LittleEndian.PutUint64(b[16:], uint64(f.manifestOffset))
	binary.LittleEndian.PutUint64(b[24:], uint64(f.manifestLength))
	return b
}

// decodeFooter checks the last footerSize bytes of a file of fileSize bytes.
func decodeFooter(b []byte, fileSize int64) (footer, error) {
	if binary.LittleEndian.Uint32(b[0:]) != footerFrameType || binary.LittleEndian.Uint32(b[4:]) != footerSize-8 ||
		string(b[8:16]) != footerMagic {
		return footer{}, fmt.Errorf("%w: the file does not end with a procsql footer: it is truncated, has data appended, or was written by a procsql development build before format version %d (capture it again)", ErrCorrupt, Version)
	}
	f := footer{
		manifestOffset: int64(binary.LittleEndian.Uint64(b[16:])),
		manifestLength: int64(binary.LittleEndian.Uint64(b[24:])),
	}
	end := fileSize - footerSize
	if f.manifestOffset < 0 || f.manifestLength <= 0 || f.manifestOffset > end || f.manifestLength != end-f.manifestOffset {
		return footer{}, fmt.Errorf("%w: the footer places the manifest at bytes %d to %d+%d of a %d-byte file, so data was appended or the file is damaged", ErrCorrupt, f.manifestOffset, f.manifestOffset, f.manifestLength, fileSize)
	}
	return f, nil
}

// segmentOf names the segment that holds the record and file of an archive
// path. Each process's reads are split by what reads them, so a query on
// processes does not decompress the memory maps: proc/<pid>/fd holds the
// fd/ links, which every socket query reads, proc/<pid>/fdinfo the fdinfo/
// files, proc/<pid>/maps holds maps, proc/<pid>/smaps holds smaps
// and smaps_rollup (often most of a capture's bytes), proc/<pid>/task holds
// the threads, and proc/<pid> the rest of the process. proc holds the other
// /proc reads, host the files outside /proc, and each executable copy is a
// segment of its own. It returns "" for a path outside proc/, host/ and exe/.
func segmentOf(p string) string {
	top, rest, _ := strings.Cut(p, "/")
	switch top {
	case "host":
		return "host"
	case "exe":
		return p
	case "proc":
	default:
		return ""
	}
	pid, sub, _ := strings.Cut(rest, "/")
	if !isDecimal(pid) {
		return "proc"
	}
	part, _, _ := strings.Cut(sub, "/")
	switch part {
	case "fd":
		return "proc/" + pid + "/fd"
	case "fdinfo":
		return "proc/" + pid + "/fdinfo"
	case "maps":
		return "proc/" + pid + "/maps"
	case "smaps", "smaps_rollup":
		return "proc/" + pid + "/smaps"
	case "task":
		return "proc/" + pid + "/task"
	}
	return "proc/" + pid
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// recordsName is the tar entry that holds a segment's records.
func recordsName(segment string) string { return recordsDir + segment + ".json" }

// checkEntryName rejects entries that an extracting tool could write outside
// its target directory, and every entry type but regular files.
func checkEntryName(hdr *tar.Header) error {
	name := hdr.Name
	switch {
	case hdr.Typeflag != tar.TypeReg:
		return fmt.Errorf("%w: entry %q is not a regular file (tar type %q); snapshots hold only regular files", ErrCorrupt, name, hdr.Typeflag)
	case name == "" || strings.HasPrefix(name, "/"):
		return fmt.Errorf("%w: entry %q has an absolute or empty path", ErrCorrupt, name)
	case path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../"):
		return fmt.Errorf("%w: entry %q is not a clean relative path", ErrCorrupt, name)
	}
	return nil
}
