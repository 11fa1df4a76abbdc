package snapshot_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/klauspost/compress/zstd"

	"github.com/procsql/procsql/snapshot"
	"github.com/procsql/procsql/source"
	"github.com/procsql/procsql/tables"
)

// goodSnapshot captures a fixture tree and returns the file's bytes.
func goodSnapshot(t *testing.T) []byte {
	t.Helper()
	src, err := source.NewDir("../testdata/cases/29-permission-denied-other-user")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "good.procsql")
	if _, err := snapshot.Capture(context.Background(), src, snapshot.Options{Output: out, Collector: "procsql test"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type tarEntry struct {
	hdr  tar.Header
	data []byte
}

// unpackedSegment is one segment frame of a snapshot, decompressed.
type unpackedSegment struct {
	name    string
	entries []tarEntry
	// frame and size, when frame is set, replace the frame built from
	// entries and the size it declares. gap follows the frame in the file
	// without being listed in the manifest.
	frame []byte
	size  int
	gap   []byte
}

// unpackedFile is a snapshot taken apart: its manifest as generic JSON and
// its segments in file order. pack puts it back together with honest
// offsets, sizes and digests, so that only a test's change can make Open
// or Verify fail.
type unpackedFile struct {
	manifest map[string]any
	segments []unpackedSegment
	// alterTable, when set, changes segments.json after the manifest took
	// its digest.
	alterTable func([]byte) []byte
}

func readTar(t *testing.T, data []byte) []tarEntry {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var entries []tarEntry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, tarEntry{*hdr, body})
	}
}

func decompress(t *testing.T, frame []byte) []byte {
	t.Helper()
	zr, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	data, err := zr.DecodeAll(frame, nil)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func unpack(t *testing.T, file []byte) *unpackedFile {
	t.Helper()
	footer := file[len(file)-32:]
	off := binary.LittleEndian.Uint64(footer[16:])
	length := binary.LittleEndian.Uint64(footer[24:])
	byName := map[string][]byte{}
	for _, e := range readTar(t, decompress(t, file[off:off+length])) {
		byName[e.hdr.Name] = e.data
	}
	u := &unpackedFile{}
	if err := json.Unmarshal(byName["manifest.json"], &u.manifest); err != nil {
		t.Fatal(err)
	}
	var table []any
	if err := json.Unmarshal(byName["segments.json"], &table); err != nil {
		t.Fatal(err)
	}
	for _, s := range table {
		seg := s.(map[string]any)
		start, n := int64(seg["offset"].(float64)), int64(seg["length"].(float64))
		u.segments = append(u.segments, unpackedSegment{
			name:    seg["name"].(string),
			entries: readTar(t, decompress(t, file[start:start+n])),
		})
	}
	return u
}

func writeTar(t *testing.T, entries []tarEntry, end bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		hdr.Size = int64(len(e.data))
		if hdr.Typeflag != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
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

func compress(t *testing.T, data []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(data, nil)
}

// pack writes u as a snapshot file. alter, when set, changes manifest.json
// after its digest line was computed.
func (u *unpackedFile) pack(t *testing.T, alter func([]byte) []byte) []byte {
	t.Helper()
	var file []byte
	segs := make([]any, 0, len(u.segments))
	for _, s := range u.segments {
		data := writeTar(t, s.entries, false)
		frame, size := compress(t, data), len(data)
		if s.frame != nil {
			frame, size = s.frame, s.size
		}
		segs = append(segs, map[string]any{
			"name": s.name, "offset": len(file), "length": len(frame),
			"sha256": sha256Hex(frame), "size": size, "entries": max(len(s.entries), 1),
		})
		file = append(append(file, frame...), s.gap...)
	}
	table, err := json.Marshal(segs)
	if err != nil {
		t.Fatal(err)
	}
	u.manifest["segment_count"] = len(segs)
	u.manifest["segments_sha256"] = sha256Hex(table)
	if u.alterTable != nil {
		table = u.alterTable(table)
	}
	manifest, err := json.Marshal(u.manifest)
	if err != nil {
		t.Fatal(err)
	}
	sumLine := []byte(sha256Hex(manifest) + "  manifest.json\n")
	if alter != nil {
		manifest = alter(manifest)
	}
	frame := compress(t, writeTar(t, []tarEntry{
		{tar.Header{Name: "segments.json", Typeflag: tar.TypeReg, Mode: 0o444}, table},
		{tar.Header{Name: "manifest.json", Typeflag: tar.TypeReg, Mode: 0o444}, manifest},
		{tar.Header{Name: "manifest.json.sha256", Typeflag: tar.TypeReg, Mode: 0o444}, sumLine},
	}, true))
	return append(append(file, frame...), footerBytes(len(file), len(frame))...)
}

func footerBytes(offset, length int) []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint32(b[0:], 0x184D2A5E)
	binary.LittleEndian.PutUint32(b[4:], 24)
	copy(b[8:], "PROCSQLS")
	binary.LittleEndian.PutUint64(b[16:], uint64(offset))
	binary.LittleEndian.PutUint64(b[24:], uint64(length))
	return b
}

// segment returns the segment named name.
func (u *unpackedFile) segment(t *testing.T, name string) *unpackedSegment {
	t.Helper()
	for i := range u.segments {
		if u.segments[i].name == name {
			return &u.segments[i]
		}
	}
	t.Fatalf("no segment %q", name)
	return nil
}

// openBytes opens data as a snapshot and verifies every segment, returning
// the first error.
func openBytes(t *testing.T, data []byte) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "input.procsql")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Open(context.Background(), path, snapshot.Limits{})
	if err != nil {
		return err
	}
	defer snap.Close()
	_, err = snap.Verify(context.Background())
	return err
}

