package export

import (
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/shopspring/decimal"
)

// parquetRowGroupRows is the maximum number of rows per Parquet row group.
// The writer holds one row group's encoded pages in memory, and engines
// read the row groups of a file in parallel.
const parquetRowGroupRows = 100_000

// parquetBatchRows is the number of rows handed to the Parquet writer at a
// time.
const parquetBatchRows = 256

// maxParquetDecimalPrecision is the largest DECIMAL precision stored as a
// Parquet DECIMAL. DuckDB, Spark and Trino read at most 38 digits as a
// decimal, so wider values (MySQL allows 65) are written as text.
const maxParquetDecimalPrecision = 38

// parquetColumn is the Parquet form of one SQL column.
type parquetColumn struct {
	node parquet.Node // without the optional wrapper
	// convert turns a non-NULL value into a Parquet value.
	convert func(v any) (parquet.Value, error)
	text    bool // whether convert replaces invalid UTF-8
}

// parquetColumnFor maps a SQL column type to a Parquet logical type, as
// the table in docs/export.md lists. Integers keep their width and sign,
// and DECIMAL keeps its precision up to 38 digits and becomes text above.
// DATETIME and TIMESTAMP become TIMESTAMP(MICROS) adjusted to UTC, text
// becomes STRING, and BLOB and binary types plain BYTE_ARRAY.
func parquetColumnFor(c Column) (parquetColumn, error) {
	t := c.Type
	if types.IsBoolean(t) {
		return parquetColumn{node: parquet.Leaf(parquet.BooleanType), convert: boolValue}, nil
	}
	switch t.Type() {
	case sqltypes.Int8:
		return intColumn(8, true), nil
	case sqltypes.Int16:
		return intColumn(16, true), nil
	case sqltypes.Int24, sqltypes.Int32:
		return intColumn(32, true), nil
	case sqltypes.Int64:
		return intColumn(64, true), nil
	case sqltypes.Uint8:
		return intColumn(8, false), nil
	case sqltypes.Uint16:
		return intColumn(16, false), nil
	case sqltypes.Uint24, sqltypes.Uint32:
		return intColumn(32, false), nil
	case sqltypes.Uint64:
		return intColumn(64, false), nil
	case sqltypes.Float32:
		return parquetColumn{node: parquet.Leaf(parquet.FloatType), convert: floatValue}, nil
	case sqltypes.Float64:
		return parquetColumn{node: parquet.Leaf(parquet.DoubleType), convert: doubleValue}, nil
	case sqltypes.Decimal:
		dt, ok := t.(sql.DecimalType)
		if !ok {
			break
		}
		return decimalColumn(int(dt.Precision()), int(dt.Scale())), nil
	case sqltypes.Date:
		return parquetColumn{node: parquet.Date(), convert: dateValue}, nil
	case sqltypes.Datetime, sqltypes.Timestamp:
		return parquetColumn{node: parquet.Timestamp(parquet.Microsecond), convert: timestampValue}, nil
	case sqltypes.Text, sqltypes.VarChar, sqltypes.Char:
		return parquetColumn{node: parquet.String(), convert: stringValue, text: true}, nil
	case sqltypes.Blob, sqltypes.VarBinary, sqltypes.Binary:
		return parquetColumn{node: parquet.Leaf(parquet.ByteArrayType), convert: bytesValue}, nil
	case sqltypes.TypeJSON:
		return parquetColumn{node: parquet.JSON(), convert: jsonDocumentValue}, nil
	}
	return parquetColumn{}, fmt.Errorf("column %s has type %s, which the export cannot write to Parquet yet", c.Name, t)
}

func intColumn(bits int, signed bool) parquetColumn {
	if signed {
		return parquetColumn{node: parquet.Int(bits), convert: func(v any) (parquet.Value, error) {
			n, err := signedValue(v, bits)
			if err != nil {
				return parquet.Value{}, err
			}
			if bits == 64 {
				return parquet.Int64Value(n), nil
			}
			return parquet.Int32Value(int32(n)), nil
		}}
	}
	return parquetColumn{node: parquet.Uint(bits), convert: func(v any) (parquet.Value, error) {
		n, err := unsignedValue(v, bits)
		if err != nil {
			return parquet.Value{}, err
		}
		// Parquet stores unsigned integers in the signed physical type of
		// the same width, bit for bit.
		if bits == 64 {
			return parquet.Int64Value(int64(n)), nil
		}
		return parquet.Int32Value(int32(uint32(n))), nil
	}}
}

