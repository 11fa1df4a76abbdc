package export_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/parquet-go/parquet-go"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/export"
	"github.com/procsql/procsql/export/internal/exporttest"
)

// These tests read the Parquet files back with parquet-go, the library that
// wrote them, to check the schema and values without cgo. The independent
// reader is DuckDB, in the module export/duckdbcheck.

// parquetTypes maps the SQL types of procsql's columns, as SHOW COLUMNS
// prints them, to the physical type and logical type that docs/export.md
// states.
var parquetTypes = map[string]struct{ kind, logical string }{
	"tinyint(1)":        {"BOOLEAN", ""},
	"int":               {"INT32", "INT(32,true)"},
	"bigint":            {"INT64", "INT(64,true)"},
	"smallint unsigned": {"INT32", "INT(16,false)"},
	"int unsigned":      {"INT32", "INT(32,false)"},
	"bigint unsigned":   {"INT64", "INT(64,false)"},
	"longtext":          {"BYTE_ARRAY", "STRING"},
	"longblob":          {"BYTE_ARRAY", ""},
	"json":              {"BYTE_ARRAY", "JSON"},
	"datetime(6)":       {"INT64", "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)"},
}

func openParquet(t *testing.T, path string) *parquet.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, info.Size())
	if err != nil {
		t.Fatalf("%s is not a Parquet file: %v", path, err)
	}
	return pf
}

func checkParquetSchema(t *testing.T, path string, pf *parquet.File, want exporttest.Table) bool {
	t.Helper()
	fields := pf.Schema().Fields()
	if len(fields) != len(want.Columns) {
		t.Errorf("%s has %d columns, want %d: %v", path, len(fields), len(want.Columns), want.Columns)
		return false
	}
	ok := true
	for i, field := range fields {
		if field.Name() != want.Columns[i] {
			t.Errorf("%s column %d is %s, want %s", path, i, field.Name(), want.Columns[i])
			ok = false
			continue
		}
		expected, known := parquetTypes[want.Types[i]]
		if !known {
			t.Errorf("%s column %s: the test has no Parquet type for SQL type %s", path, field.Name(), want.Types[i])
			ok = false
			continue
		}
		logical := ""
		if lt := field.Type().LogicalType(); lt != nil {
			logical = lt.String()
		}
		if kind := field.Type().Kind().String(); kind != expected.kind || logical != expected.logical {
			t.Errorf("%s column %s (%s) is %s %q, want %s %q", path, field.Name(), want.Types[i], kind, logical, expected.kind, expected.logical)
			ok = false
		}
		if field.Optional() != want.Nullable[i] {
			t.Errorf("%s column %s is optional=%v, want %v", path, field.Name(), field.Optional(), want.Nullable[i])
			ok = false
		}
	}
	return ok
}

// sameParquetValue compares a value read from the file with v, a value of
// SELECT * in a column of sqlType.
func sameParquetValue(t *testing.T, got parquet.Value, v any, sqlType string) bool {
	t.Helper()
	if v == nil || got.IsNull() {
		return v == nil && got.IsNull()
	}
	switch x := v.(type) {
	case int8:
		return exporttest.IsBoolean(sqlType) && got.Boolean() == (x != 0)
	case int32:
		return got.Int32() == x
	case int64:
		return got.Int64() == x
	case uint16:
		return uint16(got.Int32()) == x && got.Int32() >= 0 && got.Int32() <= 0xffff
	case uint32:
		return uint32(got.Int32()) == x
	case uint64:
		return uint64(got.Int64()) == x
	case string:
		return string(got.ByteArray()) == x
	case []byte:
		return string(got.ByteArray()) == string(x)
	case time.Time:
		return time.UnixMicro(got.Int64()).Equal(x)
	case types.JSONDocument:
		var doc any
		if err := json.Unmarshal(got.ByteArray(), &doc); err != nil {
			return false
		}
		b, err := json.Marshal(x.Val)
		if err != nil {
			t.Fatal(err)
		}
		var want any
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		return reflect.DeepEqual(doc, want)
	}
	t.Fatalf("no Parquet comparison for %v (%T)", v, v)
	return false
}

func readParquetRows(t *testing.T, path string, pf *parquet.File) []parquet.Row {
	t.Helper()
	reader := parquet.NewReader(pf)
	defer reader.Close()
	var rows []parquet.Row
	buf := make([]parquet.Row, 64)
	for {
		n, err := reader.ReadRows(buf)
		for _, row := range buf[:n] {
			rows = append(rows, row.Clone())
		}
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("read rows of %s: %v", path, err)
		}
	}
}

func checkParquetTable(t *testing.T, path string, want exporttest.Table) {
	t.Helper()
	pf := openParquet(t, path)
	if !checkParquetSchema(t, path, pf, want) {
		return
	}
	if table, _ := pf.Lookup("procsql.table"); table != want.Name {
		t.Errorf("%s names table %q in its metadata, want %q", path, table, want.Name)
	}
	rows := readParquetRows(t, path, pf)
	if len(rows) != len(want.Rows) {
		t.Errorf("%s: %d rows, want %d", path, len(rows), len(want.Rows))
		return
	}
	for r, row := range rows {
		if len(row) != len(want.Columns) {
			t.Errorf("%s row %d has %d values, want %d", path, r, len(row), len(want.Columns))
			continue
		}
		for i, col := range want.Columns {
			if want.Loose[i] {
				if !want.InWindow(time.UnixMicro(row[i].Int64())) {
					t.Errorf("%s row %d, %s: %v, want a time in %v", path, r, col, row[i], want.Window)
				}
				continue
			}
			if !sameParquetValue(t, row[i], want.Rows[r][i], want.Types[i]) {
				t.Errorf("%s row %d, %s (%s): %v, want %#v", path, r, col, want.Types[i],
					exporttest.Shown(want.Name, row[i]), exporttest.Shown(want.Name, want.Rows[r][i]))
			}
		}
	}
}

func checkParquetExport(t *testing.T, eng *engine.Engine, ctx context.Context, host string, live bool) {
	t.Helper()
	dir := t.TempDir()
	start := time.Now().UTC().Truncate(time.Microsecond)
	report := exporttest.Export(t, eng, ctx, export.Options{Format: export.Parquet, Dir: dir, Host: host})
	st := exporttest.SystemStamp(t, eng, ctx, host)
	if live {
		st.LiveWindow = &[2]time.Time{start, time.Now().UTC()}
	}
	tables := exporttest.Tables(t, eng, ctx)
	if len(report.Files) != len(tables) {
		t.Fatalf("export wrote %d files, want one per table: %v", len(report.Files), tables)
	}
	for _, table := range tables {
		checkParquetTable(t, filepath.Join(dir, table+".parquet"), exporttest.Expect(t, eng, ctx, table, st))
	}
}

func TestParquetMatchesSelectOnTrees(t *testing.T) {
	for _, tree := range exporttest.FixtureTrees(t, "..") {
		t.Run(tree, func(t *testing.T) {
			eng, ctx := exporttest.OpenTree(t, tree)
			host := ""
			if tree != hostTree {
				host = "fixture-host"
			}
			checkParquetExport(t, eng, ctx, host, false)
		})
	}
}
