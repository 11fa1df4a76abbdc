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
// parse it, and a statement that does not parse is reported here. It also
// applies the server's limits on a statement's shape, since a statement
// that would take minutes to plan cannot be stopped by Ctrl-C either.
func checkReadOnly(ctx *sql.Context, query string) error {
	stmt, err := sqlparser.ParseWithOptions(ctx, query, sql.LoadSqlMode(ctx).ParserOptions())
	if err != nil {
		return err
	}
	if err := checkStatementSize(stmt); err != nil {
		return err
	}
	return checkStatement(stmt, query)
}

// checkStatement applies the checks of checkReadOnly to a parsed statement;
// query is its text, which names the statement in the error.
func checkStatement(stmt sqlparser.Statement, query string) error {
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
	case *sqlparser.Kill:
		// KILL QUERY is how clients such as mysql and mariadb stop a running
		// query on Ctrl-C. KILL CONNECTION could end other clients' sessions.
		if s.Connection {
			return fmt.Errorf("KILL CONNECTION is rejected because procsql is read-only and it would end another client's session; KILL QUERY stops a running query")
		}
		return nil
	case *sqlparser.Set:
		for _, e := range s.Exprs {
			name := strings.ToLower(e.Name.String())
			switch {
			case e.Scope == sqlparser.SetScope_Global, e.Scope == sqlparser.SetScope_Persist,
				e.Scope == sqlparser.SetScope_PersistOnly,
				strings.HasPrefix(name, "@@global."), strings.HasPrefix(name, "@@persist"):
				return fmt.Errorf("SET GLOBAL and SET PERSIST are rejected because procsql is read-only; SET SESSION changes a session variable for this session only")
			}
		}
		return nil
	}
	verb := strings.ToUpper(strings.Fields(sqlparser.StripLeadingComments(query) + " ?")[0])
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

// checkFunctions rejects calls to rejectedFunctions. It searches the
// statement as the parser prints it back, because the AST walker of vitess
// skips parts such as WINDOW clauses and the WITH of a union.
func checkFunctions(stmt sqlparser.Statement) error {
	text := strings.ToLower(sqlparser.String(stmt))
	for name := range rejectedFunctions {
		if strings.Contains(text, name+"(") {
			return rejectedFunctionError(name)
		}
	}
	return nil
}
