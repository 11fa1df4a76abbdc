package engine

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
)

// DefaultMaxValueBytes is the largest string that the functions in
// boundedFunctions may return, unless a server sets a smaller limit. It is
// MySQL's default max_allowed_packet, the largest value a MySQL server
// sends. go-mysql-server v0.20.0 builds a function's whole result before
// anything else reads it, so without this limit one REPEAT('x', 2000000000)
// takes 2 GB of memory, and SPACE(2000000000) runs for ever.
const DefaultMaxValueBytes = 64 << 20

// erValueTooLarge is MySQL's ER_WARN_ALLOWED_PACKET_OVERFLOWED, the code
// MySQL gives a function result larger than max_allowed_packet. MySQL
// returns NULL with a warning; procsql fails the statement instead, so
// that a truncated value is never mistaken for data.
const erValueTooLarge = 1301

type maxValueKey struct{}

// withMaxValueBytes returns a context under which the bounded functions
// fail on results larger than limit bytes.
func withMaxValueBytes(ctx context.Context, limit int64) context.Context {
	return context.WithValue(ctx, maxValueKey{}, limit)
}

// maxValueBytes returns the value limit that ctx carries, or
// DefaultMaxValueBytes.
func maxValueBytes(ctx context.Context) int64 {
	if limit, ok := ctx.Value(maxValueKey{}).(int64); ok && limit > 0 {
		return limit
	}
	return DefaultMaxValueBytes
}

// sizeBound returns an upper bound, in bytes, of the result of a function
// called with args, or -1 when it cannot tell before the call.
type sizeBound func(ctx *sql.Context, args []any) int64

// boundedFunctions are the built-in functions whose result can be much
// larger than their arguments. The provider replaces each with a
// boundedCall, which fails while it evaluates the arguments once they take
// more than the value limit together, before the call when the bound
// exceeds the limit, and after the call when the result does. A function
// without a bound (nil) evaluates its own arguments and is only checked
// after the call, so it may build a value a few times the limit before it
// fails. HEX, for example, doubles its argument.
//
// The JSON functions that build a document larger than their arguments
// are bounded by the stats that measureJSON takes of their arguments, and
// their result is measured, not printed, before it is returned.
//
// NOTE: the aggregates JSON_ARRAYAGG and JSON_OBJECTAGG, and CAST(... AS
// JSON), are not bounded here. go-mysql-server prints a float in full, so
// the text 1e300 becomes 301 digits: CAST of 6 MB of such numbers printed
// 303 MB, with 1.6 GB resident, in procsql query. The memory guard cannot
// stop the printing of one value, which never checks its context.
// GROUP_CONCAT is bounded by group_concat_max_len, which NewServer caps at
// the value limit.
var boundedFunctions = map[string]sizeBound{
	"repeat":              repeatBound,
	"space":               spaceBound,
	"lpad":                padBound,
	"rpad":                padBound,
	"concat":              concatBound,
	"concat_ws":           concatWSBound,
	"replace":             replaceBound,
	"regexp_replace":      regexpReplaceBound,
	"date_format":         formatBound,
	"time_format":         formatBound,
	"json_array":          jsonBound(jsonListBound),
	"json_object":         jsonBound(jsonListBound),
	"json_quote":          jsonBound(jsonQuoteBound),
	"json_array_append":   jsonBound(jsonModifyBound),
	"json_array_insert":   jsonBound(jsonModifyBound),
	"json_insert":         jsonBound(jsonModifyBound),
	"json_set":            jsonBound(jsonModifyBound),
	"json_replace":        jsonBound(jsonModifyBound),
	"json_merge":          jsonBound(jsonMergeBound),
	"json_merge_preserve": jsonBound(jsonMergeBound),
	"json_merge_patch":    jsonBound(jsonMergePatchBound),
	"json_pretty":         jsonBound(jsonPrettyBound),
	"json_extract":        jsonBound(jsonExtractBound),
	"json_search":         jsonBound(jsonSearchBound),
	"hex":                 nil,
	"to_base64":           nil,
	"quote":               nil,
	"lower":               nil,
	"lcase":               nil,
	"upper":               nil,
	"ucase":               nil,
	"uncompress":          nil,
}

// builtinFunctions are go-mysql-server's functions by name.
var builtinFunctions = func() map[string]sql.Function {
	byName := make(map[string]sql.Function, len(function.BuiltIns))
	for _, f := range function.BuiltIns {
		byName[f.FunctionName()] = f
	}
	return byName
}()

