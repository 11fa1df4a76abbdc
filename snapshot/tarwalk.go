package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// tarMember is one regular file of a tar stream, as walkTar finds it.
type tarMember struct {
	// name points into the stream unless a ustar prefix or a PAX path
	// record built it.
	name   []byte
	offset int64 // of the member's first data byte in the stream
	size   int64 // of its data, in bytes
}

const (
	tarBlockSize = 512
	// maxPAXHeaderSize bounds the records of one PAX extended header,
	// as archive/tar in Go 1.26 does (maxSpecialFileSize).
	maxPAXHeaderSize = 1 << 20
	tarTypeReg       = '0'
	tarTypePAX       = 'x'
)

// walkTar steps through the header blocks of the tar stream data from its
// start, without copying any entry's data, and appends each regular file
// to members. It stops at the end of data or at an end-of-archive marker
// and returns where it stopped: len(data), or the offset of the marker.
//
// It accepts a strict subset of what archive/tar reads: ustar headers with
// a valid unsigned checksum and octal numeric fields, of regular files or
// of PAX extended headers with path and size records. That is what
// archive/tar writes with tar.FormatPAX for the files of a capture. Any
// other entry type, a base-256 number, a size above maxSize, data or
// padding past the end, or a zero block followed by a header makes it
// fail with an error that names the byte offset. Whenever it accepts,
// archive/tar lists the same regular files with the same names, sizes and
// offsets; FuzzWalkTar and TestWalkTarSingleByteChanges check this
// against archive/tar of Go 1.26.
func walkTar(data []byte, maxSize int64, members []tarMember) ([]tarMember, int64, error) {
	var pos int64
	end := int64(len(data))
	// pax holds the records of a PAX extended header until the header
	// they describe.
	var pax paxRecords
	paxAt := int64(-1)
	for {
		if pos == end {
			if paxAt >= 0 {
				return members, pos, fmt.Errorf("the PAX extended header at byte %d is not followed by an entry", paxAt)
			}
			return members, pos, nil
		}
		if end-pos < tarBlockSize {
			return members, pos, fmt.Errorf("the stream ends with %d bytes at byte %d, less than a %d-byte tar block", end-pos, pos, tarBlockSize)
		}
		block := data[pos : pos+tarBlockSize]
		if isZeroBlock(block) {
			return members, pos, checkEndMarker(data, pos, paxAt)
		}
		var hdr tarHeader
		if err := parseTarHeader(block, &hdr); err != nil {
			return members, pos, fmt.Errorf("tar header at byte %d: %w", pos, err)
		}
		body := pos + tarBlockSize
		switch hdr.typeflag {
		case tarTypePAX:
			if paxAt >= 0 {
				return members, pos, fmt.Errorf("the PAX extended header at byte %d follows another one at byte %d", pos, paxAt)
			}
			if hdr.size > maxPAXHeaderSize || hdr.size > end-body {
				return members, pos, fmt.Errorf("the PAX extended header at byte %d declares %d bytes, above the limit of %d or past the end of the stream", pos, hdr.size, min(maxPAXHeaderSize, end-body))
			}
			var err error
			if pax, err = parsePAXRecords(data[body:body+hdr.size], maxSize); err != nil {
				return members, pos, fmt.Errorf("the PAX extended header at byte %d: %w", pos, err)
			}
			paxAt = pos
		case tarTypeReg:
			if paxAt >= 0 {
				if pax.path != nil {
					hdr.name = pax.path
				}
				if pax.hasSize {
					hdr.size = pax.size
				}
				pax, paxAt = paxRecords{}, -1
			}
			if hdr.size > maxSize {
				return members, pos, fmt.Errorf("entry %q at byte %d declares %d bytes, above the limit of %d", hdr.name, pos, hdr.size, maxSize)
			}
			members = append(members, tarMember{name: hdr.name, offset: body, size: hdr.size})
		default:
			return members, pos, fmt.Errorf("entry %q at byte %d is not a regular file (tar type %q); snapshots hold only regular files", hdr.name, pos, hdr.typeflag)
		}
		next := body + paddedSize(hdr.size)
		if hdr.size > end-body || next > end {
			return members, pos, fmt.Errorf("entry %q at byte %d declares %d bytes, but only %d follow its header, padding included", hdr.name, pos, hdr.size, end-body)
		}
		pos = next
	}
}

