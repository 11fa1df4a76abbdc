package export

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/queries"
)

// The timestamp_desc and data_type of the two kinds of timeline event.
// Timesketch shows timestamp_desc next to each event's time, and its
// analyzers select events by data_type.
const (
	ProcessStartDesc = "Process start"
	HuntHitDesc      = "Hunt hit"
	ProcessStartType = "procsql:process:start"
	HuntHitType      = "procsql:hunt:hit"
)

// timesketchTimeLayout is ISO 8601 with microseconds and a numeric zone,
// the form of the datetime field in Timesketch's import documentation
// (2015-07-24T19:01:01+00:00).
const timesketchTimeLayout = "2006-01-02T15:04:05.000000-07:00"

// The fields that Timesketch reads from every event, and the fields that
// describe a hunt hit. A row column with one of these names is written as
// row_<name>.
var (
	timelineFields = []string{"message", "datetime", "timestamp", "timestamp_desc", "data_type"}
	huntFields     = []string{"hunt", "hunt_title", "hunt_severity", "hunt_techniques"}
)

// writeTimeline writes a Timesketch JSONL timeline: one event per process
// with a start time, at that time, then one event per row of each hunt, at
// the row's captured_at or else the capture time. Each event carries the row's columns as fields. Text
// that is not valid UTF-8 gets U+FFFD in place of the invalid bytes,
// because Timesketch's search index needs one type per field.
//
// When host is set, it replaces the value of a host column of the rows too.
func writeTimeline(w io.Writer, eng *engine.Engine, session *sql.Context, st stamp, host string, hunts []queries.Hunt, notes *notes) (int64, error) {
	tw := &timelineWriter{w: w, stamp: st, host: host, notes: notes, values: jsonValueWriter{policy: replaceBytes}}
	res, err := eng.Query(session, "SELECT * FROM processes")
	if err != nil {
		return 0, fmt.Errorf("read table processes: %w", err)
	}
	notes.addWarnings(res.Warnings)
	if err := tw.processStarts(res); err != nil {
		return tw.events, err
	}
	for _, h := range hunts {
		res, err := eng.Query(session, h.SQL)
		if err != nil {
			return tw.events, fmt.Errorf("run hunt %s: %w", h.ID, err)
		}
		notes.addWarnings(res.Warnings)
		if err := tw.huntHits(h, res); err != nil {
			return tw.events, err
		}
	}
	return tw.events, nil
}

// timelineWriter writes timeline events as JSON lines.
type timelineWriter struct {
	w      io.Writer
	stamp  stamp
	host   string // replaces the rows' own host values when set
	notes  *notes
	values jsonValueWriter
	events int64
	line   []byte
}

// field is one key and value of an event.
type field struct {
	key   string
	value any
	typ   sql.Type // nil when the Go type of value determines its JSON form
}

// rowFields pairs a result's columns with their event keys.
type rowFields struct {
	source  string // table or hunt, for warnings
	columns []string
	keys    []string
	types   []sql.Type
	hasHost bool // the row has its own host column
	hasTime bool // the row has its own captured_at column
}

func newRowFields(source string, res *engine.Result, reserved []string) rowFields {
	rf := rowFields{source: source, columns: res.Columns, types: res.Types}
	used := map[string]bool{}
	for _, name := range reserved {
		used[name] = true
	}
	for _, col := range res.Columns {
		key := col
		if used[key] {
			key = "row_" + col
		}
		for n := 2; used[key]; n++ {
			key = fmt.Sprintf("row_%s_%d", col, n)
		}
		used[key] = true
		rf.keys = append(rf.keys, key)
		rf.hasHost = rf.hasHost || col == HostColumn
		rf.hasTime = rf.hasTime || col == CapturedAtColumn
	}
	return rf
}

// lookup returns the value of the first column named name.
func (rf rowFields) lookup(row sql.Row, name string) (any, bool) {
	i := slices.Index(rf.columns, name)
	if i < 0 || i >= len(row) {
		return nil, false
	}
	return row[i], true
}

func (tw *timelineWriter) processStarts(res *engine.Result) error {
	rf := newRowFields("processes", res, timelineFields)
	missing := 0
	for _, row := range res.Rows {
		v, _ := rf.lookup(row, "start_time")
		start, ok := v.(time.Time)
		if !ok {
			missing++
			continue
		}
		message := "Process start: " + describeProcess(rf, row)
		if err := tw.writeEvent(message, start, ProcessStartDesc, ProcessStartType, nil, rf, row); err != nil {
			return err
		}
	}
	if missing > 0 {
		tw.notes.addWarnings([]string{fmt.Sprintf("%d processes have no start time (NULL start_time), so the timeline has no start event for them", missing)})
	}
	return nil
}