// boundedFunction returns the bounded version of the built-in function
// name, or false when name is not in boundedFunctions.
func boundedFunction(name string) (sql.Function, bool) {
	bound, ok := boundedFunctions[name]
	builtin, found := builtinFunctions[name]
	if !ok || !found {
		return nil, false
	}
	return sql.FunctionN{Name: name, Fn: func(args ...sql.Expression) (sql.Expression, error) {
		inner, err := builtin.NewInstance(args)
		if err != nil {
			return nil, err
		}
		return &boundedCall{name: name, bound: bound, inner: inner}, nil
	}}, true
}

// boundedCall is a call to a built-in function that fails when its result
// would exceed the value limit. It evaluates the arguments itself, checks
// the bound, and calls the built-in function on the values as literals, so
// the result, its type and its collation are the built-in function's.
type boundedCall struct {
	name  string
	bound sizeBound
	inner sql.Expression
}

var (
	_ sql.Expression         = (*boundedCall)(nil)
	_ sql.FunctionExpression = (*boundedCall)(nil)
	_ sql.CollationCoercible = (*boundedCall)(nil)
)

func (c *boundedCall) FunctionName() string { return c.name }

func (c *boundedCall) Description() string {
	if f, ok := c.inner.(sql.FunctionExpression); ok {
		return f.Description()
	}
	return c.name
}

func (c *boundedCall) Resolved() bool             { return c.inner.Resolved() }
func (c *boundedCall) String() string             { return c.inner.String() }
func (c *boundedCall) Type() sql.Type             { return c.inner.Type() }
func (c *boundedCall) IsNullable() bool           { return c.inner.IsNullable() }
func (c *boundedCall) Children() []sql.Expression { return c.inner.Children() }

func (c *boundedCall) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	inner, err := c.inner.WithChildren(children...)
	if err != nil {
		return nil, err
	}
	return &boundedCall{name: c.name, bound: c.bound, inner: inner}, nil
}

// CollationCoercibility implements sql.CollationCoercible.
func (c *boundedCall) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	if cc, ok := c.inner.(sql.CollationCoercible); ok {
		return cc.CollationCoercibility(ctx)
	}
	return sql.Collation_binary, 5
}

func (c *boundedCall) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	limit := maxValueBytes(ctx)
	call := c.inner
	if c.bound != nil {
		values, literals, err := c.evalArgs(ctx, row, limit)
		if err != nil {
			return nil, err
		}
		if size := c.bound(ctx, values); size > limit {
			return nil, c.tooLarge(size, limit, "could reach")
		}
		if call, err = c.inner.WithChildren(literals...); err != nil {
			return nil, err
		}
	}
	result, err := call.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	if _, ok := result.(sql.JSONWrapper); ok {
		stats, err := measureJSON(result, limit)
		if err != nil {
			return nil, err
		}
		if stats.bytes > limit {
			return nil, c.tooLarge(stats.bytes, limit, "would print as more than")
		}
		return result, checkJSONDepth(strings.ToUpper(c.name)+"()", stats)
	}
	if size := valueSize(result); size > limit {
		return nil, c.tooLarge(size, limit, "is")
	}
	return result, nil
}

// evalArgs evaluates the arguments of the call and returns them as values
// and as literals. It fails as soon as the arguments take more than limit
// bytes together, so that a call does not hold many arguments each near
// the limit. It parses the text arguments that a JSON function reads as
// documents, so that the bound measures the document.
func (c *boundedCall) evalArgs(ctx *sql.Context, row sql.Row, limit int64) ([]any, []sql.Expression, error) {
	children := c.inner.Children()
	values := make([]any, len(children))
	literals := make([]sql.Expression, len(children))
	documentArg, parsesDocuments := jsonDocumentArgs[c.name]
	var total int64
	for i, child := range children {
		v, err := child.Eval(ctx, row)
		if err != nil {
			return nil, nil, err
		}
		typ := child.Type()
		if parsesDocuments && (documentArg == -1 || documentArg == i) {
			if doc, parsed := parseJSONArg(v); parsed {
				v, typ = doc, types.JSON
			}
		}
		var size int64
		if _, ok := v.(sql.JSONWrapper); ok {
			stats, err := measureJSON(v, limit)
			if err != nil {
				return nil, nil, err
			}
			if err := checkJSONDepth("argument "+strconv.Itoa(i+1)+" of "+strings.ToUpper(c.name)+"()", stats); err != nil {
				return nil, nil, err
			}
			size = stats.bytes
		} else {
			size = valueSize(v)
		}
		total += size
		if total > limit {
			return nil, nil, mysql.NewSQLError(erValueTooLarge, mysql.SSUnknownSQLState,
				"arguments of %s() take more than %d bytes together, the limit (%s) on one value: use shorter arguments",
				strings.ToUpper(c.name), limit, formatMiB(limit))
		}
		values[i] = v
		literals[i] = expression.NewLiteral(v, typ)
	}
	return values, literals, nil
}

