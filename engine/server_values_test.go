package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procsql/procsql/engine"
)

// More MySQL error numbers the server returns.
const (
	errOutOfResources  = 1041 // ER_OUT_OF_RESOURCES
	errNotSupportedYet = 1235 // ER_NOT_SUPPORTED_YET
	errValueTooLarge   = 1301 // ER_WARN_ALLOWED_PACKET_OVERFLOWED
	errTooManyPrepared = 1461 // ER_MAX_PREPARED_STMT_COUNT_REACHED
	errJSONTooDeep     = 3157 // ER_JSON_DOCUMENT_TOO_DEEP
	// errUnknown is ER_UNKNOWN_ERROR, which go-mysql-server v0.20.0
	// returns for a system variable set out of its range, where MySQL
	// returns 1231.
	errUnknown = 1105
)

// cleanTree is a copied tree of 14 processes with 37 descriptors.
const cleanTree = "../testdata/hunts/clean"

// manyFDsTree returns a copy of cleanTree in which process 1 has extra more
// descriptors, so that a join of fds with itself is as large as a busy
// host's.
func manyFDsTree(t *testing.T, extra int) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(cleanTree)); err != nil {
		t.Fatal(err)
	}
	for i := range extra {
		target := fmt.Sprintf("/var/lib/procsql-test/evidence-file-%06d.log", i)
		if err := os.WriteFile(filepath.Join(dir, "1", "fd", strconv.Itoa(100+i)), []byte(target), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestServerBoundsLargeValues runs the functions that build one value
// many times the size of their arguments. Each must fail with error 1301
// before it builds the value, leave the connection usable, and keep the
// process's heap far below the value it asked for.
func TestServerBoundsLargeValues(t *testing.T) {
	server := startServer(t, treeSource(t, cleanTree), engine.ServerConfig{MaxResultBytes: 64 << 20})
	conn := pinConn(t, openDB(t, server.config()))
	ctx := context.Background()

	const tooLarge = 2000000000
	statements := []string{
		"SELECT REPEAT('x', 2000000000)",
		"SELECT LPAD('', 2e9, 'x')",
		"SELECT RPAD('a', 2e9, 'xy')",
		"SELECT SPACE(2e9)",
		"SELECT REPEAT(REPEAT('x', 1e6), 1e4)",
		"SELECT CONCAT(REPEAT('x', 40000000), REPEAT('y', 40000000))",
		"SELECT CONCAT_WS(REPEAT(',', 40000000), 'a', 'b', 'c')",
		"SELECT REPLACE(REPEAT('x', 1000000), 'x', REPEAT('y', 1000))",
		"SELECT HEX(HEX(HEX(REPEAT('x', 20000000))))",
		"SELECT LENGTH(REPEAT(name, 2000000000)) FROM processes",
		"SELECT REPEAT('x', ?)",
	}
	peak := startPeakHeap(t)
	for _, statement := range statements {
		var value sql.NullString
		var err error
		if strings.Contains(statement, "?") {
			err = conn.QueryRowContext(ctx, statement, tooLarge).Scan(&value)
		} else {
			err = conn.QueryRowContext(ctx, statement).Scan(&value)
		}
		wantError(t, statement, err, errValueTooLarge)
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM processes").Scan(&n); err != nil || n != 14 {
			t.Fatalf("after %s: SELECT COUNT(*) FROM processes = %d, %v; want 14", statement, n, err)
		}
	}
	got := peak.stop()
	if got > 512<<20 {
		t.Errorf("heap peaked at %d MiB while values of up to 10 GB were rejected, want under 512 MiB", got>>20)
	}

	// Values up to the limit still work.
	var length int64
	if err := conn.QueryRowContext(ctx, "SELECT LENGTH(REPEAT('x', 1000000))").Scan(&length); err != nil || length != 1000000 {
		t.Errorf("LENGTH(REPEAT('x', 1000000)) = %d, %v; want 1000000", length, err)
	}
	var padded string
	if err := conn.QueryRowContext(ctx, "SELECT CONCAT(LPAD('7', 3, '0'), SPACE(1), RPAD('a', 3, 'b'))").Scan(&padded); err != nil || padded != "007 abb" {
		t.Errorf("CONCAT(LPAD('7', 3, '0'), SPACE(1), RPAD('a', 3, 'b')) = %q, %v; want \"007 abb\"", padded, err)
	}
}

// TestServerBoundsSessionState grows what a session keeps from one
// statement to the next: user variables, warnings and group_concat_max_len.
func TestServerBoundsSessionState(t *testing.T) {
	server := startServer(t, treeSource(t, cleanTree), engine.ServerConfig{MaxResultBytes: 16 << 20})
	conn := pinConn(t, openDB(t, server.config()))
	ctx := context.Background()

	// Each value is under the 16 MiB value limit, but together they are
	// over the session's limit on user variables.
	var err error
	for i := range 4 {
		_, err = conn.ExecContext(ctx, fmt.Sprintf("SET @v%d = REPEAT('x', 10000000)", i))
		if err != nil {
			break
		}
	}
	wantError(t, "user variables of 40 MB", err, errValueTooLarge)
	if _, err := conn.ExecContext(ctx, "SET @v0 = NULL"); err != nil {
		t.Errorf("SET @v0 = NULL: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "SET @v1 = REPEAT('y', 10000000)"); err != nil {
		t.Errorf("SET @v1 after freeing @v0: %v", err)
	}

	_, err = conn.ExecContext(ctx, "SET SESSION group_concat_max_len = 4294967295")
	wantError(t, "SET group_concat_max_len to 4 GiB", err, errUnknown)
	if _, err := conn.ExecContext(ctx, "SET SESSION group_concat_max_len = 10000"); err != nil {
		t.Fatalf("SET group_concat_max_len = 10000: %v", err)
	}
	var length int
	if err := conn.QueryRowContext(ctx, "SELECT LENGTH(GROUP_CONCAT(a.path)) FROM fds a, fds b").Scan(&length); err != nil || length != 10000 {
		t.Errorf("LENGTH(GROUP_CONCAT(a.path)) over 37^2 rows = %d, %v; want 10000, group_concat_max_len", length, err)
	}

	// Each row of the cross join with a path warns that the path is not an
	// integer.
	rows := queryRows(t, conn, "SELECT SUM(LENGTH(SPACE(a.path))), COUNT(a.path) FROM fds a, fds b, fds c")
	if rows[0][0] != "0" || rows[0][1] == "0" {
		t.Fatalf("SUM(LENGTH(SPACE(path))), COUNT(path) = %q, want 0 and a count above 0", rows[0])
	}
	warnings := queryRows(t, conn, "SHOW WARNINGS")
	if len(warnings) != 1024 {
		t.Errorf("SHOW WARNINGS after %s warnings lists %d, want 1024, the most a session keeps", rows[0][1], len(warnings))
	}
}

// TestServerRejectsHugeStatements sends statements whose analysis would
// take minutes: go-mysql-server does not stop it at the query timeout.
func TestServerRejectsHugeStatements(t *testing.T) {
	server := startServer(t, treeSource(t, cleanTree), engine.ServerConfig{QueryTimeout: 10 * time.Second})
	conn := pinConn(t, openDB(t, server.config()))
	ctx := context.Background()

	inList := func(n int) string {
		values := make([]string, n)
		for i := range values {
			values[i] = strconv.Itoa(i)
		}
		return "SELECT COUNT(*) FROM processes WHERE pid IN (" + strings.Join(values, ",") + ")"
	}
	orChain := make([]string, 2000)
	for i := range orChain {
		orChain[i] = "pid = " + strconv.Itoa(i)
	}
	for _, statement := range []string{
		inList(150000), // about 1 MB
		"SELECT " + strings.Repeat("1+", 3000) + "1",
		"SELECT COUNT(*) FROM processes WHERE " + strings.Join(orChain, " OR "),
		"SELECT " + strings.Repeat("1,", 150000) + "1",
	} {
		start := time.Now()
		_, err := conn.ExecContext(ctx, statement)
		wantError(t, statement[:40]+"...", err, errNotSupportedYet)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s... took %s to reject, want well under 10 s", statement[:40], took)
		}
	}
	if rows := queryRows(t, conn, inList(5000)); rows[0][0] != "14" {
		t.Errorf("pid IN (5,000 values) = %s, want 14", rows[0][0])
	}

	// vitess parses a statement to prepare before the handler receives it.
	_, err := conn.PrepareContext(ctx, inList(150000)+" AND name <> ?")
	wantError(t, "preparing an IN list of 150,000 values", err, errNotSupportedYet)
}

// TestServerLimitsPreparedStatements prepares statements without closing
// them. Each holds its text and plan until the connection closes.
func TestServerLimitsPreparedStatements(t *testing.T) {
	server := startServer(t, treeSource(t, cleanTree), engine.ServerConfig{})
	conn := pinConn(t, openDB(t, server.config()))
	ctx := context.Background()

	var open []*sql.Stmt
	var err error
	for i := range 300 {
		var stmt *sql.Stmt
		stmt, err = conn.PrepareContext(ctx, fmt.Sprintf("SELECT pid + %d FROM processes WHERE pid = ?", i))
		if err != nil {
			break
		}
		open = append(open, stmt)
	}
	wantError(t, "the 257th open prepared statement", err, errTooManyPrepared)
	if len(open) != 256 {
		t.Errorf("prepared %d statements before the error, want 256", len(open))
	}
	for _, stmt := range open {
		stmt.Close()
	}
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pid FROM processes WHERE pid = ?", 1).Scan(&pid); err != nil || pid != 1 {
		t.Errorf("prepared query after closing the statements: %d, %v; want 1", pid, err)
	}
}

