package duckdbcheck

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql/types"
	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/export"
	"github.com/procsql/procsql/export/internal/exporttest"
	"github.com/procsql/procsql/internal/livetest"
	"github.com/procsql/procsql/source"
)

// repo is the repository root, seen from this package's directory.
const repo = "../.."

func TestMain(m *testing.M) {
	if livetest.RunChild() {
		return
	}
	os.Exit(m.Run())
}

// duckTypes maps the SQL types of procsql's columns, as SHOW COLUMNS
// prints them, to the DuckDB types that the Parquet logical types of
// docs/export.md read as.
var duckTypes = map[string]string{
	"tinyint(1)":        "BOOLEAN",
	"int":               "INTEGER",
	"bigint":            "BIGINT",
	"smallint unsigned": "USMALLINT",
	"int unsigned":      "UINTEGER",
	"bigint unsigned":   "UBIGINT",
	"longtext":          "VARCHAR",
	"longblob":          "BLOB",
	"json":              "JSON",
	"datetime(6)":       "TIMESTAMP WITH TIME ZONE",
}

// openDuckDB opens an in-memory DuckDB database that shows times in UTC.
func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// One connection keeps the SET for every later statement.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("SET TimeZone = 'UTC'"); err != nil {
		t.Fatal(err)
	}
	return db
}

