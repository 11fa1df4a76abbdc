package engine

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/shopspring/decimal"
)

// The JSON functions of go-mysql-server v0.20.0 build a document of Go
// values that refer to their arguments, and the document is printed only
// when a client or an outer function reads it as text. A document of a few
// MiB of values can print to gigabytes: JSON_ARRAY of 40 arguments of 60
// MB each, a nested JSON_QUOTE that doubles at each level, or JSON_PRETTY,
// which indents each value by its depth. The bounds below measure the Go
// values instead, with jsonStats, which costs one pass over them.

// maxJSONDepth bounds the nesting of a JSON document that a bounded
// function returns or a user variable holds. go-mysql-server parses JSON
// text with encoding/json, which rejects documents nested deeper than
// 10,000, and prints documents with a recursive function, which a deeper
// document built call by call could make overflow the goroutine stack.
const maxJSONDepth = 10000

// erJSONTooDeep is MySQL's ER_JSON_DOCUMENT_TOO_DEEP.
const erJSONTooDeep = 3157

// maxPrintedNumber is the longest that go-mysql-server prints a JSON
// number: a float64 in 'f' format takes up to 327 bytes, for -5e-324.
const maxPrintedNumber = 330

// jsonStats describes a JSON value for the bounds.
type jsonStats struct {
	// bytes is an upper bound of the value's size as text: each string
	// counted as encoding/json escapes it, which is at least as long as
	// go-mysql-server's own output.
	bytes int64
	// nodes counts the values: scalars, arrays and objects.
	nodes int64
	// depth is the deepest nesting; a scalar has depth 1.
	depth int
	// searchBytes bounds what JSON_SEARCH returns for the value: the path
	// of every string, quoted, with a separator.
	searchBytes int64
}

// measureJSON returns the stats of v, a JSON document, a Go value that a
// JSON function holds, or an argument of one. It stops early, with bytes
// above stopAfter, once the value is known to be larger, and it does not
// descend below maxJSONDepth+1, so its recursion stays shallow.
func measureJSON(v any, stopAfter int64) (jsonStats, error) {
	m := jsonMeasure{stopAfter: stopAfter}
	err := m.visit(v, 1, 1)
	return m.stats, err
}

// jsonMeasure is the state of one measureJSON.
type jsonMeasure struct {
	stats     jsonStats
	stopAfter int64
}

// visit adds v, at depth and with a path of pathLen bytes, to the stats.
func (m *jsonMeasure) visit(v any, depth int, pathLen int64) error {
	if m.stats.bytes > m.stopAfter {
		return nil
	}
	if wrapper, ok := v.(sql.JSONWrapper); ok {
		inner, err := wrapper.ToInterface()
		if err != nil {
			return err
		}
		v = inner
	}
	m.stats.nodes++
	m.stats.depth = max(m.stats.depth, depth)
	if depth > maxJSONDepth {
		return nil
	}
	switch value := v.(type) {
	case []any:
		m.stats.bytes += 2 + 2*int64(len(value))
		for i, element := range value {
			if err := m.visit(element, depth+1, pathLen+2+int64(digits(i))); err != nil {
				return err
			}
		}
	case map[string]any:
		m.stats.bytes += 2
		for key, element := range value {
			keyBytes := quotedBytes(key)
			m.stats.bytes += keyBytes + 4
			if err := m.visit(element, depth+1, pathLen+1+keyBytes); err != nil {
				return err
			}
		}
	case map[string]string:
		m.stats.bytes += 2
		for key, element := range value {
			keyBytes := quotedBytes(key)
			m.stats.bytes += keyBytes + 4
			if err := m.visit(element, depth+1, pathLen+1+keyBytes); err != nil {
				return err
			}
		}
	case string:
		m.stats.bytes += quotedBytes(value)
		m.stats.searchBytes += pathLen + 4
	case []byte:
		m.stats.bytes += quotedBytes(string(value))
		m.stats.searchBytes += pathLen + 4
	default:
		m.stats.bytes += scalarBytes(value)
	}
	return nil
}

// quotedBytes returns the length of s quoted as a JSON string by
// encoding/json: a control character, <, > or & takes 6 bytes as \u00XX,
// a quote or backslash 2, an invalid byte 6 as \ufffd, and U+2028 and
// U+2029 6 each.
func quotedBytes(s string) int64 {
	n := int64(2)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				n += 6
			case c == '"' || c == '\\':
				n += 2
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			n += 6
		} else {
			n += int64(size)
		}
		i += size
	}
	return n
}

// scalarBytes returns the length of a JSON scalar as text.
func scalarBytes(v any) int64 {
	switch v := v.(type) {
	case nil:
		return 4
	case bool:
		return 5
	case float64:
		return int64(len(strconv.FormatFloat(v, 'f', -1, 64)))
	case float32:
		return int64(len(strconv.FormatFloat(float64(v), 'f', -1, 32)))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return int64(len(fmt.Sprint(v)))
	case json.Number:
		if strings.ContainsAny(string(v), "eE") {
			return maxPrintedNumber
		}
		return int64(len(v)) + 2
	case decimal.Decimal:
		return int64(len(v.String())) + 2
	case time.Time:
		return int64(len(v.Format(time.RFC3339Nano))) + 2
	}
	return int64(len(fmt.Sprint(v))) + 2
}

