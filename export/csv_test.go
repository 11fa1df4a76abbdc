package export_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/export"
	"github.com/procsql/procsql/export/internal/exporttest"
)

// wantCell returns the CSV text that docs/export.md states for v, a value
// of a column of sqlType: NULL empty, BOOLEAN true or false, times in UTC
// with microseconds, BLOB values base64, JSON as its document.
func wantCell(t *testing.T, v any, sqlType string) string {
	t.Helper()
	switch x := v.(type) {
	case nil:
		return ""
	case int8:
		if exporttest.IsBoolean(sqlType) {
			return fmt.Sprint(x != 0)
		}
		return fmt.Sprint(x)
	case int16, int32, int64, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000000Z")
	case string:
		if exporttest.IsBlob(sqlType) {
			return base64.StdEncoding.EncodeToString([]byte(x))
		}
		return x
	case []byte:
		if !exporttest.IsBlob(sqlType) {
			t.Fatalf("[]byte value in a %s column", sqlType)
		}
		return base64.StdEncoding.EncodeToString(x)
	case types.JSONDocument:
		b, err := json.Marshal(x.Val)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Fatalf("no expected CSV text for %v (%T)", v, v)
	return ""
}

// sameCell compares JSON cells as documents and others as text.
func sameCell(got, want, sqlType string) bool {
	if got == want || sqlType != "json" {
		return got == want
	}
	var g, w any
	if json.Unmarshal([]byte(got), &g) != nil || json.Unmarshal([]byte(want), &w) != nil {
		return false
	}
	return reflect.DeepEqual(g, w)
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("%s is not CSV: %v", path, err)
	}
	if len(records) == 0 {
		t.Fatalf("%s has no header line", path)
	}
	return records
}

func checkCSVTable(t *testing.T, path string, want exporttest.Table) {
	t.Helper()
	records := readCSV(t, path)
	if !slices.Equal(records[0], want.Columns) {
		t.Errorf("%s header %v, want %v", path, records[0], want.Columns)
		return
	}
	if len(records)-1 != len(want.Rows) {
		t.Errorf("%s: %d records, want %d rows", path, len(records)-1, len(want.Rows))
		return
	}
	for r, row := range want.Rows {
		for i, col := range want.Columns {
			if want.Loose[i] {
				at, err := time.Parse("2006-01-02T15:04:05.000000Z", records[r+1][i])
				if err != nil || !want.InWindow(at) {
					t.Errorf("%s record %d, %s: %q, want a time in %v", path, r+1, col, records[r+1][i], want.Window)
				}
				continue
			}
			expected := wantCell(t, row[i], want.Types[i])
			if got := records[r+1][i]; !sameCell(got, expected, want.Types[i]) {
				t.Errorf("%s record %d, %s (%s): %q, want %q", path, r+1, col, want.Types[i],
					exporttest.Shown(want.Name, got), exporttest.Shown(want.Name, expected))
			}
		}
	}
}

func checkCSVExport(t *testing.T, eng *engine.Engine, ctx context.Context, host string, live bool) {
	t.Helper()
	dir := t.TempDir()
	start := time.Now().UTC().Truncate(time.Microsecond)
	report := exporttest.Export(t, eng, ctx, export.Options{Format: export.CSV, Dir: dir, Host: host})
	st := exporttest.SystemStamp(t, eng, ctx, host)
	if live {
		st.LiveWindow = &[2]time.Time{start, time.Now().UTC()}
	}
	tables := exporttest.Tables(t, eng, ctx)
	if len(report.Files) != len(tables) {
		t.Fatalf("export wrote %d files, want one per table: %v", len(report.Files), tables)
	}
	for _, table := range tables {
		checkCSVTable(t, filepath.Join(dir, table+".csv"), exporttest.Expect(t, eng, ctx, table, st))
	}
}

func TestCSVMatchesSelectOnTrees(t *testing.T) {
	for _, tree := range exporttest.FixtureTrees(t, "..") {
		t.Run(tree, func(t *testing.T) {
			eng, ctx := exporttest.OpenTree(t, tree)
			host := ""
			if tree != hostTree {
				host = "fixture-host"
			}
			checkCSVExport(t, eng, ctx, host, false)
		})
	}
}

func TestCSVWritesBlobsAsBase64(t *testing.T) {
	eng, ctx := exporttest.OpenTree(t, hostTree)
	dir := t.TempDir()
	exporttest.Export(t, eng, ctx, export.Options{Format: export.CSV, Dir: dir, Tables: []string{"processes"}})
	records := readCSV(t, filepath.Join(dir, "processes.csv"))
	header := records[0]
	pid, raw, name := slices.Index(header, "pid"), slices.Index(header, "cmdline_raw"), slices.Index(header, "name")
	for _, record := range records[1:] {
		if record[pid] != "2000" {
			continue
		}
		decoded, err := base64.StdEncoding.DecodeString(record[raw])
		if err != nil {
			t.Fatalf("cmdline_raw %q is not base64: %v", record[raw], err)
		}
		if want := "/opt/caf\xe9/worker\x00--name\x00caf\xe9 \xff\xfe\x00\x00"; string(decoded) != want {
			t.Errorf("cmdline_raw decodes to %q, want %q", decoded, want)
		}
		// The table escapes the invalid byte of the command name, so the
		// text column needs no replacement.
		if record[name] != `caf\xe9 worker` {
			t.Errorf("name = %q, want %q", record[name], `caf\xe9 worker`)
		}
		return
	}
	t.Fatal("processes.csv has no record of pid 2000")
}
