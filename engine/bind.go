package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// bindSource prepares a table's pushed conditions for the scan of source s.
// Every reference to host (position inner of the full schema) or
// captured_at (inner+1) becomes the value of s, so the scan, which fills
// only the table's own columns, never tests a column it lacks. A condition
// left with no column reference is evaluated at once: keep is false when it
// is false or NULL, because then no row of s can pass. The other conditions
// are returned, in order, for the scan.
//
// start is the statement's start, the captured_at of a live source. When it
// is nil the statement has not started yet: a condition that reads the
// captured_at of a live source is then left undecided and keeps s.
func bindSource(ctx *sql.Context, conditions []sql.Expression, inner int, s *hostSource, start *time.Time) (bound []sql.Expression, keep bool) {
	for _, cond := range conditions {
		decided := true
		out, _, err := transform.Expr(cond, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
			field, ok := e.(*expression.GetField)
			if !ok {
				return e, transform.SameTree, nil
			}
			switch field.Index() {
			case inner:
				return expression.NewLiteral(s.host, types.LongText), transform.NewTree, nil
			case inner + 1:
				if s.live && start == nil {
					decided = false
					return e, transform.SameTree, nil
				}
				at := s.capturedAt
				if s.live {
					at = *start
				}
				return expression.NewLiteral(at, types.DatetimeMaxPrecision), transform.NewTree, nil
			}
			decided = false
			return e, transform.SameTree, nil
		})
		if err != nil {
			// The filter above the table still evaluates the condition.
			continue
		}
		if !decided {
			bound = append(bound, out)
			continue
		}
		result, err := sql.EvaluateCondition(ctx, out, nil)
		if err == nil && !sql.IsTrue(result) {
			return nil, false
		}
	}
	return bound, true
}

// sourcesNote follows a table's conditions in EXPLAIN when the conditions
// on host or captured_at leave the scan only some of the sources. It is a
// label, not a condition: go-mysql-server v0.20.0 only prints what
// Filters returns, and Eval returns true so that it could never drop a row.
type sourcesNote struct {
	hosts []string
	total int
}

var _ sql.Expression = (*sourcesNote)(nil)

func (n *sourcesNote) String() string {
	hosts := "none"
	if len(n.hosts) > 0 {
		hosts = strings.Join(n.hosts, ", ")
	}
	return fmt.Sprintf("reads %d of %d sources: %s", len(n.hosts), n.total, hosts)
}

func (n *sourcesNote) Resolved() bool                          { return true }
func (n *sourcesNote) Type() sql.Type                          { return types.Boolean }
func (n *sourcesNote) IsNullable() bool                        { return false }
func (n *sourcesNote) Eval(*sql.Context, sql.Row) (any, error) { return true, nil }
func (n *sourcesNote) Children() []sql.Expression              { return nil }

func (n *sourcesNote) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(n, len(children), 0)
	}
	return n, nil
}
