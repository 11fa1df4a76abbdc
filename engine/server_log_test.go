package engine_test

import (
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/internal/livetest"
)

// TestServerLogRedactsLiteralForms fails statements whose errors quote a
// literal's value in another form than the query's: with white space
// collapsed, or a hex literal in upper case or decoded. No part of the
// secret may reach the log.
func TestServerLogRedactsLiteralForms(t *testing.T) {
	var logged livetest.Buffer
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{
		Logger: slog.New(slog.NewTextHandler(&logged, nil)),
	})
	conn := pinConn(t, openDB(t, server.config()))
	statements := []string{
		"SELECT CAST('hunter2  topsecret' AS JSON)",
		"SELECT JSON_EXTRACT('{\"a\":1}', 'hunter2  topsecret')",
		"SELECT * FROM environ WHERE value REGEXP '(hunter2  topsecret'",
		"SELECT * FROM environ WHERE value REGEXP '(hunter2\ttopsecret'",
		"SELECT JSON_EXTRACT('hunter2  topsecret', '$')",
		"SELECT CAST(X'68756e746572322d746f70736563726574' AS JSON)",
		"SELECT CAST(0x68756e746572322d746f70736563726574 AS JSON)",
		"SELECT CONVERT('hunter2  topsecret', DATETIME) + INTERVAL 'hunter2  topsecret' DAY",
		"SELECT 1 FROM processes WHERE name = 'hunter2  topsecret' ORDER BY 'x' LIMIT 'hunter2  topsecret'",
		"SELECT * FROM environ WHERE value = 'hunter2  topsecret' AND",
	}
	for _, statement := range statements {
		if _, err := conn.ExecContext(context.Background(), statement); err == nil {
			t.Errorf("%s succeeded, want an error", statement)
		}
	}
	text := logged.String()
	if got := strings.Count(text, `msg="query failed"`); got != len(statements) {
		t.Errorf("log has %d failed queries, want %d:\n%s", got, len(statements), text)
	}
	lower := strings.ToLower(text)
	for _, secret := range []string{"hunter2", "topsecret", "68756e74", "746f70"} {
		if strings.Contains(lower, secret) {
			t.Errorf("log contains %q:\n%s", secret, text)
		}
	}
}

// TestServerLogLimitsFloods fails more statements and opens more
// connections than the log writes lines for in one interval. The log must
// keep 20 lines of each kind and count the rest in a line that Shutdown
// writes at the latest.
func TestServerLogLimitsFloods(t *testing.T) {
	var logged livetest.Buffer
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{
		Logger: slog.New(slog.NewTextHandler(&logged, nil)),
	})
	const statements, connections = 200, 60
	start := time.Now()
	conn := pinConn(t, openDB(t, server.config()))
	for i := range statements {
		if _, err := conn.ExecContext(context.Background(), "SELECT nosuchcolumn"+strconv.Itoa(i)+" FROM processes"); err == nil {
			t.Fatal("a query of a missing column succeeded, want an error")
		}
	}
	for range connections {
		db := openDB(t, server.config())
		if err := db.Ping(); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	if time.Since(start) > 10*time.Second {
		t.Skipf("the loops took %s, longer than the 10 s log interval", time.Since(start))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	text := logged.String()
	const burst = 20
	for _, c := range []struct {
		message string
		total   int
	}{
		{"query failed", statements},
		{"client connected", connections + 1},
	} {
		written := strings.Count(text, `msg="`+c.message+`"`)
		if written != burst {
			t.Errorf("log has %d lines %q, want %d", written, c.message, burst)
		}
		counted := regexp.MustCompile(`msg="suppressed log lines" kind="`+c.message+`" lines=(\d+)`).FindAllStringSubmatch(text, -1)
		suppressed := 0
		for _, match := range counted {
			n, _ := strconv.Atoi(match[1])
			suppressed += n
		}
		if written+suppressed != c.total {
			t.Errorf("log has %d lines %q and counts %d more, want %d in all:\n%s", written, c.message, suppressed, c.total, text)
		}
	}
}
