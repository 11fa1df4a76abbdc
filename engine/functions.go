package engine

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// rejectedFunctions read host files that the tables do not expose. The
// provider replaces them with a function that fails when evaluated, so the
// rejection holds wherever the call appears in a statement. The parse check
// in checkReadOnly only makes the message come earlier.
var rejectedFunctions = map[string]bool{"load_file": true}

// Function implements sql.FunctionProvider. go-mysql-server v0.20.0 looks
// functions up in the database provider before its built-in ones, so this
// replaces REGEXP_LIKE, the functions in boundedFunctions and the rejected
// functions.
func (p *provider) Function(_ *sql.Context, name string) (sql.Function, bool) {
	lower := strings.ToLower(name)
	if lower == "regexp_like" {
		return sql.FunctionN{Name: lower, Fn: newRegexpLike}, true
	}
	if f, ok := boundedFunction(lower); ok {
		return f, true
	}
	if !rejectedFunctions[lower] {
		return nil, false
	}
	return sql.FunctionN{Name: lower, Fn: func(args ...sql.Expression) (sql.Expression, error) {
		return &rejectedCall{name: lower, args: args}, nil
	}}, true
}

// rejectedCall is a call to a rejected function. It fails on evaluation.
type rejectedCall struct {
	name string
	args []sql.Expression
}

var _ sql.Expression = (*rejectedCall)(nil)

func (c *rejectedCall) Resolved() bool {
	for _, a := range c.args {
		if !a.Resolved() {
			return false
		}
	}
	return true
}

func (c *rejectedCall) String() string             { return strings.ToUpper(c.name) + "(...)" }
func (c *rejectedCall) Type() sql.Type             { return types.LongText }
func (c *rejectedCall) IsNullable() bool           { return true }
func (c *rejectedCall) Children() []sql.Expression { return c.args }

func (c *rejectedCall) Eval(*sql.Context, sql.Row) (any, error) {
	return nil, rejectedFunctionError(c.name)
}

func (c *rejectedCall) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	return &rejectedCall{name: c.name, args: children}, nil
}

func rejectedFunctionError(name string) error {
	return fmt.Errorf("%s() is rejected: procsql reads only the /proc source and the host files its tables use", strings.ToUpper(name))
}
