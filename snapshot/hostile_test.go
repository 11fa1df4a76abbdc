package snapshot_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/procsql/procsql/snapshot"
	"github.com/procsql/procsql/source"
	"github.com/procsql/procsql/tables"
)

var update = flag.Bool("update", false, "write testdata/hostile again from the generators in hostile_test.go")

// Bounds that opening, verifying and scanning every table of a hostile file
// must keep. Measured on 2 cores, each rejected file peaks at about 32 MiB,
// the test binary's own size, within 50 ms. The valid file with a 32 MiB
// line peaks at about 200 MiB in 0.2 s. The bomb and the million entries
// would need a gigabyte each if they were decompressed.
const (
	hostileMaxRSS  = 512 << 20 // bytes
	hostileMaxTime = 20 * time.Second
)

// hostileCase is one file of testdata/hostile: how to make it from a good
// snapshot, and the error it must give, or "" for a file that is valid
// but extreme. wantQuery, when set, is the error that a query must give
// without snapshot verify, whose checks run first otherwise.
type hostileCase struct {
	name      string
	make      func(t *testing.T, good []byte) []byte
	want      string
	wantQuery string
}

func hostileCases() []hostileCase {
	reg := func(name string) tar.Header { return tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o444} }
	segT := func(change func(t *testing.T, s *unpackedSegment)) func(*testing.T, []byte) []byte {
		return func(t *testing.T, good []byte) []byte {
			u := unpack(t, good)
			change(t, u.segment(t, fixtureSegment))
			return u.pack(t, nil)
		}
	}
	seg := func(change func(s *unpackedSegment)) func(*testing.T, []byte) []byte {
		return segT(func(_ *testing.T, s *unpackedSegment) { change(s) })
	}
	add := func(hdr tar.Header, data []byte) func(*testing.T, []byte) []byte {
		return seg(func(s *unpackedSegment) {
			s.entries = append(s.entries[:1:1], append([]tarEntry{{hdr, data}}, s.entries[1:]...)...)
		})
	}
	flip := func(at func(good []byte) int) func(*testing.T, []byte) []byte {
		return func(_ *testing.T, good []byte) []byte {
			bad := bytes.Clone(good)
			bad[at(good)] ^= 0x10
			return bad
		}
	}
	return []hostileCase{
		{"empty", func(*testing.T, []byte) []byte { return nil }, "the file is empty", ""},
		{"not-zstd", func(*testing.T, []byte) []byte { return []byte("PK\x03\x04 a zip file, long enough to hold a footer") }, "not a zstd-compressed archive", ""},
		{"truncated-at-10", func(_ *testing.T, good []byte) []byte { return good[:10] }, "so it is truncated", ""},
		{"truncated-in-half", func(_ *testing.T, good []byte) []byte { return good[:len(good)/2] }, "it is truncated", ""},
		{"truncated-in-footer", func(_ *testing.T, good []byte) []byte { return good[:len(good)-8] }, "it is truncated", ""},
		{"flipped-segment-byte", flip(func(good []byte) int { return len(good) / 4 }), "does not match its SHA-256 in the manifest", ""},
		{"flipped-manifest-byte", flip(func(good []byte) int { return len(good) - 64 }), "manifest frame", ""},
		{"flipped-footer-offset", flip(func(good []byte) int { return len(good) - 14 }), "the footer places the manifest", ""},
		{"data-appended", func(_ *testing.T, good []byte) []byte { return append(bytes.Clone(good), good...) }, "the footer places the manifest", ""},
		{"entry-digest-mismatch", seg(func(s *unpackedSegment) {
			for i, e := range s.entries {
				if e.hdr.Name == "proc/1234/cmdline" {
					s.entries[i].data = bytes.ToUpper(e.data)
				}
			}
		}), "does not match its SHA-256 in the snapshot", ""},
		{"manifest-digest-mismatch", func(t *testing.T, good []byte) []byte {
			return unpack(t, good).pack(t, func(m []byte) []byte { return bytes.Replace(m, []byte(`"procsql test"`), []byte(`"procsql fake"`), 1) })
		}, "manifest.json.sha256 does not match", ""},
		{"segment-table-altered", func(t *testing.T, good []byte) []byte {
			u := unpack(t, good)
			u.alterTable = func(table []byte) []byte { return bytes.Replace(table, []byte(`"entries":`), []byte(`"entries": `), 1) }
			return u.pack(t, nil)
		}, "segments.json does not match its SHA-256", ""},
		{"absolute-path", add(reg("/etc/cron.d/evil"), []byte("* * * * * root sh\n")), "absolute or empty path", ""},
		{"dot-dot-path", add(reg("proc/1234/../../../tmp/evil"), []byte("x")), "not a clean relative path", ""},
		{"symlink-out", add(tar.Header{Name: "proc/1234/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow", Mode: 0o777}, nil), "not a regular file", ""},
		{"hardlink-out", add(tar.Header{Name: "proc/1234/hard", Typeflag: tar.TypeLink, Linkname: "/etc/shadow", Mode: 0o444}, nil), "not a regular file", ""},
		{"duplicate-entry", seg(func(s *unpackedSegment) { s.entries = append(s.entries, s.entries[len(s.entries)-1]) }), "appears twice", ""},
		{"duplicate-segment", func(t *testing.T, good []byte) []byte {
			u := unpack(t, good)
			u.segments = append(u.segments, *u.segment(t, fixtureSegment))
			return u.pack(t, nil)
		}, `lists segment "proc/1234" twice`, ""},
		{"record-outside-segment", seg(func(s *unpackedSegment) {
			s.entries[0].data = bytes.Replace(s.entries[0].data, []byte(`"path":"proc/1234/stat"`), []byte(`"path":"proc/5678/stat"`), 1)
		}), "does not belong in segment", ""},
		{"offset-outside-segment", seg(func(s *unpackedSegment) {
			s.entries[0].data = bytes.Replace(s.entries[0].data, []byte(`"offset":`), []byte(`"offset":9`), 1)
		}), "gives offset 9", ""},
		{"gap-between-segments", seg(func(s *unpackedSegment) { s.gap = []byte("hidden bytes") }), "but the previous segment ends", ""},
		{"declared-size-huge", segT(func(t *testing.T, s *unpackedSegment) {
			s.frame, s.size = compress(t, writeTar(t, s.entries, false)), 1<<40
		}), "above the limit", ""},
		{"decompression-bomb", segT(func(t *testing.T, s *unpackedSegment) {
			s.frame, s.size = compress(t, make([]byte, 256<<20)), 4096
		}), "does not decompress to its declared 4096 bytes", ""},
		{"million-tiny-entries", segT(func(t *testing.T, s *unpackedSegment) {
			// Equal entries compress to almost nothing; the reader must
			// reject the declared size before it walks them.
			tiny := writeTar(t, []tarEntry{{reg("proc/1234/x"), []byte("x")}}, false)
			s.frame, s.size = compress(t, bytes.Repeat(tiny, 1_000_000)), 1_000_000*len(tiny)
		}), "for one segment", ""},
		{"unknown-version", func(t *testing.T, good []byte) []byte {
			u := unpack(t, good)
			u.manifest["version"] = 99
			return u.pack(t, nil)
		}, "version 99 is not supported", ""},
		{"format-version-1", func(t *testing.T, _ []byte) []byte {
			return compress(t, writeTar(t, []tarEntry{{reg("manifest.json"), []byte(`{"format":"procsql-snapshot","version":1}`)}}, true))
		}, "before format version 2", ""},
		{"manifest-missing", func(t *testing.T, _ []byte) []byte {
			frame := compress(t, writeTar(t, []tarEntry{{reg("notes.txt"), []byte("no manifest here")}}, true))
			return append(frame, footerBytes(0, len(frame))...)
		}, `unexpected entry "notes.txt"`, ""},
		{"huge-single-line", segT(func(t *testing.T, s *unpackedSegment) {
			for i, e := range s.entries {
				if e.hdr.Name == "proc/1234/cmdline" {
					s.entries[i].data = bytes.Repeat([]byte("A"), 32<<20)
				}
			}
			reseal(t, s, nil)
		}), "", ""},
		// The data of proc/1234/status ends with a complete tar entry of
		// proc/1234/cmdline with other bytes, and the cmdline record
		// points at them. The frame, table and manifest digests match,
		// the record's size and SHA-256 match the bytes at its offset
		// inside the segment, and yet tar extracts the real cmdline entry.
		{"fake-header-in-entry-data", segT(func(t *testing.T, s *unpackedSegment) {
			fake := []byte("/usr/sbin/sshd\x00-D\x00")
			hidden := writeTar(t, []tarEntry{{reg("proc/1234/cmdline"), fake}}, false)
			var statusData []byte
			for i, e := range s.entries {
				if e.hdr.Name == "proc/1234/status" {
					padded := append(bytes.Clone(e.data), bytes.Repeat([]byte("\n"), (512-len(e.data)%512)%512)...)
					s.entries[i].data = append(padded, hidden...)
					statusData = s.entries[i].data
				}
			}
			reseal(t, s, func(offsets map[string]int64, rec map[string]any) {
				if rec["path"] == "proc/1234/cmdline" {
					at := offsets["proc/1234/status"] + int64(len(statusData)-len(hidden)) + 512
					rec["size"], rec["sha256"], rec["offset"] = len(fake), sha256Hex(fake), at
				}
			})
		}), `entry "proc/1234/cmdline" has 67 bytes, but the snapshot lists 18`,
			`the record of "proc/1234/cmdline" gives offset 6144, but its tar entry starts at 2048 in segment "proc/1234"`},
		// proc/1234/cmdline holds a stat line that names the process
		// kthreadd, as long as the real stat, and the stat record points at
		// it.
		{"offset-at-same-size-entry", segT(func(t *testing.T, s *unpackedSegment) {
			var forged []byte
			for _, e := range s.entries {
				if e.hdr.Name == "proc/1234/stat" {
					forged = bytes.Replace(e.data, []byte("(postgres)"), []byte("(kthreadd)"), 1)
				}
			}
			for i, e := range s.entries {
				if e.hdr.Name == "proc/1234/cmdline" {
					s.entries[i].data = forged
				}
			}
			reseal(t, s, func(offsets map[string]int64, rec map[string]any) {
				if rec["path"] == "proc/1234/stat" {
					rec["sha256"], rec["offset"] = sha256Hex(forged), offsets["proc/1234/cmdline"]
				}
			})
		}), `entry "proc/1234/stat" does not match its SHA-256 in the snapshot`,
			`the record of "proc/1234/stat" gives offset 2048, but its tar entry starts at 3072 in segment "proc/1234"`},
	}
}