// checkEndMarker checks the zero block at pos: archive/tar ends the
// archive there only when a second zero block or the end of data follows.
func checkEndMarker(data []byte, pos, paxAt int64) error {
	if paxAt >= 0 {
		return fmt.Errorf("the PAX extended header at byte %d is followed by a zero block instead of an entry", paxAt)
	}
	next := pos + tarBlockSize
	rest := int64(len(data)) - next
	switch {
	case rest == 0:
		return nil
	case rest < tarBlockSize:
		return fmt.Errorf("the zero block at byte %d is followed by %d bytes, less than a tar block", pos, rest)
	case !isZeroBlock(data[next : next+tarBlockSize]):
		return fmt.Errorf("the zero block at byte %d is followed by a non-zero block, so the stream is damaged", pos)
	}
	return nil
}

func paddedSize(size int64) int64 {
	return (size + tarBlockSize - 1) &^ (tarBlockSize - 1)
}

// tarHeader holds the fields of one header block that walkTar uses.
type tarHeader struct {
	name     []byte
	typeflag byte
	size     int64
}

// parseTarHeader checks a ustar header block and reads its name, type and
// size into hdr. The name is the prefix field, a slash and the name field
// when the prefix is set, as in POSIX ustar.
func parseTarHeader(block []byte, hdr *tarHeader) error {
	b := (*[tarBlockSize]byte)(block)
	size, err := checkNumericFields(b)
	if err != nil {
		return err
	}
	if string(b[257:265]) != "ustar\x0000" {
		return fmt.Errorf("magic and version are %q, not the ustar %q that procsql writes", b[257:265], "ustar\x0000")
	}
	// archive/tar reads a shorter prefix field from a header that ends
	// with the star trailer, so that layout is rejected rather than guessed.
	if string(b[508:512]) == "tar\x00" {
		return errors.New("the header ends with the star trailer, which procsql does not write")
	}
	hdr.name, hdr.typeflag, hdr.size = cString(b[0:100]), b[156], size
	if b[345] != 0 {
		prefix := cString(b[345:500])
		name := make([]byte, 0, len(prefix)+1+len(hdr.name))
		hdr.name = append(append(append(name, prefix...), '/'), hdr.name...)
	}
	return nil
}

// checkNumericFields checks the checksum and every numeric field of a
// header block, as archive/tar parses them all, and returns the size.
func checkNumericFields(b *[tarBlockSize]byte) (int64, error) {
	size, checksum, ok := paddedNumericFields(b)
	if !ok {
		return parseNumericFields(b)
	}
	if got := tarBlockSum(b[:]); got != checksum {
		return 0, fmt.Errorf("checksum field is %d, but the header bytes sum to %d", checksum, got)
	}
	return size, nil
}

// The numeric fields of a ustar header block (POSIX.1-1988) besides the
// checksum, as [start, end) offsets.
var tarNumericFields = [...]struct {
	name       string
	start, end int
}{
	{"mode", 100, 108}, {"uid", 108, 116}, {"gid", 116, 124}, {"size", 124, 136},
	{"mtime", 136, 148}, {"devmajor", 329, 337}, {"devminor", 337, 345},
}

// parseNumericFields checks the numeric fields of a header block in any
// layout that parseTarOctal reads, the checksum first, and returns the size.
func parseNumericFields(b *[tarBlockSize]byte) (int64, error) {
	checksum, err := parseTarOctal(b[148:156])
	if err != nil {
		return 0, fmt.Errorf("checksum: %w", err)
	}
	if got := tarBlockSum(b[:]); got != checksum {
		return 0, fmt.Errorf("checksum field is %d, but the header bytes sum to %d", checksum, got)
	}
	var size int64
	for _, f := range tarNumericFields {
		v, err := parseTarOctal(b[f.start:f.end])
		if err != nil {
			return 0, fmt.Errorf("field %s: %w", f.name, err)
		}
		if f.name == "size" {
			size = v
		}
	}
	return size, nil
}

