package source

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hostileTree builds a copied tree whose links and special files would
// read the analyst's own files, exhaust memory or block if followed.
func hostileTree(t *testing.T) (parent, root string) {
	t.Helper()
	parent = t.TempDir()
	root = filepath.Join(parent, "proc")
	for _, dir := range []string{"proc/4", "proc/5", "etc"} {
		if err := os.MkdirAll(filepath.Join(parent, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"proc/6":            "/proc/self", // a whole process directory
		"proc/4/stat":       "/dev/zero",
		"proc/4/exe.nlink":  "/dev/zero",
		"proc/4/environ":    "/proc/self/environ",
		"etc/passwd":        "/dev/zero",
		"proc/5/exe.sha256": "/etc/hostname",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(parent, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, fifo := range []string{"proc/5/stat", "proc/5/exe.nlink", "proc/5/cmdline.error"} {
		if err := syscall.Mkfifo(filepath.Join(parent, fifo), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A link saved as a file by readlink(1), with its newline.
	if err := os.WriteFile(filepath.Join(root, "5", "cwd"), []byte("/srv/app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return parent, root
}

// within fails the test if call takes more than a few seconds, which a
// blocking FIFO read would.
func within(t *testing.T, what string, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s blocked", what)
		return nil
	}
}

func TestTreeRefusesLinksAndSpecialFiles(t *testing.T) {
	_, root := hostileTree(t)
	d, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	reads := map[string]func() error{
		"stat linked to /dev/zero":   func() error { _, err := d.ReadFile("4/stat"); return err },
		"environ linked to the host": func() error { _, err := d.ReadFile("4/environ"); return err },
		"stat as a FIFO":             func() error { _, err := d.ReadFile("5/stat"); return err },
		"pid directory linked":       func() error { _, err := d.ReadFile("6/environ"); return err },
		"listing a linked pid":       func() error { _, err := d.ReadDir("6"); return err },
		"nlink linked to /dev/zero":  func() error { _, err := d.Stat("4/exe"); return err },
		"nlink as a FIFO":            func() error { _, err := d.Stat("5/exe"); return err },
		"sha256 linked to the host":  func() error { _, err := d.Hash("5/exe"); return err },
		"errno file as a FIFO":       func() error { _, err := d.ReadFile("5/cmdline"); return err },
		"passwd linked to /dev/zero": func() error { _, err := d.HostFile("etc/passwd"); return err },
	}
	for what, read := range reads {
		if err := within(t, what, read); err == nil {
			t.Errorf("%s: read succeeded, want an error", what)
		}
	}
}

func TestTreeReadsLinkTextFromFiles(t *testing.T) {
	_, root := hostileTree(t)
	d, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	target, err := d.ReadLink("5/cwd")
	if err != nil {
		t.Fatal(err)
	}
	if target != "/srv/app" {
		t.Errorf("cwd = %q, want /srv/app without the newline readlink(1) adds", target)
	}
	// A real symbolic link in the tree is read as text, never followed.
	target, err = d.ReadLink("4/stat")
	if err != nil {
		t.Fatal(err)
	}
	if target != "/dev/zero" {
		t.Errorf("stat link text = %q, want /dev/zero", target)
	}
}

func TestTreeMissingFileNotCollected(t *testing.T) {
	_, root := hostileTree(t)
	d, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadFile("4/status"); !errors.Is(err, ErrNotCollected) {
		t.Errorf("missing status of a present pid: %v, want ErrNotCollected", err)
	}
	if _, err := d.ReadFile("77/status"); errors.Is(err, ErrNotCollected) || !Gone(err) {
		t.Errorf("status of an absent pid: %v, want a plain not-exist error", err)
	}
}

func TestDirHashMatchesSHA256(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	content, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	want := Digest{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content))}

	d, err := NewDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if !d.procfs {
		t.Skip("/proc is not a procfs mount")
	}
	name := strconv.Itoa(os.Getpid()) + "/exe"
	// Concurrent readers of one executable share one digest.
	digests := make([]Digest, 8)
	errs := make([]error, len(digests))
	var wg sync.WaitGroup
	for i := range digests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			digests[i], errs[i] = d.Hash(name)
		}()
	}
	wg.Wait()
	for i := range digests {
		if errs[i] != nil {
			t.Fatalf("Hash(%s): %v", name, errs[i])
		}
		if digests[i] != want {
			t.Errorf("Hash(%s) = %+v, want %+v", name, digests[i], want)
		}
	}
	if len(d.hashes) != 1 {
		t.Errorf("Dir keeps %d digests after hashing one file, want 1", len(d.hashes))
	}
}

func TestDirHashMissingExecutable(t *testing.T) {
	d, err := NewDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if !d.procfs {
		t.Skip("/proc is not a procfs mount")
	}
	if _, err := d.Hash("999999999/exe"); !Gone(err) {
		t.Errorf("Hash of a missing process: %v, want a not-exist error", err)
	}
	if len(d.hashes) != 0 {
		t.Errorf("Dir keeps %d digests after a failed hash, want 0", len(d.hashes))
	}
}