// queryAll runs a DuckDB query and returns its column names and rows.
func queryAll(t *testing.T, db *sql.DB, statement string) ([]string, [][]any) {
	t.Helper()
	rows, err := db.Query(statement)
	if err != nil {
		t.Fatalf("DuckDB %s: %v", statement, err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rows.Next() {
		values := make([]any, len(columns))
		pointers := make([]any, len(columns))
		for i := range values {
			pointers[i] = &values[i]
		}
		if err := rows.Scan(pointers...); err != nil {
			t.Fatalf("DuckDB %s: %v", statement, err)
		}
		out = append(out, values)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("DuckDB %s: %v", statement, err)
	}
	return columns, out
}

func quote(path string) string { return "'" + strings.ReplaceAll(path, "'", "''") + "'" }

// sameValue compares a value that DuckDB read with v, the value of SELECT *
// in a column of sqlType.
func sameValue(t *testing.T, got, v any, sqlType string) bool {
	t.Helper()
	if v == nil || got == nil {
		return v == nil && got == nil
	}
	switch x := v.(type) {
	case int8:
		b, ok := got.(bool)
		return exporttest.IsBoolean(sqlType) && ok && b == (x != 0)
	case time.Time:
		at, ok := got.(time.Time)
		return ok && at.Equal(x)
	case types.JSONDocument:
		want, err := json.Marshal(x.Val)
		if err != nil {
			t.Fatal(err)
		}
		have, err := json.Marshal(got)
		if err != nil {
			return false
		}
		var a, b any
		return json.Unmarshal(want, &a) == nil && json.Unmarshal(have, &b) == nil && reflect.DeepEqual(a, b)
	}
	return reflect.DeepEqual(got, v)
}

// checkTable compares a Parquet file, as DuckDB reads it, with want.
func checkTable(t *testing.T, db *sql.DB, path string, want exporttest.Table) {
	t.Helper()
	_, described := queryAll(t, db, "DESCRIBE SELECT * FROM read_parquet("+quote(path)+")")
	var names, kinds []string
	for _, row := range described {
		names = append(names, row[0].(string))
		kinds = append(kinds, row[1].(string))
	}
	if !slices.Equal(names, want.Columns) {
		t.Errorf("%s: DuckDB reads columns %v, want %v", path, names, want.Columns)
		return
	}
	for i, sqlType := range want.Types {
		if expected, ok := duckTypes[sqlType]; !ok || kinds[i] != expected {
			t.Errorf("%s column %s (%s): DuckDB type %s, want %s", path, names[i], sqlType, kinds[i], expected)
		}
	}
	_, rows := queryAll(t, db, "SELECT * FROM read_parquet("+quote(path)+")")
	if len(rows) != len(want.Rows) {
		t.Errorf("%s: DuckDB reads %d rows, want %d", path, len(rows), len(want.Rows))
		return
	}
	for r, row := range rows {
		for i, col := range want.Columns {
			if want.Loose[i] {
				if at, ok := row[i].(time.Time); !ok || !want.InWindow(at) {
					t.Errorf("%s row %d, %s: %v, want a time in %v", path, r, col, row[i], want.Window)
				}
				continue
			}
			if !sameValue(t, row[i], want.Rows[r][i], want.Types[i]) {
				t.Errorf("%s row %d, %s (%s): DuckDB reads %#v, want %#v", path, r, col, want.Types[i],
					exporttest.Shown(want.Name, row[i]), exporttest.Shown(want.Name, want.Rows[r][i]))
			}
		}
	}
}

// checkExport exports every table of eng as Parquet and compares each file,
// as DuckDB reads it, with SELECT * of the same read.
func checkExport(t *testing.T, db *sql.DB, eng *engine.Engine, ctx context.Context, host string, live bool) {
	t.Helper()
	dir := t.TempDir()
	start := time.Now().UTC().Truncate(time.Microsecond)
	exporttest.Export(t, eng, ctx, export.Options{Format: export.Parquet, Dir: dir, Host: host})
	st := exporttest.SystemStamp(t, eng, ctx, host)
	if live {
		st.LiveWindow = &[2]time.Time{start, time.Now().UTC()}
	}
	for _, table := range exporttest.Tables(t, eng, ctx) {
		checkTable(t, db, filepath.Join(dir, table+".parquet"), exporttest.Expect(t, eng, ctx, table, st))
	}
}

func TestDuckDBReadsTreeExports(t *testing.T) {
	db := openDuckDB(t)
	hostTree := filepath.Join(repo, exporttest.HostTree)
	for _, tree := range exporttest.FixtureTrees(t, repo) {
		t.Run(tree, func(t *testing.T) {
			eng, ctx := exporttest.OpenTree(t, tree)
			host := ""
			if tree != hostTree {
				host = "fixture-host"
			}
			checkExport(t, db, eng, ctx, host, false)
		})
	}
}

func TestDuckDBReadsEveryType(t *testing.T) {
	path := filepath.Join(t.TempDir(), "types.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := export.WriteTable(f, export.Parquet, exporttest.TypesTable()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	db := openDuckDB(t)
	_, described := queryAll(t, db, "DESCRIBE SELECT * FROM read_parquet("+quote(path)+")")
	var kinds []string
	for _, row := range described {
		kinds = append(kinds, row[0].(string)+" "+row[1].(string))
	}
	wantKinds := []string{"i8 TINYINT", "i16 SMALLINT", "u8 UTINYINT", "f32 FLOAT", "f64 DOUBLE",
		"d7 DECIMAL(7,2)", "d15 DECIMAL(15,3)", "d30 DECIMAL(30,5)", "d50 VARCHAR",
		"day DATE", "at TIMESTAMP WITH TIME ZONE", "label VARCHAR", "data BLOB", "doc JSON", "host VARCHAR"}
	if !slices.Equal(kinds, wantKinds) {
		t.Errorf("DuckDB types:\n%v\nwant:\n%v", kinds, wantKinds)
	}

	// DuckDB's own text of each value shows that it decodes them as the
	// SQL values they came from.
	_, rows := queryAll(t, db, "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet("+quote(path)+")")
	want := [][]string{
		{"-128", "-32768", "255", "1.5", "-2.25", "-12345.67", "123456789012.345", "-1234567890123456789012345.12345",
			"1234567890123456789012345678901234567890.0123456789", "1969-12-31", "2026-03-01 12:30:45.123456+00",
			"caf\uFFFD", `\x00\x01\xFF`, `{"k":["v",1.5]}`, "h1"},
		{"127", "32767", "0", "0.0", "1e+300", "0.01", "-0.001", "1.00000", "-0.0000000001", "2026-03-01",
			"2026-03-01 12:30:45.123455+00", "plain", "", "[]", "h1"},
		{"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "h1"},
	}
	if len(rows) != len(want) {
		t.Fatalf("DuckDB reads %d rows, want %d", len(rows), len(want))
	}
	for r, row := range rows {
		for i, v := range row {
			text := "NULL"
			if v != nil {
				text = fmt.Sprint(v)
			}
			if text != want[r][i] {
				t.Errorf("row %d, column %d: DuckDB text %q, want %q", r, i, text, want[r][i])
			}
		}
	}
}

// TestDuckDBFleetQuery exports three hosts into exports/<host>/ and runs the
// docs/export.md query over all of them at once.
func TestDuckDBFleetQuery(t *testing.T) {
	exports := t.TempDir()
	trees := map[string]string{
		"web-01": filepath.Join(repo, exporttest.HostTree),
		"db-01":  filepath.Join(repo, "testdata/hunts/clean"),
		"app-01": filepath.Join(repo, "testdata/hunts/deleted_executable/positive"),
	}
	want := map[string]int64{}
	for host, tree := range trees {
		eng, ctx := exporttest.OpenTree(t, tree)
		report := exporttest.Export(t, eng, ctx, export.Options{Format: export.Parquet, Dir: filepath.Join(exports, host), Host: host, Tables: []string{"processes", "system"}})
		for _, f := range report.Files {
			if f.Table == "processes" {
				want[host] = f.Rows
			}
		}
	}
	db := openDuckDB(t)
	_, rows := queryAll(t, db, `SELECT host, count(*) AS processes, count(DISTINCT captured_at) AS captures
FROM read_parquet(`+quote(filepath.Join(exports, "*", "processes.parquet"))+`)
GROUP BY host ORDER BY host`)
	if len(rows) != len(trees) {
		t.Fatalf("fleet query returned %d hosts, want %d: %v", len(rows), len(trees), rows)
	}
	for _, row := range rows {
		host := row[0].(string)
		if count := row[1].(int64); count != want[host] {
			t.Errorf("host %s: %d processes, want %d", host, count, want[host])
		}
		if captures := row[2].(int64); captures != 1 {
			t.Errorf("host %s: %d distinct captured_at values, want 1", host, captures)
		}
	}
}

func TestDuckDBReadsLiveExport(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}
	dir := t.TempDir()
	server := livetest.StartChild(t, "server", dir, []string{"worker with spaces", "", "caf\xe9 \xff"}, []string{"EXPORT_MARKER=duckdb 1", "GREETING=caf\xe9"})
	livetest.StartChild(t, "client", dir, []string{strconv.Itoa(server.Report.Port)}, nil)
	server.Next(t) // the accepted connection

	src, err := source.NewDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	eng, ctx := exporttest.NewEngine(t, src)
	checkExport(t, openDuckDB(t), eng, ctx, "", true)
}
