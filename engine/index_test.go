package engine

import (
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// TestPlanNullKeyReadsNothing checks the lookup that a lookup join builds
// from a NULL outer value: on a NOT NULL key it must match nothing, rather
// than fall back to reading the whole table once per such row.
func TestPlanNullKeyReadsNothing(t *testing.T) {
	idx := &keyIndex{table: "sockets", column: "inode", typ: types.Uint64}
	nullPoint := sql.MySQLRangeColumnExpr{LowerBound: sql.Below{Key: nil}, UpperBound: sql.Above{Key: nil}, Typ: types.Uint64}
	point := sql.MySQLRangeColumnExpr{LowerBound: sql.Below{Key: uint64(42)}, UpperBound: sql.Above{Key: uint64(42)}, Typ: types.Uint64}

	plan, err := idx.plan(sql.IndexLookup{Ranges: sql.MySQLRangeCollection{{nullPoint}}}, true, "web1")
	if err != nil {
		t.Fatal(err)
	}
	if !plan.none {
		t.Errorf("NULL key on a NOT NULL column: none = false, filter %+v; want a lookup that reads nothing", plan.filter)
	}

	plan, err = idx.plan(sql.IndexLookup{Ranges: sql.MySQLRangeCollection{{nullPoint}, {point}}}, true, "web1")
	if err != nil {
		t.Fatal(err)
	}
	if plan.none || len(plan.filter.Inodes) != 1 || plan.filter.Inodes[0] != 42 {
		t.Errorf("NULL or 42: none = %v, filter %+v; want inode 42 only", plan.none, plan.filter)
	}
}
