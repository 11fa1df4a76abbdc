package export

import (
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/shopspring/decimal"
)

// csvTimeLayout is the text of DATETIME and TIMESTAMP values in CSV: UTC
// with microseconds, as procsql query --format csv writes them.
const csvTimeLayout = "2006-01-02T15:04:05.000000Z"

// writeCSV writes a header line with the column names, then one record per
// row. NULL is an empty field, so CSV cannot tell NULL from an empty
// string. BLOB values are standard base64, because CSV readers choke on
// NUL bytes, and text that is not valid UTF-8 gets U+FFFD in place of the
// invalid bytes, because engines such as DuckDB reject such a file.
func writeCSV(w io.Writer, t *Table, notes *notes) error {
	out := csv.NewWriter(w)
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Name
	}
	if err := out.Write(header); err != nil {
		return err
	}
	record := make([]string, len(t.Columns))
	for r, row := range t.Rows {
		if err := t.checkRow(row, r); err != nil {
			return err
		}
		for i, c := range t.Columns {
			v := t.value(row, i)
			if isTextType(c.Type) {
				var replaced bool
				if v, replaced = validText(v); replaced {
					notes.addReplaced(CSV, t.Name, c.Name)
				}
			}
			s, err := csvCell(v, c.Type)
			if err != nil {
				return fmt.Errorf("table %s: row %d: column %s: %w", t.Name, r, c.Name, err)
			}
			record[i] = s
		}
		if err := out.Write(record); err != nil {
			return err
		}
		t.Rows[r] = nil
	}
	out.Flush()
	return out.Error()
}

func isTextType(t sql.Type) bool {
	switch t.Type() {
	case sqltypes.Text, sqltypes.VarChar, sqltypes.Char:
		return true
	}
	return false
}

func isBinaryType(t sql.Type) bool {
	switch t.Type() {
	case sqltypes.Blob, sqltypes.VarBinary, sqltypes.Binary:
		return true
	}
	return false
}

// csvCell renders one value of a column of type t.
func csvCell(v any, t sql.Type) (string, error) {
	if v == nil {
		return "", nil
	}
	if types.IsBoolean(t) {
		b, err := boolOf(v)
		if err != nil {
			return "", err
		}
		return strconv.FormatBool(b), nil
	}
	if isBinaryType(t) {
		switch x := v.(type) {
		case []byte:
			return base64.StdEncoding.EncodeToString(x), nil
		case string:
			return base64.StdEncoding.EncodeToString([]byte(x)), nil
		}
		return "", fmt.Errorf("value %v (%T) is not binary", v, v)
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case int8:
		return strconv.FormatInt(int64(x), 10), nil
	case int16:
		return strconv.FormatInt(int64(x), 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	case uint8:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint32:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float32:
		return formatFloat(float64(x), 32), nil
	case float64:
		return formatFloat(x, 64), nil
	case decimal.Decimal:
		if dt, ok := t.(sql.DecimalType); ok {
			return x.StringFixed(int32(dt.Scale())), nil
		}
		return x.String(), nil
	case time.Time:
		if t.Type() == sqltypes.Date {
			return x.UTC().Format(time.DateOnly), nil
		}
		return x.UTC().Format(csvTimeLayout), nil
	case sql.JSONWrapper:
		doc, err := encodeJSONDocument(x)
		return string(doc), err
	}
	return "", fmt.Errorf("value %v (%T) has no CSV form", v, v)
}

// formatFloat writes the shortest text that reads back as the same value,
// and NaN, Infinity or -Infinity for the special values.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}