// paddedNumericFields reads the size and checksum of a header block whose
// numeric fields all have the layout archive/tar writes. That is octal
// digits in all bytes but the last, which is NUL, and for the checksum
// six digits, a NUL and a space. Loading a segment reads every header, so
// it tests and converts eight bytes at a time. ok is false for any other
// layout, which parseNumericFields then reads.
func paddedNumericFields(b *[tarBlockSize]byte) (size, checksum int64, ok bool) {
	// A byte is an octal digit when its top five bits are those of '0'.
	// Fields are little-endian words, so the last byte is the top one.
	const (
		digits   = 0x3030303030303030
		mask     = 0xf8f8f8f8f8f8f8f8
		nulMask  = mask | 0xff<<56
		nulWant  = digits &^ (0xff << 56)
		tailMask = 0xfff8f8f8 // three digits and a NUL
		tailWant = 0x00303030
	)
	le := binary.LittleEndian
	if le.Uint64(b[100:])&nulMask != nulWant || le.Uint64(b[108:])&nulMask != nulWant ||
		le.Uint64(b[116:])&nulMask != nulWant || le.Uint64(b[329:])&nulMask != nulWant ||
		le.Uint64(b[337:])&nulMask != nulWant {
		return 0, 0, false
	}
	sizeHead, mtimeHead := le.Uint64(b[124:]), le.Uint64(b[136:])
	if sizeHead&mask != digits || le.Uint32(b[132:])&tailMask != tailWant ||
		mtimeHead&mask != digits || le.Uint32(b[144:])&tailMask != tailWant {
		return 0, 0, false
	}
	sum := le.Uint64(b[148:])
	if sum&(0xffff<<48|mask) != 0x2000<<48|digits&^(0xffff<<48) {
		return 0, 0, false
	}
	size = octalWord(sizeHead)<<9 | int64(b[132]-'0')<<6 | int64(b[133]-'0')<<3 | int64(b[134]-'0')
	// Two leading '0' digits make the six checksum digits a word of eight.
	return size, octalWord(sum<<16 | 0x3030), true
}

// octalWord converts eight octal digits, the most significant in the
// lowest byte of w, to their value: adjacent digits, then pairs of them,
// then quadruples are combined in parallel.
func octalWord(w uint64) int64 {
	w -= 0x3030303030303030
	w = (w&0x00ff00ff00ff00ff)<<3 + (w>>8)&0x00ff00ff00ff00ff
	w = (w&0x0000ffff0000ffff)<<6 + (w>>16)&0x0000ffff0000ffff
	w = (w&0x00000000ffffffff)<<12 + w>>32
	return int64(w)
}

// cString returns b up to its first NUL.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// parseTarOctal reads a numeric header field: octal digits, optionally
// padded with leading or trailing spaces and NULs, where a field of only
// padding is 0. archive/tar also reads base-256 numbers and stops at an
// inner NUL; walkTar rejects both, so it never reads a field differently.
func parseTarOctal(field []byte) (int64, error) {
	if field[0]&0x80 != 0 {
		return 0, fmt.Errorf("%x is a base-256 number, which procsql does not write", field)
	}
	i, j := 0, len(field)
	for i < j && (field[i] == ' ' || field[i] == 0) {
		i++
	}
	for j > i && (field[j-1] == ' ' || field[j-1] == 0) {
		j--
	}
	// At most 12 digits, so the value fits in 36 bits.
	var v int64
	for _, c := range field[i:j] {
		if c < '0' || c > '7' {
			return 0, fmt.Errorf("%q is not an octal number", field)
		}
		v = v<<3 | int64(c-'0')
	}
	return v, nil
}

