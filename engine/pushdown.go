package engine

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// pushConditionsRule is the analyzer rule that hands the conditions of a
// filter on one procsql table to the table's scan. go-mysql-server v0.20.0
// applies a filter only to rows that the scan has built in full. A table
// with the conditions builds the columns they read first, and it drops a
// row that fails before it reads the files behind the other columns.
//
// The filter stays in the plan and still decides which rows are returned, so
// a condition only saves work. Conditions are pushed only when evaluating
// them in the scan gives the filter's result: they read columns of that
// table alone and use the deterministic expressions of pushableExpression.
const pushConditionsRule analyzer.RuleId = 1000

// addPushConditionsRule appends the rule to the analyzer's post-analyzer
// batch, which runs after go-mysql-server has placed filters above their
// tables and chosen index lookups, and before it assigns execution indexes.
// Subqueries run the same batches, so the rule reaches their tables too.
func addPushConditionsRule(a *analyzer.Analyzer) {
	for _, batch := range a.Batches {
		if batch.Desc == "post-analyzer" {
			batch.Rules = append(batch.Rules, analyzer.Rule{Id: pushConditionsRule, Apply: pushConditions})
			return
		}
	}
	panic("engine: go-mysql-server's analyzer has no post-analyzer batch")
}

func pushConditions(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	return transform.Node(n, func(node sql.Node) (sql.Node, transform.TreeIdentity, error) {
		filter, ok := node.(*plan.Filter)
		if !ok {
			return node, transform.SameTree, nil
		}
		child, same := withConditions(ctx, filter.Child, filter.Expression)
		if same {
			return node, transform.SameTree, nil
		}
		out, err := filter.WithChildren(child)
		if err != nil {
			return nil, transform.SameTree, err
		}
		return out, transform.NewTree, nil
	})
}

// withConditions returns node with the pushable conjuncts of cond given to
// its procsql table. node is the child of a filter: a table, an index lookup
// on one, or either under a table alias. It returns node unchanged with
// SameTree for any other node, for a table that already has conditions, and
// when no conjunct can be pushed.
func withConditions(ctx *sql.Context, node sql.Node, cond sql.Expression) (sql.Node, transform.TreeIdentity) {
	switch n := node.(type) {
	case *plan.TableAlias:
		child, same := withConditions(ctx, n.Child, cond)
		if same {
			return node, transform.SameTree
		}
		out, err := n.WithChildren(child)
		if err != nil {
			return node, transform.SameTree
		}
		return out, transform.NewTree
	case *plan.ResolvedTable:
		t, ok := n.Table.(*table)
		if !ok || t.conditions != nil {
			return node, transform.SameTree
		}
		pushed := t.withConditions(ctx, conditionsFor(t, n.Id(), n.Columns(), cond))
		if pushed == nil {
			return node, transform.SameTree
		}
		out, err := n.WithTable(pushed)
		if err != nil {
			return node, transform.SameTree
		}
		return out, transform.NewTree
	case *plan.IndexedTableAccess:
		t, ok := n.Table.(*table)
		if !ok || t.conditions != nil {
			return node, transform.SameTree
		}
		pushed := t.withConditions(ctx, conditionsFor(t, n.Id(), n.Columns(), cond))
		if pushed == nil {
			return node, transform.SameTree
		}
		out := *n
		out.Table = pushed
		return &out, transform.NewTree
	}
	return node, transform.SameTree
}

// conditionsFor returns the conjuncts of cond, in their order, that can be
// tested in a scan of t. Their column references are rewritten to positions
// in t's full schema, which is the row a scan fills. The node with tableID
// and columns is the one the filter reads. A conjunct that refers to any
// other node, such as a table of an outer query with a column of the same
// name, stays in the filter alone.
func conditionsFor(t *table, tableID sql.TableId, columns sql.ColSet, cond sql.Expression) []sql.Expression {
	var out []sql.Expression
	for _, conjunct := range expression.SplitConjunction(cond) {
		if !pushableExpression(conjunct) {
			continue
		}
		rewritten, ok := fullSchemaFields(t, tableID, columns, conjunct)
		if ok {
			out = append(out, rewritten)
		}
	}
	return out
}

// fullSchemaFields rewrites every column reference in e to the column's
// position in t's full schema. It fails when a reference is not to a column
// of the node with tableID.
func fullSchemaFields(t *table, tableID sql.TableId, columns sql.ColSet, e sql.Expression) (sql.Expression, bool) {
	ok := true
	out, _, err := transform.Expr(e, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		field, isField := e.(*expression.GetField)
		if !isField {
			return e, transform.SameTree, nil
		}
		pos := t.schema.IndexOfColName(field.Name())
		if pos < 0 || field.TableId() != tableID || !columns.Contains(field.Id()) {
			ok = false
			return e, transform.SameTree, nil
		}
		return field.WithIndex(pos), transform.NewTree, nil
	})
	if err != nil || !ok {
		return nil, false
	}
	return out, true
}

// pushableFunctions are the functions a pushed condition may call. Each is
// deterministic and keeps no state between rows that concurrent calls could
// corrupt, because a scan tests conditions on several goroutines at once.
// go-mysql-server's REGEXP operator (regexp_like) shares one compiled
// pattern between calls, and CAST adds warnings to the session unlocked, so
// neither is here.
var pushableFunctions = map[string]bool{
	"char_length": true, "character_length": true, "coalesce": true,
	"concat": true, "concat_ws": true, "hex": true, "if": true, "ifnull": true,
	"instr": true, "lcase": true, "left": true, "length": true, "locate": true,
	"lower": true, "ltrim": true, "mid": true, "nullif": true,
	"octet_length": true, "reverse": true, "right": true,
	"rtrim": true, "substr": true, "substring": true, "substring_index": true,
	"trim": true, "ucase": true, "upper": true,
}

// pushableExpression reports whether e and every expression under it may be
// evaluated in a scan: column references, literals, comparisons, logic,
// LIKE, IN with a list, arithmetic and pushableFunctions. Subqueries,
// variables, bind parameters and every other function stay in the filter.
func pushableExpression(e sql.Expression) bool {
	switch x := e.(type) {
	case *expression.GetField, *expression.Literal,
		*expression.Equals, *expression.NullSafeEquals,
		*expression.GreaterThan, *expression.GreaterThanOrEqual,
		*expression.LessThan, *expression.LessThanOrEqual,
		*expression.And, *expression.Or, *expression.Xor, *expression.Not,
		*expression.IsNull, *expression.IsTrue, *expression.Between,
		*expression.Like, *expression.InTuple, *expression.HashInTuple,
		*expression.Tuple, *expression.Arithmetic, *expression.UnaryMinus,
		*expression.Binary, *expression.CollatedExpression,
		*expression.Case:
	case sql.FunctionExpression:
		if !pushableFunctions[strings.ToLower(x.FunctionName())] {
			return false
		}
	default:
		return false
	}
	for _, child := range e.Children() {
		if !pushableExpression(child) {
			return false
		}
	}
	return true
}
