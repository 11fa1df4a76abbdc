package export_test

import (
	"bytes"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/shopspring/decimal"

	"github.com/procsql/procsql/export"
	"github.com/procsql/procsql/export/internal/exporttest"
)

func TestWriteTableTypesToParquet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "types.parquet")
	var buf bytes.Buffer
	notes, err := export.WriteTable(&buf, export.Parquet, exporttest.TypesTable())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "1 value of types.label is not valid UTF-8") {
		t.Errorf("notes %q, want one about the invalid UTF-8 value of label", notes)
	}

	pf := openParquet(t, path)
	wantTypes := []struct{ kind, logical string }{
		{"INT32", "INT(8,true)"}, {"INT32", "INT(16,true)"}, {"INT32", "INT(8,false)"},
		{"FLOAT", ""}, {"DOUBLE", ""},
		{"INT32", "DECIMAL(7,2)"}, {"INT64", "DECIMAL(15,3)"}, {"FIXED_LEN_BYTE_ARRAY", "DECIMAL(30,5)"}, {"BYTE_ARRAY", "STRING"},
		{"INT32", "DATE"}, {"INT64", "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)"},
		{"BYTE_ARRAY", "STRING"}, {"BYTE_ARRAY", ""}, {"BYTE_ARRAY", "JSON"}, {"BYTE_ARRAY", "STRING"},
	}
	for i, field := range pf.Schema().Fields() {
		logical := ""
		if lt := field.Type().LogicalType(); lt != nil {
			logical = lt.String()
		}
		if kind := field.Type().Kind().String(); kind != wantTypes[i].kind || logical != wantTypes[i].logical {
			t.Errorf("column %s is %s %q, want %s %q", field.Name(), kind, logical, wantTypes[i].kind, wantTypes[i].logical)
		}
		if want := field.Name() != "host"; field.Optional() != want {
			t.Errorf("column %s optional=%v, want %v", field.Name(), field.Optional(), want)
		}
	}

	rows := readParquetRows(t, path, pf)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	first := rows[0]
	checks := []struct {
		column string
		ok     bool
	}{
		{"i8", first[0].Int32() == -128},
		{"i16", first[1].Int32() == -32768},
		{"u8", first[2].Int32() == 255},
		{"f32", first[3].Float() == 1.5},
		{"f64", first[4].Double() == -2.25},
		{"d7", first[5].Int32() == -1234567},
		{"d15", first[6].Int64() == 123456789012345},
		{"d30", twosComplement(first[7].ByteArray()).String() == "-123456789012345678901234512345"},
		{"d50", string(first[8].ByteArray()) == "1234567890123456789012345678901234567890.0123456789"},
		{"day", first[9].Int32() == -1},
		{"at", first[10].Int64() == time.Date(2026, 3, 1, 12, 30, 45, 123456000, time.UTC).UnixMicro()},
		{"label", string(first[11].ByteArray()) == "caf\uFFFD"},
		{"data", bytes.Equal(first[12].ByteArray(), []byte{0, 1, 0xff})},
		{"doc", string(first[13].ByteArray()) == `{"k":["v",1.5]}`},
		{"second d15", rows[1][6].Int64() == -1},
		{"second d50", string(rows[1][8].ByteArray()) == "-0.0000000001"},
		{"second day", rows[1][9].Int32() == 20513},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("column %s of the first row holds a wrong value: %v", c.column, rows[0])
		}
	}
	for i, v := range rows[2][:14] {
		if !v.IsNull() {
			t.Errorf("column %d of the NULL row is %v, want NULL", i, v)
		}
	}
}

// twosComplement decodes a big-endian two's complement integer.
func twosComplement(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n
}

func TestWriteTableTypesToCSVAndJSONL(t *testing.T) {
	var csvOut bytes.Buffer
	notes, err := export.WriteTable(&csvOut, export.CSV, exporttest.TypesTable())
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "csv file has U+FFFD") {
		t.Errorf("notes %q, want one about label in the csv file", notes)
	}
	wantCSV := "i8,i16,u8,f32,f64,d7,d15,d30,d50,day,at,label,data,doc,host\n" +
		"-128,-32768,255,1.5,-2.25,-12345.67,123456789012.345,-1234567890123456789012345.12345,1234567890123456789012345678901234567890.0123456789,1969-12-31,2026-03-01T12:30:45.123456Z,caf\uFFFD,AAH/,\"{\"\"k\"\":[\"\"v\"\",1.5]}\",h1\n" +
		"127,32767,0,0,1e+300,0.01,-0.001,1.00000,-0.0000000001,2026-03-01,2026-03-01T12:30:45.123455Z,plain,,[],h1\n" +
		",,,,,,,,,,,,,,h1\n"
	if csvOut.String() != wantCSV {
		t.Errorf("CSV:\n%s\nwant:\n%s", csvOut.String(), wantCSV)
	}

	var jsonOut bytes.Buffer
	notes, err = export.WriteTable(&jsonOut, export.JSONL, exporttest.TypesTable())
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 {
		t.Errorf("notes %q, want none: JSONL keeps invalid UTF-8 as base64", notes)
	}
	wantJSONL := `{"i8":-128,"i16":-32768,"u8":255,"f32":1.5,"f64":-2.25,"d7":-12345.67,"d15":123456789012.345,"d30":-1234567890123456789012345.12345,"d50":1234567890123456789012345678901234567890.0123456789,"day":"1969-12-31","at":"2026-03-01T12:30:45.123456Z","label":{"base64":"Y2Fm6Q=="},"data":{"base64":"AAH/"},"doc":{"k":["v",1.5]},"host":"h1"}` + "\n"
	if first, _, _ := strings.Cut(jsonOut.String(), "\n"); first+"\n" != wantJSONL {
		t.Errorf("JSONL first line:\n%s\nwant:\n%s", first, wantJSONL)
	}
}

func TestWriteTableRejectsBadValues(t *testing.T) {
	cases := []struct {
		name   string
		column export.Column
		value  any
		want   string
	}{
		{"NULL in NOT NULL", export.Column{Name: "pid", Type: types.Int32}, nil, "column pid is NULL but declared NOT NULL"},
		{"boolean 2", export.Column{Name: "flag", Type: types.Boolean, Nullable: true}, int8(2), "neither 0 nor 1"},
		{"int out of range", export.Column{Name: "small", Type: types.Int16, Nullable: true}, int64(40000), "does not fit in a signed 16-bit integer"},
		{"negative unsigned", export.Column{Name: "port", Type: types.Uint16, Nullable: true}, int32(-1), "negative in an unsigned column"},
		{"text in int column", export.Column{Name: "pid", Type: types.Int32, Nullable: true}, "12", "is not an integer"},
		{"decimal too precise", export.Column{Name: "d", Type: types.MustCreateDecimalType(5, 2), Nullable: true}, decimal.RequireFromString("1.234"), "more than 2 digits after the point"},
		{"unsupported type", export.Column{Name: "born", Type: types.Year, Nullable: true}, int16(2020), "column born has type year"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			table := &export.Table{Name: "bad", Columns: []export.Column{c.column}, Rows: []sql.Row{{c.value}}}
			_, err := export.WriteTable(&bytes.Buffer{}, export.Parquet, table)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
