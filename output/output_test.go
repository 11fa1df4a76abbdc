package output

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/shopspring/decimal"
)

func write(t *testing.T, format string, res Result) string {
	t.Helper()
	var b strings.Builder
	if err := Write(&b, format, res); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestTableEscapesTerminalControls(t *testing.T) {
	res := Result{Columns: []string{"name"}, Types: []sql.Type{types.LongText}, Rows: []sql.Row{
		{"a\x1b[31mb"}, {"evil\u202eexe.txt"}, {"bad\xffbyte"}, {"back\\slash"}, {"c1\u009bx"},
	}}
	got := write(t, "table", res)
	for _, want := range []string{`a\x1b[31mb`, `evil\u202eexe.txt`, `bad\xffbyte`, `back\\slash`, `c1\u009bx`, "(5 rows)"} {
		if !strings.Contains(got, want) {
			t.Errorf("table output lacks %q:\n%s", want, got)
		}
	}
	if strings.ContainsAny(got, "\x1b\u202e\u009b") {
		t.Errorf("table output contains a raw control character: %q", got)
	}
}

func TestJSONValueTypes(t *testing.T) {
	dec, _ := types.CreateDecimalType(10, 2)
	res := Result{
		Columns: []string{"flag", "d", "t", "bytes", "n", "null"},
		Types:   []sql.Type{types.Boolean, dec, types.Time, types.LongBlob, types.Uint64, types.LongText},
		Rows:    []sql.Row{{int8(1), decimal.NewFromInt(1), types.Timespan(45296000000), []byte("\xff\xfe"), uint64(18446744073699069952), nil}},
	}
	got := write(t, "jsonl", res)
	want := `{"flag":true,"d":1.00,"t":"12:34:56","bytes":{"base64":"//4="},"n":18446744073699069952,"null":null}` + "\n"
	if got != want {
		t.Errorf("jsonl = %s, want %s", got, want)
	}
}

func TestJSONKeysDistinct(t *testing.T) {
	res := Result{
		Columns: []string{"pid", "pid", "x", "x"},
		Sources: []string{"p", "f", "", ""},
		Types:   []sql.Type{types.Int32, types.Int32, types.Int32, types.Int32},
		Rows:    []sql.Row{{int32(1), int32(2), int32(3), int32(4)}},
	}
	if got, want := write(t, "jsonl", res), `{"p.pid":1,"f.pid":2,"x":3,"x_2":4}`+"\n"; got != want {
		t.Errorf("jsonl = %s, want %s", got, want)
	}
}

func TestCSVNullAndQuotes(t *testing.T) {
	res := Result{Columns: []string{"a", "b"}, Types: []sql.Type{types.LongText, types.LongText}, Rows: []sql.Row{{nil, "x,\"y\"\nz"}}}
	if got, want := write(t, "csv", res), "a,b\n,\"x,\"\"y\"\"\nz\"\n"; got != want {
		t.Errorf("csv = %q, want %q", got, want)
	}
}

func TestCSVIntegersMatchSprint(t *testing.T) {
	values := []any{int8(-128), int8(1), int32(-2147483648), int32(4711), int64(-9223372036854775808), uint32(4294967295), uint64(18446744073709551615), int16(-3), uint8(7), float64(0.5)}
	row := sql.Row(values)
	res := Result{Columns: make([]string, len(values)), Rows: []sql.Row{row}}
	for i := range res.Columns {
		res.Columns[i] = "c"
	}
	lines := strings.Split(strings.TrimSuffix(write(t, "csv", res), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("csv has %d lines, want 2: %q", len(lines), lines)
	}
	got := strings.Split(lines[1], ",")
	for i, v := range values {
		if want := fmt.Sprint(v); i >= len(got) || got[i] != want {
			t.Errorf("csv field %d for %T = %q, want %q", i, v, got[i], want)
		}
	}
}
