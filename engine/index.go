package engine

import (
	"fmt"
	"math"
	"strconv"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/procsql/procsql/tables"
)

// keyIndex is a virtual index on a key column (pid or inode). It stores
// nothing: a lookup turns the requested point values into a tables.Filter,
// and any other range falls back to a full scan.
type keyIndex struct {
	table  string
	column string
	typ    sql.Type
}

var (
	_ sql.Index        = (*keyIndex)(nil)
	_ sql.OrderedIndex = (*keyIndex)(nil)
)

// Order implements sql.OrderedIndex. Scans follow /proc's order, not the key's,
// and saying so keeps the planner from dropping an ORDER BY on the key column.
func (i *keyIndex) Order() sql.IndexOrder { return sql.IndexOrderNone }

// Reversible implements sql.OrderedIndex.
func (i *keyIndex) Reversible() bool { return false }

func (i *keyIndex) ID() string            { return i.column }
func (i *keyIndex) Database() string      { return DatabaseName }
func (i *keyIndex) Table() string         { return i.table }
func (i *keyIndex) Expressions() []string { return []string{i.table + "." + i.column} }
func (i *keyIndex) IsUnique() bool        { return false }
func (i *keyIndex) IsSpatial() bool       { return false }
func (i *keyIndex) IsFullText() bool      { return false }
func (i *keyIndex) IsVector() bool        { return false }
func (i *keyIndex) Comment() string       { return "reads only the rows with the given " + i.column }
func (i *keyIndex) IndexType() string     { return "HASH" }
func (i *keyIndex) IsGenerated() bool     { return false }
func (i *keyIndex) PrefixLengths() []uint16 {
	return nil
}

func (i *keyIndex) ColumnExpressionTypes() []sql.ColumnExpressionType {
	return []sql.ColumnExpressionType{{Expression: i.table + "." + i.column, Type: i.typ}}
}

// CanSupport implements sql.Index. Every range is accepted: points narrow the
// scan and other ranges read everything, with the filter kept above the scan.
func (i *keyIndex) CanSupport(*sql.Context, ...sql.Range) bool { return true }

func (i *keyIndex) CanSupportOrderBy(sql.Expression) bool { return false }

// filter converts the lookup's ranges to a tables.Filter. It returns an empty
// (unconstrained) filter when any range is not a single value.
func (i *keyIndex) filter(lookup sql.IndexLookup) (tables.Filter, error) {
	ranges, ok := lookup.Ranges.(sql.MySQLRangeCollection)
	if !ok {
		return tables.Filter{}, nil
	}
	var values []uint64
	for _, r := range ranges {
		if len(r) != 1 {
			return tables.Filter{}, nil
		}
		v, isPoint, err := pointValue(r[0])
		if err != nil {
			return tables.Filter{}, fmt.Errorf("lookup on %s.%s: %w", i.table, i.column, err)
		}
		if !isPoint {
			return tables.Filter{}, nil
		}
		if v >= 0 {
			values = append(values, uint64(v))
		}
	}
	if values == nil {
		values = []uint64{}
	}
	switch i.column {
	case "pid":
		pids := make([]int, 0, len(values))
		for _, v := range values {
			if v <= math.MaxInt32 {
				pids = append(pids, int(v))
			}
		}
		return tables.Filter{PIDs: pids}, nil
	case "inode":
		return tables.Filter{Inodes: values}, nil
	}
	return tables.Filter{}, nil
}

// pointValue returns the value of a range that holds exactly one non-NULL
// integer. A negative result means the value cannot match any key.
func pointValue(r sql.MySQLRangeColumnExpr) (int64, bool, error) {
	if !sql.MySQLRangeCutIsBinding(r.LowerBound) || !sql.MySQLRangeCutIsBinding(r.UpperBound) {
		return 0, false, nil
	}
	if _, ok := r.LowerBound.(sql.Below); !ok {
		return 0, false, nil
	}
	if _, ok := r.UpperBound.(sql.Above); !ok {
		return 0, false, nil
	}
	lower, err := toInt(sql.GetMySQLRangeCutKey(r.LowerBound))
	if err != nil {
		return 0, false, nil
	}
	upper, err := toInt(sql.GetMySQLRangeCutKey(r.UpperBound))
	if err != nil || lower != upper {
		return 0, false, nil
	}
	return lower, true, nil
}

// toInt converts a range key to an integer; keys carry the literal's Go type.
func toInt(v any) (int64, error) {
	switch n := v.(type) {
	case int8:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case int:
		return int64(n), nil
	case uint8:
		return int64(n), nil
	case uint16:
		return int64(n), nil
	case uint32:
		return int64(n), nil
	case uint64:
		if n > math.MaxInt64 {
			return -1, nil
		}
		return int64(n), nil
	case string:
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, fmt.Errorf("unsupported key %v of type %T", v, v)
}