// signedValue returns v as an int64 and checks that it fits in bits.
func signedValue(v any, bits int) (int64, error) {
	var n int64
	switch x := reflect.ValueOf(v); x.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n = x.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if x.Uint() > math.MaxInt64 {
			return 0, fmt.Errorf("value %d does not fit in a signed %d-bit integer", x.Uint(), bits)
		}
		n = int64(x.Uint())
	default:
		return 0, fmt.Errorf("value %v (%T) is not an integer", v, v)
	}
	if bits < 64 && (n < -(1<<(bits-1)) || n >= 1<<(bits-1)) {
		return 0, fmt.Errorf("value %d does not fit in a signed %d-bit integer", n, bits)
	}
	return n, nil
}

// unsignedValue returns v as a uint64 and checks that it fits in bits.
func unsignedValue(v any, bits int) (uint64, error) {
	var n uint64
	switch x := reflect.ValueOf(v); x.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n = x.Uint()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if x.Int() < 0 {
			return 0, fmt.Errorf("value %d is negative in an unsigned column", x.Int())
		}
		n = uint64(x.Int())
	default:
		return 0, fmt.Errorf("value %v (%T) is not an integer", v, v)
	}
	if bits < 64 && n >= 1<<bits {
		return 0, fmt.Errorf("value %d does not fit in an unsigned %d-bit integer", n, bits)
	}
	return n, nil
}

func boolValue(v any) (parquet.Value, error) {
	b, err := boolOf(v)
	if err != nil {
		return parquet.Value{}, err
	}
	return parquet.BooleanValue(b), nil
}

// boolOf accepts only 0 and 1 (or a Go bool) in a BOOLEAN column, because
// every format writes such a column as true or false, and any other
// TINYINT(1) value would lose its number.
func boolOf(v any) (bool, error) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	n, err := signedValue(v, 64)
	if err != nil {
		return false, err
	}
	if n != 0 && n != 1 {
		return false, fmt.Errorf("value %d of a BOOLEAN column is neither 0 nor 1", n)
	}
	return n == 1, nil
}

func floatValue(v any) (parquet.Value, error) {
	switch x := v.(type) {
	case float32:
		return parquet.FloatValue(x), nil
	case float64:
		if f := float32(x); float64(f) == x || math.IsNaN(x) {
			return parquet.FloatValue(f), nil
		}
		return parquet.Value{}, fmt.Errorf("value %v does not fit in a FLOAT", x)
	}
	return parquet.Value{}, fmt.Errorf("value %v (%T) is not a float", v, v)
}

func doubleValue(v any) (parquet.Value, error) {
	switch x := v.(type) {
	case float32:
		return parquet.DoubleValue(float64(x)), nil
	case float64:
		return parquet.DoubleValue(x), nil
	}
	return parquet.Value{}, fmt.Errorf("value %v (%T) is not a float", v, v)
}

