package engine

import (
	"fmt"

	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// Limits on the shape of a client's statement, checked after parsing and
// before go-mysql-server v0.20.0 analyzes it. Its analysis does not stop at
// the query timeout, and some of it grows faster than the statement. With
// engine.Query on the clean test tree, on a 2-core machine, SELECT
// 1+1+...+1 with 1,000 terms took 1.6 s to plan and with 3,000 terms 37 s.
// A pid IN (...) list of 8,000 values took 1 s, and one of 150,000 values
// over 10 minutes, all before the first row.
const (
	// maxExpressionDepth bounds the nesting of a statement's syntax tree.
	// A chain of n operators without parentheses nests n deep; the parser
	// itself rejects more than 200 nested parentheses.
	maxExpressionDepth = 256
	// maxListValues bounds the values of all IN lists in a statement.
	maxListValues = 10000
	// maxStatementNodes bounds the syntax tree's size: expressions, names
	// and values.
	maxStatementNodes = 100000
)

// checkStatementSize returns an error when stmt exceeds one of the limits
// above. It walks the tree with a stack of its own, because a recursive
// walk of a statement nested millions deep would overflow the goroutine
// stack, which ends the whole process.
func checkStatementSize(stmt sqlparser.Statement) error {
	type entry struct {
		node  sqlparser.SQLNode
		depth int
	}
	stack := []entry{{node: stmt, depth: 1}}
	nodes, listValues := 0, 0
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nodes++
		if nodes > maxStatementNodes {
			return fmt.Errorf("statement has more than %d expressions, names and values, procsql's limit: split it into smaller statements", maxStatementNodes)
		}
		if top.depth > maxExpressionDepth {
			return fmt.Errorf("statement nests expressions more than %d deep, procsql's limit: split long chains of operators such as a+b+c or x OR y, for example into an IN list", maxExpressionDepth)
		}
		if cmp, ok := top.node.(*sqlparser.ComparisonExpr); ok && (cmp.Operator == sqlparser.InStr || cmp.Operator == sqlparser.NotInStr) {
			if tuple, ok := cmp.Right.(sqlparser.ValTuple); ok {
				listValues += len(tuple)
				if listValues > maxListValues {
					return fmt.Errorf("statement has more than %d values in IN lists, procsql's limit: split the list over several statements, or match a pattern with LIKE or REGEXP_LIKE", maxListValues)
				}
			}
		}
		for _, child := range childNodes(top.node) {
			stack = append(stack, entry{node: child, depth: top.depth + 1})
		}
	}
	return nil
}

// childNodes returns the nodes directly under node. sqlparser.Walk visits a
// node and then, if the visit returns true, each node under it; the visit
// below descends only from node itself.
func childNodes(node sqlparser.SQLNode) []sqlparser.SQLNode {
	var children []sqlparser.SQLNode
	first := true
	sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if first {
			first = false
			return true, nil
		}
		children = append(children, n)
		return false, nil
	}, node)
	return children
}
