package export_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/export"
	"github.com/procsql/procsql/export/internal/exporttest"
)

// readJSONL decodes every line of a JSON lines file into its keys, in
// order, and its values, with numbers kept as json.Number.
func readJSONL(t *testing.T, path string) (keys [][]string, values []map[string]any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	lines.Buffer(nil, 64<<20)
	for n := 1; lines.Scan(); n++ {
		k, v, err := decodeObject(lines.Bytes())
		if err != nil {
			t.Fatalf("%s line %d is not a JSON object: %v", path, n, err)
		}
		keys = append(keys, k)
		values = append(values, v)
	}
	if err := lines.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return keys, values
}

func decodeObject(line []byte) ([]string, map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("starts with %v (%v), want {", tok, err)
	}
	var keys []string
	values := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("value of %s: %w", key, err)
		}
		keys = append(keys, key)
		values[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("more than one value on the line")
	}
	return keys, values, nil
}

// wantJSON returns the decoded JSON that the export must write for v, a
// value of a column of sqlType, as docs/export.md states: BOOLEAN as true
// or false, numbers as numbers, text and BLOB values that are valid UTF-8
// as strings and others as {"base64": ...}, and JSON as its document.
// Times are returned as time.Time, for sameJSON to compare as instants.
func wantJSON(t *testing.T, v any, sqlType string) any {
	t.Helper()
	switch x := v.(type) {
	case nil:
		return nil
	case int8:
		if exporttest.IsBoolean(sqlType) {
			return x != 0
		}
		return json.Number(fmt.Sprint(x))
	case int16, int32, int64, uint8, uint16, uint32, uint64:
		return json.Number(fmt.Sprint(x))
	case time.Time:
		return x
	case string:
		return textJSON(x)
	case []byte:
		return textJSON(string(x))
	case types.JSONDocument:
		b, err := json.Marshal(x.Val)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	t.Fatalf("no expected JSON for %v (%T)", v, v)
	return nil
}

func textJSON(s string) any {
	if utf8.ValidString(s) {
		return s
	}
	return map[string]any{"base64": base64.StdEncoding.EncodeToString([]byte(s))}
}

// sameJSON compares a decoded value with wantJSON's, times as instants in
// RFC 3339.
func sameJSON(got, want any) bool {
	if at, ok := want.(time.Time); ok {
		s, ok := got.(string)
		if !ok {
			return false
		}
		parsed, err := time.Parse(time.RFC3339Nano, s)
		return err == nil && parsed.Equal(at)
	}
	return reflect.DeepEqual(got, want)
}

// checkJSONLTable compares an exported JSONL file with want, row by row.
func checkJSONLTable(t *testing.T, path string, want exporttest.Table) {
	t.Helper()
	keys, values := readJSONL(t, path)
	if len(values) != len(want.Rows) {
		t.Errorf("%s: %d lines, want %d rows", path, len(values), len(want.Rows))
		return
	}
	for r, row := range want.Rows {
		if !reflect.DeepEqual(keys[r], want.Columns) {
			t.Errorf("%s line %d: keys %v, want the columns %v", path, r+1, keys[r], want.Columns)
			return
		}
		for i, col := range want.Columns {
			if want.Loose[i] {
				at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(values[r][col]))
				if err != nil || !want.InWindow(at) {
					t.Errorf("%s line %d, %s: %v, want a time in %v", path, r+1, col, values[r][col], want.Window)
				}
				continue
			}
			expected := wantJSON(t, row[i], want.Types[i])
			if got := values[r][col]; !sameJSON(got, expected) {
				t.Errorf("%s line %d, %s (%s): %#v, want %#v", path, r+1, col, want.Types[i],
					exporttest.Shown(want.Name, got), exporttest.Shown(want.Name, expected))
			}
		}
	}
}

// checkJSONLExport exports every table of eng as JSONL and compares each
// file with SELECT * of the same read.
func checkJSONLExport(t *testing.T, eng *engine.Engine, ctx context.Context, host string, live bool) {
	t.Helper()
	dir := t.TempDir()
	start := time.Now().UTC().Truncate(time.Microsecond)
	report := exporttest.Export(t, eng, ctx, export.Options{Format: export.JSONL, Dir: dir, Host: host})
	st := exporttest.SystemStamp(t, eng, ctx, host)
	if live {
		st.LiveWindow = &[2]time.Time{start, time.Now().UTC()}
	}
	tables := exporttest.Tables(t, eng, ctx)
	if len(report.Files) != len(tables) {
		t.Fatalf("export wrote %d files, want one per table: %v", len(report.Files), tables)
	}
	for i, table := range tables {
		path := filepath.Join(dir, table+".jsonl")
		if report.Files[i].Path != path || report.Files[i].Table != table {
			t.Errorf("file %d is %s of table %q, want %s", i, report.Files[i].Path, report.Files[i].Table, path)
		}
		want := exporttest.Expect(t, eng, ctx, table, st)
		if report.Files[i].Rows != int64(len(want.Rows)) {
			t.Errorf("report counts %d rows in %s, want %d", report.Files[i].Rows, path, len(want.Rows))
		}
		checkJSONLTable(t, path, want)
	}
}

func TestJSONLMatchesSelectOnTrees(t *testing.T) {
	for _, tree := range exporttest.FixtureTrees(t, "..") {
		t.Run(tree, func(t *testing.T) {
			eng, ctx := exporttest.OpenTree(t, tree)
			host := ""
			if tree != hostTree {
				host = "fixture-host"
			}
			checkJSONLExport(t, eng, ctx, host, false)
		})
	}
}

func TestJSONLKeepsInvalidUTF8Bytes(t *testing.T) {
	eng, ctx := exporttest.OpenTree(t, hostTree)
	dir := t.TempDir()
	report := exporttest.Export(t, eng, ctx, export.Options{Format: export.JSONL, Dir: dir, Tables: []string{"environ", "processes"}})
	if report.Host != "web-01" {
		t.Errorf("report host %q, want web-01 from sys/kernel/hostname", report.Host)
	}
	_, environ := readJSONL(t, filepath.Join(dir, "environ.jsonl"))
	found := false
	for _, row := range environ {
		if row["pid"] != json.Number("2000") || row["name"] != "TOKEN" {
			continue
		}
		found = true
		want := map[string]any{"base64": base64.StdEncoding.EncodeToString([]byte{0xff})}
		if !reflect.DeepEqual(row["value_raw"], want) {
			t.Errorf("TOKEN value_raw = %#v, want %#v", row["value_raw"], want)
		}
		if row["host"] != "web-01" {
			t.Errorf("TOKEN host = %#v, want web-01", row["host"])
		}
	}
	if !found {
		t.Fatal("environ.jsonl has no TOKEN row of pid 2000")
	}
	_, processes := readJSONL(t, filepath.Join(dir, "processes.jsonl"))
	for _, row := range processes {
		if row["pid"] != json.Number("2000") {
			continue
		}
		raw := "/opt/caf\xe9/worker\x00--name\x00caf\xe9 \xff\xfe\x00\x00"
		want := map[string]any{"base64": base64.StdEncoding.EncodeToString([]byte(raw))}
		if !reflect.DeepEqual(row["cmdline_raw"], want) {
			t.Errorf("cmdline_raw of pid 2000 = %#v, want %#v", row["cmdline_raw"], want)
		}
		return
	}
	t.Fatal("processes.jsonl has no row of pid 2000")
}
