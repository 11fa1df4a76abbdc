package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/source"
)

// countingSource records every read that reaches the real source below it.
type countingSource struct {
	source.Source
	mu    sync.Mutex
	reads map[string]int
}

func (c *countingSource) count(op, name string) {
	c.mu.Lock()
	c.reads[op+" "+name]++
	c.mu.Unlock()
}

func (c *countingSource) ReadFile(name string) ([]byte, error) {
	c.count("read", name)
	return c.Source.ReadFile(name)
}

func (c *countingSource) ReadLink(name string) (string, error) {
	c.count("readlink", name)
	return c.Source.ReadLink(name)
}

func (c *countingSource) ReadDir(name string) ([]string, error) {
	c.count("readdir", name)
	return c.Source.ReadDir(name)
}

func (c *countingSource) Stat(name string) (source.FileStat, error) {
	c.count("stat", name)
	return c.Source.Stat(name)
}

func (c *countingSource) names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k := range c.reads {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func countReads(t *testing.T, root, query string) *countingSource {
	t.Helper()
	dir, err := source.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	src := &countingSource{Source: dir, reads: map[string]int{}}
	eng, err := engine.New(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Query(eng.NewSession(context.Background()), query); err != nil {
		t.Fatal(err)
	}
	return src
}

func TestUnusedColumnsReadNoFiles(t *testing.T) {
	src := countReads(t, "../testdata/cases/29-permission-denied-other-user", "SELECT pid, name, ppid FROM processes")
	for _, name := range src.names() {
		for _, file := range []string{"status", "environ", "cmdline", "exe", "cgroup", "/ns/", "smaps", "fdinfo"} {
			if strings.Contains(name, file) {
				t.Errorf("query without %s columns read %q", file, name)
			}
		}
	}
}

func TestPIDLookupReadsOneProcess(t *testing.T) {
	src := countReads(t, "../testdata/cases/29-permission-denied-other-user", "SELECT name, cmdline FROM processes WHERE pid = 5678")
	for _, name := range src.names() {
		if strings.Contains(name, "1234") {
			t.Errorf("lookup of pid 5678 read %q", name)
		}
		if strings.HasPrefix(name, "readdir .") {
			t.Errorf("lookup of pid 5678 listed the procfs root")
		}
	}
}

func TestJoinReadsEachFileOnce(t *testing.T) {
	src := countReads(t, "../testdata/cases/29-permission-denied-other-user",
		"SELECT p.pid, p.name, e.name, q.exe FROM processes p JOIN environ e ON e.pid = p.pid JOIN processes q ON q.pid = p.pid")
	if len(src.names()) == 0 {
		t.Fatal("no reads recorded")
	}
	for name, n := range src.reads {
		if n != 1 {
			t.Errorf("%s read %d times in one query, want 1", name, n)
		}
	}
}

// TestConditionSkipsOtherColumns checks that a condition in WHERE is tested
// in the scan before the other columns are read: the cmdline of the process
// that fails it is never read.
func TestConditionSkipsOtherColumns(t *testing.T) {
	src := countReads(t, "../testdata/cases/29-permission-denied-other-user",
		"SELECT pid, cmdline FROM processes WHERE name = 'bash'")
	if src.reads["read 5678/cmdline"] != 1 {
		t.Errorf("cmdline of the matching pid 5678 read %d times, want 1", src.reads["read 5678/cmdline"])
	}
	if n := src.reads["read 1234/cmdline"]; n != 0 {
		t.Errorf("cmdline of pid 1234, whose name fails the condition, read %d times, want 0", n)
	}
}

// TestShareReadsReadsEachFileOnce runs two statements under one ShareReads
// context: the second reads nothing, and returns the file content the first
// saw even after the file changed.
func TestShareReadsReadsEachFileOnce(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "42"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeStat := func(name string) {
		t.Helper()
		stat := "42 (" + name + ") S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		if err := os.WriteFile(filepath.Join(root, "42", "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeStat("before")
	dir, err := source.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	src := &countingSource{Source: dir, reads: map[string]int{}}
	eng, err := engine.New(src)
	if err != nil {
		t.Fatal(err)
	}
	shared := eng.ShareReads(context.Background())
	name := func(ctx context.Context) string {
		t.Helper()
		res, err := eng.Query(eng.NewSession(ctx), "SELECT name FROM processes WHERE pid = 42")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 1 {
			t.Fatalf("got %d rows, want 1", len(res.Rows))
		}
		return res.Rows[0][0].(string)
	}

	if got := name(shared); got != "before" {
		t.Fatalf("first statement: name = %q, want before", got)
	}
	writeStat("after")
	if got := name(shared); got != "before" {
		t.Errorf("second statement under ShareReads: name = %q, want before, the version the first statement read", got)
	}
	if n := src.reads["read 42/stat"]; n != 1 {
		t.Errorf("42/stat read %d times under ShareReads, want 1", n)
	}
	if got := name(context.Background()); got != "after" {
		t.Errorf("statement outside ShareReads: name = %q, want after", got)
	}
}
