package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/procsql/procsql/source"
)

// checkWalkTar checks that when walkTar accepts data, archive/tar reads the
// same regular files with the same names, sizes and data offsets, and
// reaches the end of the archive where walkTar stopped without an error.
// walkTar may reject what archive/tar accepts.
func checkWalkTar(t *testing.T, data []byte) {
	t.Helper()
	if len(data) >= tarBlockSize {
		if got, want := tarBlockSum(data[:tarBlockSize]), naiveBlockSum(data[:tarBlockSize]); got != want {
			t.Fatalf("tarBlockSum = %d, want %d", got, want)
		}
	}
	members, end, err := walkTar(data, 1<<20, nil)
	if err != nil {
		return
	}
	r := bytes.NewReader(data)
	tr := tar.NewReader(r)
	var want []tarMember
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("walkTar accepted a stream that archive/tar rejects after %d entries: %v", len(want), err)
		}
		// After Next, the reader is at the entry's first data byte.
		offset := int64(len(data)) - int64(r.Len())
		if hdr.Typeflag != tar.TypeReg {
			t.Fatalf("walkTar accepted entry %q at offset %d, which archive/tar reads as type %q", hdr.Name, offset, hdr.Typeflag)
		}
		n, err := io.Copy(io.Discard, tr)
		if err != nil || n != hdr.Size {
			t.Fatalf("walkTar accepted entry %q, whose %d bytes archive/tar cannot read: %d bytes, %v", hdr.Name, hdr.Size, n, err)
		}
		want = append(want, tarMember{name: []byte(hdr.Name), offset: offset, size: hdr.Size})
	}
	if len(members) != len(want) {
		t.Fatalf("walkTar found %d regular files, archive/tar %d:\n walk %s\n tar  %s", len(members), len(want), formatMembers(members), formatMembers(want))
	}
	for i := range want {
		m, w := members[i], want[i]
		if !bytes.Equal(m.name, w.name) || m.offset != w.offset || m.size != w.size {
			t.Fatalf("member %d: walkTar %s, archive/tar %s", i, formatMembers(members[i:i+1]), formatMembers(want[i:i+1]))
		}
	}
	if end != int64(len(data)) && !isZeroBlock(data[end:end+tarBlockSize]) {
		t.Fatalf("walkTar stopped at byte %d of %d, which is not a zero block", end, len(data))
	}
}

func formatMembers(members []tarMember) string {
	var b strings.Builder
	for _, m := range members {
		fmt.Fprintf(&b, "%q@%d+%d ", m.name, m.offset, m.size)
	}
	return b.String()
}