func (c *boundedCall) tooLarge(size, limit int64, verb string) error {
	return mysql.NewSQLError(erValueTooLarge, mysql.SSUnknownSQLState,
		"result of %s() %s %d bytes, more than the limit of %d bytes (%s) on one value: use shorter arguments or a smaller count",
		strings.ToUpper(c.name), verb, size, limit, formatMiB(limit))
}

// formatMiB formats n bytes in MiB, for messages.
func formatMiB(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// valueSize returns the size in bytes of v as text: exact for strings and
// byte slices, an upper bound for JSON documents, and the length of its
// printed form for other values.
func valueSize(v any) int64 {
	switch v := v.(type) {
	case nil:
		return 0
	case string:
		return int64(len(v))
	case []byte:
		return int64(len(v))
	case sql.JSONWrapper:
		stats, err := measureJSON(v, math.MaxInt64)
		if err != nil {
			return 0
		}
		return stats.bytes
	default:
		return int64(len(fmt.Sprint(v)))
	}
}

// textOf returns v as a string when it is text, for bounds that look into
// an argument. Other values return false.
func textOf(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}

// countOf converts a count argument as the built-in functions do. It
// returns false for NULL or a value that does not convert, which the
// built-in function then handles.
func countOf(ctx *sql.Context, v any) (int64, bool) {
	if v == nil {
		return 0, false
	}
	n, _, err := types.Int64.Convert(ctx, v)
	if err != nil {
		return 0, false
	}
	count, ok := n.(int64)
	return max(count, 0), ok
}

// saturatingMul returns a*b for a, b >= 0, or the largest int64 when that
// overflows.
func saturatingMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > (1<<63-1)/b {
		return 1<<63 - 1
	}
	return a * b
}

// REPEAT(str, count)
func repeatBound(ctx *sql.Context, args []any) int64 {
	count, ok := countOf(ctx, args[1])
	if !ok {
		return -1
	}
	return saturatingMul(valueSize(args[0]), count)
}

// SPACE(count)
func spaceBound(ctx *sql.Context, args []any) int64 {
	count, ok := countOf(ctx, args[0])
	if !ok {
		return -1
	}
	return count
}

// LPAD(str, len, padstr) and RPAD: len counts characters, and each takes
// as many bytes as the widest character of str and padstr, at most 4.
func padBound(ctx *sql.Context, args []any) int64 {
	length, ok := countOf(ctx, args[1])
	if !ok {
		return -1
	}
	width := int64(1)
	for _, v := range []any{args[0], args[2]} {
		text, ok := textOf(v)
		if !ok {
			continue
		}
		for _, r := range text {
			width = max(width, int64(utf8.RuneLen(r)))
			if width == utf8.UTFMax {
				break
			}
		}
	}
	return saturatingMul(length, width)
}

// CONCAT(str, ...)
func concatBound(_ *sql.Context, args []any) int64 {
	var total int64
	for _, v := range args {
		total += valueSize(v)
	}
	return total
}

// CONCAT_WS(separator, str, ...)
func concatWSBound(_ *sql.Context, args []any) int64 {
	total := concatBound(nil, args[1:])
	return total + saturatingMul(valueSize(args[0]), int64(max(len(args)-2, 0)))
}

// REPLACE(str, from, to): the bound is the exact size of the result.
func replaceBound(_ *sql.Context, args []any) int64 {
	str, ok1 := textOf(args[0])
	from, ok2 := textOf(args[1])
	if !ok1 || !ok2 || from == "" {
		return valueSize(args[0])
	}
	matches := int64(strings.Count(str, from))
	grown := valueSize(args[2]) - int64(len(from))
	return int64(len(str)) + saturatingMul(matches, max(grown, 0))
}

// REGEXP_REPLACE(str, pattern, replacement, ...): at most len(str)+1
// matches, none overlapping, each replaced by the replacement text, in
// which every $ or \ may be a back-reference that copies the match. The
// bound is loose, so a long replacement on a long string fails even with
// few matches: a 30-byte replacement passes on strings of up to 2 MiB.
func regexpReplaceBound(_ *sql.Context, args []any) int64 {
	if len(args) < 3 {
		return -1
	}
	str := valueSize(args[0])
	replacement, ok := textOf(args[2])
	if !ok {
		return str + saturatingMul(str+1, valueSize(args[2]))
	}
	references := int64(strings.Count(replacement, "$") + strings.Count(replacement, `\`))
	return str + saturatingMul(str+1, int64(len(replacement))) + saturatingMul(references, str)
}

// DATE_FORMAT(date, format) and TIME_FORMAT: each specifier, two bytes of
// the format, becomes at most 9 bytes (a month or weekday name).
func formatBound(_ *sql.Context, args []any) int64 {
	return saturatingMul(valueSize(args[1]), 5)
}
