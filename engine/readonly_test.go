package engine_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/source"
)

func newTreeEngine(t *testing.T) *engine.Engine {
	t.Helper()
	src, err := source.NewDir("../testdata/cases/02-stat-comm-with-parentheses")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(src)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func TestReadOnlyRejectsWrites(t *testing.T) {
	eng := newTreeEngine(t)
	for _, q := range []string{
		"INSERT INTO processes (pid) VALUES (1)",
		"REPLACE INTO processes (pid) VALUES (1)",
		"UPDATE processes SET pid = 1",
		"DELETE FROM processes",
		"TRUNCATE processes",
		"DROP TABLE processes",
		"CREATE TABLE x (a INT)",
		"ALTER TABLE processes ADD COLUMN x INT",
		"CREATE DATABASE x",
		"CREATE USER x IDENTIFIED BY 'y'",
		"GRANT ALL ON *.* TO x",
		"SET GLOBAL sql_select_limit = 1",
		"SET @@global.sql_select_limit = 1",
		"SET PERSIST sql_select_limit = 1",
		"CALL p()",
		"PREPARE s FROM 'DELETE FROM processes'",
		"LOAD DATA INFILE '/etc/passwd' INTO TABLE processes",
		"CREATE VIEW v AS SELECT 1",
		"KILL 1",
	} {
		_, err := eng.Query(eng.NewSession(context.Background()), q)
		if err == nil {
			t.Errorf("%q succeeded, want a read-only error", q)
			continue
		}
		if !strings.Contains(err.Error(), "read-only") {
			t.Errorf("%q: error %q does not say procsql is read-only", q, err)
		}
	}
}

func TestReadOnlyAllowsReads(t *testing.T) {
	eng := newTreeEngine(t)
	for _, q := range []string{
		"SELECT 1",
		"SELECT 1 UNION SELECT 2",
		"SHOW TABLES",
		"DESCRIBE processes",
		"EXPLAIN SELECT * FROM processes",
		"SET SESSION sql_select_limit = 10",
		"SET @x = 1",
		"USE procsql",
		"SHOW WARNINGS",
	} {
		if _, err := eng.Query(eng.NewSession(context.Background()), q); err != nil {
			t.Errorf("%q: %v", q, err)
		}
	}
}

func TestReadOnlyRejectsSelectInto(t *testing.T) {
	eng := newTreeEngine(t)
	target := t.TempDir() + "/out.txt"
	for _, q := range []string{
		"SELECT pid FROM processes INTO OUTFILE '" + target + "'",
		"SELECT pid FROM processes INTO DUMPFILE '" + target + "'",
	} {
		_, err := eng.Query(eng.NewSession(context.Background()), q)
		if err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("%q: error %v, want a read-only error", q, err)
		}
	}
}

func TestReadOnlyUsesSessionSQLMode(t *testing.T) {
	eng := newTreeEngine(t)
	session := eng.NewSession(context.Background())
	if _, err := eng.Query(session, "SET SESSION sql_mode = 'ANSI_QUOTES'"); err != nil {
		t.Fatal(err)
	}
	target := t.TempDir() + "/out.txt"
	_, err := eng.Query(session, `SELECT "processes"."name" FROM processes LIMIT 1 INTO DUMPFILE '`+target+`'`)
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("INTO DUMPFILE under ANSI_QUOTES: error %v, want a read-only error", err)
	}
	if _, statErr := os.Stat(target); statErr == nil {
		t.Errorf("INTO DUMPFILE under ANSI_QUOTES wrote %s", target)
	}
}

func TestLoadFileRejected(t *testing.T) {
	eng := newTreeEngine(t)
	for _, q := range []string{
		"SELECT LOAD_FILE('/etc/hostname')",
		"WITH c AS (SELECT LOAD_FILE('/etc/hostname') a) SELECT a FROM c UNION SELECT 'x'",
		"SELECT * FROM (WITH c AS (SELECT load_file('/etc/hostname') a) SELECT a FROM c UNION ALL SELECT 'x') t",
		"SELECT a, ROW_NUMBER() OVER w FROM (SELECT 1 a UNION ALL SELECT 2) t WINDOW w AS (ORDER BY IF(LOAD_FILE('/etc/hostname') LIKE 'a%', a, -a))",
		"SET @s = (SELECT Load_File('/etc/hostname'))",
		"SELECT 1 WHERE EXISTS (SELECT LOAD_FILE('/etc/hostname'))",
	} {
		_, err := eng.Query(eng.NewSession(context.Background()), q)
		if err == nil || !strings.Contains(err.Error(), "LOAD_FILE() is rejected") {
			t.Errorf("%q: error %v, want a rejection", q, err)
		}
	}
}

func TestSyntaxErrorIsOneLine(t *testing.T) {
	eng := newTreeEngine(t)
	_, err := eng.Query(eng.NewSession(context.Background()), "SELEC 1")
	if err == nil {
		t.Fatal("no error")
	}
	if got := fmt.Sprintf("%v", err); got != "syntax error at position 6 near 'SELEC'" {
		t.Errorf("error prints as %q, want one line", got)
	}
}

func TestSetReturnsNoRows(t *testing.T) {
	eng := newTreeEngine(t)
	session := eng.NewSession(context.Background())
	for _, q := range []string{"SET @x = 1", "SELECT 5 INTO @y"} {
		res, err := eng.Query(session, q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if !res.OK || len(res.Columns) != 0 || len(res.Rows) != 0 {
			t.Errorf("%q: result %+v, want an OK result without columns or rows", q, res)
		}
	}
}

// TestQueryRejectsHugeStatements checks that procsql query, shell and hunt
// apply the server's limits on a statement's shape: each of these would
// take minutes to plan, and planning does not stop on cancellation.
func TestQueryRejectsHugeStatements(t *testing.T) {
	eng := newTreeEngine(t)
	values := make([]string, 10001)
	for i := range values {
		values[i] = fmt.Sprint(i)
	}
	for _, c := range []struct{ name, query, want string }{
		{"IN list of 10,001 values", "SELECT pid FROM processes WHERE pid IN (" + strings.Join(values, ",") + ")", "more than 10000 values in IN lists"},
		{"chain of 300 additions", "SELECT " + strings.Repeat("1+", 300) + "1", "nests expressions more than 256 deep"},
		{"select list of 100,001 values", "SELECT " + strings.Repeat("1,", 100000) + "1", "more than 100000 expressions"},
	} {
		_, err := eng.Query(eng.NewSession(context.Background()), c.query)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	all, err := eng.Query(eng.NewSession(context.Background()), "SELECT COUNT(*) FROM processes WHERE pid < 10000")
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Query(eng.NewSession(context.Background()), "SELECT COUNT(*) FROM processes WHERE pid IN ("+strings.Join(values[:10000], ",")+")")
	if err != nil {
		t.Fatalf("IN list of 10,000 values: %v", err)
	}
	if got, want := fmt.Sprint(res.Rows[0][0]), fmt.Sprint(all.Rows[0][0]); got != want || want == "0" {
		t.Errorf("COUNT(*) with an IN list of pids 0 to 9,999 = %s, want %s, the count of pids under 10,000 (not 0)", got, want)
	}
}
