// Package export writes procsql's tables to files that analytics engines
// such as DuckDB, Spark, Trino and ClickHouse read: one Parquet, JSON lines
// or CSV file per table, or one Timesketch timeline of process starts and
// hunt hits. Every row carries the host it came from and the time the
// source was read, so the files of many hosts can be queried together.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/queries"
)

// The accepted values of Options.Format.
const (
	Parquet    = "parquet"
	JSONL      = "jsonl"
	CSV        = "csv"
	Timesketch = "timesketch"
)

// Formats lists the accepted values of Options.Format.
var Formats = []string{Parquet, JSONL, CSV, Timesketch}

// The columns that every exported row carries. A table that already has a
// column of one of these names keeps its own and gets no second copy.
const (
	HostColumn       = "host"        // the host name that the system table reports, or Options.Host
	CapturedAtColumn = "captured_at" // when the source was read, in UTC
)

// TimelineFile is the file name of the Timesketch timeline in Options.Dir.
const TimelineFile = "timeline.jsonl"

// Options selects what Run writes and where.
type Options struct {
	Format string // one of Formats
	Dir    string // output directory, created when missing
	// Tables names the tables to write. Empty means every base table of
	// the engine, and it must be empty for the Timesketch format.
	Tables []string
	Force  bool // replace existing files instead of failing
	// Host, when set, is stored in the host column in place of the host
	// name that the system table reports. It is required when the source
	// has no host name, such as a copied /proc tree without
	// sys/kernel/hostname.
	Host string
	// Hunts are run for the hunt hits of the Timesketch timeline.
	Hunts []queries.Hunt
}

// File describes one written file.
type File struct {
	Table string // "" for the Timesketch timeline
	Path  string
	Rows  int64 // rows, or events of the timeline
	Bytes int64
}

// Report is the outcome of a successful Run.
type Report struct {
	Host       string
	CapturedAt time.Time // UTC, in microseconds
	Files      []File
	// Warnings are the source's failed reads, which left values NULL or
	// rows missing, and the values that a format could not store exactly.
	Warnings []string
}

// stamp is the host and capture time that Run adds to the rows of a table
// without host or captured_at columns of its own. err is set when the
// source names no single host, and is returned only when a table or the
// timeline needs the stamp.
type stamp struct {
	host       string
	capturedAt time.Time
	err        error
	hosts      int // rows of the system table: the number of sources
}

// CheckFormat returns an error naming the accepted formats when name is not
// one of them.
func CheckFormat(name string) error {
	if slices.Contains(Formats, name) {
		return nil
	}
	return fmt.Errorf("invalid export format %q: use one of %s", name, strings.Join(Formats, ", "))
}

// Run writes the tables of eng, or the timeline, into opts.Dir. It writes
// every file under a temporary name first and names them only when all are
// complete, so a failed run leaves no partial file and no partial set.
//
// Each table is read by its own statement under ctx. Pass a context from
// eng.ShareReads to make the tables one consistent read of a live /proc,
// so that a pid in fds is also in processes.
func Run(ctx context.Context, eng *engine.Engine, opts Options) (*Report, error) {
	if err := CheckFormat(opts.Format); err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		return nil, errors.New("missing output directory: pass --out DIR")
	}
	if opts.Format == Timesketch && len(opts.Tables) > 0 {
		return nil, errors.New("--tables does not apply to --format timesketch, which writes process starts and hunt hits: drop --tables")
	}
	session := eng.NewSession(ctx)
	st, err := readStamp(eng, session, opts.Host)
	if err != nil {
		return nil, err
	}
	if opts.Format == Timesketch && st.err != nil {
		return nil, st.err
	}
	report := &Report{Host: st.host, CapturedAt: st.capturedAt}
	notes := newNotes()
	plan, err := planFiles(eng, session, opts, st, notes)
	if err != nil {
		return nil, err
	}
	out, err := newOutputDir(opts.Dir, opts.Force)
	if err != nil {
		return nil, err
	}
	if err := out.check(plan); err != nil {
		return nil, err
	}
	defer out.discard()

	for i := range plan {
		p := &plan[i]
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("export canceled: %w", err)
		}
		write := func(w io.Writer) (int64, error) {
			if opts.Format == Timesketch {
				return writeTimeline(w, eng, session, st, opts.Host, opts.Hunts, notes)
			}
			t, err := loadTable(eng, session, p.table, st, opts.Host, notes)
			if err != nil {
				return 0, err
			}
			rows := int64(len(t.Rows))
			return rows, writeTable(w, opts.Format, t, notes)
		}
		if err := out.write(p, write); err != nil {
			return nil, err
		}
	}
	if err := out.commit(plan); err != nil {
		return nil, err
	}

	for _, p := range plan {
		report.Files = append(report.Files, File{Table: p.table, Path: p.path, Rows: p.rows, Bytes: p.bytes})
	}
	report.Warnings = notes.lines()
	return report, nil
}

