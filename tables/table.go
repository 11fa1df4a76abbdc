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

// Filter narrows a scan to rows whose key column has one of the listed values
// and that pass every condition. A nil slice means no constraint on that
// column.
type Filter struct {
	PIDs   []int
	Inodes []uint64
	// Conditions are tested in order on each row. Scan fills only the columns
	// a condition reads before testing it, so a row that fails is never built
	// in full and the files behind its other columns are not read.
	Conditions []Condition
}

// Condition is one test that a row must pass to be emitted.
type Condition struct {
	// Columns are the positions, in the full schema, of the columns that
	// Test reads.
	Columns []int
	// Test reports whether the row may be emitted. Only the Columns of this
	// condition and of the conditions before it are filled. Scan calls Test
	// from several goroutines at once, so it must be safe for concurrent use.
	Test func(row sql.Row) bool
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
	b := newRowBuilder(t.columns, wanted, f.Conditions)
	if t.process == nil {
		var spare sql.Row
		return t.items(r, f, func(item T) error {
			row, ok := b.build(item, &spare)
			if !ok {
				return nil
			}
			return emit(row)
		})
	}
	return scanProcesses(r.selectPIDs(f), func(pid int) ([]sql.Row, error) {
		var rows []sql.Row
		var spare sql.Row
		err := t.process(r, pid, func(item T) error {
			if row, ok := b.build(item, &spare); ok {
				rows = append(rows, row)
			}
			return nil
		})
		return rows, err
	}, emit)
}

// rowBuilder turns items into rows, testing the conditions of a Filter on
// the way. Its steps are fixed for one scan: steps[i] are the columns to
// fill before conditions[i] is tested, and rest the wanted columns that no
// condition reads, filled once a row has passed every condition.
type rowBuilder[T any] struct {
	columns    []column[T]
	conditions []Condition
	steps      [][]int
	rest       []int
}

func newRowBuilder[T any](columns []column[T], wanted []bool, conditions []Condition) *rowBuilder[T] {
	b := &rowBuilder[T]{columns: columns, conditions: conditions}
	filled := make([]bool, len(columns))
	for _, c := range conditions {
		var step []int
		for _, i := range c.Columns {
			if i >= 0 && i < len(columns) && !filled[i] {
				filled[i] = true
				step = append(step, i)
			}
		}
		b.steps = append(b.steps, step)
	}
	for i := range columns {
		if !filled[i] && (wanted == nil || wanted[i]) {
			b.rest = append(b.rest, i)
		}
	}
	return b
}

// build returns the row of item and whether it passed every condition. A row
// that fails is cleared and kept in *spare, so the next item reuses it
// instead of allocating.
func (b *rowBuilder[T]) build(item T, spare *sql.Row) (sql.Row, bool) {
	row := *spare
	if row == nil {
		row = make(sql.Row, len(b.columns))
	}
	for i, c := range b.conditions {
		b.fill(row, item, b.steps[i])
		if !c.Test(row) {
			clear(row)
			*spare = row
			return nil, false
		}
	}
	b.fill(row, item, b.rest)
	*spare = nil
	return row, true
}

func (b *rowBuilder[T]) fill(row sql.Row, item T, positions []int) {
	for _, i := range positions {
		row[i] = textValue(b.columns[i].value(item))
	}
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
