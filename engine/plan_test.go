package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/source"
)

// reverseShellTree has shells with sockets on fds 0 to 2 and processes with
// files, so joins on fd inodes meet both socket inodes and NULLs.
const reverseShellTree = "../testdata/hunts/reverse_shell/positive"

func planOf(t *testing.T, eng *engine.Engine, query string) string {
	t.Helper()
	res, err := eng.Query(eng.NewSession(context.Background()), "EXPLAIN PLAN "+query)
	if err != nil {
		t.Fatalf("EXPLAIN PLAN %s: %v", query, err)
	}
	var b strings.Builder
	for _, row := range res.Rows {
		fmt.Fprintln(&b, row[0])
	}
	return b.String()
}

// TestJoinsUseKeyLookups checks that joins on pid and on socket inode read
// the inner table through its key index, one pid or inode at a time, and
// not through a hash join that scans both tables whole.
func TestJoinsUseKeyLookups(t *testing.T) {
	src, err := source.NewDir(reverseShellTree)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(src)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"SELECT p.pid, f.fd FROM processes p JOIN fds f ON f.pid = p.pid", []string{"IndexedTableAccess(fds)"}},
		{"SELECT p.pid, e.name FROM processes p JOIN environ e ON e.pid = p.pid WHERE p.name = 'bash'", []string{"IndexedTableAccess(environ)"}},
		{"SELECT ps.pid, s.state FROM process_sockets ps JOIN sockets s ON s.inode = ps.inode", []string{"IndexedTableAccess(sockets)"}},
		{"SELECT p.name, s.local_port FROM processes p JOIN fds f ON f.pid = p.pid JOIN sockets s ON s.inode = f.inode WHERE s.state = 'LISTEN'",
			[]string{"IndexedTableAccess(fds)", "IndexedTableAccess(sockets)"}},
	}
	for _, c := range cases {
		plan := planOf(t, eng, c.query)
		if strings.Contains(plan, "HashJoin") {
			t.Errorf("%s: plan has a hash join:\n%s", c.query, plan)
		}
		for _, want := range c.want {
			if !strings.Contains(plan, want) {
				t.Errorf("%s: plan lacks %s:\n%s", c.query, want, plan)
			}
		}
	}
}

// TestLookupJoinSkipsNullKeys joins fds to sockets on inode, where file
// descriptors have a NULL inode: the join returns one row per socket
// descriptor.
func TestLookupJoinSkipsNullKeys(t *testing.T) {
	src, err := source.NewDir(reverseShellTree)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Query(eng.NewSession(context.Background()),
		"SELECT f.pid, f.fd, s.state FROM fds f JOIN sockets s ON s.inode = f.inode ORDER BY f.pid, f.fd")
	if err != nil {
		t.Fatal(err)
	}
	socketFDs, err := eng.Query(eng.NewSession(context.Background()), "SELECT COUNT(*) FROM fds WHERE type = 'socket'")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(len(res.Rows)), fmt.Sprint(socketFDs.Rows[0][0]); got != want || got == "0" {
		t.Errorf("join returned %s rows, want one per socket descriptor: %s", got, want)
	}
}