func digits(i int) int {
	return len(strconv.Itoa(i))
}

// jsonDocumentArgs are the positions of the arguments that a JSON function
// reads as a document, by function: -1 means every argument. boundedCall
// parses a text argument there itself, as go-mysql-server would, so that
// the bound measures the document and the function does not parse it
// again.
var jsonDocumentArgs = map[string]int{
	"json_array_append":   0,
	"json_array_insert":   0,
	"json_insert":         0,
	"json_set":            0,
	"json_replace":        0,
	"json_extract":        0,
	"json_search":         0,
	"json_pretty":         0,
	"json_merge":          -1,
	"json_merge_preserve": -1,
	"json_merge_patch":    -1,
}

// parseJSONArg returns v as the document that a JSON function reads from
// it: text parsed as go-mysql-server parses it, with true, or v with false
// when v is not text or does not parse, so that the function reports the
// error itself.
func parseJSONArg(v any) (any, bool) {
	text, ok := v.(string)
	if !ok {
		return v, false
	}
	var doc any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return v, false
	}
	return types.JSONDocument{Val: doc}, true
}

// argStats measures each argument, stopping at limit.
func argStats(args []any, limit int64) ([]jsonStats, error) {
	stats := make([]jsonStats, len(args))
	for i, arg := range args {
		s, err := measureJSON(arg, limit)
		if err != nil {
			return nil, err
		}
		stats[i] = s
	}
	return stats, nil
}

// jsonBound returns a sizeBound for a JSON function from the stats of its
// arguments.
func jsonBound(bound func(stats []jsonStats, args []any) int64) sizeBound {
	return func(ctx *sql.Context, args []any) int64 {
		stats, err := argStats(args, maxValueBytes(ctx))
		if err != nil {
			return -1
		}
		return bound(stats, args)
	}
}

// JSON_ARRAY(value, ...) and JSON_OBJECT(key, value, ...): each value and
// key, with a separator.
func jsonListBound(stats []jsonStats, _ []any) int64 {
	total := int64(2)
	for _, s := range stats {
		total += s.bytes + 2
	}
	return total
}

// JSON_QUOTE(string)
func jsonQuoteBound(stats []jsonStats, _ []any) int64 { return stats[0].bytes }

// JSON_SET(doc, path, value, ...), JSON_INSERT, JSON_REPLACE,
// JSON_ARRAY_APPEND and JSON_ARRAY_INSERT: the document, and each path,
// whose last step may become a key, and value, with brackets and
// separators. go-mysql-server rejects wildcards in their paths, so each
// pair changes one place.
func jsonModifyBound(stats []jsonStats, _ []any) int64 {
	total := stats[0].bytes
	for _, s := range stats[1:] {
		total += s.bytes + 4
	}
	return total
}

// JSON_MERGE_PRESERVE(doc, ...) and JSON_MERGE: the documents, where a
// merge can wrap each value in an array with a separator.
func jsonMergeBound(stats []jsonStats, _ []any) int64 {
	total := int64(0)
	for _, s := range stats {
		total += s.bytes + 4*s.nodes + 4
	}
	return total
}

// JSON_MERGE_PATCH(doc, ...): a patch only replaces or removes values.
func jsonMergePatchBound(stats []jsonStats, _ []any) int64 {
	total := int64(0)
	for _, s := range stats {
		total += s.bytes + 2
	}
	return total
}

// JSON_PRETTY(doc): each value on a line of its own, indented by two
// spaces per level.
func jsonPrettyBound(stats []jsonStats, _ []any) int64 {
	doc := stats[0]
	return doc.bytes + saturatingMul(doc.nodes, 2*int64(doc.depth)+2)
}

// JSON_EXTRACT(doc, path, ...): each path selects the document or parts of
// it, and one with ** may select every value with everything under it.
func jsonExtractBound(stats []jsonStats, args []any) int64 {
	doc := stats[0]
	total := int64(2)
	for _, path := range args[1:] {
		selected := doc.bytes
		if text, ok := textOf(path); ok && strings.Contains(text, "**") {
			selected = saturatingMul(doc.bytes, int64(doc.depth)+1)
		}
		total += selected + 2*doc.nodes + 2
	}
	return total
}

// JSON_SEARCH(doc, 'one' | 'all', string, ...): a path to each string.
func jsonSearchBound(stats []jsonStats, _ []any) int64 {
	return stats[0].searchBytes + 2
}

// checkJSONDepth returns an error when stats, of the JSON document that
// name describes, nest deeper than maxJSONDepth.
func checkJSONDepth(name string, stats jsonStats) error {
	if stats.depth <= maxJSONDepth {
		return nil
	}
	return mysql.NewSQLError(erJSONTooDeep, mysql.SSUnknownSQLState,
		"result of %s nests more than %d deep, procsql's limit on JSON documents: build a flatter document", name, maxJSONDepth)
}
