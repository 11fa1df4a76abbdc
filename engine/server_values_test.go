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
