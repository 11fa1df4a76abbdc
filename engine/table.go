package engine

import (
	"fmt"
	"io"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/procsql/procsql/source"
	"github.com/procsql/procsql/tables"
)

// table adapts a tables.Table to go-mysql-server. It pushes three things
// down into the scan: the projected columns, so files that feed only unused
// columns are not read; point lookups on the key columns (pid, inode), so
// WHERE pid = N reads one process; and the conditions of the filter above
// the table (see pushConditionsRule), so rows that fail are not built.
type table struct {
	def         tables.Table
	src         source.Source
	schema      sql.Schema // full schema
	projection  []string   // nil: all columns
	projected   sql.Schema
	wanted      []bool // per column of the full schema
	outputIndex []int  // positions in the full row, in projected order
	lookup      *sql.IndexLookup
	// conditions are conjuncts of the filter above the table, with column
	// references rewritten to positions in the full schema.
	conditions []sql.Expression
}

var (
	_ sql.Table                 = (*table)(nil)
	_ sql.CommentedTable        = (*table)(nil)
	_ sql.PrimaryKeyTable       = (*table)(nil)
	_ sql.ProjectedTable        = (*table)(nil)
	_ sql.IndexAddressableTable = (*table)(nil)
	_ sql.IndexedTable          = (*table)(nil)
	_ sql.FilteredTable         = (*table)(nil)
)

func newTable(def tables.Table, src source.Source) *table {
	notNull := map[string]bool{}
	for _, name := range def.NotNullColumns() {
		notNull[name] = true
	}
	var schema sql.Schema
	for _, c := range def.Columns() {
		schema = append(schema, &sql.Column{
			Name:     c.Name,
			Type:     c.Type,
			Nullable: !notNull[c.Name],
			Source:   def.Name(),
			Comment:  c.Comment,
		})
	}
	t := &table{def: def, src: src, schema: schema}
	return t.withProjection(nil)
}

func (t *table) withProjection(names []string) *table {
	out := *t
	out.projection = names
	out.wanted = make([]bool, len(t.schema))
	out.outputIndex = nil
	out.projected = nil
	if names == nil {
		for i := range t.schema {
			out.wanted[i] = true
			out.outputIndex = append(out.outputIndex, i)
		}
		out.projected = t.schema
		return &out
	}
	for _, name := range names {
		i := t.schema.IndexOfColName(name)
		if i < 0 {
			continue
		}
		out.wanted[i] = true
		out.outputIndex = append(out.outputIndex, i)
		out.projected = append(out.projected, t.schema[i])
	}
	return &out
}

// Name implements sql.Table.
func (t *table) Name() string { return t.def.Name() }

// String implements sql.Table.
func (t *table) String() string { return t.def.Name() }

// Schema implements sql.Table and returns the projected columns only, as
// sql.ProjectedTable requires.
func (t *table) Schema() sql.Schema { return t.projected }

// Collation implements sql.Table.
func (t *table) Collation() sql.CollationID { return sql.Collation_Default }

// Comment implements sql.CommentedTable.
func (t *table) Comment() string { return t.def.Comment() }

// PrimaryKeySchema implements sql.PrimaryKeyTable. The tables have no primary
// key, but go-mysql-server v0.20.0 panics in joins over a projected table
// that does not implement this interface.
func (t *table) PrimaryKeySchema() sql.PrimaryKeySchema {
	return sql.NewPrimaryKeySchema(t.schema)
}

// WithProjections implements sql.ProjectedTable.
func (t *table) WithProjections(names []string) sql.Table {
	return t.withProjection(names)
}

// Projections implements sql.ProjectedTable.
func (t *table) Projections() []string { return t.projection }

// Partitions implements sql.Table. Each table is one partition: the scan
// itself decides how to read processes.
func (t *table) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return &partitionIter{parts: []sql.Partition{partition{}}}, nil
}

// PartitionRows implements sql.Table.
func (t *table) PartitionRows(ctx *sql.Context, p sql.Partition) (sql.RowIter, error) {
	part, _ := p.(partition)
	if part.lookup.none {
		return sql.RowsToRowIter(), nil
	}
	wanted := t.wanted
	if part.lookup.ranges != nil {
		wanted = append([]bool(nil), t.wanted...)
		wanted[part.keyPos] = true
	}
	r := readerFrom(ctx, t.src)
	filter := part.lookup.filter
	filter.Conditions = t.scanConditions(ctx)
	var rows []sql.Row
	err := t.def.Scan(r, filter, wanted, func(full sql.Row) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if part.lookup.ranges != nil {
			in, err := part.lookup.contains(full[part.keyPos], t.schema[part.keyPos].Type)
			if err != nil || !in {
				return err
			}
		}
		row := make(sql.Row, len(t.outputIndex))
		for i, pos := range t.outputIndex {
			row[i] = full[pos]
		}
		rows = append(rows, row)
		return nil
	})
	if err == nil {
		err = r.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", t.def.Name(), err)
	}
	return sql.RowsToRowIter(rows...), nil
}

