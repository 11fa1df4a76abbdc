package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/source"
)

// lookupTree builds a tree with one process holding the descriptors of the
// fd-target case and a unix socket table in which only inode 70120 exists.
func lookupTree(t *testing.T) *engine.Engine {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"900/stat": "900 (holder) S 1 900 900 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 1000000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		"net/unix": "Num       RefCount Protocol Flags    Type St Inode Path\n" +
			"0000000000000000: 00000002 00000000 00010000 0001 01 70120 /run/a.sock\n" +
			"0000000000000000: 00000002 00000000 00000000 0001 03 70121\n",
	}
	cases := "../testdata/cases/12-fd-link-targets/fd"
	entries, err := os.ReadDir(cases)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(cases, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files["900/fd/"+e.Name()] = string(data)
	}
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := source.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(src)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func TestLeftJoinNullKeyMatchesNothing(t *testing.T) {
	eng := lookupTree(t)
	res, err := eng.Query(eng.NewSession(context.Background()),
		"SELECT f.fd, COUNT(s.inode) FROM fds f LEFT JOIN sockets s ON s.inode = f.inode GROUP BY f.fd ORDER BY f.fd")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 12 {
		t.Fatalf("got %d rows, want one per descriptor (12): %v", len(res.Rows), res.Rows)
	}
	for _, row := range res.Rows {
		want := int64(0)
		if fmt.Sprint(row[0]) == "3" {
			want = 1
		}
		if fmt.Sprint(row[1]) != fmt.Sprint(want) {
			t.Errorf("fd %v matched %v sockets, want %d", row[0], row[1], want)
		}
	}
}

func TestLeftJoinNullPIDMatchesNothing(t *testing.T) {
	eng := lookupTree(t)
	res, err := eng.Query(eng.NewSession(context.Background()),
		"SELECT ps.inode, p.pid FROM process_sockets ps LEFT JOIN processes p ON p.pid = ps.pid ORDER BY ps.inode")
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"70120", "900"}, {"70121", "<nil>"}}
	if len(res.Rows) != len(want) {
		t.Fatalf("got %v, want %v", res.Rows, want)
	}
	for i, w := range want {
		if got := [2]string{fmt.Sprint(res.Rows[i][0]), fmt.Sprint(res.Rows[i][1])}; got != w {
			t.Errorf("row %d = %v, want %v", i, got, w)
		}
	}
}

func TestRangeLookupIsExact(t *testing.T) {
	eng := lookupTree(t)
	res, err := eng.Query(eng.NewSession(context.Background()),
		"SELECT s.inode FROM fds f JOIN sockets s ON s.inode > f.inode WHERE f.fd = 1 ORDER BY s.inode")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || fmt.Sprint(res.Rows[0][0]) != "70120" || fmt.Sprint(res.Rows[1][0]) != "70121" {
		t.Errorf("sockets with inode above the pipe's 70113 = %v, want 70120 and 70121", res.Rows)
	}
}