// peakHeap samples the heap in use until stop.
type peakHeap struct {
	done chan struct{}
	peak chan uint64
}

// startPeakHeap starts sampling the heap every 5 ms. It runs the
// collector first, so that garbage of earlier tests does not count.
func startPeakHeap(t *testing.T) *peakHeap {
	t.Helper()
	runtime.GC()
	p := &peakHeap{done: make(chan struct{}), peak: make(chan uint64, 1)}
	go func() {
		var peak uint64
		var stats runtime.MemStats
		ticker := time.NewTicker(5 * time.Millisecond)
		defer ticker.Stop()
		for {
			runtime.ReadMemStats(&stats)
			peak = max(peak, stats.HeapInuse)
			select {
			case <-p.done:
				p.peak <- peak
				return
			case <-ticker.C:
			}
		}
	}()
	return p
}

// stop ends the sampling and returns the largest heap seen, in bytes.
func (p *peakHeap) stop() uint64 {
	close(p.done)
	return <-p.peak
}

// TestQueryBoundsJSONValues runs the JSON functions that build a document
// larger than their arguments, through engine.Query as procsql query does.
// Each must fail with error 1301, or 3157 for a document nested too deep,
// before it prints gigabytes, and keep the heap far below what the
// statement requests.
func TestQueryBoundsJSONValues(t *testing.T) {
	eng := newTreeEngine(t)
	session := eng.NewSession(context.Background())
	repeat := func(n int, arg string) string {
		return strings.TrimSuffix(strings.Repeat(arg+", ", n), ", ")
	}
	deepArray := "CAST(CONCAT(REPEAT('[', 9000), REPEAT(']', 9000)) AS JSON)"
	deepStrings := "CONCAT(REPEAT('[\"x\", ', 9000), '\"x\"', REPEAT(']', 9000))"
	cases := []struct{ name, query, errno string }{
		{"JSON_ARRAY of 40 values of 60 MB", "SELECT LENGTH(JSON_ARRAY(" + repeat(40, "REPEAT('a', 60000000)") + "))", "1301"},
		{"JSON_OBJECT of 3 values of 30 MB", "SELECT LENGTH(JSON_OBJECT('a', REPEAT('a', 30000000), 'b', REPEAT('b', 30000000), 'c', REPEAT('c', 30000000)))", "1301"},
		{"JSON_ARRAY of control characters", "SELECT LENGTH(JSON_ARRAY(REPEAT(CHAR(1), 20000000)))", "1301"},
		{"nested JSON_QUOTE", "SELECT LENGTH(JSON_QUOTE(JSON_QUOTE(JSON_QUOTE(JSON_QUOTE(JSON_QUOTE(REPEAT('\"', 3000000)))))))", "1301"},
		{"JSON_ARRAY_APPEND", "SELECT LENGTH(JSON_ARRAY_APPEND('[]', '$', REPEAT('x', 40000000), '$', REPEAT('y', 40000000)))", "1301"},
		{"JSON_ARRAY_INSERT", "SELECT LENGTH(JSON_ARRAY_INSERT('[1]', '$[0]', REPEAT('x', 40000000), '$[0]', REPEAT('y', 40000000)))", "1301"},
		{"JSON_SET", "SELECT LENGTH(JSON_SET(JSON_ARRAY(REPEAT('x', 30000000)), '$[1]', REPEAT('y', 30000000), '$[2]', REPEAT('z', 30000000)))", "1301"},
		{"JSON_INSERT", "SELECT LENGTH(JSON_INSERT('{}', '$.a', REPEAT('x', 40000000), '$.b', REPEAT('y', 40000000)))", "1301"},
		{"JSON_REPLACE", "SELECT LENGTH(JSON_REPLACE(JSON_ARRAY(1, 2), '$[0]', REPEAT('x', 40000000), '$[1]', REPEAT('y', 40000000)))", "1301"},
		{"JSON_MERGE_PRESERVE", "SELECT LENGTH(JSON_MERGE_PRESERVE(JSON_ARRAY(REPEAT('x', 30000000)), JSON_ARRAY(REPEAT('y', 30000000)), JSON_ARRAY(REPEAT('z', 30000000))))", "1301"},
		{"JSON_MERGE", "SELECT LENGTH(JSON_MERGE(JSON_ARRAY(REPEAT('x', 40000000)), JSON_ARRAY(REPEAT('y', 40000000))))", "1301"},
		{"JSON_MERGE_PATCH", "SELECT LENGTH(JSON_MERGE_PATCH(JSON_OBJECT('a', REPEAT('x', 40000000)), JSON_OBJECT('b', REPEAT('y', 40000000))))", "1301"},
		{"JSON_PRETTY of a deep document", "SELECT LENGTH(JSON_PRETTY(" + deepArray + "))", "1301"},
		{"JSON_EXTRACT of many paths", "SELECT LENGTH(JSON_EXTRACT(JSON_ARRAY(REPEAT('x', 10000000)), " + repeat(10, "'$'") + "))", "1301"},
		{"JSON_SEARCH of deep strings", "SELECT LENGTH(JSON_SEARCH(" + deepStrings + ", 'all', 'x'))", "1301"},
		{"JSON_ARRAY deeper than 10,000", "SELECT JSON_DEPTH(JSON_ARRAY(JSON_ARRAY(CAST(CONCAT(REPEAT('[', 9999), REPEAT(']', 9999)) AS JSON))))", "3157"},
	}
	peak := startPeakHeap(t)
	for _, c := range cases {
		_, err := eng.Query(session, c.query)
		if err == nil || !strings.Contains(err.Error(), "errno "+c.errno) {
			t.Errorf("%s: error %v, want MySQL error %s", c.name, err, c.errno)
		}
	}
	if got := peak.stop(); got > 768<<20 {
		t.Errorf("heap peaked at %d MiB while JSON values of gigabytes were rejected, want under 768 MiB", got>>20)
	}

	// Values under the limit keep their results.
	for _, c := range []struct{ query, want string }{
		{"SELECT LENGTH(JSON_ARRAY(REPEAT('a', 1000000)))", "1000004"},
		{"SELECT JSON_ARRAY(1, 'x\"y', NULL, JSON_OBJECT('k', 'v'))", `[1, "x\"y", null, {"k": "v"}]`},
		{"SELECT JSON_QUOTE(JSON_QUOTE('a\"b'))", `"\"a\\\"b\""`},
		{"SELECT JSON_SET('{\"a\": 1}', '$.b', 'x')", `{"a": 1, "b": "x"}`},
		{"SELECT JSON_ARRAY_APPEND('[1, [2]]', '$[1]', 3)", `[1, [2, 3]]`},
		{"SELECT JSON_MERGE_PRESERVE('{\"a\": 1}', '{\"a\": 2}')", `{"a": [1, 2]}`},
		{"SELECT JSON_MERGE_PATCH('{\"a\": 1}', '{\"b\": 2}')", `{"a": 1, "b": 2}`},
		{"SELECT JSON_EXTRACT('[1, 2]', '$[1]', '$[0]')", `[2, 1]`},
		{"SELECT JSON_SEARCH('[\"a\", [\"a\"]]', 'all', 'a')", `["$[0]", "$[1][0]"]`},
		{"SELECT JSON_PRETTY('[1]')", "[\n  1\n]"},
		{"SELECT JSON_DEPTH(JSON_ARRAY(" + deepArray + "))", "9001"},
	} {
		res, err := eng.Query(session, c.query)
		if err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		got := fmt.Sprint(res.Rows[0][0])
		if text, ok := res.Rows[0][0].(interface{ JSONString() (string, error) }); ok {
			got, _ = text.JSONString()
		}
		if got != c.want {
			t.Errorf("%s = %s, want %s", c.query, got, c.want)
		}
	}
}

