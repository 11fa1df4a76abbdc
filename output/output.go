// Package output writes query results as an aligned table, CSV, JSON or JSON
// lines.
package output

import (
	"bufio"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/shopspring/decimal"
)

// Formats lists the accepted values of --format and .mode.
var Formats = []string{"table", "csv", "json", "jsonl"}

// CheckFormat returns an error naming the accepted formats when name is not one.
func CheckFormat(name string) error {
	for _, f := range Formats {
		if f == name {
			return nil
		}
	}
	return fmt.Errorf("invalid format %q: use one of %s", name, strings.Join(Formats, ", "))
}

// Result is the part of a query result that the formatters write.
type Result struct {
	Columns []string
	Sources []string // table or alias of each column; names repeated columns in JSON
	Types   []sql.Type
	Rows    []sql.Row
}

// Write writes res to w in the named format.
func Write(w io.Writer, format string, res Result) error {
	switch format {
	case "table":
		return writeTable(w, res)
	case "csv":
		return writeCSV(w, res)
	case "json":
		return writeJSON(w, res, false)
	case "jsonl":
		return writeJSON(w, res, true)
	}
	return CheckFormat(format)
}

// text renders a value for CSV and tables. NULL becomes "NULL" in tables and
// an empty field in CSV; the caller decides. t may be nil.
func text(v any, t sql.Type) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case decimal.Decimal:
		if dt, ok := t.(sql.DecimalType); ok {
			return x.StringFixed(int32(dt.Scale())), true
		}
		return x.String(), true
	case types.Timespan:
		return x.String(), true
	case string:
		return x, true
	case []byte:
		return string(x), true
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000000Z"), true
	case types.JSONDocument:
		b, err := json.Marshal(jsonSafe(x.Val))
		if err != nil {
			return fmt.Sprint(x.Val), true
		}
		return string(b), true
	// The integer types of the tables' columns print as fmt.Sprint prints
	// them, without its reflection.
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	}
	return fmt.Sprint(v), true
}

// escapeForTerminal makes a value safe to print on a terminal: control
// characters and invalid UTF-8 bytes become visible escapes, so a process
// name or environment value cannot move the cursor or forge other rows.
func escapeForTerminal(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case (r >= 0x80 && r < 0xa0) || isBidiControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isBidiControl reports the Unicode bidirectional controls, which reorder
// the text after them and can make a name read as something else.
func isBidiControl(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

func writeTable(w io.Writer, res Result) error {
	cells := make([][]string, 0, len(res.Rows)+1)
	cells = append(cells, res.Columns)
	for _, row := range res.Rows {
		line := make([]string, len(row))
		for i, v := range row {
			s, ok := text(v, columnType(res, i))
			if !ok {
				s = "NULL"
			} else {
				s = escapeForTerminal(s)
			}
			line[i] = s
		}
		cells = append(cells, line)
	}
	widths := make([]int, len(res.Columns))
	for _, line := range cells {
		for i, s := range line {
			if n := utf8.RuneCountInString(s); i < len(widths) && n > widths[i] {
				widths[i] = n
			}
		}
	}
	for li, line := range cells {
		var b strings.Builder
		for i, s := range line {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(s)
			if i < len(line)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(s)))
			}
		}
		b.WriteString("\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
		if li == 0 {
			var rule strings.Builder
			for i, n := range widths {
				if i > 0 {
					rule.WriteString("  ")
				}
				rule.WriteString(strings.Repeat("-", n))
			}
			rule.WriteString("\n")
			if _, err := io.WriteString(w, rule.String()); err != nil {
				return err
			}
		}
	}
	rows := "rows"
	if len(res.Rows) == 1 {
		rows = "row"
	}
	_, err := fmt.Fprintf(w, "(%d %s)\n", len(res.Rows), rows)
	return err
}

// csvBuffer is the size in bytes of the buffer in front of a CSV writer's
// output. With csv.Writer's own 4 KiB, the 22,000 rows (2 MB) of SELECT *
// FROM fds on 1,000 processes took 476 write calls, and 31 with this one.
const csvBuffer = 64 << 10

func writeCSV(w io.Writer, res Result) error {
	out := bufio.NewWriterSize(w, csvBuffer)
	cw := csv.NewWriter(out)
	if err := cw.Write(res.Columns); err != nil {
		return err
	}
	// csv.Writer.Write does not keep the record, so one serves every row.
	var record []string
	for _, row := range res.Rows {
		record = record[:0]
		for i, v := range row {
			s, _ := text(v, columnType(res, i))
			record = append(record, s)
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return out.Flush()
}

func writeJSON(w io.Writer, res Result, lines bool) error {
	keys := jsonKeys(res)
	objects := make([]json.RawMessage, 0, len(res.Rows))
	for _, row := range res.Rows {
		var b strings.Builder
		b.WriteByte('{')
		for i, v := range row {
			if i > 0 {
				b.WriteByte(',')
			}
			key, _ := json.Marshal(keys[i])
			b.Write(key)
			b.WriteByte(':')
			value, err := json.Marshal(jsonValue(v, columnType(res, i)))
			if err != nil {
				return fmt.Errorf("encode column %s as JSON: %w", res.Columns[i], err)
			}
			b.Write(value)
		}
		b.WriteByte('}')
		objects = append(objects, json.RawMessage(b.String()))
	}
	if lines {
		for _, o := range objects {
			if _, err := fmt.Fprintf(w, "%s\n", o); err != nil {
				return err
			}
		}
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(objects)
}

// jsonKeys returns one distinct object key per column. A name that several
// columns share, as in SELECT p.pid, f.pid, is qualified with its table or
// alias, and numbered when that is not enough, because JSON readers keep only
// one of two equal keys.
func jsonKeys(res Result) []string {
	count := map[string]int{}
	for _, c := range res.Columns {
		count[c]++
	}
	keys := make([]string, len(res.Columns))
	used := map[string]bool{}
	for i, c := range res.Columns {
		key := c
		if count[c] > 1 && i < len(res.Sources) && res.Sources[i] != "" {
			key = res.Sources[i] + "." + c
		}
		for n := 2; used[key]; n++ {
			key = fmt.Sprintf("%s_%d", c, n)
		}
		used[key] = true
		keys[i] = key
	}
	return keys
}

func columnType(res Result, i int) sql.Type {
	if i < len(res.Types) {
		return res.Types[i]
	}
	return nil
}

// jsonValue converts a column value to what encoding/json should write.
// BOOLEAN columns become true or false, timestamps RFC 3339 in UTC, and a
// string that is not valid UTF-8 becomes {"base64": "..."}, because JSON
// strings cannot carry arbitrary bytes and replacing them would alter
// evidence.
func jsonValue(v any, t sql.Type) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return jsonString(x)
	case []byte:
		return jsonString(string(x))
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case types.JSONDocument:
		return jsonSafe(x.Val)
	case decimal.Decimal:
		s, _ := text(x, t)
		return json.Number(s)
	case types.Timespan:
		return x.String()
	case int8:
		if t != nil && types.IsBoolean(t) {
			return x != 0
		}
	}
	return v
}

func jsonString(s string) any {
	if utf8.ValidString(s) {
		return s
	}
	return map[string]string{"base64": base64.StdEncoding.EncodeToString([]byte(s))}
}

// jsonSafe applies jsonString to every string inside a JSON column value.
func jsonSafe(v any) any {
	switch x := v.(type) {
	case string:
		return jsonString(x)
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = jsonSafe(item)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = jsonSafe(item)
		}
		return out
	}
	return v
}
