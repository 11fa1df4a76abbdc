package export

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/shopspring/decimal"
)

// utf8Policy selects how a JSON writer stores text that is not valid UTF-8,
// which a JSON string cannot carry.
type utf8Policy int

const (
	// keepBytes writes such text as {"base64": "..."}, as procsql query
	// --format json does, so no byte is lost.
	keepBytes utf8Policy = iota
	// replaceBytes writes it as a string with U+FFFD in place of each
	// invalid sequence, for readers that need one type per field.
	replaceBytes
)

// jsonValueWriter appends column values as JSON.
type jsonValueWriter struct {
	policy utf8Policy
}

// appendValue appends the JSON form of v, a value of a column of type t,
// and reports whether it replaced invalid UTF-8. NULL is null, BOOLEAN
// true or false, integers and decimals numbers, times RFC 3339 strings in
// UTC, dates YYYY-MM-DD, text and BLOB values strings, and JSON values
// their document.
func (jw jsonValueWriter) appendValue(buf []byte, v any, t sql.Type) ([]byte, bool, error) {
	if t != nil && types.IsBoolean(t) && v != nil {
		b, err := boolOf(v)
		if err != nil {
			return nil, false, err
		}
		return strconv.AppendBool(buf, b), false, nil
	}
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), false, nil
	case bool:
		return strconv.AppendBool(buf, x), false, nil
	case int8:
		return strconv.AppendInt(buf, int64(x), 10), false, nil
	case int16:
		return strconv.AppendInt(buf, int64(x), 10), false, nil
	case int32:
		return strconv.AppendInt(buf, int64(x), 10), false, nil
	case int64:
		return strconv.AppendInt(buf, x, 10), false, nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), false, nil
	case uint8:
		return strconv.AppendUint(buf, uint64(x), 10), false, nil
	case uint16:
		return strconv.AppendUint(buf, uint64(x), 10), false, nil
	case uint32:
		return strconv.AppendUint(buf, uint64(x), 10), false, nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), false, nil
	case float32:
		return appendFloat(buf, float64(x), 32)
	case float64:
		return appendFloat(buf, x, 64)
	case decimal.Decimal:
		if dt, ok := t.(sql.DecimalType); ok {
			return append(buf, x.StringFixed(int32(dt.Scale()))...), false, nil
		}
		return append(buf, x.String()...), false, nil
	case time.Time:
		if t != nil && t.Type() == sqltypes.Date {
			return appendJSON(buf, x.UTC().Format(time.DateOnly)), false, nil
		}
		return appendJSON(buf, formatTime(x)), false, nil
	case string:
		return jw.appendText(buf, x)
	case []byte:
		return jw.appendText(buf, string(x))
	case sql.JSONWrapper:
		doc, err := encodeJSONDocument(x)
		if err != nil {
			return nil, false, err
		}
		return append(buf, doc...), false, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false, fmt.Errorf("encode %v (%T) as JSON: %w", v, v, err)
	}
	return append(buf, b...), false, nil
}

func appendFloat(buf []byte, f float64, bits int) ([]byte, bool, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false, fmt.Errorf("value %v has no JSON form", f)
	}
	return strconv.AppendFloat(buf, f, 'g', -1, bits), false, nil
}

func (jw jsonValueWriter) appendText(buf []byte, s string) ([]byte, bool, error) {
	if utf8.ValidString(s) {
		return appendJSON(buf, s), false, nil
	}
	if jw.policy == replaceBytes {
		return appendJSON(buf, strings.ToValidUTF8(s, "\uFFFD")), true, nil
	}
	return appendJSON(buf, base64Object(s)), false, nil
}

// base64Object is the stand-in for text that is not valid UTF-8.
func base64Object(s string) map[string]string {
	return map[string]string{"base64": base64.StdEncoding.EncodeToString([]byte(s))}
}

// appendJSON appends the encoding of a string or a map of strings. The
// error is ignored because encoding/json fails only on types such as
// channels, functions and NaN floats, and the callers pass only strings and
// maps of strings.
//
// NOTE: the JSON value rules here (booleans, times, base64 for invalid
// text) repeat those of package output, which does not export them.
func appendJSON(buf []byte, v any) []byte {
	b, _ := json.Marshal(v)
	return append(buf, b...)
}

// formatTime writes times as RFC 3339 in UTC, with the fraction of a second
// that is not zero, as procsql query --format json does.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// encodeJSONDocument encodes a JSON column value. A string in it that is
// not valid UTF-8 becomes {"base64": "..."}, because encoding/json would
// replace its bytes.
func encodeJSONDocument(v any) ([]byte, error) {
	doc, ok := v.(sql.JSONWrapper)
	if !ok {
		return nil, fmt.Errorf("value %v (%T) is not a JSON document", v, v)
	}
	val, err := doc.ToInterface()
	if err != nil {
		return nil, fmt.Errorf("read JSON document: %w", err)
	}
	b, err := json.Marshal(keepInvalidText(val))
	if err != nil {
		return nil, fmt.Errorf("encode JSON document: %w", err)
	}
	return b, nil
}

func keepInvalidText(v any) any {
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			return base64Object(x)
		}
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = keepInvalidText(item)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = keepInvalidText(item)
		}
		return out
	}
	return v
}

// writeJSONL writes one JSON object per row, with the columns as keys in
// table order. Text that is not valid UTF-8 is kept as {"base64": "..."}.
func writeJSONL(w io.Writer, t *Table, notes *notes) error {
	keys := make([][]byte, len(t.Columns))
	for i, c := range t.Columns {
		keys[i] = appendJSON(nil, c.Name)
	}
	jw := jsonValueWriter{policy: keepBytes}
	var line []byte
	for r, row := range t.Rows {
		if err := t.checkRow(row, r); err != nil {
			return err
		}
		line = append(line[:0], '{')
		for i, c := range t.Columns {
			if i > 0 {
				line = append(line, ',')
			}
			line = append(line, keys[i]...)
			line = append(line, ':')
			var err error
			line, _, err = jw.appendValue(line, t.value(row, i), c.Type)
			if err != nil {
				return fmt.Errorf("table %s: row %d: column %s: %w", t.Name, r, c.Name, err)
			}
		}
		line = append(line, '}', '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
		t.Rows[r] = nil
	}
	return nil
}