// reseal sets the size, SHA-256 and offset of every read record of s to
// those of its entry, as a capture would have written them. forge, when
// set, then changes each record, given the offsets of the entries.
func reseal(t *testing.T, s *unpackedSegment, forge func(offsets map[string]int64, rec map[string]any)) {
	t.Helper()
	var records []map[string]any
	if err := json.Unmarshal(s.entries[0].data, &records); err != nil {
		t.Fatal(err)
	}
	byName := map[string][]byte{}
	for _, e := range s.entries[1:] {
		byName[e.hdr.Name] = e.data
	}
	// The offsets depend on the records' own length, so lay the segment
	// out until that length stops changing, as the capture does.
	for round := 0; ; round++ {
		offsets := map[string]int64{}
		data := writeTar(t, s.entries, false)
		r := bytes.NewReader(data)
		tr := tar.NewReader(r)
		for {
			hdr, err := tr.Next()
			if err != nil {
				break
			}
			offsets[hdr.Name] = int64(len(data)) - int64(r.Len())
		}
		for _, rec := range records {
			name, _ := rec["path"].(string)
			body, ok := byName[name]
			if rec["op"] != "read" || !ok {
				continue
			}
			rec["size"], rec["sha256"], rec["offset"] = len(body), sha256Hex(body), offsets[name]
		}
		if forge != nil {
			for _, rec := range records {
				forge(offsets, rec)
			}
		}
		encoded, err := json.Marshal(records)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(encoded, s.entries[0].data) || round > 4 {
			return
		}
		s.entries[0].data = encoded
	}
}