// naiveBlockSum is the checksum as POSIX defines it, one byte at a time.
func naiveBlockSum(block []byte) int64 {
	var sum int64
	for i, c := range block {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	return sum
}

// testTar writes files as the capture writes a segment: tar.FormatPAX
// headers without the end-of-archive marker, unless end is set.
func testTar(t testing.TB, end bool, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, name := range files {
		body := bytes.Repeat([]byte{byte('a' + i%26)}, i*200)
		if err := writeEntry(tw, name, body, time.Unix(1700000000, 0)); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if end {
		err = tw.Close()
	} else {
		err = tw.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	// longName fits a ustar header only split into prefix and name.
	longName = "host/" + strings.Repeat("d", 120) + "/file"
	// paxName fits no ustar header, so archive/tar writes a PAX path.
	paxName = "host/" + strings.Repeat("f", 160)
)

func TestWalkTarMatchesArchiveTar(t *testing.T) {
	cases := map[string][]byte{
		"empty stream":        nil,
		"one file":            testTar(t, false, "records/proc/1.json"),
		"files":               testTar(t, false, "records/proc/1.json", "proc/1/cmdline", "proc/1/stat", "proc/1/status"),
		"end marker":          testTar(t, true, "records/proc/1.json", "proc/1/stat"),
		"ustar prefix":        testTar(t, false, "records/host.json", longName),
		"PAX path":            testTar(t, false, "records/host.json", paxName),
		"PAX non-ASCII path":  testTar(t, false, "records/host.json", "host/etc/caf\u00e9"),
		"one zero block":      append(testTar(t, false, "records/proc/1.json", "proc/1/stat"), make([]byte, tarBlockSize)...),
		"end marker and junk": append(testTar(t, true, "records/proc/1.json"), "junk after the end"...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, err := walkTar(data, 1<<20, nil); err != nil {
				t.Fatalf("walkTar: %v", err)
			}
			checkWalkTar(t, data)
		})
	}

	members, end, err := walkTar(cases["PAX path"], 1<<20, nil)
	if err != nil || len(members) != 2 || string(members[1].name) != paxName || members[1].size != 200 {
		t.Errorf("PAX path: walkTar = %s, %v; want %q of 200 bytes", formatMembers(members), err, paxName)
	}
	if end != int64(len(cases["PAX path"])) {
		t.Errorf("PAX path: walkTar stopped at %d of %d", end, len(cases["PAX path"]))
	}
	members, _, err = walkTar(cases["ustar prefix"], 1<<20, nil)
	if err != nil || len(members) != 2 || string(members[1].name) != longName {
		t.Errorf("ustar prefix: walkTar = %s, %v; want %q", formatMembers(members), err, longName)
	}
	if _, end, _ := walkTar(cases["end marker"], 1<<20, nil); end != int64(len(cases["end marker"]))-2*tarBlockSize {
		t.Errorf("end marker: walkTar stopped at %d, want the marker at %d", end, len(cases["end marker"])-2*tarBlockSize)
	}
}

// setField writes value into a header field and fixes the checksum.
func setField(block []byte, start int, value string) {
	copy(block[start:], value)
	resum(block)
}

func resum(block []byte) {
	copy(block[148:156], fmt.Sprintf("%06o\x00 ", naiveBlockSum(block)))
}

func TestWalkTarRejects(t *testing.T) {
	files := func() []byte { return testTar(t, false, "records/proc/1.json", "proc/1/cmdline", "proc/1/stat") }
	second := int64(tarBlockSize) // the header of proc/1/cmdline; records are empty
	header := func(change func(block []byte)) []byte {
		data := files()
		change(data[second : second+tarBlockSize])
		return data
	}
	pax := func(records string) []byte {
		data := files()
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		// archive/tar writes PAX headers only on its own, so this one is
		// written as a regular file and given the PAX type.
		hdr := &tar.Header{Name: "PaxHeaders.0/x", Typeflag: tar.TypeReg, Size: int64(len(records)), Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(records)); err != nil {
			t.Fatal(err)
		}
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		header := buf.Bytes()
		setField(header[:tarBlockSize], 156, string(tar.TypeXHeader))
		return append(append(bytes.Clone(data[:second]), header...), data[second:]...)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"bad checksum", header(func(b []byte) { b[0] ^= 1 }), "tar header at byte 512: checksum field is"},
		{"checksum not octal", header(func(b []byte) { copy(b[148:], "12 34\x00 ") }), `checksum: "12 34\x00  " is not an octal number`},
		{"base-256 size", header(func(b []byte) { b[124] = 0x80; resum(b) }), "field size: 803030303030303033313000 is a base-256 number"},
		{"mode not octal", header(func(b []byte) { setField(b, 100, "0000448\x00") }), `field mode: "0000448\x00" is not an octal number`},
		{"inner NUL in mtime", header(func(b []byte) { setField(b, 136, "0000\x000000000\x00") }), "field mtime"},
		{"GNU magic", header(func(b []byte) { setField(b, 257, "ustar  \x00") }), "not the ustar"},
		{"star trailer", header(func(b []byte) { setField(b, 508, "tar\x00") }), "star trailer"},
		{"symlink", header(func(b []byte) { setField(b, 156, "2") }), `entry "proc/1/cmdline" at byte 512 is not a regular file (tar type '2')`},
		{"old regular type", header(func(b []byte) { setField(b, 156, "\x00") }), "is not a regular file"},
		{"size over the limit", header(func(b []byte) { setField(b, 124, "00004000001\x00") }), "declares 1048577 bytes, above the limit of 1048576"},
		{"size past the end", header(func(b []byte) { setField(b, 124, "00000100000\x00") }), "but only"},
		{"no padding", files()[:len(files())-1], "but only"},
		{"partial block", append(files(), 'x'), "less than a 512-byte tar block"},
		{"lone zero block", append(append(testTar(t, false, "records/proc/1.json"), make([]byte, tarBlockSize)...), files()...), "followed by a non-zero block"},
		{"zero block and a partial one", append(testTar(t, false, "records/proc/1.json"), make([]byte, tarBlockSize+10)...), "less than a tar block"},
		{"PAX mtime", pax("20 mtime=1700000000\n"), `record "mtime" is not supported`},
		{"PAX GNU sparse", pax("22 GNU.sparse.major=1\n"), `record "GNU.sparse.major" is not supported`},
		{"PAX empty path", pax("8 path=\n"), "invalid record"},
		{"PAX length too short", pax("10 path=proc/1/x\n"), "invalid record"},
		{"PAX length with a sign", pax("+17 path=proc/1/x\n"), "invalid record"},
		{"PAX size negative", pax("12 size=-12\n"), `size record: "-12" is not a decimal number`},
		{"PAX size over the limit", pax("17 size=99999999\n"), "is above the limit"},
		{"PAX at the end", pax("17 path=proc/1/x\n")[:second+2*tarBlockSize], "is not followed by an entry"},
		{"two PAX headers", func() []byte {
			one := pax("17 path=proc/1/x\n")
			return append(append(bytes.Clone(one[:second]), one[second:second+2*tarBlockSize]...), one[second:]...)
		}(), "follows another one"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := walkTar(c.data, 1<<20, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("walkTar error %v, want one containing %q", err, c.want)
			}
			checkWalkTar(t, c.data)
		})
	}
	// The cases above break one thing each: the same stream is valid.
	if _, _, err := walkTar(pax("17 path=proc/1/x\n"), 1<<20, nil); err != nil {
		t.Errorf("walkTar rejected a valid PAX path record: %v", err)
	}
}

