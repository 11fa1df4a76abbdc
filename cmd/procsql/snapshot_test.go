package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const permissionTree = "../../testdata/cases/29-permission-denied-other-user"

func TestSnapshotCaptureThenQuery(t *testing.T) {
	out := filepath.Join(t.TempDir(), "case.procsql")
	stdout, stderr, err := runApp(t, "--proc", permissionTree, "snapshot", "-o", out)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "" {
		t.Errorf("snapshot wrote %q to stdout, want nothing", stdout)
	}
	for _, want := range []string{"wrote " + out, "processes: 2,", "capture window:", "failed reads, recorded as evidence:", "EACCES"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}

	live, _, err := runApp(t, "--proc", permissionTree, "query", "SELECT pid, name, exe, uid FROM processes ORDER BY pid")
	if err != nil {
		t.Fatal(err)
	}
	offline, _, err := runApp(t, "--snapshot", out, "query", "SELECT pid, name, exe, uid FROM processes ORDER BY pid")
	if err != nil {
		t.Fatal(err)
	}
	if offline != live {
		t.Errorf("snapshot query = %q, want the tree's %q", offline, live)
	}
	source, _, err := runApp(t, "--snapshot", out, "query", "SELECT source, location, collector LIKE 'procsql %' FROM `system`")
	if err != nil {
		t.Fatal(err)
	}
	if want := "source,location,collector LIKE 'procsql %'\nsnapshot," + out + ",true\n"; source != want {
		t.Errorf("system = %q, want %q", source, want)
	}
}

func TestSnapshotErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "exists.procsql")
	if err := os.WriteFile(existing, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	notSnapshot := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notSnapshot, []byte("just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"existing output", []string{"--proc", permissionTree, "snapshot", "-o", existing}, "already exists: choose another name or pass --force"},
		{"missing output", []string{"--proc", permissionTree, "snapshot"}, "missing output file: pass -o FILE"},
		{"output under /proc", []string{"--proc", permissionTree, "snapshot", "-o", "/proc/x.procsql"}, "is inside /proc"},
		{"snapshot of a snapshot", []string{"--snapshot", existing, "snapshot", "-o", filepath.Join(dir, "y")}, "snapshot reads the live /proc"},
		{"two sources", []string{"--snapshot", existing, "--proc", permissionTree, "query", "SELECT 1"}, "--proc and --snapshot name two sources"},
		{"not a snapshot", []string{"--snapshot", notSnapshot, "query", "SELECT 1"}, "not a zstd-compressed archive"},
		{"missing snapshot", []string{"--snapshot", filepath.Join(dir, "nope"), "query", "SELECT 1"}, "no such file or directory"},
		{"bad exe cap", []string{"--proc", permissionTree, "snapshot", "-o", filepath.Join(dir, "z"), "--max-exe-size", "0"}, "invalid --max-exe-size 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := runApp(t, c.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
	if data, _ := os.ReadFile(existing); string(data) != "keep" {
		t.Errorf("existing file changed to %q", data)
	}
}

func TestSnapshotVerify(t *testing.T) {
	out := filepath.Join(t.TempDir(), "case.procsql")
	if _, _, err := runApp(t, "--proc", permissionTree, "snapshot", "-o", out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	stdout, _, err := runApp(t, "snapshot", "verify", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{out + ": intact\n", "sha256: " + hex.EncodeToString(sum[:]) + "\n", "processes: 2, segments: ", " by procsql "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, stdout)
		}
	}

	// A byte changed in the first segment.
	data[10] ^= 0x01
	damaged := filepath.Join(t.TempDir(), "damaged.procsql")
	if err := os.WriteFile(damaged, data, 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _, err = runApp(t, "snapshot", "verify", damaged)
	if err == nil || !strings.Contains(err.Error(), "does not match its SHA-256 in the manifest") {
		t.Errorf("verify of a damaged file: %v, want a digest mismatch", err)
	}
	if strings.Contains(stdout, "intact") {
		t.Errorf("verify of a damaged file printed %q", stdout)
	}
	if _, _, err := runApp(t, "snapshot", "verify"); err == nil || !strings.Contains(err.Error(), "accepts 1 arg") {
		t.Errorf("verify without a file: %v, want a usage error", err)
	}
}