// TestHostileSnapshots opens, verifies and scans every file of
// testdata/hostile in a child process, and checks its error and that it
// stayed within hostileMaxRSS and hostileMaxTime. With -update it first
// writes the files again from a new good snapshot.
func TestHostileSnapshots(t *testing.T) {
	dir := filepath.Join("testdata", "hostile")
	cases := append(hostileCases(), hostileQueryCases()...)
	if *update {
		good := goodSnapshot(t)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if err := os.WriteFile(filepath.Join(dir, c.name+".procsql"), c.make(t, good), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".procsql")
			before := dirState(t, dir)
			cmd := exec.Command(os.Args[0], "-test.run=^TestHostileChild$")
			cmd.Env = append(os.Environ(), "PROCSQL_HOSTILE_FILE="+path)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("child failed: %v\n%s", err, out)
			}
			got := string(out)
			switch {
			case c.want == "" && !strings.Contains(got, "result: ok"):
				t.Errorf("want no error, got:\n%s", got)
			case c.want != "" && !strings.Contains(got, c.want):
				t.Errorf("want an error containing %q, got:\n%s", c.want, got)
			case c.want != "" && c.name != "empty" && !strings.Contains(got, "corrupt: true"):
				t.Errorf("the error does not wrap snapshot.ErrCorrupt:\n%s", got)
			}
			_, query, _ := strings.Cut(got, "query result: ")
			if c.wantQuery != "" && !strings.Contains(query, c.wantQuery) {
				t.Errorf("want a query error containing %q, got:\n%s", c.wantQuery, got)
			}
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
			t.Logf("peak RSS %d MiB, %s", rss>>20, elapsed.Round(time.Millisecond))
			if rss > hostileMaxRSS {
				t.Errorf("peak RSS %d MiB, above the bound of %d MiB", rss>>20, hostileMaxRSS>>20)
			}
			if elapsed > hostileMaxTime {
				t.Errorf("took %s, above the bound of %s", elapsed, hostileMaxTime)
			}
			if after := dirState(t, dir); after != before {
				t.Errorf("the corpus directory changed: %s before, %s after", before, after)
			}
		})
	}
}