// captureSegments captures the fixture tree of a process whose environ
// was denied and returns each segment's tar stream.
func captureSegments(t testing.TB) map[string][]byte {
	t.Helper()
	src, err := source.NewDir("../testdata/cases/29-permission-denied-other-user")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "seed.procsql")
	if _, err := Capture(context.Background(), src, Options{Output: out, Collector: "procsql test"}); err != nil {
		t.Fatal(err)
	}
	snap, err := Open(context.Background(), out, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	streams := map[string][]byte{}
	for _, seg := range snap.manifest.Segments {
		frame := make([]byte, seg.Length)
		if err := readFrame(snap.file, seg, frame); err != nil {
			t.Fatal(err)
		}
		data, err := snap.decoder.DecodeAll(frame, make([]byte, 0, seg.Size))
		if err != nil {
			t.Fatal(err)
		}
		streams[seg.Name] = data
	}
	return streams
}

// FuzzWalkTar checks walkTar against archive/tar on arbitrary streams,
// seeded with the segments of a capture and with hand-made streams that
// use a ustar prefix, a PAX header and the end-of-archive marker. With
// fixChecksums it first sets the checksum of every block at a multiple of
// 512 bytes that has the ustar magic, so that mutated header fields get
// past the checksum.
func FuzzWalkTar(f *testing.F) {
	for _, data := range captureSegments(f) {
		f.Add(data, false)
		f.Add(data, true)
	}
	f.Add(testTar(f, false, "records/host.json", longName, paxName), true)
	f.Add(testTar(f, true, "records/proc/1.json", "proc/1/stat"), true)
	f.Fuzz(func(t *testing.T, data []byte, fixChecksums bool) {
		if fixChecksums {
			for at := 0; at+tarBlockSize <= len(data); at += tarBlockSize {
				if block := data[at : at+tarBlockSize]; string(block[257:262]) == "ustar" {
					resum(block)
				}
			}
		}
		checkWalkTar(t, data)
	})
}