// TestServerBoundsJSONValues sends the JSON statements that ran the server
// out of memory, and grows a user variable's document past the depth that
// the server prints safely.
func TestServerBoundsJSONValues(t *testing.T) {
	server := startServer(t, treeSource(t, cleanTree), engine.ServerConfig{})
	conn := pinConn(t, openDB(t, server.config()))
	ctx := context.Background()
	for _, c := range []struct {
		query  string
		number uint16
	}{
		{"SELECT LENGTH(JSON_ARRAY(" + strings.TrimSuffix(strings.Repeat("REPEAT('a', 60000000), ", 40), ", ") + "))", errValueTooLarge},
		{"SELECT LENGTH(JSON_QUOTE(JSON_QUOTE(JSON_QUOTE(JSON_QUOTE(JSON_QUOTE(REPEAT('\"', 3000000)))))))", errValueTooLarge},
		{"SET @deep = (SELECT JSON_ARRAYAGG(JSON_ARRAY(d)) FROM (SELECT CAST(CONCAT(REPEAT('[', 9999), REPEAT(']', 9999)) AS JSON) AS d) t)", errJSONTooDeep},
	} {
		_, err := conn.ExecContext(ctx, c.query)
		wantError(t, shortStatement(c.query), err, c.number)
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM processes").Scan(&n); err != nil || n != 14 {
			t.Fatalf("after %s: SELECT COUNT(*) FROM processes = %d, %v; want 14", shortStatement(c.query), n, err)
		}
	}
}

