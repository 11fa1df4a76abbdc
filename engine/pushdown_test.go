package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/procsql/procsql/source"
)

// pushdownTrees hold processes with files, sockets, maps and environments
// of many shapes, including NULL columns and deleted files.
var pushdownTrees = []string{
	"../testdata/hunts/reverse_shell/positive",
	"../testdata/hunts/first_code_not_exe/positive",
	"../testdata/hunts/deleted_log_still_open/positive",
	"../testdata/hunts/secrets_in_environment/positive",
	"../testdata/cases/29-permission-denied-other-user",
}

// pushdownQueries have WHERE clauses whose conjuncts the rule pushes, some
// with NULLs, OR, NOT, IN, LIKE, REGEXP_LIKE and arithmetic, and some that
// it must leave in the filter: outer references, subqueries, RAND.
var pushdownQueries = []string{
	"SELECT pid, name, exe FROM processes WHERE name = 'bash' ORDER BY pid",
	"SELECT pid, exe FROM processes WHERE exe IS NULL OR exe LIKE '%sh' ORDER BY pid",
	"SELECT pid, cmdline FROM processes WHERE NOT (uid = 0) AND cmdline <> '' ORDER BY pid",
	"SELECT pid, fd, path FROM fds WHERE type = 'file' AND path LIKE '/var/log/%' AND deleted = 1 ORDER BY pid, fd",
	"SELECT pid, fd, pos, size_bytes FROM fds WHERE path LIKE '/%' AND pos - size_bytes > 0 ORDER BY pid, fd",
	"SELECT pid, fd, inode FROM fds WHERE fd IN (0, 1, 2) AND type = 'socket' ORDER BY pid, fd",
	"SELECT pid, HEX(start), perms, path FROM maps WHERE SUBSTRING(perms, 3, 1) = 'x' AND kind <> 'pseudo' ORDER BY pid, start",
	"SELECT pid, HEX(start), path FROM maps WHERE REGEXP_LIKE(path, '[.]so([.]|$)', 'c') OR path IS NULL ORDER BY pid, start",
	"SELECT pid, name FROM environ WHERE name IN ('PATH', 'HOME') AND value <> '' ORDER BY pid, name",
	"SELECT p.pid, f.fd FROM processes p JOIN fds f ON f.pid = p.pid WHERE f.fd < 3 AND p.name <> 'init' ORDER BY p.pid, f.fd",
	"SELECT p.pid FROM processes p WHERE EXISTS (SELECT 1 FROM fds f WHERE f.pid = p.pid AND f.type = 'socket') ORDER BY p.pid",
	"SELECT p.pid, (SELECT COUNT(*) FROM maps m WHERE m.pid = p.pid AND m.kind = 'file') AS files FROM processes p ORDER BY p.pid",
	"SELECT p.pid, (SELECT COUNT(*) FROM fds f WHERE f.fd < p.pid AND f.type = 'socket') AS n FROM processes p ORDER BY p.pid",
	"SELECT pid FROM processes WHERE RAND() < 2 AND pid > 0 ORDER BY pid",
	"SELECT s.inode, s.state FROM sockets s WHERE s.state = 'ESTABLISHED' AND s.remote_port > 0 ORDER BY s.inode",
}

// queryAll runs each query on an engine over root and returns one string
// per query with its rows or its error.
func queryAll(t *testing.T, root string, pushdown bool) []string {
	t.Helper()
	dir, err := source.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !pushdown {
		removePushConditionsRule(t, eng)
	}
	var out []string
	for _, q := range pushdownQueries {
		res, err := eng.Query(eng.NewSession(context.Background()), q)
		if err != nil {
			out = append(out, "error: "+err.Error())
			continue
		}
		out = append(out, fmt.Sprint(res.Rows))
	}
	return out
}

func removePushConditionsRule(t *testing.T, eng *Engine) {
	t.Helper()
	for _, batch := range eng.sql.Analyzer.Batches {
		for i, rule := range batch.Rules {
			if rule.Id == pushConditionsRule {
				batch.Rules = append(batch.Rules[:i:i], batch.Rules[i+1:]...)
				return
			}
		}
	}
	t.Fatal("the engine has no push conditions rule")
}

// TestPushedConditionsKeepResults runs the same queries with and without
// the rule: the rows must be the same.
func TestPushedConditionsKeepResults(t *testing.T) {
	for _, root := range pushdownTrees {
		with := queryAll(t, root, true)
		without := queryAll(t, root, false)
		nonEmpty := 0
		for i, q := range pushdownQueries {
			if with[i] != without[i] {
				t.Errorf("%s: %s\nwith pushed conditions: %s\nwithout: %s", root, q, with[i], without[i])
			}
			if with[i] != "[]" {
				nonEmpty++
			}
		}
		if nonEmpty == 0 {
			t.Errorf("%s: every query returned no rows, so the comparison shows nothing", root)
		}
	}
}

// TestExplainListsPushedConditions checks which conjuncts reach the scan:
// those on the table's own columns, and not RAND() or a reference to
// another table.
func TestExplainListsPushedConditions(t *testing.T) {
	dir, err := source.NewDir("../testdata/hunts/reverse_shell/positive")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	plan := func(query string) string {
		t.Helper()
		res, err := eng.Query(eng.NewSession(context.Background()), "EXPLAIN PLAN "+query)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, row := range res.Rows {
			fmt.Fprintln(&b, row[0])
		}
		return b.String()
	}

	got := plan("SELECT pid FROM processes WHERE name = 'bash' AND RAND() < 2")
	if !strings.Contains(got, "filters: [(processes.name = 'bash')]") {
		t.Errorf("plan lacks the pushed condition on name, or pushed RAND():\n%s", got)
	}

	// The subquery runs once per process, and its filter above fds reads the
	// outer p.pid, which a scan of fds cannot evaluate.
	got = plan("SELECT p.pid, (SELECT COUNT(*) FROM fds f WHERE f.fd < p.pid AND f.type = 'socket') AS n FROM processes p")
	if !strings.Contains(got, "filters: [(f.type = 'socket')]") {
		t.Errorf("plan lacks the pushed condition on f.type:\n%s", got)
	}
	for _, line := range strings.Split(got, "\n") {
		if strings.Contains(line, "filters: [") && strings.Contains(line, "p.pid") {
			t.Errorf("plan pushed a condition that reads the outer table p into a scan: %s\n%s", line, got)
		}
	}
}