// benchSegment lays out a segment of files named dir/0, dir/1 and so on,
// each of size bytes.
func benchSegment(tb testing.TB, dir string, files, size int) (Segment, []byte) {
	tb.Helper()
	content := map[string][]byte{}
	for i := range files {
		content[fmt.Sprintf("%s/%d", dir, i)] = []byte(strings.Repeat("x", size-1) + "\n")
	}
	seg, data, _ := layOutSegment(tb, content)
	return seg, data
}

// BenchmarkParseSegment times what a query does with each segment it
// loads after decompressing it. fdinfo-18 is the most common shape of a
// large capture: 18 fdinfo files of 48 bytes, the means that
// bench/synthsnap gives for 10,000 processes.
func BenchmarkParseSegment(b *testing.B) {
	for _, c := range []struct {
		name        string
		dir         string
		files, size int
	}{
		{"fdinfo-18", "proc/1000/fdinfo", 18, 48},
		{"fdinfo-1000", "proc/1000/fdinfo", 1000, 48},
		{"maps-1", "proc/1000/maps", 1, 5200},
		{"smaps-1", "proc/1000/smaps", 1, 39000},
	} {
		b.Run(c.name, func(b *testing.B) {
			seg, data := benchSegment(b, c.dir, c.files, c.size)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parseSegment(seg, data, DefaultLimits, nil, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWalkTar times the walk alone on the segments of
// BenchmarkParseSegment, to show its share of loading one.
func BenchmarkWalkTar(b *testing.B) {
	for _, c := range []struct {
		name  string
		files int
	}{{"fdinfo-18", 18}, {"fdinfo-1000", 1000}} {
		b.Run(c.name, func(b *testing.B) {
			seg, data := benchSegment(b, "proc/1000/fdinfo", c.files, 48)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := walkTar(data, DefaultLimits.MaxEntrySize, make([]tarMember, 0, seg.Entries)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestWalkTarSingleByteChanges changes each byte of the headers and PAX
// records of a stream to values that tar fields treat specially, with the
// checksum set again, and checks each result against archive/tar as
// FuzzWalkTar does.
func TestWalkTarSingleByteChanges(t *testing.T) {
	good := testTar(t, false, "records/host.json", paxName)
	// The records entry is empty, so the PAX header follows at 512, its
	// records at 1024, and the header of paxName at 1536.
	if good[tarBlockSize+156] != tar.TypeXHeader {
		t.Fatalf("no PAX header at byte %d", tarBlockSize)
	}
	data := make([]byte, len(good))
	for at := 0; at < 4*tarBlockSize; at++ {
		for _, v := range []byte{0, ' ', '\n', '+', '-', '/', '0', '1', '7', '8', '9', '=', 'x', 0x7f, 0x80, 0xff, good[at] + 1, good[at] - 1} {
			copy(data, good)
			data[at] = v
			if block := at &^ (tarBlockSize - 1); block != 2*tarBlockSize {
				resum(data[block : block+tarBlockSize])
			}
			checkWalkTar(t, data)
		}
	}
}

// layOutSegment lays out files as the capture lays out a segment, with a
// read record of each, and returns the segment, its tar stream and its
// records, offsets included.
func layOutSegment(tb testing.TB, files map[string][]byte) (Segment, []byte, []Record) {
	tb.Helper()
	var records []Record
	for name, body := range files {
		sum := sha256.Sum256(body)
		records = append(records, Record{Op: OpRead, Path: name, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])})
	}
	// The capture writes records in path order.
	sort.Slice(records, func(i, j int) bool { return records[i].Path < records[j].Path })
	plans := planSegments(records, files)
	if len(plans) != 1 {
		tb.Fatalf("%d segments planned, want 1", len(plans))
	}

	enc, err := zstd.NewWriter(nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer enc.Close()
	built := buildSegment(enc, plans[0], files, time.Unix(1700000000, 0))
	if built.err != nil {
		tb.Fatal(built.err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer dec.Close()
	data, err := dec.DecodeAll(built.frame, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return Segment{Name: plans[0].name, Size: built.size, Entries: built.entries}, data, plans[0].records
}

// TestQueryChecksRecordOffsets loads segments whose records were altered
// after the capture, as a query does (without verify), and checks that each
// is rejected with an error that names the path and both offsets.
func TestQueryChecksRecordOffsets(t *testing.T) {
	// fake is a tar entry for proc/1/cmdline with other bytes than the
	// real one, hidden in the data of proc/1/status after a block of text.
	fake := testTarEntry(t, "proc/1/cmdline", "/usr/sbin/sshd\x00")
	status := strings.Repeat("State:\tS (sleeping)\n", 26)[:tarBlockSize] + string(fake)
	seg, data, records := layOutSegment(t, map[string][]byte{
		"proc/1/cmdline": []byte("/tmp/.x/miner\x00"),
		"proc/1/stat":    []byte("1 (miner) S 0\n"), // as long as cmdline
		"proc/1/status":  []byte(status),
		"proc/1/comm":    []byte("miner\n"),
	})
	at := func(path string) *Record {
		for i := range records {
			if records[i].Path == path {
				return &records[i]
			}
		}
		t.Fatalf("no record of %s", path)
		return nil
	}
	load := func(change func(list []Record)) error {
		list := append([]Record(nil), records...)
		change(list)
		raw, err := json.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}
		_, err = segmentFromRecords(seg, data, raw, DefaultLimits, nil, false)
		return err
	}
	if err := load(func([]Record) {}); err != nil {
		t.Fatalf("unaltered segment: %v", err)
	}
	cmdline, stat, statusAt := at("proc/1/cmdline").Offset, at("proc/1/stat").Offset, at("proc/1/status").Offset
	// The fake entry's data starts after the text block and its header.
	fakeData := statusAt + 2*tarBlockSize
	if got := string(data[fakeData : fakeData+int64(len("/usr/sbin/sshd\x00"))]); got != "/usr/sbin/sshd\x00" {
		t.Fatalf("the fake entry's data is not at %d: %q", fakeData, got)
	}

	cases := []struct {
		name   string
		change func(list []Record)
		want   string
	}{
		{"fake header inside another entry", func(list []Record) {
			for i := range list {
				if list[i].Path == "proc/1/cmdline" {
					list[i].Offset, list[i].Size = fakeData, int64(len("/usr/sbin/sshd\x00"))
				}
			}
		}, fmt.Sprintf(`the record of "proc/1/cmdline" gives offset %d, but its tar entry starts at %d in segment "proc/1"`, fakeData, cmdline)},
		{"another entry of the same size", func(list []Record) {
			for i := range list {
				if list[i].Path == "proc/1/cmdline" {
					list[i].Offset = stat
				}
			}
		}, fmt.Sprintf(`the record of "proc/1/cmdline" gives offset %d, but its tar entry starts at %d`, stat, cmdline)},
		{"size one byte short", func(list []Record) {
			for i := range list {
				if list[i].Path == "proc/1/comm" {
					list[i].Size--
				}
			}
		}, fmt.Sprintf(`the record of "proc/1/comm" lists 5 bytes, but its tar entry at offset %d of segment "proc/1" has 6`, at("proc/1/comm").Offset)},
		{"no entry of that name", func(list []Record) {
			list[0] = Record{Op: OpRead, Path: "proc/1/auxv", Size: 6, Offset: at("proc/1/comm").Offset}
		}, fmt.Sprintf(`the record of "proc/1/auxv" gives offset %d, but segment "proc/1" has no regular tar entry of that name`, at("proc/1/comm").Offset)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := load(c.change)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrCorrupt with %q", err, c.want)
			}
		})
	}

	// Entries appended to the stream, with the records unchanged.
	raw, err := json.Marshal(records)
	if err != nil {
		t.Fatal(err)
	}
	streams := []struct {
		name string
		tail []byte
		want string
	}{
		{"end-of-archive marker", make([]byte, 2*tarBlockSize), fmt.Sprintf(`segment "proc/1" has an end-of-archive marker at byte %d of %d`, len(data), len(data)+2*tarBlockSize)},
		{"file twice", testTarEntry(t, "proc/1/comm", "sshd\n"), `entry "proc/1/comm" appears twice in segment "proc/1"`},
		{"records twice", testTarEntry(t, "records/proc/1.json", "[]"), `entry "records/proc/1.json" appears twice in segment "proc/1"`},
		{"file not listed", testTarEntry(t, "proc/1/environ", "PATH=/tmp\x00"), `entry "proc/1/environ" is not listed in the records of segment "proc/1"`},
		// tar extracts every entry, so this one would replace the file
		// of another segment.
		{"file of another segment", testTarEntry(t, "proc/2/stat", "2 (sshd) S 1\n"), `entry "proc/2/stat" is not listed in the records of segment "proc/1"`},
		{"symlink", func() []byte {
			link := testTarEntry(t, "proc/1/link", "")
			setField(link, 156, "2")
			return link
		}(), fmt.Sprintf(`entry "proc/1/link" at byte %d is not a regular file (tar type '2')`, len(data))},
	}
	for _, c := range streams {
		t.Run(c.name, func(t *testing.T) {
			_, err := segmentFromRecords(seg, append(bytes.Clone(data), c.tail...), raw, DefaultLimits, nil, false)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrCorrupt with %q", err, c.want)
			}
		})
	}
}

// TestQueryAcceptsExecutableCopy loads the segment of an executable copy,
// an entry that no record lists, with and without the manifest's entry.
func TestQueryAcceptsExecutableCopy(t *testing.T) {
	name := "exe/" + strings.Repeat("ab", 32)
	data := append(testTarEntry(t, recordsName(name), "[]"), testTarEntry(t, name, "\x7fELF")...)
	seg := Segment{Name: name, Size: int64(len(data)), Entries: 2}
	exes := map[string]Executable{name: {Path: name, Size: 4}}
	if _, err := segmentFromRecords(seg, data, []byte("[]"), DefaultLimits, exes, false); err != nil {
		t.Errorf("executable copy listed in the manifest: %v", err)
	}
	_, err := segmentFromRecords(seg, data, []byte("[]"), DefaultLimits, nil, false)
	if want := fmt.Sprintf("entry %q is not listed in the records", name); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("executable copy missing from the manifest: error %v, want %q", err, want)
	}
}

// testTarEntry returns one tar entry as the capture writes it, padded to
// whole blocks.
func testTarEntry(t *testing.T, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := writeEntry(tw, name, []byte(body), time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkLoadSegments loads segments of the snapshot file named by
// PROCSQL_BENCH_SNAPSHOT as a query does, bypassing the cache: every
// segment, and only the fdinfo segments, whose many small files make the
// tar walk's share the largest.
func BenchmarkLoadSegments(b *testing.B) {
	path := os.Getenv("PROCSQL_BENCH_SNAPSHOT")
	if path == "" {
		b.Skip("set PROCSQL_BENCH_SNAPSHOT to a snapshot file, such as one that bench/synthsnap writes")
	}
	snap, err := Open(context.Background(), path, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	defer snap.Close()
	for _, kind := range []string{"all", "fdinfo"} {
		var segs []Segment
		var size int64
		for _, seg := range snap.manifest.Segments {
			if kind == "all" || strings.HasSuffix(seg.Name, "/fdinfo") {
				segs = append(segs, seg)
				size += seg.Size
			}
		}
		b.Run(kind, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				for _, seg := range segs {
					if _, err := snap.loadSegment(seg, false); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
