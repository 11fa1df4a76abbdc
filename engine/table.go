package engine

import (
	"fmt"
	"io"
	"strconv"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/procsql/procsql/tables"
)

// table adapts a tables.Table to go-mysql-server. Its rows are those of
// every source, one partition per source, each row ending with the host and
// captured_at of its source. It pushes three things down into the scan: the
// projected columns, so files that feed only unused columns are not read;
// point lookups on the key columns (pid, inode), alone or with host, so
// WHERE pid = N reads only that pid on each host; and the conditions
// of the filter above the table (see pushConditionsRule), so rows that fail
// are not built and sources whose host or captured_at fails are not read.
type table struct {
	def     tables.Table
	sources []*hostSource
	// active are the positions in sources that the table reads, in load
	// order: all of them, or those that the pushed conditions on host and
	// captured_at leave when the plan is made.
	active      []int
	inner       int        // number of columns of def; host and captured_at follow
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

func newTable(def tables.Table, sources []*hostSource) *table {
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
	inner := len(schema)
	schema = append(schema,
		&sql.Column{Name: HostColumn, Type: types.LongText, Source: def.Name(),
			Comment: "the source's host name, made unique among the loaded sources"},
		&sql.Column{Name: CapturedAtColumn, Type: types.DatetimeMaxPrecision, Source: def.Name(),
			Comment: "when the source was read, in UTC: a snapshot's capture start, the statement's start for the live /proc"},
	)
	active := make([]int, len(sources))
	for i := range sources {
		active[i] = i
	}
	t := &table{def: def, sources: sources, active: active, inner: inner, schema: schema}
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

// Partitions implements sql.Table: one partition per source that the table
// reads. Within a partition the scan itself decides how to read processes.
func (t *table) Partitions(*sql.Context) (sql.PartitionIter, error) {
	parts := make([]sql.Partition, len(t.active))
	for n, i := range t.active {
		parts[n] = partition{source: i}
	}
	return &partitionIter{parts: parts}, nil
}

// PartitionRows implements sql.Table. It reads one source through the
// statement's Reader of that source and appends its host and captured_at
// to every row.
func (t *table) PartitionRows(ctx *sql.Context, p sql.Partition) (sql.RowIter, error) {
	part, ok := p.(partition)
	if !ok {
		return nil, fmt.Errorf("read table %s: partition %T is not a procsql partition", t.def.Name(), p)
	}
	if part.lookup.none {
		return sql.RowsToRowIter(), nil
	}
	st := statementFrom(ctx, t.sources)
	src := t.sources[part.source]
	start := st.start
	conditions, keep := bindSource(ctx, t.conditions, t.inner, src, &start)
	if !keep {
		return sql.RowsToRowIter(), nil
	}
	values := []any{src.host, src.capturedAtFor(start)}
	wanted := t.wanted[:t.inner]
	if part.lookup.ranges != nil {
		wanted = append([]bool(nil), wanted...)
		wanted[part.keyPos] = true
	}
	r := st.reader(part.source)
	filter := part.lookup.filter
	filter.Conditions = scanConditions(ctx, conditions)
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
			if pos < t.inner {
				row[i] = full[pos]
			} else {
				row[i] = values[pos-t.inner]
			}
		}
		rows = append(rows, row)
		return nil
	})
	if err == nil {
		err = r.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("read table %s of host %s: %w", t.def.Name(), src.host, err)
	}
	return sql.RowsToRowIter(rows...), nil
}

// withConditions returns a copy of t that tests conditions in its scan, or
// nil when there are none. The copy reads only the sources that the
// conditions on host and captured_at can admit, as far as they are known
// before the statement starts.
func (t *table) withConditions(ctx *sql.Context, conditions []sql.Expression) *table {
	if len(conditions) == 0 {
		return nil
	}
	out := *t
	out.conditions = conditions
	out.active = nil
	for _, i := range t.active {
		if _, keep := bindSource(ctx, conditions, t.inner, t.sources[i], nil); keep {
			out.active = append(out.active, i)
		}
	}
	if out.active == nil {
		out.active = []int{}
	}
	return &out
}

// scanConditions converts conditions, which may read only columns of the
// table's own schema, for tables.Filter. A condition that fails to
// evaluate keeps the row, so the filter above the table evaluates it again
// and returns the error.
func scanConditions(ctx *sql.Context, conditions []sql.Expression) []tables.Condition {
	if len(conditions) == 0 {
		return nil
	}
	out := make([]tables.Condition, 0, len(conditions))
	for _, cond := range conditions {
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
// that a full scan tests, followed by the sources it reads when those
// conditions leave out some. It returns none for an index lookup, because
// go-mysql-server v0.20.0 then prints the filters in place of the index and
// its keys.
func (t *table) Filters() []sql.Expression {
	if t.lookup != nil {
		return nil
	}
	if len(t.active) == len(t.sources) {
		return t.conditions
	}
	hosts := make([]string, len(t.active))
	for n, i := range t.active {
		hosts[n] = t.sources[i].host
	}
	return append(t.conditions[:len(t.conditions):len(t.conditions)], &sourcesNote{hosts: hosts, total: len(t.sources)})
}

// HandledFilters implements sql.FilteredTable. It returns none, because the
// filter above the table stays in the plan.
func (t *table) HandledFilters([]sql.Expression) []sql.Expression { return nil }

// WithFilters implements sql.FilteredTable and returns t unchanged: the
// analyzer of go-mysql-server v0.20.0 does not call it, and
// pushConditionsRule gives tables their conditions instead.
func (t *table) WithFilters(*sql.Context, []sql.Expression) sql.Table { return t }

// GetIndexes implements sql.IndexAddressable: two indexes per key column,
// one on the key and one on the key and host. A join on pid and host then
// reads each pid on the matching host only, where a join on pid alone reads
// it on every host. No index starts with host, because a lookup join on
// host alone would read a whole host once per row of the other side.
func (t *table) GetIndexes(*sql.Context) ([]sql.Index, error) {
	hostType := t.schema[t.inner].Type
	var indexes []sql.Index
	for _, col := range t.def.KeyColumns() {
		i := t.schema.IndexOfColName(col)
		if i < 0 {
			continue
		}
		indexes = append(indexes,
			&keyIndex{table: t.def.Name(), column: col, typ: t.schema[i].Type},
			&keyIndex{table: t.def.Name(), column: col, typ: t.schema[i].Type, hostType: hostType})
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

// LookupPartitions implements sql.IndexedTable: one partition per source
// that the lookup can match, each reading the keys the lookup gives for
// that source's host.
func (t *table) LookupPartitions(_ *sql.Context, lookup sql.IndexLookup) (sql.PartitionIter, error) {
	idx, ok := lookup.Index.(*keyIndex)
	if !ok {
		return nil, fmt.Errorf("lookup on table %s: index %T is not a procsql key index", t.def.Name(), lookup.Index)
	}
	keyPos := t.schema.IndexOfColName(idx.column)
	var parts []sql.Partition
	for _, i := range t.active {
		plan, err := idx.plan(lookup, !t.schema[keyPos].Nullable, t.sources[i].host)
		if err != nil {
			return nil, err
		}
		if !plan.none {
			parts = append(parts, partition{source: i, lookup: plan, keyPos: keyPos})
		}
	}
	return &partitionIter{parts: parts}, nil
}

// partition is the scan of one source, narrowed by a lookup.
type partition struct {
	source int // position in the table's sources
	lookup lookupPlan
	keyPos int // position of the lookup's key column in the full schema
}

func (p partition) Key() []byte { return []byte(strconv.Itoa(p.source)) }

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
