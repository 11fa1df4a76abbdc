package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The trees of testdata/hosts: web1 and web2 share pids 1 and 300, and the
// deleted_executable hunt reports pid 300 on web1 and pid 410 on web2.
const (
	web1Tree = "../../testdata/hosts/web1/proc"
	web2Tree = "../../testdata/hosts/web2/proc"
)

// captureTree writes a snapshot of tree to path with procsql snapshot.
func captureTree(t *testing.T, tree, path string) {
	t.Helper()
	if _, stderr, err := runApp(t, "--proc", tree, "snapshot", "-o", path); err != nil {
		t.Fatalf("snapshot of %s: %v\n%s", tree, err, stderr)
	}
}

// hostSnapshots writes snapshots of web1 and web2 into a new directory, with
// a file beside them that is no snapshot, and returns the directory.
func hostSnapshots(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	captureTree(t, web1Tree, filepath.Join(dir, "web1.procsql"))
	captureTree(t, web2Tree, filepath.Join(dir, "web2.procsql"))
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("case 42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const bothHostsProcesses = "host,pid,name\nweb1,1,systemd\nweb1,300,kworker\nweb1,301,nginx\nweb2,1,systemd\nweb2,300,nginx\nweb2,410,sshd\n"

func TestSnapshotFlagRepeated(t *testing.T) {
	dir := hostSnapshots(t)
	stdout, stderr, err := runApp(t,
		"--snapshot", filepath.Join(dir, "web1.procsql"), "--snapshot", filepath.Join(dir, "web2.procsql"),
		"query", "SELECT host, pid, name FROM processes ORDER BY host, pid")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if stdout != bothHostsProcesses {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, bothHostsProcesses)
	}
}

func TestSnapshotDirectory(t *testing.T) {
	dir := hostSnapshots(t)
	stdout, stderr, err := runApp(t, "--snapshot", dir, "query", "SELECT host, pid, name FROM processes ORDER BY host, pid")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if stdout != bothHostsProcesses {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, bothHostsProcesses)
	}
	want := "warning: --snapshot " + dir + ": skipped 1 file, which procsql does not open as a snapshot or collection archive: notes.txt\n"
	if stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}

	stdout, _, err = runApp(t, "--snapshot", dir, "query", "SELECT host, hostname, source FROM `system` ORDER BY host")
	if err != nil {
		t.Fatal(err)
	}
	if want := "host,hostname,source\nweb1,web1,snapshot\nweb2,web2,snapshot\n"; stdout != want {
		t.Errorf("system of a directory:\n%s\nwant:\n%s", stdout, want)
	}
}

func TestSnapshotDirectoryErrors(t *testing.T) {
	dir := hostSnapshots(t)
	empty := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"same file twice", []string{"--snapshot", dir, "--snapshot", filepath.Join(dir, "web2.procsql")}, "is loaded twice"},
		{"directory without sources", []string{"--snapshot", empty}, "a directory given to --snapshot must hold procsql snapshots or collection archives"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := runApp(t, append(c.args, "query", "SELECT 1")...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one that says %q", err, c.want)
			}
		})
	}
}

// TestSharedHostnameLabels loads two captures of web1: each gets a label of
// its own, the host name and the capture's start.
func TestSharedHostnameLabels(t *testing.T) {
	dir := t.TempDir()
	captureTree(t, web1Tree, filepath.Join(dir, "monday.procsql"))
	captureTree(t, web1Tree, filepath.Join(dir, "tuesday.procsql"))
	stdout, _, err := runApp(t, "--snapshot", dir, "query", "SELECT host FROM `system` ORDER BY host")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 3 || lines[0] != "host" {
		t.Fatalf("stdout:\n%s\nwant a header and two hosts", stdout)
	}
	label := regexp.MustCompile(`^web1@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ(#[12])?$`)
	for _, host := range lines[1:] {
		if !label.MatchString(host) {
			t.Errorf("host %q, want web1@<capture start in UTC>, with #1 or #2 when both started in one second", host)
		}
	}
	if lines[1] == lines[2] {
		t.Errorf("both captures are labelled %q", lines[1])
	}
}

func TestHuntCountsHitsPerHost(t *testing.T) {
	dir := hostSnapshots(t)
	captureTree(t, cleanTree, filepath.Join(dir, "clean.procsql"))
	stdout, _, err := runHuntApp(t, "--snapshot", dir, "--format", "csv", "hunt", "deleted_executable")
	if code := exitCode(t, err); code != 1 {
		t.Fatalf("exit code %d (%v), want 1", code, err)
	}
	for _, want := range []string{
		"web1,300,1,kworker,/tmp/.cache/kw,",
		"web2,410,1,sshd,/var/tmp/.s,",
		"hits: 2 high (1 hunt matched, 1 ran)\n  web1: 1 high (1 hunt matched)\n  web2: 1 high (1 hunt matched)\n  no hits on 1 host of 3\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}

	stdout, stderr, err := runHuntApp(t, "--snapshot", dir, "--format", "jsonl", "hunt", "deleted_executable")
	if code := exitCode(t, err); code != 1 {
		t.Fatalf("exit code %d (%v), want 1", code, err)
	}
	hits := decodeHits(t, stdout)
	if len(hits) != 2 {
		t.Fatalf("got %d hits, want 2:\n%s", len(hits), stdout)
	}
	for i, want := range []string{"web1", "web2"} {
		if hits[i]["host"] != want {
			t.Errorf("hit %d: host %v, want %s", i, hits[i]["host"], want)
		}
	}
	if !strings.Contains(stderr, "  web2: 1 high (1 hunt matched)\n") {
		t.Errorf("stderr lacks the hits of web2:\n%s", stderr)
	}
}

// TestHuntOnOneSourceHasNoHostLines keeps the summary of a single source as
// it was: one line.
func TestHuntOnOneSourceHasNoHostLines(t *testing.T) {
	stdout, _, err := runHuntApp(t, "--proc", web1Tree, "--format", "csv", "hunt", "deleted_executable")
	if code := exitCode(t, err); code != 1 {
		t.Fatalf("exit code %d (%v), want 1", code, err)
	}
	if want := "\nhits: 1 high (1 hunt matched, 1 ran)\n"; !strings.HasSuffix(stdout, want) {
		t.Errorf("stdout does not end with %q:\n%s", want, stdout)
	}
}

// TestSnapshotDirectoryMixesFormats loads procsql snapshots and UAC and
// CatScale archives from one directory. Both collections come from a host
// called vm, so their labels carry their capture starts.
func TestSnapshotDirectoryMixesFormats(t *testing.T) {
	dir := hostSnapshots(t)
	for _, archive := range []string{uacArchive, "../../testdata/collections/catscale_vm-20261204-1929.tar.gz"} {
		data, err := os.ReadFile(archive)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(archive)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, err := runApp(t, "--snapshot", dir, "query", "SELECT host, hostname, source, captured_at FROM `system` ORDER BY host")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	want := "host,hostname,source,captured_at\n" +
		"vm@2026-12-04T19:29:22Z,vm,uac,2026-12-04T19:29:22.000000Z\n" +
		"vm@2026-12-04T19:29:35Z,vm,catscale,2026-12-04T19:29:35.000000Z\n"
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("system:\n%s\nwant it to start with:\n%s", stdout, want)
	}
	for _, host := range []string{"\nweb1,web1,snapshot,", "\nweb2,web2,snapshot,"} {
		if !strings.Contains(stdout, host) {
			t.Errorf("system lacks %q:\n%s", host[1:], stdout)
		}
	}
}