// decimalColumn stores DECIMAL(precision, scale) as a Parquet DECIMAL in
// the smallest physical type the Parquet format allows for the precision,
// or as exact text above maxParquetDecimalPrecision digits.
func decimalColumn(precision, scale int) parquetColumn {
	if precision > maxParquetDecimalPrecision {
		return parquetColumn{node: parquet.String(), convert: func(v any) (parquet.Value, error) {
			d, err := decimalOf(v)
			if err != nil {
				return parquet.Value{}, err
			}
			return parquet.ByteArrayValue([]byte(d.StringFixed(int32(scale)))), nil
		}}
	}
	unscaled := func(v any) (*big.Int, error) {
		d, err := decimalOf(v)
		if err != nil {
			return nil, err
		}
		shifted := d.Shift(int32(scale))
		if !shifted.IsInteger() {
			return nil, fmt.Errorf("value %s has more than %d digits after the point", d, scale)
		}
		n := shifted.BigInt()
		if limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil); n.CmpAbs(limit) >= 0 {
			return nil, fmt.Errorf("value %s has more than %d digits", d, precision)
		}
		return n, nil
	}
	switch {
	case precision <= 9:
		return parquetColumn{node: parquet.Decimal(scale, precision, parquet.Int32Type), convert: func(v any) (parquet.Value, error) {
			n, err := unscaled(v)
			if err != nil {
				return parquet.Value{}, err
			}
			return parquet.Int32Value(int32(n.Int64())), nil
		}}
	case precision <= 18:
		return parquetColumn{node: parquet.Decimal(scale, precision, parquet.Int64Type), convert: func(v any) (parquet.Value, error) {
			n, err := unscaled(v)
			if err != nil {
				return parquet.Value{}, err
			}
			return parquet.Int64Value(n.Int64()), nil
		}}
	}
	return parquetColumn{node: parquet.Decimal(scale, precision, parquet.FixedLenByteArrayType(16)), convert: func(v any) (parquet.Value, error) {
		n, err := unscaled(v)
		if err != nil {
			return parquet.Value{}, err
		}
		return parquet.FixedLenByteArrayValue(twosComplement16(n)), nil
	}}
}

// twosComplement16 returns n as a 16-byte big-endian two's complement
// number. n has at most 38 digits, so it fits.
func twosComplement16(n *big.Int) []byte {
	out := make([]byte, 16)
	if n.Sign() >= 0 {
		n.FillBytes(out)
		return out
	}
	// -n = ~(n-1): fill with |n|-1 and invert every byte.
	magnitude := new(big.Int).Sub(new(big.Int).Neg(n), big.NewInt(1))
	magnitude.FillBytes(out)
	for i := range out {
		out[i] = ^out[i]
	}
	return out
}

func decimalOf(v any) (decimal.Decimal, error) {
	switch x := v.(type) {
	case decimal.Decimal:
		return x, nil
	case decimal.NullDecimal:
		if x.Valid {
			return x.Decimal, nil
		}
	}
	return decimal.Decimal{}, fmt.Errorf("value %v (%T) is not a decimal", v, v)
}

func dateValue(v any) (parquet.Value, error) {
	t, ok := v.(time.Time)
	if !ok {
		return parquet.Value{}, fmt.Errorf("value %v (%T) is not a date", v, v)
	}
	t = t.UTC()
	days := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
	return parquet.Int32Value(int32(days)), nil
}

// timestampValue stores a time as microseconds since 1970-01-01 UTC, the
// precision of procsql's DATETIME(6) columns.
func timestampValue(v any) (parquet.Value, error) {
	t, ok := v.(time.Time)
	if !ok {
		return parquet.Value{}, fmt.Errorf("value %v (%T) is not a time", v, v)
	}
	return parquet.Int64Value(t.UnixMicro()), nil
}

func stringValue(v any) (parquet.Value, error) {
	switch x := v.(type) {
	case string:
		return parquet.ByteArrayValue([]byte(x)), nil
	case []byte:
		return parquet.ByteArrayValue(x), nil
	}
	return parquet.Value{}, fmt.Errorf("value %v (%T) is not text", v, v)
}

func bytesValue(v any) (parquet.Value, error) {
	switch x := v.(type) {
	case []byte:
		return parquet.ByteArrayValue(x), nil
	case string:
		return parquet.ByteArrayValue([]byte(x)), nil
	}
	return parquet.Value{}, fmt.Errorf("value %v (%T) is not binary", v, v)
}

func jsonDocumentValue(v any) (parquet.Value, error) {
	b, err := encodeJSONDocument(v)
	if err != nil {
		return parquet.Value{}, err
	}
	return parquet.ByteArrayValue(b), nil
}

// validText returns v with each invalid UTF-8 sequence replaced by U+FFFD,
// and whether it replaced any. Parquet STRING columns must hold UTF-8, and
// DuckDB rejects a file whose strings are not.
func validText(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			return strings.ToValidUTF8(x, "\uFFFD"), true
		}
	case []byte:
		if !utf8.Valid(x) {
			return strings.ToValidUTF8(string(x), "\uFFFD"), true
		}
	}
	return v, false
}

