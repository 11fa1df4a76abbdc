package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/procsql/procsql/tables"
)

// keyIndex is a virtual index on a key column (pid or inode), or on a key
// column and host when hostType is set. It stores nothing: a lookup turns
// the requested point values into a tables.Filter for each source whose
// host the lookup names, and any other range falls back to a full scan.
type keyIndex struct {
	table    string
	column   string
	typ      sql.Type
	hostType sql.Type // type of the host column; nil for an index on the key alone
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

// ID implements sql.Index: the key column, followed by _host for the index
// on key and host.
func (i *keyIndex) ID() string {
	if i.hostType != nil {
		return i.column + "_" + HostColumn
	}
	return i.column
}

func (i *keyIndex) Database() string { return DatabaseName }
func (i *keyIndex) Table() string    { return i.table }

func (i *keyIndex) Expressions() []string {
	if i.hostType != nil {
		return []string{i.table + "." + i.column, i.table + "." + HostColumn}
	}
	return []string{i.table + "." + i.column}
}

func (i *keyIndex) IsUnique() bool    { return false }
func (i *keyIndex) IsSpatial() bool   { return false }
func (i *keyIndex) IsFullText() bool  { return false }
func (i *keyIndex) IsVector() bool    { return false }
func (i *keyIndex) IndexType() string { return "HASH" }
func (i *keyIndex) IsGenerated() bool { return false }
func (i *keyIndex) PrefixLengths() []uint16 {
	return nil
}

func (i *keyIndex) Comment() string {
	if i.hostType != nil {
		return "reads only the rows with the given " + i.column + " on the given host"
	}
	return "reads only the rows with the given " + i.column
}

func (i *keyIndex) ColumnExpressionTypes() []sql.ColumnExpressionType {
	types := []sql.ColumnExpressionType{{Expression: i.table + "." + i.column, Type: i.typ}}
	if i.hostType != nil {
		types = append(types, sql.ColumnExpressionType{Expression: i.table + "." + HostColumn, Type: i.hostType})
	}
	return types
}

// CanSupport implements sql.Index. Every range is accepted: points narrow the
// scan and other ranges read everything, with the filter kept above the scan.
func (i *keyIndex) CanSupport(*sql.Context, ...sql.Range) bool { return true }

func (i *keyIndex) CanSupportOrderBy(sql.Expression) bool { return false }

// lookupPlan is what a lookup reads and how its rows are checked.
type lookupPlan struct {
	filter tables.Filter
	// ranges are the lookup's ranges on the key column. Every row a lookup
	// returns must fall in one of them, because a lookup join relies on the
	// table to apply its join condition.
	ranges []sql.MySQLRangeColumnExpr
	// none is set when no row can match, such as for key IS NULL on a column
	// that is never NULL.
	none bool
}

// plan converts the lookup's ranges into a tables.Filter for the source
// labelled host. Ranges whose host column excludes host are dropped, and
// when none is left the plan reads nothing. Point values become a pid or
// inode list; any other range reads everything, and the ranges then decide
// which rows are returned.
func (i *keyIndex) plan(lookup sql.IndexLookup, keyNotNull bool, host string) (lookupPlan, error) {
	ranges, ok := lookup.Ranges.(sql.MySQLRangeCollection)
	if !ok {
		return lookupPlan{}, fmt.Errorf("lookup on %s.%s: unsupported range type %T", i.table, i.column, lookup.Ranges)
	}
	columns := len(i.Expressions())
	p := lookupPlan{}
	var values []uint64
	points, nullOnly := true, true
	for _, r := range ranges {
		if len(r) != columns {
			return lookupPlan{}, fmt.Errorf("lookup on %s: %d columns in a range of a %d-column index", strings.Join(i.Expressions(), ", "), len(r), columns)
		}
		if columns == 2 {
			in, err := rangeHolds(r[1], host, i.hostType)
			if err != nil {
				return lookupPlan{}, fmt.Errorf("lookup on %s.%s: %w", i.table, HostColumn, err)
			}
			if !in {
				continue
			}
		}
		p.ranges = append(p.ranges, r[0])
		if isNullPoint(r[0]) && keyNotNull {
			// A lookup join's key is NULL: no row of a NOT NULL key matches.
			continue
		}
		if !isNullRange(r[0]) {
			nullOnly = false
		}
		v, isPoint := pointValue(r[0])
		if !isPoint {
			points = false
			continue
		}
		if v >= 0 {
			values = append(values, uint64(v))
		}
	}
	switch {
	case p.ranges == nil:
		p.none = true
	case nullOnly && keyNotNull, points && len(values) == 0 && keyNotNull:
		p.none = true
	case points:
		if values == nil {
			values = []uint64{}
		}
		p.filter = i.filterFor(values)
	}
	return p, nil
}

func (i *keyIndex) filterFor(values []uint64) tables.Filter {
	switch i.column {
	case "pid":
		pids := make([]int, 0, len(values))
		for _, v := range values {
			if v <= math.MaxInt32 {
				pids = append(pids, int(v))
			}
		}
		return tables.Filter{PIDs: pids}
	case "inode":
		return tables.Filter{Inodes: values}
	}
	return tables.Filter{}
}

// isNullRange reports whether r matches only NULL (key IS NULL).
func isNullRange(r sql.MySQLRangeColumnExpr) bool {
	_, lower := r.LowerBound.(sql.BelowNull)
	_, upper := r.UpperBound.(sql.AboveNull)
	return lower && upper
}

// isNullPoint reports whether r is the point range of a NULL key, which a
// lookup join builds from a NULL value of its outer row.
func isNullPoint(r sql.MySQLRangeColumnExpr) bool {
	lower, ok := r.LowerBound.(sql.Below)
	if !ok || lower.Key != nil {
		return false
	}
	upper, ok := r.UpperBound.(sql.Above)
	return ok && upper.Key == nil
}

// contains reports whether the key value v falls in one of the ranges.
func (p lookupPlan) contains(v any, typ sql.Type) (bool, error) {
	for _, r := range p.ranges {
		in, err := rangeHolds(r, v, typ)
		if err != nil || in {
			return in, err
		}
	}
	return false, nil
}

// rangeHolds reports whether the value v of a column of type typ falls in
// r.
func rangeHolds(r sql.MySQLRangeColumnExpr, v any, typ sql.Type) (bool, error) {
	point := sql.MySQLRangeColumnExpr{LowerBound: sql.BelowNull{}, UpperBound: sql.AboveNull{}, Typ: typ}
	if v != nil {
		point = sql.MySQLRangeColumnExpr{LowerBound: sql.Below{Key: v}, UpperBound: sql.Above{Key: v}, Typ: typ}
	}
	return point.IsSubsetOf(r)
}

// pointValue returns the value of a range that holds exactly one non-NULL
// integer. A negative result means the value cannot match any key.
func pointValue(r sql.MySQLRangeColumnExpr) (int64, bool) {
	if _, ok := r.LowerBound.(sql.Below); !ok {
		return 0, false
	}
	if _, ok := r.UpperBound.(sql.Above); !ok {
		return 0, false
	}
	lower, err := toInt(sql.GetMySQLRangeCutKey(r.LowerBound))
	if err != nil {
		return 0, false
	}
	upper, err := toInt(sql.GetMySQLRangeCutKey(r.UpperBound))
	if err != nil || lower != upper {
		return 0, false
	}
	return lower, true
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