// withConditions returns a copy of t that tests conditions in its scan, or
// nil when there are none.
func (t *table) withConditions(conditions []sql.Expression) *table {
	if len(conditions) == 0 {
		return nil
	}
	out := *t
	out.conditions = conditions
	return &out
}

// scanConditions converts t's conditions for tables.Filter. A condition
// that fails to evaluate keeps the row, so the filter above the table
// evaluates it again and returns the error.
func (t *table) scanConditions(ctx *sql.Context) []tables.Condition {
	if len(t.conditions) == 0 {
		return nil
	}
	out := make([]tables.Condition, 0, len(t.conditions))
	for _, cond := range t.conditions {
		var columns []int
		sql.Inspect(cond, func(e sql.Expression) bool {
			if field, ok := e.(*expression.GetField); ok {
				columns = append(columns, field.Index())
			}
			return true
		})
		out = append(out, tables.Condition{
			Columns: columns,
			Test: func(row sql.Row) bool {
				result, err := sql.EvaluateCondition(ctx, cond, row)
				return err != nil || sql.IsTrue(result)
			},
		})
	}
	return out
}

// Filters implements sql.FilteredTable, so EXPLAIN lists the conditions
// that a full scan tests. It returns none for an index lookup, because
// go-mysql-server v0.20.0 then prints the filters in place of the index and
// its keys.
func (t *table) Filters() []sql.Expression {
	if t.lookup != nil {
		return nil
	}
	return t.conditions
}

// HandledFilters implements sql.FilteredTable. It returns none, because the
// filter above the table stays in the plan.
func (t *table) HandledFilters([]sql.Expression) []sql.Expression { return nil }

// WithFilters implements sql.FilteredTable and returns t unchanged: the
// analyzer of go-mysql-server v0.20.0 does not call it, and
// pushConditionsRule gives tables their conditions instead.
func (t *table) WithFilters(*sql.Context, []sql.Expression) sql.Table { return t }

// GetIndexes implements sql.IndexAddressable: one index per key column.
func (t *table) GetIndexes(*sql.Context) ([]sql.Index, error) {
	var indexes []sql.Index
	for _, col := range t.def.KeyColumns() {
		i := t.schema.IndexOfColName(col)
		if i < 0 {
			continue
		}
		indexes = append(indexes, &keyIndex{table: t.def.Name(), column: col, typ: t.schema[i].Type})
	}
	return indexes, nil
}

// PreciseMatch implements sql.IndexAddressable. It returns false so that the
// planner keeps every filter above the scan: a lookup narrows what is read,
// and the filter still decides what is returned.
func (t *table) PreciseMatch() bool { return false }

// IndexedAccess implements sql.IndexAddressable.
func (t *table) IndexedAccess(_ *sql.Context, lookup sql.IndexLookup) sql.IndexedTable {
	out := *t
	out.lookup = &lookup
	return &out
}

// LookupPartitions implements sql.IndexedTable.
func (t *table) LookupPartitions(_ *sql.Context, lookup sql.IndexLookup) (sql.PartitionIter, error) {
	idx, ok := lookup.Index.(*keyIndex)
	if !ok {
		return nil, fmt.Errorf("lookup on table %s: index %T is not a procsql key index", t.def.Name(), lookup.Index)
	}
	keyPos := t.schema.IndexOfColName(idx.column)
	plan, err := idx.plan(lookup, !t.schema[keyPos].Nullable)
	if err != nil {
		return nil, err
	}
	return &partitionIter{parts: []sql.Partition{partition{lookup: plan, keyPos: keyPos}}}, nil
}

// partition is the single partition of a scan, narrowed by a lookup.
type partition struct {
	lookup lookupPlan
	keyPos int // position of the lookup's key column in the full schema
}

func (partition) Key() []byte { return []byte("all") }

type partitionIter struct {
	parts []sql.Partition
	next  int
}

func (it *partitionIter) Next(*sql.Context) (sql.Partition, error) {
	if it.next >= len(it.parts) {
		return nil, io.EOF
	}
	it.next++
	return it.parts[it.next-1], nil
}

func (it *partitionIter) Close(*sql.Context) error { return nil }