// orderedGroup is a Parquet group whose fields keep the SQL column order.
// parquet.Group sorts its fields by name.
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g *orderedGroup) Fields() []parquet.Field { return g.fields }

// namedNode is one field of an orderedGroup.
type namedNode struct {
	parquet.Node
	name string
}

func (f *namedNode) Name() string { return f.name }

// Value is part of parquet.Field. The writer here passes parquet.Row
// values and never reads fields of Go values.
func (f *namedNode) Value(base reflect.Value) reflect.Value {
	return reflect.Value{}
}

// parquetSchema returns the Parquet schema of t and the converter of each
// column.
func parquetSchema(t *Table) (*parquet.Schema, []parquetColumn, error) {
	columns := make([]parquetColumn, len(t.Columns))
	group := &orderedGroup{Group: parquet.Group{}}
	for i, c := range t.Columns {
		pc, err := parquetColumnFor(c)
		if err != nil {
			return nil, nil, fmt.Errorf("table %s: %w", t.Name, err)
		}
		columns[i] = pc
		node := pc.node
		if c.Nullable {
			node = parquet.Optional(node)
		}
		group.Group[c.Name] = node
		group.fields = append(group.fields, &namedNode{Node: node, name: c.Name})
	}
	return parquet.NewSchema(t.Name, group), columns, nil
}

// zstdCodec is the compression of every column. At its default level it
// made the files about half the size of snappy's for the same CPU time
// (measured in docs/export.md).
var zstdCodec compress.Codec = &parquet.Zstd

func writeParquet(w io.Writer, t *Table, notes *notes) error {
	schema, columns, err := parquetSchema(t)
	if err != nil {
		return err
	}
	writer := parquet.NewWriter(w, schema,
		parquet.Compression(zstdCodec),
		parquet.MaxRowsPerRowGroup(parquetRowGroupRows),
		parquet.KeyValueMetadata("procsql.table", t.Name),
	)

	// WriteRows copies the values into the writer's column buffers, so one
	// batch of rows serves the whole table.
	batch := make([]parquet.Row, parquetBatchRows)
	for i := range batch {
		batch[i] = make(parquet.Row, len(columns))
	}
	pending := 0
	flush := func() error {
		if pending == 0 {
			return nil
		}
		if _, err := writer.WriteRows(batch[:pending]); err != nil {
			return fmt.Errorf("table %s: write Parquet rows: %w", t.Name, err)
		}
		pending = 0
		return nil
	}

	for r, row := range t.Rows {
		if err := t.checkRow(row, r); err != nil {
			return err
		}
		if err := fillParquetRow(batch[pending], t, columns, row, notes); err != nil {
			return fmt.Errorf("table %s: row %d: %w", t.Name, r, err)
		}
		pending++
		t.Rows[r] = nil
		if pending == len(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}

	if err := writer.Close(); err != nil {
		return fmt.Errorf("table %s: finish Parquet file: %w", t.Name, err)
	}
	return nil
}

// fillParquetRow converts row into values, one per column.
func fillParquetRow(values parquet.Row, t *Table, columns []parquetColumn, row sql.Row, notes *notes) error {
	for i, pc := range columns {
		col := t.Columns[i]
		v := t.value(row, i)
		if v == nil {
			if !col.Nullable {
				return fmt.Errorf("column %s is NULL but declared NOT NULL", col.Name)
			}
			values[i] = parquet.NullValue().Level(0, 0, i)
			continue
		}
		if pc.text {
			var replaced bool
			if v, replaced = validText(v); replaced {
				notes.addReplaced(Parquet, t.Name, col.Name)
			}
		}
		pv, err := pc.convert(v)
		if err != nil {
			return fmt.Errorf("column %s: %w", col.Name, err)
		}
		definition := 0
		if col.Nullable {
			// An optional column's definition level is 1 for a value
			// and 0 for NULL.
			definition = 1
		}
		values[i] = pv.Level(0, definition, i)
	}
	return nil
}
