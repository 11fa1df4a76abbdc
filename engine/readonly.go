package engine

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// checkReadOnly rejects every statement that could change data or server
// state, or read files outside the source. go-mysql-server's read-only mode
// misses some (SET GLOBAL, SELECT ... INTO OUTFILE), so procsql allows a known
// list of read statements instead of denying a known list of writes. The
// statement is parsed with the session's sql_mode, exactly as the engine will
// parse it, and a statement that does not parse is reported here.
func checkReadOnly(ctx *sql.Context, query string) error {
	stmt, err := sqlparser.ParseWithOptions(ctx, query, sql.LoadSqlMode(ctx).ParserOptions())
	if err != nil {
		return err
	}
	if err := checkFunctions(stmt); err != nil {
		return err
	}
	switch s := stmt.(type) {
	case *sqlparser.Select:
		return checkInto(s.Into)
	case *sqlparser.SetOp:
		return checkInto(s.Into)
	case *sqlparser.ParenSelect, *sqlparser.Show, *sqlparser.ShowGrants, *sqlparser.Explain,
		*sqlparser.OtherRead, *sqlparser.Use, *sqlparser.Begin, *sqlparser.Commit, *sqlparser.Rollback:
		return nil
	case *sqlparser.Set:
		for _, e := range s.Exprs {
			name := strings.ToLower(e.Name.String())
			switch {
			case e.Scope == sqlparser.SetScope_Global, e.Scope == sqlparser.SetScope_Persist,
				e.Scope == sqlparser.SetScope_PersistOnly,
				strings.HasPrefix(name, "@@global."), strings.HasPrefix(name, "@@persist"):
				return fmt.Errorf("SET GLOBAL and SET PERSIST are rejected because procsql is read-only; use SET SESSION to change %s for this session", e.Name.String())
			}
		}
		return nil
	}
	verb := strings.ToUpper(strings.Fields(query + " ?")[0])
	return fmt.Errorf("%s statements are rejected because procsql is read-only; run SELECT, SHOW, DESCRIBE or EXPLAIN", verb)
}

// checkInto rejects SELECT ... INTO OUTFILE and INTO DUMPFILE, which write
// files on the host. INTO @variable only sets session variables.
func checkInto(into *sqlparser.Into) error {
	if into == nil || (into.Outfile == "" && into.Dumpfile == "") {
		return nil
	}
	return fmt.Errorf("SELECT ... INTO OUTFILE and INTO DUMPFILE are rejected because procsql is read-only; use --format csv and redirect the output")
}

// rejectedFunctions read host files that the tables do not expose.
var rejectedFunctions = map[string]bool{"load_file": true}

func checkFunctions(stmt sqlparser.Statement) error {
	return sqlparser.Walk(func(node sqlparser.SQLNode) (bool, error) {
		if f, ok := node.(*sqlparser.FuncExpr); ok && rejectedFunctions[f.Name.Lowered()] {
			return false, fmt.Errorf("%s() is rejected: procsql reads only the /proc source and the host files its tables use", strings.ToUpper(f.Name.String()))
		}
		return true, nil
	}, stmt)
}
