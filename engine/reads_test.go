package engine_test

import (
	"context"
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
