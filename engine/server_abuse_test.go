package engine_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/internal/livetest"
)

// errParse is MySQL's ER_PARSE_ERROR.
const errParse = 1064

// TestServerReadOnlyParsesLikeEngine sends statements whose text only
// parses after go-mysql-server trims it: a leading Unicode space and extra
// semicolons. The check must judge the statement the engine runs.
func TestServerReadOnlyParsesLikeEngine(t *testing.T) {
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{})
	conn := pinConn(t, openDB(t, server.config()))
	ctx := context.Background()
	outfile := filepath.Join(t.TempDir(), "out.txt")
	for _, statement := range []string{
		"\u00a0SET GLOBAL sql_select_limit = 1",
		"SET GLOBAL sql_select_limit = 1;;",
		"\u2003SET GLOBAL sql_select_limit = 1 ;\u00a0;",
		"SELECT 'x' INTO OUTFILE '" + outfile + "';;",
	} {
		_, err := conn.ExecContext(ctx, statement)
		wantError(t, strconv.Quote(statement), err, errReadOnly)
	}
	_, err := conn.ExecContext(ctx, "SELEC 1")
	wantError(t, "a statement that does not parse", err, errParse)
	if limit := queryRows(t, conn, "SELECT @@GLOBAL.sql_select_limit")[0][0]; limit == "1" {
		t.Errorf("@@GLOBAL.sql_select_limit = 1 after the rejected statements")
	}
	if _, err := os.Stat(outfile); err == nil {
		t.Errorf("SELECT ... INTO OUTFILE created %s", outfile)
	}
}

// TestServerTLSLoginsKeepCount logs in over TLS more times than the
// connection limit, one after another: each must succeed, because each
// closed connection gives its slot back, and a client over the limit at
// once must get error 1040.
func TestServerTLSLoginsKeepCount(t *testing.T) {
	cert := selfSignedCertificate(t)
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{
		Password:       "pw",
		TLS:            &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		MaxConnections: 2,
	})
	cfg := server.config()
	cfg.Passwd = "pw"
	cfg.TLS = &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	ctx := context.Background()

	for i := range 8 {
		db := openDB(t, cfg)
		conn := connectWithin(t, db)
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil {
			t.Fatalf("login %d over TLS: %v", i+1, err)
		}
		// Closing the pool, not only the connection, ends the session.
		conn.Close()
		db.Close()
	}

	first := connectWithin(t, openDB(t, cfg))
	second := connectWithin(t, openDB(t, cfg))
	_, err = openDB(t, cfg).Conn(ctx)
	wantError(t, "a third TLS client at once", err, errTooManyConnections)
	first.Close()
	second.Close()
}

// connectWithin returns a connection of db, retrying for up to 10 s while
// the server returns 1040, because it gives a closed connection's slot back
// only once it has read the connection's end.
func connectWithin(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := db.Conn(context.Background())
		if err == nil {
			return conn
		}
		if errorNumber(err) != errTooManyConnections || time.Now().After(deadline) {
			t.Fatalf("connect: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServerLoginFloodCannotLockOut opens more connections that never log
// in than the server lets log in at once. The server closes the oldest of
// them, so a real client still logs in.
func TestServerLoginFloodCannotLockOut(t *testing.T) {
	if testing.Short() {
		t.Skip("opens over a thousand connections")
	}
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{MaxConnections: 3})
	for range 1100 {
		dialRaw(t, server.address)
	}
	var n int
	if err := openDB(t, server.config()).QueryRow("SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("login after a flood of clients that never log in: %d, %v; want 1", n, err)
	}
}

// TestServerLogRedactsParams fails a prepared statement on a bound secret
// and checks that neither the log's query nor its error holds it.
func TestServerLogRedactsParams(t *testing.T) {
	var logged livetest.Buffer
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{
		Logger: slog.New(slog.NewTextHandler(&logged, nil)),
	})
	db := openDB(t, server.config())
	const secret = "boundsecret1("
	_, err := db.Exec("SELECT REGEXP_LIKE(name, ?) FROM processes", secret)
	if err == nil {
		t.Fatal("an invalid pattern in a parameter succeeded, want an error")
	}
	_, err = db.Exec("SELECT REGEXP_LIKE('a', 'it''s hunter3(')")
	if err == nil {
		t.Fatal("an invalid pattern in a literal succeeded, want an error")
	}
	text := logged.String()
	if !strings.Contains(text, "query failed") {
		t.Fatalf("log has no failed query:\n%s", text)
	}
	for _, leaked := range []string{secret, "hunter3"} {
		if strings.Contains(text, leaked) {
			t.Errorf("log contains %q:\n%s", leaked, text)
		}
	}
}

// TestServerKillQueryWithPassword stops a running query from a second
// connection, as Ctrl-C in the mysql client does, with authentication on.
func TestServerKillQueryWithPassword(t *testing.T) {
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{Password: "pw"})
	cfg := server.config()
	cfg.Passwd = "pw"
	db := openDB(t, cfg)
	conn := pinConn(t, db)
	var id int
	if err := conn.QueryRowContext(context.Background(), "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := conn.ExecContext(context.Background(), "SELECT SLEEP(20)")
		done <- err
	}()
	waitForQuery(t, db, "SELECT SLEEP(20)")
	if _, err := db.Exec("KILL QUERY " + strconv.Itoa(id)); err != nil {
		t.Fatalf("KILL QUERY %d: %v", id, err)
	}
	select {
	case <-done:
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("killed query returned after %s, want well before its 20 s", took)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the killed query still ran 15 s later")
	}
}
