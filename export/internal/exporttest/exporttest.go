// Package exporttest contains the helpers that the tests of package export
// and of the DuckDB read-back module export/duckdbcheck share. They list
// the fixture trees, open an engine over a source, and read the rows an
// exported table must hold from SELECT * of the same engine. Only tests
// import it.
package exporttest

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/shopspring/decimal"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/export"
	"github.com/procsql/procsql/queries"
	"github.com/procsql/procsql/source"
)

// HostTree is the path, below the repository root, of a copied /proc tree
// of a host named web-01. It is testdata/hunts/clean with
// sys/kernel/hostname and process 2000, whose command name, argv and
// environment hold bytes that are not valid UTF-8.
const HostTree = "export/testdata/web-01"

// FixtureTrees returns HostTree and every copied /proc tree of the repo's
// testdata: the hunt fixtures and the cases laid out as a tree. repo is
// the path of the repository root from the test's directory.
func FixtureTrees(t testing.TB, repo string) []string {
	t.Helper()
	trees := []string{filepath.Join(repo, HostTree), filepath.Join(repo, "testdata/hunts/clean")}
	hunts, err := filepath.Glob(filepath.Join(repo, "testdata/hunts/*/positive"))
	if err != nil {
		t.Fatal(err)
	}
	trees = append(trees, hunts...)
	cases, err := filepath.Glob(filepath.Join(repo, "testdata/cases/*"))
	if err != nil {
		t.Fatal(err)
	}
	pidDir := regexp.MustCompile(`^[0-9]+$`)
	for _, dir := range cases {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		if slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.IsDir() && pidDir.MatchString(e.Name()) }) {
			trees = append(trees, dir)
		}
	}
	if len(trees) < 10 {
		t.Fatalf("found %d fixture trees under %s, want the hunt and case trees of testdata too", len(trees), repo)
	}
	return trees
}

// OpenTree returns an engine over the tree at root, with the built-in
// hunts, and a context whose statements share one read of the tree.
func OpenTree(t testing.TB, root string) (*engine.Engine, context.Context) {
	t.Helper()
	src, err := source.NewDir(root)
	if err != nil {
		t.Fatalf("open %s: %v", root, err)
	}
	return NewEngine(t, src)
}

// NewEngine returns an engine over src with the built-in hunts, and a
// context whose statements share one read of src.
func NewEngine(t testing.TB, src source.Source) (*engine.Engine, context.Context) {
	t.Helper()
	hunts, err := queries.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(src, engine.WithHunts(hunts))
	if err != nil {
		t.Fatal(err)
	}
	return eng, eng.ShareReads(context.Background())
}

// Export exports with opts, into a new directory unless opts.Dir is set,
// and returns the report.
func Export(t testing.TB, eng *engine.Engine, ctx context.Context, opts export.Options) *export.Report {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	report, err := export.Run(ctx, eng, opts)
	if err != nil {
		t.Fatalf("export %s to %s: %v", opts.Format, opts.Dir, err)
	}
	return report
}

// Query runs statement under ctx and fails the test on an error.
func Query(t testing.TB, eng *engine.Engine, ctx context.Context, statement string) *engine.Result {
	t.Helper()
	res, err := eng.Query(eng.NewSession(ctx), statement)
	if err != nil {
		t.Fatalf("query %q: %v", statement, err)
	}
	return res
}

// Table is the expected content of an exported table: the result of
// SELECT *, then host and captured_at unless the table has them.
type Table struct {
	Name     string
	Columns  []string
	Types    []string // SQL types as SHOW COLUMNS prints them, such as "int unsigned"
	Nullable []bool
	Rows     []sql.Row
	// Loose marks a table's own captured_at column on a live source, whose
	// value is the start of each statement: the exported value must then
	// lie in Window, not equal the later SELECT's.
	Loose  []bool
	Window [2]time.Time
}

// InWindow reports whether the value of a loose column lies in the window.
func (w Table) InWindow(at time.Time) bool {
	return !at.Before(w.Window[0]) && !at.After(w.Window[1])
}

// Stamp is the host and capture time that an export adds.
type Stamp struct {
	Host       string
	CapturedAt time.Time
	// HostOverride is set when the export ran with Options.Host, which
	// also replaces a table's own host values.
	HostOverride bool
	// LiveWindow, when set, is the time span of a live export: a table's
	// own captured_at then holds the start of the statement that read it.
	LiveWindow *[2]time.Time
}

// SystemStamp returns the host and read time of the system table, or host
// when it is set.
func SystemStamp(t testing.TB, eng *engine.Engine, ctx context.Context, host string) Stamp {
	t.Helper()
	res := Query(t, eng, ctx, "SELECT hostname, read_time FROM `system`")
	if len(res.Rows) != 1 {
		t.Fatalf("system has %d rows, want 1", len(res.Rows))
	}
	st := Stamp{Host: host, HostOverride: host != ""}
	if st.Host == "" {
		st.Host, _ = res.Rows[0][0].(string)
	}
	st.CapturedAt = res.Rows[0][1].(time.Time).UTC()
	return st
}

