package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/procsql/procsql/engine"
)

// TestStatementShapeReachesEveryPart puts a chain of 300 additions, or an
// IN list of 10,001 values, in each part of a statement that
// sqlparser.Walk does not visit. Planning such a statement took minutes
// and ignored the query timeout, so the check must reject each before
// go-mysql-server analyzes it, in procsql query and in the server alike.
func TestStatementShapeReachesEveryPart(t *testing.T) {
	chain := strings.Repeat("1+", 300) + "1"
	columns := strings.Repeat("a+", 300) + "a"
	values := make([]string, 10001)
	for i := range values {
		values[i] = fmt.Sprint(i)
	}
	list := strings.Join(values, ",")
	const deep, long = "nests expressions more than 256 deep", "more than 10000 values in IN lists"
	cases := []struct{ name, query, want string }{
		{"WITH of a UNION", "WITH c AS (SELECT " + chain + " a) SELECT a FROM c UNION SELECT 1", deep},
		{"WINDOW clause", "SELECT ROW_NUMBER() OVER w FROM (SELECT 1 a) t WINDOW w AS (ORDER BY " + columns + ")", deep},
		{"ORDER BY of a UNION", "SELECT 1 a UNION SELECT 2 ORDER BY " + columns, deep},
		{"EXPLAIN", "EXPLAIN SELECT " + chain, deep},
		{"recursive WITH", "WITH RECURSIVE c(n) AS (SELECT " + chain + " UNION ALL SELECT n+1 FROM c WHERE n<0) SELECT n FROM c", deep},
		{"OVER clause", "SELECT SUM(1) OVER (ORDER BY " + chain + ") FROM (SELECT 1) t", deep},
		{"IN list in the WITH of a UNION", "WITH c AS (SELECT 1 IN (" + list + ") a) SELECT a FROM c UNION SELECT 1", long},
	}

	eng := newTreeEngine(t)
	for _, c := range cases {
		start := time.Now()
		_, err := eng.Query(eng.NewSession(context.Background()), c.query)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("procsql query, %s: error %v, want one containing %q", c.name, err, c.want)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("procsql query, %s: rejected after %s, want within 5s", c.name, took)
		}
	}

	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{QueryTimeout: 5 * time.Second})
	conn := pinConn(t, openDB(t, server.config()))
	for _, c := range cases {
		start := time.Now()
		_, err := conn.ExecContext(context.Background(), c.query)
		wantError(t, "server, "+c.name, err, errNotSupportedYet)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("server, %s: rejected after %s, want within 5s", c.name, took)
		}
	}

	// The same parts with short expressions still run.
	for _, query := range []string{
		"WITH c AS (SELECT 1+1 a) SELECT a FROM c UNION SELECT 1",
		"SELECT ROW_NUMBER() OVER w FROM (SELECT 1 a) t WINDOW w AS (ORDER BY a+a)",
		"SELECT 1 a UNION SELECT 2 ORDER BY a+a",
		"WITH c AS (SELECT 1 IN (1, 2, 3) a) SELECT a FROM c UNION SELECT 1",
	} {
		if _, err := eng.Query(eng.NewSession(context.Background()), query); err != nil {
			t.Errorf("procsql query, %s: %v", query, err)
		}
	}
}
