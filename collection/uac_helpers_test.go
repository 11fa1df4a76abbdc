package collection

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/queries"
)

// uacArchive is a real UAC 3.3.0 collection of a known scenario, made in
// fresh pid and network namespaces. Its processes run a deleted executable
// and a memfd executable, use LD_PRELOAD, keep a secret in the environment,
// disguise argv[0], hold a deleted file open, work in /dev/shm, and listen
// and connect over TCP and a unix socket.
const uacArchive = "../testdata/collections/uac-vm-linux-20261204192922.tar.gz"

// uacEntry is one file of the test archive.
type uacEntry struct {
	name string
	data []byte
}

// readUACEntries returns the files of the test archive in archive order.
func readUACEntries(t *testing.T) []uacEntry {
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
	tr := tar.NewReader(zr)
	var entries []uacEntry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, uacEntry{hdr.Name, data})
	}
}

// changeUACEntry returns a copy of entries with name's content replaced.
func changeUACEntry(t *testing.T, entries []uacEntry, name string, change func([]byte) []byte) []uacEntry {
	t.Helper()
	out := slices.Clone(entries)
	for i, e := range out {
		if e.name == name {
			out[i].data = change(bytes.Clone(e.data))
			return out
		}
	}
	t.Fatalf("the archive has no %s", name)
	return nil
}

// writeUACDir writes entries under a new directory, below prefix when it
// is not "", and returns the directory.
func writeUACDir(t *testing.T, entries []uacEntry, prefix string) string {
	t.Helper()
	dir := t.TempDir()
	for _, e := range entries {
		p := filepath.Join(dir, prefix, filepath.FromSlash(e.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, e.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// uacTar returns entries as a tar archive, gzip-compressed when compress is
// set, each name below prefix when it is not "".
func uacTar(t *testing.T, entries []uacEntry, prefix string, compress bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	var out io.Writer = &buf
	zw := gzip.NewWriter(&buf)
	if compress {
		out = zw
	}
	tw := tar.NewWriter(out)
	for _, e := range entries {
		hdr := &tar.Header{Name: prefix + e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if compress {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// writeUACFile writes data to a new file named name in a temporary
// directory.
func writeUACFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// uacZip returns entries as a zip archive.
func uacZip(t *testing.T, entries []uacEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// uacDB runs SQL over a tree with the built-in hunts.
type uacDB struct {
	t   *testing.T
	eng *engine.Engine
}

func newUACDB(t *testing.T, tree *Tree) uacDB {
	t.Helper()
	hunts, err := queries.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(tree, engine.WithHunts(hunts))
	if err != nil {
		t.Fatal(err)
	}
	return uacDB{t, eng}
}

// rows runs query and returns each row as its values joined by " | ",
// NULL as "NULL" and JSON as compact JSON text.
func (db uacDB) rows(query string) []string {
	db.t.Helper()
	res, err := db.eng.Query(db.eng.NewSession(context.Background()), query)
	if err != nil {
		db.t.Fatalf("%s: %v", query, err)
	}
	out := make([]string, 0, len(res.Rows))
	for _, row := range res.Rows {
		texts := make([]string, len(row))
		for i, v := range row {
			switch v := v.(type) {
			case nil:
				texts[i] = "NULL"
			case []byte:
				texts[i] = string(v)
			case types.JSONDocument:
				b, err := json.Marshal(v.Val)
				if err != nil {
					db.t.Fatal(err)
				}
				texts[i] = string(b)
			default:
				texts[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(texts, " | "))
	}
	return out
}

// check compares the rows of query with want.
func (db uacDB) check(query string, want ...string) {
	db.t.Helper()
	if got := db.rows(query); !slices.Equal(got, want) {
		db.t.Errorf("%s\ngot:\n  %s\nwant:\n  %s", query, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