// TestServerLimitsPreparedParameters prepares statements of 22,000
// parameters each. A connection's statements may have 65,535 parameters in
// all, because the server keeps memory for each: 256 statements of 30,000
// took about 3 GB.
func TestServerLimitsPreparedParameters(t *testing.T) {
	server := startServer(t, treeSource(t, cleanTree), engine.ServerConfig{})
	conn := pinConn(t, openDB(t, server.config()))
	ctx := context.Background()
	query := "SELECT " + strings.TrimSuffix(strings.Repeat("?, ", 22000), ", ")

	first, err := conn.PrepareContext(ctx, query+" AS first")
	if err != nil {
		t.Fatalf("prepare 22,000 parameters: %v", err)
	}
	if _, err := conn.PrepareContext(ctx, query+" AS second"); err != nil {
		t.Fatalf("prepare 44,000 parameters in all: %v", err)
	}
	_, err = conn.PrepareContext(ctx, query+" AS third")
	wantError(t, "prepare 66,000 parameters in all", err, errTooManyPrepared)
	if err != nil && !strings.Contains(err.Error(), "66000 parameters") {
		t.Errorf("error %q does not name the 66000 parameters", err)
	}

	// Closing a statement gives its parameters back.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.PrepareContext(ctx, query+" AS fourth"); err != nil {
		t.Errorf("prepare after closing a statement: %v", err)
	}
}
