package tables

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/procsql/procsql/source"
)

// TestSocketsDropRepeatedUnixRows checks that a unix or packet row that a
// chunked read of the file printed twice gives one sockets row.
func TestSocketsDropRepeatedUnixRows(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	unix := "Num       RefCount Protocol Flags    Type St Inode Path\n" +
		"0000000000000000: 00000002 00000000 00010000 0001 01 4242 /run/a.sock\n" +
		"0000000000000000: 00000002 00000000 00000000 0001 03 4343\n" +
		"0000000000000000: 00000002 00000000 00010000 0001 01 4242 /run/a.sock\n"
	packet := "sk       RefCnt Type Proto  Iface R Rmem   User   Inode\n" +
		"0000000000000000 3      3    0003   2     1 0      0      5151\n" +
		"0000000000000000 3      3    0003   2     1 0      0      5151\n"
	for name, text := range map[string]string{"unix": unix, "packet": packet} {
		if err := os.WriteFile(filepath.Join(root, "net", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := source.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var sockets Table
	for _, table := range All() {
		if table.Name() == "sockets" {
			sockets = table
		}
	}
	inodes := map[any]int{}
	err = sockets.Scan(NewReader(source.NewCache(src)), Filter{}, nil, func(row sql.Row) error {
		for i, c := range sockets.Columns() {
			if c.Name == "inode" {
				inodes[row[i]]++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(inodes) != 3 {
		t.Errorf("sockets has inodes %v, want 4242, 4343 and 5151", inodes)
	}
	for inode, n := range inodes {
		if n != 1 {
			t.Errorf("inode %v has %d rows, want 1", inode, n)
		}
	}
}
