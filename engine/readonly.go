package engine

import (
	"fmt"
	"strings"

	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// checkReadOnly rejects every statement that could change data or server
// state. go-mysql-server's read-only mode misses some (SET GLOBAL, and writes
// to tables that return their own errors), so procsql allows a known list of
// read statements instead of denying a known list of writes.
func checkReadOnly(query string) error {
	stmt, err := sqlparser.Parse(query)
	if err != nil {
		// The engine reports syntax errors with their position.
		return nil
	}
	switch s := stmt.(type) {
	case *sqlparser.Select:
		return checkInto(s.Into)
	case *sqlparser.SetOp:
		return checkInto(s.Into)
	case *sqlparser.ParenSelect,
		*sqlparser.Show, *sqlparser.Explain, *sqlparser.OtherRead, *sqlparser.Use,
		*sqlparser.Begin, *sqlparser.Commit, *sqlparser.Rollback:
		return nil
	case *sqlparser.Set:
		for _, e := range s.Exprs {
			name := strings.ToLower(e.Name.String())
			switch {
			case e.Scope == sqlparser.SetScope_Global, e.Scope == sqlparser.SetScope_Persist,
				e.Scope == sqlparser.SetScope_PersistOnly,
				strings.HasPrefix(name, "@@global."), strings.HasPrefix(name, "@@persist"):
				return fmt.Errorf("procsql is read-only: SET GLOBAL and SET PERSIST are rejected; use SET SESSION to change %s for this session", e.Name.String())
			}
		}
		return nil
	}
	verb := strings.ToUpper(strings.Fields(query + " ?")[0])
	return fmt.Errorf("procsql is read-only: %s statements are rejected; run SELECT, SHOW, DESCRIBE or EXPLAIN", verb)
}

// checkInto rejects SELECT ... INTO OUTFILE and INTO DUMPFILE, which write
// files on the host. INTO @variable only sets session variables.
func checkInto(into *sqlparser.Into) error {
	if into == nil || (into.Outfile == "" && into.Dumpfile == "") {
		return nil
	}
	return fmt.Errorf("procsql is read-only: SELECT ... INTO OUTFILE and INTO DUMPFILE are rejected; use --format csv and redirect the output")
}