// The fixture's process 1234 has its cmdline, and its environ was denied.
const fixtureSegment = "proc/1234"

func TestOpenRejectsDamagedFiles(t *testing.T) {
	good := goodSnapshot(t)
	if err := openBytes(t, good); err != nil {
		t.Fatalf("good snapshot: %v", err)
	}
	if err := openBytes(t, unpack(t, good).pack(t, nil)); err != nil {
		t.Fatalf("good snapshot packed again: %v", err)
	}
	// entry returns the index of the cmdline entry in the fixture segment.
	entry := func(s *unpackedSegment) int {
		for i, e := range s.entries {
			if e.hdr.Name == "proc/1234/cmdline" {
				return i
			}
		}
		t.Fatal("no proc/1234/cmdline entry")
		return 0
	}
	withSegment := func(change func(s *unpackedSegment)) func() []byte {
		return func() []byte {
			u := unpack(t, good)
			change(u.segment(t, fixtureSegment))
			return u.pack(t, nil)
		}
	}
	withManifest := func(change func(m map[string]any)) func() []byte {
		return func() []byte {
			u := unpack(t, good)
			change(u.manifest)
			return u.pack(t, nil)
		}
	}
	// addEntry adds an entry after the records, which come first.
	addEntry := func(hdr tar.Header, data []byte) func() []byte {
		return withSegment(func(s *unpackedSegment) {
			s.entries = append(s.entries[:1:1], append([]tarEntry{{hdr, data}}, s.entries[1:]...)...)
		})
	}
	reg := func(name string) tar.Header { return tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o444} }
	offsetOutside := withSegment(func(s *unpackedSegment) {
		s.entries[0].data = bytes.Replace(s.entries[0].data, []byte(`"offset":`), []byte(`"offset":9`), 1)
	})
	// A query does not walk the tar headers, but still stays inside the
	// segment.
	t.Run("offset outside the segment, read by a query", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "offset.procsql")
		if err := os.WriteFile(path, offsetOutside(), 0o600); err != nil {
			t.Fatal(err)
		}
		snap, err := snapshot.Open(context.Background(), path, snapshot.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer snap.Close()
		_, err = snap.ReadFile("1234/cmdline")
		if !errors.Is(err, snapshot.ErrCorrupt) || !strings.Contains(err.Error(), "which has") {
			t.Errorf("ReadFile: %v, want an offset outside the segment", err)
		}
	})
	// bomb replaces the fixture segment with a frame of 64 MiB of zeros
	// that declares declared bytes.
	bomb := func(declared int) func() []byte {
		return withSegment(func(s *unpackedSegment) {
			s.frame, s.size = compress(t, make([]byte, 64<<20)), declared
		})
	}
	cases := []struct {
		name string
		data func() []byte
		want string
	}{
		{"empty file", func() []byte { return nil }, "the file is empty"},
		{"not an archive", func() []byte { return []byte("PK\x03\x04 this is a zip header, long enough for a footer") }, "not a zstd-compressed archive"},
		{"truncated at 10 bytes", func() []byte { return good[:10] }, "truncated"},
		{"truncated in the middle", func() []byte { return good[:len(good)/2] }, "truncated"},
		{"truncated before the end", func() []byte { return good[:len(good)-8] }, "invalid snapshot"},
		{"flipped byte", func() []byte {
			bad := bytes.Clone(good)
			bad[len(bad)/4] ^= 0x40
			return bad
		}, "does not match its SHA-256 in the manifest"},
		{"altered entry", withSegment(func(s *unpackedSegment) {
			i := entry(s)
			altered := bytes.Clone(s.entries[i].data)
			altered[0] ^= 0x20
			s.entries[i].data = altered
		}), "does not match its SHA-256 in the snapshot"},
		{"entry longer than listed", withSegment(func(s *unpackedSegment) {
			i := entry(s)
			s.entries[i].data = append(bytes.Clone(s.entries[i].data), 'x')
		}), "but the snapshot lists"},
		{"manifest hash mismatch", func() []byte {
			return unpack(t, good).pack(t, func(m []byte) []byte {
				return bytes.Replace(m, []byte(`"procsql test"`), []byte(`"procsql evil"`), 1)
			})
		}, "manifest.json.sha256 does not match"},
		{"unknown version", withManifest(func(m map[string]any) { m["version"] = 99 }), "version 99 is not supported"},
		{"version 1 file", func() []byte {
			return compress(t, writeTar(t, []tarEntry{{reg("manifest.json"), []byte(`{"format":"procsql-snapshot","version":1}`)}}, true))
		}, "before format version 2"},
		{"dot-dot entry", addEntry(reg("../x"), []byte("x")), `entry "../x" is not a clean relative path`},
		{"absolute entry", addEntry(reg("/etc/x"), []byte("x")), "absolute or empty path"},
		{"symlink entry", addEntry(tar.Header{Name: "proc/1234/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow", Mode: 0o777}, nil), "not a regular file"},
		{"duplicate entry", withSegment(func(s *unpackedSegment) {
			s.entries = append(s.entries, s.entries[entry(s)])
		}), "appears twice"},
		{"records not first", withSegment(func(s *unpackedSegment) {
			s.entries = append(s.entries[1:], s.entries[0])
		}), "instead of its records"},
		{"offset outside the segment", offsetOutside, "gives offset 9"},
		{"entry missing", withSegment(func(s *unpackedSegment) {
			i := entry(s)
			s.entries = append(s.entries[:i:i], s.entries[i+1:]...)
		}), "missing from the archive"},
		{"entry not listed", addEntry(reg("proc/1234/extra"), []byte("x")), `entry "proc/1234/extra" is not listed in the records`},
		{"entry in another segment", addEntry(reg("proc/5678/stat"), []byte("x")), `does not belong in segment "proc/1234"`},
		{"data after the end", func() []byte { return append(bytes.Clone(good), good...) }, "footer places the manifest"},
		{"duplicate record", withSegment(func(s *unpackedSegment) {
			last := &s.entries[0]
			var records []map[string]any
			if err := json.Unmarshal(last.data, &records); err != nil {
				t.Fatal(err)
			}
			records = append(records, map[string]any{"op": "read", "path": "proc/1234/cmdline", "errno": "EACCES"})
			last.data, _ = json.Marshal(records)
		}), `records read of "proc/1234/cmdline" twice`},
		{"record in another segment", withSegment(func(s *unpackedSegment) {
			last := &s.entries[0]
			var records []map[string]any
			if err := json.Unmarshal(last.data, &records); err != nil {
				t.Fatal(err)
			}
			records = append(records, map[string]any{"op": "readlink", "path": "proc/5678/exe", "target": "/x"})
			last.data, _ = json.Marshal(records)
		}), `does not belong in segment "proc/1234"`},
		{"segment name outside the layout", withSegment(func(s *unpackedSegment) { s.name = "proc/../etc" }), `segment named "proc/../etc"`},
		{"gap between segments", withSegment(func(s *unpackedSegment) { s.gap = []byte("hidden") }), "but the previous segment ends"},
		{"decompression bomb", bomb(64 << 20), "segments add up to more than"},
		{"frame larger than declared", bomb(1 << 10), "does not decompress to its declared"},
		{"segment table altered", func() []byte {
			u := unpack(t, good)
			u.alterTable = func(table []byte) []byte { return bytes.Replace(table, []byte(`"entries":`), []byte(`"entries": `), 1) }
			return u.pack(t, nil)
		}, "segments.json does not match its SHA-256 in manifest.json"},
		{"manifest missing", func() []byte {
			frame := compress(t, writeTar(t, []tarEntry{{reg("other.json"), []byte("{}")}}, true))
			return append(frame, footerBytes(0, len(frame))...)
		}, `unexpected entry "other.json"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := openBytes(t, c.data())
			if err == nil {
				t.Fatal("Open and Verify succeeded, want an error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if c.name != "empty file" && !errors.Is(err, snapshot.ErrCorrupt) {
				t.Errorf("error %q does not wrap ErrCorrupt", err)
			}
		})
	}
}

func TestOpenRejectsFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := snapshot.Open(context.Background(), path, snapshot.Limits{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("error %v, want not a regular file", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open blocked on a FIFO")
	}
}

func TestCaptureCopiesNoFileOutsideTree(t *testing.T) {
	root := t.TempDir()
	pid := filepath.Join(root, "7")
	if err := os.MkdirAll(pid, 0o755); err != nil {
		t.Fatal(err)
	}
	stat := "7 (evil) S 1 7 7 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 1000000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	if err := os.WriteFile(filepath.Join(pid, "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pid, "exe.nlink"), []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/hostname", filepath.Join(pid, "exe")); err != nil {
		t.Fatal(err)
	}
	src, err := source.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "tree.procsql")
	if _, err := snapshot.Capture(context.Background(), src, snapshot.Options{Output: out, CopyDeletedExe: true, MaxExeSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Open(context.Background(), out, snapshot.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	exes := snap.Manifest().Executables
	if len(exes) != 1 || exes[0].Error == "" || exes[0].Path != "" {
		t.Errorf("executables = %+v, want one failed copy and no stored bytes", exes)
	}
}

func TestCaptureChecksOutputFirst(t *testing.T) {
	src, err := source.NewDir("../testdata/cases/29-permission-denied-other-user")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cases := map[string]string{
		filepath.Join(dir, "missing", "x.procsql"): "create the output in",
		dir: "is a directory",
	}
	for out, want := range cases {
		_, err := snapshot.Capture(context.Background(), src, snapshot.Options{Output: out})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("output %s: error %v, want %q", out, err, want)
		}
	}
	_, err = snapshot.Capture(context.Background(), src, snapshot.Options{Output: filepath.Join(dir, "x"), CopyDeletedExe: true, MaxExeSize: 1 << 40})
	if err == nil || !strings.Contains(err.Error(), "invalid executable size cap") {
		t.Errorf("huge exe cap: error %v, want a rejection", err)
	}
}

func TestOpenMissingFile(t *testing.T) {
	_, err := snapshot.Open(context.Background(), filepath.Join(t.TempDir(), "nope.procsql"), snapshot.Limits{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want not exist", err)
	}
}

func TestCaptureRefusesExistingAndProcOutput(t *testing.T) {
	src, err := source.NewDir("../testdata/cases/29-permission-denied-other-user")
	if err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(t.TempDir(), "exists.procsql")
	if err := os.WriteFile(existing, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = snapshot.Capture(context.Background(), src, snapshot.Options{Output: existing})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("capture over an existing file: error %v, want already exists", err)
	}
	if data, _ := os.ReadFile(existing); string(data) != "keep" {
		t.Errorf("existing file changed to %q", data)
	}
	if _, err := snapshot.Capture(context.Background(), src, snapshot.Options{Output: existing, Force: true}); err != nil {
		t.Errorf("capture with Force: %v", err)
	}
	_, err = snapshot.Capture(context.Background(), src, snapshot.Options{Output: "/proc/self/x.procsql"})
	if err == nil || !strings.Contains(err.Error(), "is inside /proc") {
		t.Errorf("capture into /proc: error %v, want a rejection", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(existing))
	if len(entries) != 1 {
		t.Errorf("capture left %d files beside the output, want only the output", len(entries))
	}
}

func TestCaptureInterruptedLeavesNothing(t *testing.T) {
	src, err := source.NewDir("../testdata/cases/29-permission-denied-other-user")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = snapshot.Capture(ctx, src, snapshot.Options{Output: filepath.Join(dir, "cut.procsql")})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("interrupted capture left %d files", len(entries))
	}
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestCaptureOutputTrailingSlash(t *testing.T) {
	src, err := source.NewDir("../testdata/cases/29-permission-denied-other-user")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "new") + "/"
	_, err = snapshot.Capture(context.Background(), src, snapshot.Options{Output: out})
	if err == nil || !strings.Contains(err.Error(), "names a directory") {
		t.Errorf("error %v, want a rejection of the trailing slash", err)
	}
}

func TestCaptureForceTouchesOnlyOutput(t *testing.T) {
	src, err := source.NewDir("../testdata/cases/29-permission-denied-other-user")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "s.procsql")
	neighbour := out + ".procsql-tmp"
	for _, f := range []string{out, neighbour} {
		if err := os.WriteFile(f, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := snapshot.Capture(context.Background(), src, snapshot.Options{Output: out, Force: true}); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(neighbour); err != nil || string(data) != "old" {
		t.Errorf("neighbour file = %q, %v; want it untouched", data, err)
	}
	if _, err := snapshot.Open(context.Background(), out, snapshot.Limits{}); err != nil {
		t.Errorf("forced output does not open: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d files, want the output and the neighbour", len(entries))
	}
}

// TestDamagedSegmentFailsScan checks that a segment damaged after Open, as
// by a file changed on disk during a session, fails a table scan that reads
// it instead of reading as NULLs, and that other segments still read.
func TestDamagedSegmentFailsScan(t *testing.T) {
	good := goodSnapshot(t)
	path := filepath.Join(t.TempDir(), "damaged.procsql")
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Open(context.Background(), path, snapshot.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var seg snapshot.Segment
	for _, s := range snap.Manifest().Segments {
		if s.Name == fixtureSegment {
			seg = s
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{good[seg.Offset+seg.Length/2] ^ 0x01}, seg.Offset+seg.Length/2); err != nil {
		t.Fatal(err)
	}
	f.Close()

	byName := map[string]tables.Table{}
	for _, table := range tables.All() {
		byName[table.Name()] = table
	}
	for _, name := range []string{"processes", "environ"} {
		table := byName[name]
		r := tables.NewReader(source.NewCache(snap))
		rows := 0
		if err := table.Scan(r, tables.Filter{}, nil, func(sql.Row) error { rows++; return nil }); err != nil {
			t.Fatalf("%s: scan: %v", name, err)
		}
		err := r.Err()
		if !errors.Is(err, snapshot.ErrCorrupt) || !strings.Contains(err.Error(), `segment "proc/1234" does not match its SHA-256`) {
			t.Errorf("%s: Reader.Err() = %v, want the damaged entry named", name, err)
		}
	}
	// fds reads proc/1234/fd, a segment of its own, which is intact.
	r := tables.NewReader(source.NewCache(snap))
	if err := byName["fds"].Scan(r, tables.Filter{}, nil, func(sql.Row) error { return nil }); err != nil || r.Err() != nil {
		t.Errorf("fds: %v, %v; want the intact segment read", err, r.Err())
	}
	// The other process's segment is intact and still reads.
	data, err := snap.ReadFile("5678/stat")
	if err != nil || !bytes.HasPrefix(data, []byte("5678 ")) {
		t.Errorf("intact segment: %q, %v", data, err)
	}
}
