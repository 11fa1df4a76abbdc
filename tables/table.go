// Package tables defines procsql's tables: their columns and how their rows
// are read from a source.Source. The engine package serves them over SQL.
//
// Each table lives in its own file and registers itself in init with
// register, so adding a table never edits a central list.
package tables

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// Column describes one column of a table.
type Column struct {
	Name    string
	Type    sql.Type
	Comment string
}

// Filter narrows a scan to rows whose key column has one of the listed values.
// A nil slice means no constraint on that column.
type Filter struct {
	PIDs   []int
	Inodes []uint64
}

// Table is a procsql table.
type Table interface {
	Name() string
	Comment() string
	Columns() []Column
	// KeyColumns lists the columns that Scan can narrow on through Filter:
	// "pid" and "inode" are the two keys the tables use.
	KeyColumns() []string
	// NotNullColumns lists the columns that are never NULL.
	NotNullColumns() []string
	// PerProcess reports whether each row belongs to one process, so a scan
	// with Filter{PIDs: []int{pid}} reads only that process's files.
	PerProcess() bool
	// Scan reads the rows that match f and calls emit for each in a stable
	// order. Only columns with wanted[i] set are filled; the others are nil,
	// so files that feed only unwanted columns are never read.
	Scan(r *Reader, f Filter, wanted []bool, emit func(sql.Row) error) error
}

var registry = map[string]Table{}

// register adds t to the list that All returns. Tables call it from init.
func register(t Table) {
	if _, dup := registry[t.Name()]; dup {
		panic(fmt.Sprintf("tables: table %q registered twice", t.Name()))
	}
	registry[t.Name()] = t
}

// All returns every table sorted by name.
func All() []Table {
	all := make([]Table, 0, len(registry))
	for _, t := range registry {
		all = append(all, t)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name() < all[j].Name() })
	return all
}

// column is a Column together with the function that computes its value from
// one item of a table's row source.
type column[T any] struct {
	Column
	value func(T) any
}

// rowTable implements Table for items of type T: each item becomes one row,
// and each column's value function reads what it needs from the item lazily.
type rowTable[T any] struct {
	name    string
	comment string
	keys    []string
	notNull []string
	columns []column[T]
	// Exactly one of items and process is set. items produces every row of
	// a table that is not per process. process produces the rows of one
	// process; Scan then reads processes in parallel and emits in pid order.
	items   func(r *Reader, f Filter, emit func(T) error) error
	process func(r *Reader, pid int, emit func(T) error) error
}

func (t *rowTable[T]) Name() string         { return t.name }
func (t *rowTable[T]) Comment() string      { return t.comment }
func (t *rowTable[T]) KeyColumns() []string { return t.keys }

func (t *rowTable[T]) NotNullColumns() []string { return t.notNull }

func (t *rowTable[T]) PerProcess() bool { return t.process != nil }

func (t *rowTable[T]) Columns() []Column {
	cols := make([]Column, len(t.columns))
	for i, c := range t.columns {
		cols[i] = c.Column
	}
	return cols
}

func (t *rowTable[T]) Scan(r *Reader, f Filter, wanted []bool, emit func(sql.Row) error) error {
	toRow := func(item T) sql.Row {
		row := make(sql.Row, len(t.columns))
		for i, c := range t.columns {
			if wanted == nil || wanted[i] {
				row[i] = textValue(c.value(item))
			}
		}
		return row
	}
	if t.process == nil {
		return t.items(r, f, func(item T) error { return emit(toRow(item)) })
	}
	return scanProcesses(r.selectPIDs(f), func(pid int) ([]sql.Row, error) {
		var rows []sql.Row
		err := t.process(r, pid, func(item T) error {
			rows = append(rows, toRow(item))
			return nil
		})
		return rows, err
	}, emit)
}

// textValue makes every string a column returns valid UTF-8, because
// go-mysql-server v0.20.0 silently mismatches LIKE and fails REGEXP, CONCAT
// and GROUP BY for a whole query on one invalid string. A byte that is not
// part of valid UTF-8 becomes the four characters \xNN. Columns ending in
// _raw are LONGBLOB and keep the exact bytes.
func textValue(v any) any {
	switch x := v.(type) {
	case string:
		return validUTF8(x)
	case types.JSONDocument:
		return types.JSONDocument{Val: validJSON(x.Val)}
	}
	return v
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func validJSON(v any) any {
	switch x := v.(type) {
	case string:
		return validUTF8(x)
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = validJSON(item)
		}
		return out
	}
	return v
}

// orNull returns v when ok and SQL NULL otherwise.
func orNull[V any](v V, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

// boolValue converts b to the int8 that a BOOLEAN column holds.
func boolValue(b bool) int8 {
	if b {
		return 1
	}
	return 0
}