// planFiles returns the files that Run writes: the timeline, or one file
// per selected table.
func planFiles(eng *engine.Engine, session *sql.Context, opts Options, st stamp, notes *notes) ([]pendingFile, error) {
	if opts.Format == Timesketch {
		return []pendingFile{{name: TimelineFile}}, nil
	}
	names, err := selectTables(eng, session, opts.Tables)
	if err != nil {
		return nil, err
	}
	if st.hosts > 1 && len(opts.Tables) == 0 {
		if names, err = skipUnstamped(eng, session, names, notes); err != nil {
			return nil, err
		}
	}
	var plan []pendingFile
	for _, name := range names {
		plan = append(plan, pendingFile{table: name, name: name + "." + opts.Format})
	}
	return plan, nil
}

// readStamp reads the host and the read time from the system table. The
// host is, in order of preference, host (from --host), the system table's
// own host column when the engine adds one, and its hostname column.
func readStamp(eng *engine.Engine, session *sql.Context, host string) (stamp, error) {
	res, err := eng.Query(session, "SELECT * FROM `system`")
	if err != nil {
		return stamp{}, fmt.Errorf("read the host name and read time from the system table: %w", err)
	}
	if len(res.Rows) != 1 {
		err := fmt.Errorf("the system table has %d rows, one per host, so there is no one host and capture time to add to a table without host and captured_at columns: export one source at a time", len(res.Rows))
		if host != "" {
			return stamp{}, fmt.Errorf("--host names one host, but %w", err)
		}
		return stamp{err: err, hosts: len(res.Rows)}, nil
	}
	row := res.Rows[0]
	column := func(name string) any {
		if i := slices.Index(res.Columns, name); i >= 0 {
			return row[i]
		}
		return nil
	}
	readTime, ok := column("read_time").(time.Time)
	if !ok {
		return stamp{}, fmt.Errorf("system.read_time is %v, want a time", column("read_time"))
	}
	st := stamp{host: host, capturedAt: readTime.UTC().Truncate(time.Microsecond), hosts: 1}
	for _, name := range []string{HostColumn, "hostname"} {
		if st.host == "" {
			st.host, _ = column(name).(string)
		}
	}
	if st.host == "" {
		st.err = errors.New("the source reports no host name (system.hostname is NULL, as for a copied /proc tree without sys/kernel/hostname): name the host with --host NAME")
	}
	return st, nil
}