// tarBlockSum adds the bytes of a 512-byte header block, with the checksum
// field at bytes 148 to 155 counted as spaces. Loading a segment checks
// every header, so it adds eight bytes at a time: alternate bytes of each
// word go into four 16-bit lanes. Each lane receives two bytes of each of
// the 64 words, at most 32,640 in all, so none overflows.
func tarBlockSum(block []byte) int64 {
	const lanes = 0x00ff00ff00ff00ff
	b := (*[tarBlockSize]byte)(block)
	var even, odd uint64
	for i := 0; i < tarBlockSize; i += 32 {
		w0, w1 := binary.LittleEndian.Uint64(b[i:]), binary.LittleEndian.Uint64(b[i+8:])
		w2, w3 := binary.LittleEndian.Uint64(b[i+16:]), binary.LittleEndian.Uint64(b[i+24:])
		even += (w0&lanes + w1&lanes) + (w2&lanes + w3&lanes)
		odd += ((w0>>8)&lanes + (w1>>8)&lanes) + ((w2>>8)&lanes + (w3>>8)&lanes)
	}
	acc := even + odd
	sum := acc&0xffff + (acc>>16)&0xffff + (acc>>32)&0xffff + acc>>48
	field := binary.LittleEndian.Uint64(b[148:])
	field = field&lanes + (field>>8)&lanes
	sum -= field&0xffff + (field>>16)&0xffff + (field>>32)&0xffff + field>>48
	return int64(sum + 8*' ')
}

func isZeroBlock(block []byte) bool {
	for i := 0; i < tarBlockSize; i += 8 {
		if binary.LittleEndian.Uint64(block[i:]) != 0 {
			return false
		}
	}
	return true
}

// paxRecords are the records of a PAX extended header that override the
// fields of the next header.
type paxRecords struct {
	path    []byte // nil when absent
	size    int64
	hasSize bool
}

var errPAXRecord = errors.New("invalid record")

// parsePAXRecords reads the records of a PAX extended header, each
// "<length> <key>=<value>\n" with length counting the whole record in
// decimal. It accepts only the path and size keys, non-empty, and a size
// of at most maxSize. archive/tar also accepts other keys, signs and empty
// values; some of those change how it reads the entry, and procsql writes
// none of them.
func parsePAXRecords(body []byte, maxSize int64) (paxRecords, error) {
	var pax paxRecords
	for at := 0; len(body) > 0; {
		n, digits := 0, 0
		for digits < len(body) && body[digits] >= '0' && body[digits] <= '9' && digits < 8 {
			n = n*10 + int(body[digits]-'0')
			digits++
		}
		if digits == 0 || digits == len(body) || body[digits] != ' ' || n < digits+3 || n > len(body) || body[n-1] != '\n' {
			return pax, fmt.Errorf("%w at byte %d: %q", errPAXRecord, at, truncateForError(body))
		}
		key, value, ok := bytes.Cut(body[digits+1:n-1], []byte("="))
		if !ok || len(value) == 0 {
			return pax, fmt.Errorf("%w at byte %d: %q", errPAXRecord, at, body[:n])
		}
		switch string(key) {
		case "path":
			if bytes.IndexByte(value, 0) >= 0 {
				return pax, fmt.Errorf("path record %q contains a NUL byte", value)
			}
			pax.path = value
		case "size":
			size, err := parseDecimal(value, maxSize)
			if err != nil {
				return pax, fmt.Errorf("size record: %w", err)
			}
			pax.size, pax.hasSize = size, true
		default:
			return pax, fmt.Errorf("record %q is not supported; procsql writes only path and size records", key)
		}
		body = body[n:]
		at += n
	}
	return pax, nil
}

// parseDecimal reads an unsigned decimal number of at most max.
func parseDecimal(b []byte, max int64) (int64, error) {
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", b)
		}
		if v = v*10 + int64(c-'0'); v > max {
			return 0, fmt.Errorf("%q is above the limit of %d", b, max)
		}
	}
	return v, nil
}

func truncateForError(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
