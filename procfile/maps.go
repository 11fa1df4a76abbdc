package procfile

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// deletedSuffix is the suffix the kernel appends to the path of a file whose
// directory entry was removed.
const deletedSuffix = " (deleted)"

// Mapping is one line of /proc/<pid>/maps.
type Mapping struct {
	Start, End uint64 // virtual addresses, End exclusive
	Perms      string // four letters such as "r-xp", 's' for shared, 'p' for private
	Offset     uint64 // bytes into the mapped file
	Device     string // "major:minor" in hex, such as "fd:01"
	Inode      uint64 // 0 for anonymous and pseudo mappings
	// Path is the raw path text, "" for anonymous mappings. It keeps a
	// " (deleted)" suffix and the kernel's octal escape "\012" for newlines.
	Path string
}

// ParseMaps parses the content of /proc/<pid>/maps or its 32-bit form. It
// skips empty lines. Empty data, as for kernel threads and zombies, gives no
// mappings. A malformed line is skipped and reported in the error, which comes
// with the mappings of every other line.
//
// The text fields of all mappings share one copy of data, so parsing a file
// without malformed lines makes two allocations whatever its number of
// lines.
func ParseMaps(data []byte) ([]Mapping, error) {
	mappings := make([]Mapping, 0, estimateRows(data, shortestMapsLine))
	var firstErr error
	lineNumber := 0
	for rest := string(data); rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		lineNumber++
		if line == "" {
			continue
		}
		m, err := parseMapsText(line)
		if err != nil {
			// Keep the other mappings: one corrupt line must not hide them.
			if firstErr == nil {
				firstErr = fmt.Errorf("maps line %d: %w", lineNumber, err)
			}
			continue
		}
		mappings = append(mappings, m)
	}
	return mappings, firstErr
}

// shortestMapsLine is the shortest line that parseMapsText accepts.
const shortestMapsLine = "0-0 ---p 0 0:0 0"

// ParseMapsLine parses one maps line, with or without its "\n". It reads five
// whitespace-separated fields (address range, permissions, offset, device,
// inode), skips the spaces after them, and takes the rest of the line as the
// path. So paths keep their spaces, and a line ending in "0 " has no path.
//
// NOTE: the kernel pads with spaces before the path, so leading spaces of a
// file name are indistinguishable from the padding and are lost.
func ParseMapsLine(line []byte) (Mapping, error) {
	return parseMapsText(string(bytes.TrimSuffix(line, []byte("\n"))))
}

// parseMapsText parses one maps line without its "\n". The text fields of the
// result are substrings of line.
func parseMapsText(line string) (Mapping, error) {
	rest := line
	var fields [5]string
	for i := range fields {
		fields[i], rest = nextMapsField(rest)
		if fields[i] == "" {
			return Mapping{}, fmt.Errorf("%w: maps: %d fields before the path, want 5, in %q",
				ErrMalformed, i, excerpt(line))
		}
	}

	var m Mapping
	var err error
	m.Start, m.End, err = parseAddressRange(fields[0])
	if err != nil {
		return Mapping{}, err
	}
	if !validPerms(fields[1]) {
		return Mapping{}, fmt.Errorf("%w: maps: permissions %q are not of the form \"rwxp\"",
			ErrMalformed, excerpt(fields[1]))
	}
	m.Perms = fields[1]
	var ok bool
	m.Offset, ok = parseHex(fields[2])
	if !ok {
		return Mapping{}, fmt.Errorf("%w: maps: offset %q is not hexadecimal", ErrMalformed, excerpt(fields[2]))
	}
	if !validDevice(fields[3]) {
		return Mapping{}, fmt.Errorf("%w: maps: device %q is not of the form \"major:minor\"",
			ErrMalformed, excerpt(fields[3]))
	}
	m.Device = fields[3]
	m.Inode, ok = parseDecimal(fields[4])
	if !ok {
		return Mapping{}, fmt.Errorf("%w: maps: inode %q is not a decimal number", ErrMalformed, excerpt(fields[4]))
	}
	m.Path = strings.TrimLeft(rest, " ")
	return m, nil
}

// nextMapsField skips the spaces and tabs at the start of text and returns
// the field up to the next space or tab, and the text after it.
func nextMapsField(text string) (field, rest string) {
	start := 0
	for start < len(text) && (text[start] == ' ' || text[start] == '\t') {
		start++
	}
	end := start
	for end < len(text) && text[end] != ' ' && text[end] != '\t' {
		end++
	}
	return text[start:end], text[end:]
}

// parseAddressRange parses "start-end" in hex. Addresses go up to
// 0xffffffffff601000 ([vsyscall]), above math.MaxInt64, so they are unsigned.
func parseAddressRange(text string) (start, end uint64, err error) {
	startText, endText, found := strings.Cut(text, "-")
	if !found {
		return 0, 0, fmt.Errorf("%w: maps: address range %q has no '-'", ErrMalformed, excerpt(text))
	}
	start, ok := parseHex(startText)
	if !ok {
		return 0, 0, fmt.Errorf("%w: maps: start address %q is not hexadecimal", ErrMalformed, excerpt(startText))
	}
	end, ok = parseHex(endText)
	if !ok {
		return 0, 0, fmt.Errorf("%w: maps: end address %q is not hexadecimal", ErrMalformed, excerpt(endText))
	}
	if end < start {
		return 0, 0, fmt.Errorf("%w: maps: end address %q is below start %q", ErrMalformed, excerpt(endText), excerpt(startText))
	}
	return start, end, nil
}