func (tw *timelineWriter) huntHits(h queries.Hunt, res *engine.Result) error {
	rf := newRowFields(engine.HuntView(h.ID), res, append(slices.Clone(timelineFields), huntFields...))
	head := []field{
		{key: "hunt", value: h.ID},
		{key: "hunt_title", value: h.Title},
		{key: "hunt_severity", value: h.Severity},
		{key: "hunt_techniques", value: strings.Join(h.Techniques, ", ")},
	}
	for _, row := range res.Rows {
		message := fmt.Sprintf("Hunt hit %s [%s] %s: %s", h.ID, h.Severity, h.Title, describeProcess(rf, row))
		at := tw.stamp.capturedAt
		if v, _ := rf.lookup(row, CapturedAtColumn); v != nil {
			if t, ok := v.(time.Time); ok {
				at = t
			}
		}
		if err := tw.writeEvent(message, at, HuntHitDesc, HuntHitType, head, rf, row); err != nil {
			return err
		}
	}
	return nil
}

// writeEvent writes one event: the Timesketch fields, head, the row's
// columns, and the host and capture time unless the row has its own.
func (tw *timelineWriter) writeEvent(message string, at time.Time, desc, dataType string, head []field, rf rowFields, row sql.Row) error {
	at = at.UTC()
	fields := []field{
		{key: "message", value: strings.ToValidUTF8(message, "\uFFFD")},
		{key: "datetime", value: at.Format(timesketchTimeLayout)},
		{key: "timestamp", value: at.UnixMicro()},
		{key: "timestamp_desc", value: desc},
		{key: "data_type", value: dataType},
	}
	fields = append(fields, head...)

	line := append(tw.line[:0], '{')
	line, err := tw.appendFields(line, fields, "")
	if err != nil {
		return err
	}
	for i, key := range rf.keys {
		var typ sql.Type
		if i < len(rf.types) {
			typ = rf.types[i]
		}
		var v any
		if i < len(row) {
			v = row[i]
		}
		if rf.columns[i] == HostColumn && tw.host != "" {
			v = tw.host
		}
		if line, err = tw.appendFields(line, []field{{key: key, value: v, typ: typ}}, rf.source+"."+rf.columns[i]); err != nil {
			return err
		}
	}

	var tail []field
	if !rf.hasHost {
		tail = append(tail, field{key: HostColumn, value: tw.stamp.host})
	}
	if !rf.hasTime {
		tail = append(tail, field{key: CapturedAtColumn, value: tw.stamp.capturedAt})
	}
	if line, err = tw.appendFields(line, tail, ""); err != nil {
		return err
	}
	line = append(line, '}', '\n')

	tw.line = line
	if _, err := tw.w.Write(line); err != nil {
		return err
	}
	tw.events++
	return nil
}

// appendFields appends "key":value pairs, each after a comma unless it
// opens the object. column names the column for warnings and errors.
func (tw *timelineWriter) appendFields(line []byte, fields []field, column string) ([]byte, error) {
	for _, f := range fields {
		if line[len(line)-1] != '{' {
			line = append(line, ',')
		}
		line = appendJSON(line, f.key)
		line = append(line, ':')
		var replaced bool
		var err error
		line, replaced, err = tw.values.appendValue(line, f.value, f.typ)
		if err != nil {
			return nil, fmt.Errorf("timeline event field %s: %w", f.key, err)
		}
		if replaced && column != "" {
			source, name, _ := strings.Cut(column, ".")
			tw.notes.addReplaced(Timesketch, source, name)
		}
	}
	return line, nil
}

// describeProcess names the process of a row for an event message: pid,
// command name and command line (or executable), as in "pid 812 (sshd)
// /usr/sbin/sshd -D". A row without a pid column is described by its first
// three columns.
func describeProcess(rf rowFields, row sql.Row) string {
	pid, ok := rf.lookup(row, "pid")
	if !ok {
		var parts []string
		for i := 0; i < len(rf.columns) && i < len(row) && i < 3; i++ {
			parts = append(parts, rf.columns[i]+"="+eventText(row[i]))
		}
		return strings.Join(parts, " ")
	}
	text := "pid " + eventText(pid)
	if name, ok := rf.lookup(row, "name"); ok && name != nil {
		text += " (" + eventText(name) + ")"
	}
	command, _ := rf.lookup(row, "cmdline")
	if s := eventText(command); s != "" && s != "NULL" {
		return text + " " + s
	}
	if exe, ok := rf.lookup(row, "exe"); ok && exe != nil {
		text += " " + eventText(exe)
	}
	return text
}

// eventText renders a value for an event message.
func eventText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return formatTime(x)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x)
	case types.JSONDocument:
		b, err := encodeJSONDocument(x)
		if err != nil {
			return fmt.Sprint(x.Val)
		}
		return string(b)
	}
	s := fmt.Sprint(v)
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return s
}