// selectTables returns the base tables of the engine that want names, in
// the engine's order, or all of them when want is empty.
func selectTables(eng *engine.Engine, session *sql.Context, want []string) ([]string, error) {
	res, err := eng.Query(session, "SHOW FULL TABLES")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var all []string
	for _, row := range res.Rows {
		// Views, such as the hunt_<id> views, are queries over the tables
		// and are not exported.
		if kind, _ := row[1].(string); kind == "BASE TABLE" {
			all = append(all, row[0].(string))
		}
	}
	if len(want) == 0 {
		return all, nil
	}
	chosen := map[string]bool{}
	for _, name := range want {
		name = strings.ToLower(strings.TrimSpace(name))
		if !slices.Contains(all, name) {
			return nil, fmt.Errorf("unknown table %q in --tables: use one of %s", name, strings.Join(all, ", "))
		}
		chosen[name] = true
	}
	var names []string
	for _, name := range all {
		if chosen[name] {
			names = append(names, name)
		}
	}
	return names, nil
}

// skipUnstamped drops the tables that have no host or captured_at column
// of their own, such as hunts, and notes each: with several sources there
// is no one host to add to their rows.
func skipUnstamped(eng *engine.Engine, session *sql.Context, names []string, notes *notes) ([]string, error) {
	var kept []string
	for _, name := range names {
		columns, err := nullableColumns(eng, session, name)
		if err != nil {
			return nil, err
		}
		_, hasHost := columns[HostColumn]
		_, hasTime := columns[CapturedAtColumn]
		if hasHost && hasTime {
			kept = append(kept, name)
			continue
		}
		notes.addWarnings([]string{fmt.Sprintf("table %s has no host and captured_at columns, so it is not exported from several sources: export one source to include it", name)})
	}
	return kept, nil
}

// Column is one column of an exported table.
type Column struct {
	Name     string
	Type     sql.Type
	Nullable bool
}

// Table is one table to write: its columns and its rows, as the engine
// returns them.
type Table struct {
	Name    string
	Columns []Column
	Rows    []sql.Row
	// Extra holds the values of the last len(Extra) columns, which are the
	// same in every row and missing from Rows: the host and capture time
	// when the table has no columns of its own for them.
	Extra []any
}

// baseWidth is the number of columns that each row of Rows holds.
func (t *Table) baseWidth() int { return len(t.Columns) - len(t.Extra) }

// value returns column i of row.
func (t *Table) value(row sql.Row, i int) any {
	if base := t.baseWidth(); i >= base {
		return t.Extra[i-base]
	}
	return row[i]
}

// checkRow rejects a row whose width does not match the columns.
func (t *Table) checkRow(row sql.Row, index int) error {
	if len(row) != t.baseWidth() {
		return fmt.Errorf("table %s: row %d has %d values, want %d", t.Name, index, len(row), t.baseWidth())
	}
	return nil
}

// loadTable reads a table with SELECT * and adds the host and capture time
// columns it lacks. When host is set, it also replaces the values of the
// table's own host column.
func loadTable(eng *engine.Engine, session *sql.Context, name string, st stamp, host string, notes *notes) (*Table, error) {
	nullable, err := nullableColumns(eng, session, name)
	if err != nil {
		return nil, err
	}
	res, err := eng.Query(session, "SELECT * FROM `"+name+"`")
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", name, err)
	}
	notes.addWarnings(res.Warnings)
	t := &Table{Name: name, Rows: res.Rows}
	for i, col := range res.Columns {
		isNullable, ok := nullable[col]
		if !ok {
			return nil, fmt.Errorf("table %s: column %s of SELECT * is missing from SHOW COLUMNS", name, col)
		}
		t.Columns = append(t.Columns, Column{Name: col, Type: res.Types[i], Nullable: isNullable})
	}
	if i := t.columnIndex(HostColumn); i >= 0 && host != "" {
		for _, row := range t.Rows {
			if i < len(row) {
				row[i] = host
			}
		}
	}
	if err := addStamp(t, st); err != nil {
		return nil, err
	}
	return t, nil
}

// columnIndex returns the position of the column named name, or -1.
func (t *Table) columnIndex(name string) int {
	return slices.IndexFunc(t.Columns, func(c Column) bool { return strings.EqualFold(c.Name, name) })
}

