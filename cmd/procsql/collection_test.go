package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// uacArchive is a real UAC 3.3.0 collection of a known scenario (see
// collection/uac_test.go for what each process exhibits).
const uacArchive = "../../testdata/collections/uac-vm-linux-20261204192922.tar.gz"

// extractUACArchive extracts the test collection into a new directory and
// returns it.
func extractUACArchive(t *testing.T) string {
	t.Helper()
	f, err := os.Open(uacArchive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tamperUACDir changes one byte of the LD_PRELOAD process's environ in an
// extracted collection.
func tamperUACDir(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, "live_response/process/proc/20/environ.txt")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, bytes.Replace(data, []byte("libfake"), []byte("libfakE"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCollectionQuery(t *testing.T) {
	stdout, stderr, err := runApp(t, "--snapshot", uacArchive, "query",
		"SELECT pid, name, exe, exe_deleted, cwd FROM processes WHERE pid IN (17, 31, 37) ORDER BY pid")
	if err != nil {
		t.Fatal(err)
	}
	want := "pid,name,exe,exe_deleted,cwd\n" +
		"17,ssh-agent-helpe,/tmp/scenario/bin/ssh-agent-helper,1,/\n" +
		"31,3,/memfd:memfd_sleep,1,/\n" +
		"37,sleep,/usr/bin/sleep,0,/dev/shm/.work\n"
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	if strings.Contains(stderr, "integrity") {
		t.Errorf("an intact collection gave the warning %q", stderr)
	}

	stdout, _, err = runApp(t, "--snapshot", uacArchive, "query", "SELECT source, location, collector, problems FROM `system`")
	if err != nil {
		t.Fatal(err)
	}
	if want := "source,location,collector,problems\nuac," + uacArchive + ",UAC 3.3.0,[]\n"; stdout != want {
		t.Errorf("system = %q, want %q", stdout, want)
	}
}

func TestCollectionDirectoryQuery(t *testing.T) {
	dir := extractUACArchive(t)
	stdout, _, err := runApp(t, "--snapshot", dir, "query", "SELECT pid, fd, target FROM fds WHERE fd = 3 ORDER BY pid")
	if err != nil {
		t.Fatal(err)
	}
	want := "pid,fd,target\n" +
		"21,3,socket:[302320]\n" +
		"26,3,socket:[302328]\n" +
		"30,3,/tmp/scenario/gone.log (deleted)\n" +
		"31,3,/memfd:memfd_sleep (deleted)\n"
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
}

func TestCollectionTamperedWarns(t *testing.T) {
	dir := extractUACArchive(t)
	tamperUACDir(t, dir)
	stdout, stderr, err := runApp(t, "--snapshot", dir, "query", "SELECT value FROM environ WHERE pid = 20 AND name = 'LD_PRELOAD'")
	if err != nil {
		t.Fatal(err)
	}
	if want := "value\n/tmp/scenario/lib/libfakE.so\n"; stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	want := "warning: " + dir + ": integrity problem: live_response/process/proc/20/environ.txt does not match its SHA256 in hash_list.sha256"
	if !strings.HasPrefix(lines[0], want) {
		t.Errorf("first stderr line %q, want it to start with %q", lines[0], want)
	}
	if n := strings.Count(stderr, "integrity problem"); n != 1 {
		t.Errorf("%d integrity warnings, want 1:\n%s", n, stderr)
	}
}

func TestCollectionVerify(t *testing.T) {
	data, err := os.ReadFile(uacArchive)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	stdout, _, err := runApp(t, "snapshot", "verify", uacArchive)
	if err != nil {
		t.Fatal(err)
	}
	want := uacArchive + ": intact\n" +
		"sha256: " + hex.EncodeToString(sum[:]) + "\n" +
		"host: vm\n" +
		"captured: 2026-12-04T19:29:22Z to 2026-12-04T19:29:35Z by UAC 3.3.0\n" +
		"files: 367 match hash_list.sha256\n"
	if stdout != want {
		t.Errorf("verify output:\n%s\nwant:\n%s", stdout, want)
	}

	dir := extractUACArchive(t)
	tamperUACDir(t, dir)
	stdout, _, err = runApp(t, "snapshot", "verify", dir)
	if err == nil || err.Error() != dir+" failed its integrity check: the problems are listed above" {
		t.Errorf("verify of a tampered collection: %v", err)
	}
	if !strings.HasPrefix(stdout, "problem: live_response/process/proc/20/environ.txt does not match its SHA256 in hash_list.sha256 (listed ") ||
		strings.Count(stdout, "\n") != 1 {
		t.Errorf("verify output %q, want one problem line", stdout)
	}
}

func TestSnapshotFlagNamesBothFormats(t *testing.T) {
	notes := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notes, []byte("just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := runApp(t, "--snapshot", notes, "query", "SELECT 1")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"not a zstd-compressed archive", "--snapshot also takes a UAC or CatScale collection"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	truncated := filepath.Join(t.TempDir(), "truncated.tar.gz")
	data, err := os.ReadFile(uacArchive)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, data[:len(data)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = runApp(t, "--snapshot", truncated, "query", "SELECT 1")
	if err == nil || !strings.Contains(err.Error(), "open collection "+truncated+": invalid collection archive: ") ||
		!strings.Contains(err.Error(), "(the archive is truncated or damaged)") {
		t.Errorf("truncated collection: %v", err)
	}
}

// uacHuntHits are the hits of the built-in hunts on the test collection, by
// hunt, as sorted pids. The scenario's processes are 13 to 37; 214 and 2688
// are UAC itself, which runs from /tmp.
var uacHuntHits = map[string][]int{
	"deleted_executable":          {17},
	"executable_anonymous_memory": {31},
	"executable_in_temp_dir":      {17, 37, 214, 2688},
	"fake_kernel_thread":          {28},
	"first_code_not_exe":          {31},
	"ld_preload_environment":      {20},
	"library_from_temp_path":      {20},
	"memfd_executable":            {31},
	"process_name_mismatch":       {31},
	"secrets_in_environment":      {27},
	"shared_deleted_exe_hash":     {17, 31},
}

func TestCollectionHunts(t *testing.T) {
	stdout, stderr, err := runHuntApp(t, "--snapshot", uacArchive, "--format", "jsonl", "hunt")
	var matched *huntsMatchedError
	if !errors.As(err, &matched) {
		t.Fatalf("error %v, want hits; stderr:\n%s", err, stderr)
	}
	got := map[string][]int{}
	for _, hit := range decodeHits(t, stdout) {
		id, _ := hit["hunt"].(string)
		row, _ := hit["row"].(map[string]any)
		pid, ok := row["pid"].(float64)
		if !ok {
			t.Errorf("hit of %s has no pid: %v", id, row)
			continue
		}
		got[id] = append(got[id], int(pid))
	}
	for id := range got {
		sort.Ints(got[id])
	}
	ids := func(m map[string][]int) []string {
		var out []string
		for id := range m {
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	}
	if !slices.Equal(ids(got), ids(uacHuntHits)) {
		t.Errorf("hunts with hits = %v\nwant %v", ids(got), ids(uacHuntHits))
	}
	for id, want := range uacHuntHits {
		if !slices.Equal(got[id], want) {
			t.Errorf("%s hit pids %v, want %v", id, got[id], want)
		}
	}
	if want := "hits: 1 critical, 7 high, 6 medium, 1 low (11 hunts matched, "; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
}