// parseHex parses a non-empty run of hex digits that fits in 64 bits. It
// accepts what strconv.ParseUint(text, 16, 64) accepts, without allocating
// an error for the caller to discard.
func parseHex(text string) (uint64, bool) {
	if text == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(text); i++ {
		var digit byte
		switch c := text[i]; {
		case '0' <= c && c <= '9':
			digit = c - '0'
		case 'a' <= c && c <= 'f':
			digit = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			digit = c - 'A' + 10
		default:
			return 0, false
		}
		if n > math.MaxUint64>>4 {
			return 0, false
		}
		n = n<<4 | uint64(digit)
	}
	return n, true
}

// parseDecimal parses a non-empty run of decimal digits that fits in 64
// bits, as strconv.ParseUint(text, 10, 64) does.
func parseDecimal(text string) (uint64, bool) {
	if text == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		digit := uint64(c - '0')
		if n > (math.MaxUint64-digit)/10 {
			return 0, false
		}
		n = n*10 + digit
	}
	return n, true
}

// validPerms reports whether text has the shape the kernel prints: r, w and x
// or '-', then 's' (shared) or 'p' (private).
func validPerms(text string) bool {
	return len(text) == 4 &&
		(text[0] == 'r' || text[0] == '-') &&
		(text[1] == 'w' || text[1] == '-') &&
		(text[2] == 'x' || text[2] == '-') &&
		(text[3] == 's' || text[3] == 'p')
}

// validDevice reports whether text is two hex numbers joined by ':'.
func validDevice(text string) bool {
	major, minor, found := strings.Cut(text, ":")
	return found && isHex(major) && isHex(minor)
}

func isHex(text string) bool {
	if text == "" {
		return false
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// SplitDeleted strips exactly one trailing " (deleted)" from a maps path or a
// readlink text and reports whether it did. A live file whose name ends in
// " (deleted)" gives the same text, so deleted=true is a guess from the text
// alone. SplitDeletedNlink uses the link count to tell them apart.
func SplitDeleted(path string) (string, bool) {
	trimmed, found := strings.CutSuffix(path, deletedSuffix)
	return trimmed, found
}

// SplitDeletedNlink is SplitDeleted for a link whose target's link count is
// known, from stat(2) of /proc/<pid>/exe or /proc/<pid>/fd/<n>. A count above
// zero means the file still exists, so the text is returned whole with
// deleted=false. A count of zero means deleted, with one suffix stripped.
//
// NOTE: a file with a second hard link that lost the name shown here also has
// a count above zero. Compare inodes with the file on disk to tell that case.
func SplitDeletedNlink(link string, nlink uint64) (path string, deleted bool) {
	if nlink > 0 {
		return link, false
	}
	path, _ = SplitDeleted(link)
	return path, true
}

// Kinds of mapping paths returned by MapPathKind.
const (
	MapAnonymous = "anonymous"  // no path
	MapPseudo    = "pseudo"     // a bracketed kernel name such as "[heap]"
	MapAnonNamed = "anon_named" // "[anon:<name>]" or "[anon_shmem:<name>]"
	MapMemfd     = "memfd"      // "/memfd:<name>", from memfd_create(2)
	MapAnonInode = "anon_inode" // "anon_inode:<name>", such as "anon_inode:[io_uring]"
	MapFile      = "file"       // anything else, normally an absolute path
)

// MapPathKind classifies a raw maps path:
//   - "" is MapAnonymous.
//   - "[anon:<name>]" and "[anon_shmem:<name>]" are MapAnonNamed, named by
//     prctl(PR_SET_VMA_ANON_NAME) on Linux 5.17 and later, and on Android.
//   - Other bracketed names are MapPseudo: "[heap]", "[stack]",
//     "[stack:<tid>]" (before Linux 4.5), "[vdso]", "[vvar]", "[vvar_vclock]",
//     "[vsyscall]", "[uprobes]", "[rollup]" (smaps_rollup) and future ones.
//   - "/memfd:<name>", with or without " (deleted)", is MapMemfd.
//   - "anon_inode:<name>" is MapAnonInode.
//   - Everything else is MapFile, including deleted files and /dev/shm files.
func MapPathKind(path string) string {
	switch {
	case path == "":
		return MapAnonymous
	case strings.HasPrefix(path, "[") && strings.HasSuffix(path, "]"):
		if strings.HasPrefix(path, "[anon:") || strings.HasPrefix(path, "[anon_shmem:") {
			return MapAnonNamed
		}
		return MapPseudo
	case strings.HasPrefix(path, "/memfd:"):
		return MapMemfd
	case strings.HasPrefix(path, "anon_inode:"):
		return MapAnonInode
	default:
		return MapFile
	}
}

// MemfdName returns the name given to memfd_create(2) from a path such as
// "/memfd:jit-code (deleted)", and false for other paths.
func MemfdName(path string) (string, bool) {
	path, _ = SplitDeleted(path)
	name, found := strings.CutPrefix(path, "/memfd:")
	if !found {
		return "", false
	}
	return name, true
}