// Expect reads what table must hold in an export with st.
func Expect(t testing.TB, eng *engine.Engine, ctx context.Context, table string, st Stamp) Table {
	t.Helper()
	described := Query(t, eng, ctx, "SHOW COLUMNS FROM `"+table+"`")
	want := Table{Name: table}
	for _, row := range described.Rows {
		want.Columns = append(want.Columns, row[0].(string))
		want.Types = append(want.Types, row[1].(string))
		want.Nullable = append(want.Nullable, row[2].(string) == "YES")
	}
	res := Query(t, eng, ctx, "SELECT * FROM `"+table+"`")
	if !slices.Equal(res.Columns, want.Columns) {
		t.Fatalf("SELECT * FROM %s has columns %v, SHOW COLUMNS %v", table, res.Columns, want.Columns)
	}

	hostAt := slices.Index(want.Columns, "host")
	timeAt := slices.Index(want.Columns, "captured_at")
	addHost, addTime := hostAt < 0, timeAt < 0
	want.Loose = make([]bool, len(want.Columns))
	if timeAt >= 0 && st.LiveWindow != nil {
		want.Loose[timeAt] = true
		want.Window = *st.LiveWindow
	}
	if addHost {
		want.Columns = append(want.Columns, "host")
		want.Types = append(want.Types, "longtext")
		want.Nullable = append(want.Nullable, false)
		want.Loose = append(want.Loose, false)
	}
	if addTime {
		want.Columns = append(want.Columns, "captured_at")
		want.Types = append(want.Types, "datetime(6)")
		want.Nullable = append(want.Nullable, false)
		want.Loose = append(want.Loose, false)
	}

	for _, row := range res.Rows {
		row = slices.Clone(row)
		if hostAt >= 0 && st.HostOverride {
			row[hostAt] = st.Host
		}
		if addHost {
			row = append(row, st.Host)
		}
		if addTime {
			row = append(row, st.CapturedAt)
		}
		want.Rows = append(want.Rows, row)
	}
	return want
}

// Tables returns the base tables of the engine, as SHOW FULL TABLES lists
// them.
func Tables(t testing.TB, eng *engine.Engine, ctx context.Context) []string {
	t.Helper()
	var names []string
	for _, row := range Query(t, eng, ctx, "SHOW FULL TABLES").Rows {
		if row[1] == "BASE TABLE" {
			names = append(names, row[0].(string))
		}
	}
	return names
}

// Shown returns a value for a failure message, except a value of the
// environ table: the live tests must not print the environment of the
// test binary, which they did not start.
func Shown(table string, v any) any {
	if table == "environ" {
		return "(environ value not shown)"
	}
	if s, ok := v.(string); ok && len(s) > 200 {
		return s[:200] + "..."
	}
	return v
}

// IsBoolean reports whether a SHOW COLUMNS type is procsql's BOOLEAN.
func IsBoolean(sqlType string) bool { return sqlType == "tinyint(1)" }

// IsBlob reports whether a SHOW COLUMNS type is binary.
func IsBlob(sqlType string) bool {
	return strings.HasSuffix(sqlType, "blob") || strings.Contains(sqlType, "binary")
}

// TypesTable returns a table with a column of every SQL type the export
// maps, beyond those procsql's tables use: two rows of values and a row of
// NULLs.
func TypesTable() *export.Table {
	at := time.Date(2026, 3, 1, 12, 30, 45, 123456000, time.UTC)
	return &export.Table{
		Name: "types",
		Columns: []export.Column{
			{Name: "i8", Type: types.Int8, Nullable: true},
			{Name: "i16", Type: types.Int16, Nullable: true},
			{Name: "u8", Type: types.Uint8, Nullable: true},
			{Name: "f32", Type: types.Float32, Nullable: true},
			{Name: "f64", Type: types.Float64, Nullable: true},
			{Name: "d7", Type: types.MustCreateDecimalType(7, 2), Nullable: true},
			{Name: "d15", Type: types.MustCreateDecimalType(15, 3), Nullable: true},
			{Name: "d30", Type: types.MustCreateDecimalType(30, 5), Nullable: true},
			{Name: "d50", Type: types.MustCreateDecimalType(50, 10), Nullable: true},
			{Name: "day", Type: types.Date, Nullable: true},
			{Name: "at", Type: types.Datetime, Nullable: true},
			{Name: "label", Type: types.Text, Nullable: true},
			{Name: "data", Type: types.Blob, Nullable: true},
			{Name: "doc", Type: types.JSON, Nullable: true},
			{Name: "host", Type: types.LongText},
		},
		Rows: []sql.Row{
			{int8(-128), int16(-32768), uint8(255), float32(1.5), float64(-2.25),
				decimal.RequireFromString("-12345.67"), decimal.RequireFromString("123456789012.345"),
				decimal.RequireFromString("-1234567890123456789012345.12345"), decimal.RequireFromString("1234567890123456789012345678901234567890.0123456789"),
				time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), at, "caf\xe9", []byte{0, 1, 0xff},
				types.JSONDocument{Val: map[string]any{"k": []any{"v", 1.5}}}, "h1"},
			{int8(127), int16(32767), uint8(0), float32(0), float64(1e300),
				decimal.RequireFromString("0.01"), decimal.RequireFromString("-0.001"),
				decimal.RequireFromString("1"), decimal.RequireFromString("-0.0000000001"),
				time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), at.Add(-time.Microsecond), "plain", []byte{},
				types.JSONDocument{Val: []any{}}, "h1"},
			{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, "h1"},
		},
	}
}