// TestHostileChild opens, verifies and scans the file that the parent names
// and prints the outcome, then opens and scans it again without verifying,
// as a query does, and prints that outcome. It does nothing in a normal
// test run.
func TestHostileChild(t *testing.T) {
	path := os.Getenv("PROCSQL_HOSTILE_FILE")
	if path == "" {
		t.Skip("run by TestHostileSnapshots")
	}
	err := openScan(path, snapshot.Limits{}, true)
	if err == nil {
		fmt.Println("result: ok")
	} else {
		fmt.Printf("result: %v\ncorrupt: %v\n", err, errors.Is(err, snapshot.ErrCorrupt))
	}
	fmt.Printf("query result: %v\n", openScan(path, snapshot.Limits{}, false))
}

// openScan opens the snapshot at path, verifies it when verify is set, and
// scans every table, returning the first error.
func openScan(path string, limits snapshot.Limits, verify bool) error {
	ctx := context.Background()
	snap, err := snapshot.Open(ctx, path, limits)
	if err != nil {
		return err
	}
	defer snap.Close()
	if verify {
		if _, err := snap.Verify(ctx); err != nil {
			return err
		}
	}
	for _, table := range tables.All() {
		r := tables.NewReader(source.NewCache(snap))
		if err := table.Scan(r, tables.Filter{}, nil, func(sql.Row) error { return nil }); err != nil {
			return fmt.Errorf("scan %s: %w", table.Name(), err)
		}
		if err := r.Err(); err != nil {
			return fmt.Errorf("scan %s: %w", table.Name(), err)
		}
	}
	return nil
}

// dirState describes the files of dir by name and size, to show that
// reading the corpus wrote nothing there.
func dirState(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%d ", e.Name(), info.Size())
	}
	return b.String()
}

// fuzzLimits keeps what one fuzz input may allocate small, so the fuzzer
// spends its time on the checks rather than on zeroing buffers that a
// mutated size declares.
var fuzzLimits = snapshot.Limits{MaxEntrySize: 1 << 20, MaxTotalSize: 8 << 20, MaxEntries: 10_000, MaxCached: 8 << 20}

// FuzzOpen feeds arbitrary files to Open, Verify and every table scan,
// and to the scans without Verify, as a query runs them, seeded with the
// hostile corpus. Each must fail with ErrCorrupt or succeed, and never
// panic, and a file that Verify accepts must scan without an error.
func FuzzOpen(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "hostile", "*.procsql"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		// The 32 MiB line and files above 64 KiB make each run slow
		// without adding a shape of their own.
		if len(data) <= 64<<10 && !strings.Contains(name, "huge-single-line") {
			f.Add(data)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.procsql")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		err := openScan(path, fuzzLimits, true)
		if err != nil && len(data) > 0 && !errors.Is(err, snapshot.ErrCorrupt) {
			t.Errorf("error %v does not wrap ErrCorrupt", err)
		}
		queryErr := openScan(path, fuzzLimits, false)
		if queryErr != nil && len(data) > 0 && !errors.Is(queryErr, snapshot.ErrCorrupt) {
			t.Errorf("query error %v does not wrap ErrCorrupt", queryErr)
		}
		if err == nil && queryErr != nil {
			t.Errorf("Verify accepted the file, but a query failed: %v", queryErr)
		}
	})
}