// addStamp appends the host and captured_at columns that t lacks.
func addStamp(t *Table, st stamp) error {
	hasHost, hasTime := t.columnIndex(HostColumn) >= 0, t.columnIndex(CapturedAtColumn) >= 0
	if (!hasHost || !hasTime) && st.err != nil {
		return fmt.Errorf("table %s: %w", t.Name, st.err)
	}
	if !hasHost {
		t.Columns = append(t.Columns, Column{Name: HostColumn, Type: types.LongText})
		t.Extra = append(t.Extra, st.host)
	}
	if !hasTime {
		t.Columns = append(t.Columns, Column{Name: CapturedAtColumn, Type: types.DatetimeMaxPrecision})
		t.Extra = append(t.Extra, st.capturedAt)
	}
	return nil
}

// nullableColumns returns, for each column of the table, whether it may be
// NULL. SELECT * reports the types but not the nullability.
func nullableColumns(eng *engine.Engine, session *sql.Context, name string) (map[string]bool, error) {
	res, err := eng.Query(session, "SHOW COLUMNS FROM `"+name+"`")
	if err != nil {
		return nil, fmt.Errorf("read the columns of table %s: %w", name, err)
	}
	field, null := slices.Index(res.Columns, "Field"), slices.Index(res.Columns, "Null")
	if field < 0 || null < 0 {
		return nil, fmt.Errorf("SHOW COLUMNS FROM %s returned columns %v, want Field and Null", name, res.Columns)
	}
	nullable := map[string]bool{}
	for _, row := range res.Rows {
		col, _ := row[field].(string)
		flag, _ := row[null].(string)
		nullable[col] = flag == "YES"
	}
	return nullable, nil
}

// WriteTable writes t to w in format, which is Parquet, JSONL or CSV, and
// returns the notes about values that the format could not store exactly.
// It drops each row from t.Rows once written, so the table is not held in
// memory twice.
func WriteTable(w io.Writer, format string, t *Table) ([]string, error) {
	notes := newNotes()
	err := writeTable(w, format, t, notes)
	return notes.lines(), err
}

func writeTable(w io.Writer, format string, t *Table, notes *notes) error {
	switch format {
	case Parquet:
		return writeParquet(w, t, notes)
	case JSONL:
		return writeJSONL(w, t, notes)
	case CSV:
		return writeCSV(w, t, notes)
	case Timesketch:
		return fmt.Errorf("format %s writes a timeline, not table %s", format, t.Name)
	}
	return CheckFormat(format)
}

// notes collects the warnings of one export: the source's read failures
// and the counts of text values that were not valid UTF-8.
type notes struct {
	warnings []string
	seen     map[string]bool
	// replaced counts, per "table.column", the values whose invalid UTF-8
	// bytes were written as U+FFFD.
	replaced map[string]int
	formats  map[string]string // "table.column" -> format that replaced
}

func newNotes() *notes {
	return &notes{seen: map[string]bool{}, replaced: map[string]int{}, formats: map[string]string{}}
}

func (n *notes) addWarnings(warnings []string) {
	for _, w := range warnings {
		if !n.seen[w] {
			n.seen[w] = true
			n.warnings = append(n.warnings, w)
		}
	}
}

func (n *notes) addReplaced(format, table, column string) {
	key := table + "." + column
	n.replaced[key]++
	n.formats[key] = format
}

func (n *notes) lines() []string {
	out := slices.Clone(n.warnings)
	keys := make([]string, 0, len(n.replaced))
	for k := range n.replaced {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		subject := fmt.Sprintf("%d values of %s are", n.replaced[k], k)
		if n.replaced[k] == 1 {
			subject = fmt.Sprintf("1 value of %s is", k)
		}
		out = append(out, fmt.Sprintf("%s not valid UTF-8, so the %s file has U+FFFD in place of the invalid bytes; --format jsonl keeps the exact bytes",
			subject, n.formats[k]))
	}
	return out
}
