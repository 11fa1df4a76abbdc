package snapshot_test

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
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/procsql/procsql/snapshot"
	"github.com/procsql/procsql/source"
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

func unpack(t *testing.T, file []byte) []tarEntry {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var entries []tarEntry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, tarEntry{*hdr, data})
	}
}

func pack(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
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
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rewriteManifest applies change to the manifest and stores a matching
// digest, so only the change itself can make Open fail.
func rewriteManifest(t *testing.T, entries []tarEntry, change func(m map[string]any)) []tarEntry {
	t.Helper()
	for i, e := range entries {
		if e.hdr.Name != "manifest.json" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(e.data, &m); err != nil {
			t.Fatal(err)
		}
		change(m)
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		entries[i].data = data
		for j := range entries {
			if entries[j].hdr.Name == "manifest.json.sha256" {
				entries[j].data = []byte(sha256Hex(data) + "  manifest.json\n")
			}
		}
	}
	return entries
}

func openBytes(t *testing.T, data []byte) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "input.procsql")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := snapshot.Open(context.Background(), path, snapshot.Limits{})
	return err
}

func TestOpenRejectsDamagedFiles(t *testing.T) {
	good := goodSnapshot(t)
	if err := openBytes(t, good); err != nil {
		t.Fatalf("good snapshot: %v", err)
	}
	firstFile := func(entries []tarEntry) int {
		for i, e := range entries {
			if strings.HasPrefix(e.hdr.Name, "proc/") {
				return i
			}
		}
		t.Fatal("no proc/ entry")
		return 0
	}
	cases := []struct {
		name string
		data func() []byte
		want string
	}{
		{"empty file", func() []byte { return nil }, "the file is empty"},
		{"not an archive", func() []byte { return []byte("PK\x03\x04 this is a zip header") }, "not a zstd-compressed archive"},
		{"truncated at 10 bytes", func() []byte { return good[:10] }, "truncated"},
		{"truncated in the middle", func() []byte { return good[:len(good)/2] }, "truncated"},
		{"truncated before the end", func() []byte { return good[:len(good)-8] }, "invalid snapshot"},
		{"flipped byte", func() []byte {
			bad := bytes.Clone(good)
			bad[len(bad)/2] ^= 0x40
			return bad
		}, "invalid snapshot"},
		{"altered entry", func() []byte {
			entries := unpack(t, good)
			i := firstFile(entries)
			altered := bytes.Clone(entries[i].data)
			altered[0] ^= 0x20
			entries[i].data = altered
			return pack(t, entries)
		}, "does not match its SHA-256"},
		{"entry longer than listed", func() []byte {
			entries := unpack(t, good)
			i := firstFile(entries)
			entries[i].data = append(bytes.Clone(entries[i].data), 'x')
			return pack(t, entries)
		}, "but the manifest lists"},
		{"manifest hash mismatch", func() []byte {
			entries := unpack(t, good)
			for i, e := range entries {
				if e.hdr.Name == "manifest.json" {
					entries[i].data = bytes.Replace(e.data, []byte(`"procsql test"`), []byte(`"procsql evil"`), 1)
				}
			}
			return pack(t, entries)
		}, "manifest.json.sha256 does not match"},
		{"unknown version", func() []byte {
			return pack(t, rewriteManifest(t, unpack(t, good), func(m map[string]any) { m["version"] = 99 }))
		}, "version 99 is not supported"},
		{"dot-dot entry", func() []byte {
			entries := unpack(t, good)
			entries = append([]tarEntry{{tar.Header{Name: "../x", Typeflag: tar.TypeReg, Mode: 0o444}, []byte("x")}}, entries...)
			return pack(t, entries)
		}, `entry "../x" is not a clean relative path`},
		{"absolute entry", func() []byte {
			entries := unpack(t, good)
			entries = append([]tarEntry{{tar.Header{Name: "/etc/x", Typeflag: tar.TypeReg, Mode: 0o444}, []byte("x")}}, entries...)
			return pack(t, entries)
		}, "absolute or empty path"},
		{"symlink entry", func() []byte {
			entries := unpack(t, good)
			entries = append([]tarEntry{{tar.Header{Name: "proc/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow", Mode: 0o777}, nil}}, entries...)
			return pack(t, entries)
		}, "not a regular file"},
		{"duplicate entry", func() []byte {
			entries := unpack(t, good)
			i := firstFile(entries)
			return pack(t, append([]tarEntry{entries[i]}, entries...))
		}, "appears twice"},
		{"entry missing", func() []byte {
			entries := unpack(t, good)
			i := firstFile(entries)
			return pack(t, append(entries[:i:i], entries[i+1:]...))
		}, "missing from the archive"},
		{"entry not listed", func() []byte {
			entries := unpack(t, good)
			return pack(t, append([]tarEntry{{tar.Header{Name: "proc/extra", Typeflag: tar.TypeReg, Mode: 0o444}, []byte("x")}}, entries...))
		}, `entry "proc/extra" is not listed in the manifest`},
		{"data after the end", func() []byte {
			return append(bytes.Clone(good), good...)
		}, "data follows the end of the archive"},
		{"duplicate record", func() []byte {
			return pack(t, rewriteManifest(t, unpack(t, good), func(m map[string]any) {
				records := m["records"].([]any)
				m["records"] = append(records, map[string]any{"op": "read", "path": "proc/1234/cmdline", "errno": "EACCES"})
			}))
		}, `records read of "proc/1234/cmdline" twice`},
		{"decompression bomb", func() []byte {
			entries := unpack(t, good)
			zeros := make([]byte, 64<<20)
			for i := range 4 {
				entries = append([]tarEntry{{tar.Header{Name: fmt.Sprintf("proc/zero%d", i), Typeflag: tar.TypeReg, Mode: 0o444}, zeros}}, entries...)
			}
			return pack(t, entries)
		}, "entries add up to more than"},
		{"manifest missing", func() []byte {
			var kept []tarEntry
			for _, e := range unpack(t, good) {
				if !strings.HasPrefix(e.hdr.Name, "manifest") {
					kept = append(kept, e)
				}
			}
			return pack(t, kept)
		}, "manifest.json is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := openBytes(t, c.data())
			if err == nil {
				t.Fatal("Open succeeded, want an error")
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
