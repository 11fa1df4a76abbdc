package engine

import (
	"fmt"
	"reflect"

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
	// maxWalkedValues bounds the Go values that checkStatementSize visits,
	// nodes and the fields, slices and pointers between them, so that the
	// walk ends on any tree.
	maxWalkedValues = 50 * maxStatementNodes
)

// sqlNodeType is the interface that every node of a syntax tree implements.
var sqlNodeType = reflect.TypeFor[sqlparser.SQLNode]()

// comparisonType is the node of a comparison, whose IN lists count towards
// maxListValues.
var comparisonType = reflect.TypeFor[sqlparser.ComparisonExpr]()

// checkStatementSize returns an error when stmt exceeds one of the limits
// above. It visits every field of every node through reflection, because
// sqlparser.Walk skips parts of some nodes: the WITH and ORDER BY of a
// UNION, the WINDOW clause of a SELECT and the statement of an EXPLAIN. It
// walks with a stack of its own, because a recursive walk of a statement
// nested millions deep would overflow the goroutine stack, which ends the
// whole process.
func checkStatementSize(stmt sqlparser.Statement) error {
	type entry struct {
		value reflect.Value
		depth int  // of the nearest node at or above value
		node  bool // value's pointer was counted as a node already
	}
	stack := []entry{{value: reflect.ValueOf(&stmt).Elem()}}
	nodes, listValues, walked := 0, 0, 0
	seen := map[uintptr]bool{}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		walked++
		if walked > maxWalkedValues {
			return fmt.Errorf("statement is too large to check, beyond %d parts: split it into smaller statements", maxWalkedValues)
		}
		v, depth := top.value, top.depth
		if !top.node && isNode(v) {
			nodes++
			depth++
			if nodes > maxStatementNodes {
				return fmt.Errorf("statement has more than %d expressions, names and values, procsql's limit: split it into smaller statements", maxStatementNodes)
			}
			if depth > maxExpressionDepth {
				return fmt.Errorf("statement nests expressions more than %d deep, procsql's limit: split long chains of operators such as a+b+c or x OR y, for example into an IN list", maxExpressionDepth)
			}
		}
		switch v.Kind() {
		case reflect.Interface:
			if !v.IsNil() {
				stack = append(stack, entry{value: v.Elem(), depth: depth})
			}
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				continue
			}
			seen[v.Pointer()] = true
			stack = append(stack, entry{value: v.Elem(), depth: depth, node: isNode(v)})
		case reflect.Struct:
			if v.Type() == comparisonType {
				listValues += inListValues(v)
				if listValues > maxListValues {
					return fmt.Errorf("statement has more than %d values in IN lists, procsql's limit: split the list over several statements, or match a pattern with LIKE or REGEXP_LIKE", maxListValues)
				}
			}
			for i := range v.NumField() {
				if mayHoldNodes(v.Field(i).Type()) {
					stack = append(stack, entry{value: v.Field(i), depth: depth})
				}
			}
		case reflect.Slice, reflect.Array:
			if !mayHoldNodes(v.Type().Elem()) {
				continue
			}
			for i := range v.Len() {
				stack = append(stack, entry{value: v.Index(i), depth: depth})
			}
		case reflect.Map:
			if !mayHoldNodes(v.Type().Elem()) {
				continue
			}
			iter := v.MapRange()
			for iter.Next() {
				stack = append(stack, entry{value: iter.Value(), depth: depth})
			}
		}
	}
	return nil
}

// isNode reports whether v is a syntax tree node: a pointer to a node, or a
// node that is a value, such as a list of expressions.
func isNode(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Struct, reflect.Slice, reflect.Map:
		return v.Type().Implements(sqlNodeType)
	}
	return false
}

// mayHoldNodes reports whether a value of type t may hold a node. Strings,
// numbers and slices of them, such as a literal's bytes, hold none, and the
// walk skips them.
func mayHoldNodes(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer, reflect.Struct, reflect.Map:
		return true
	case reflect.Slice, reflect.Array:
		return mayHoldNodes(t.Elem())
	}
	return false
}

// inListValues returns the number of values in the list of v, a
// sqlparser.ComparisonExpr, when its operator is IN or NOT IN.
func inListValues(v reflect.Value) int {
	operator := v.FieldByName("Operator").String()
	if operator != sqlparser.InStr && operator != sqlparser.NotInStr {
		return 0
	}
	right := v.FieldByName("Right")
	if right.Kind() == reflect.Interface && !right.IsNil() {
		right = right.Elem()
	}
	if right.Type() == reflect.TypeFor[sqlparser.ValTuple]() {
		return right.Len()
	}
	return 0
}
