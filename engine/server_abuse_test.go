package engine_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/internal/livetest"
)

// MySQL error numbers of failed statements.
const (
	errParse            = 1064 // ER_PARSE_ERROR
	errQueryInterrupted = 1317 // ER_QUERY_INTERRUPTED
)

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
	// vitess parses a statement to prepare before the handler receives it, and
	// logs the parser's error, which quotes the statement.
	_, err = db.Exec("SELECT ? 'hunter5secret' hunter6secret FROM", 1)
	if err == nil {
		t.Fatal("preparing a statement that does not parse succeeded, want an error")
	}
	text := logged.String()
	if !strings.Contains(text, "query failed") {
		t.Fatalf("log has no failed query:\n%s", text)
	}
	if !strings.Contains(text, "Error while parsing prepared statement") {
		t.Errorf("log has no line about the prepared statement that does not parse:\n%s", text)
	}
	for _, leaked := range []string{secret, "hunter3", "hunter5", "hunter6"} {
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
	case err := <-done:
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("killed query returned after %s, want well before its 20 s", took)
		}
		wantError(t, "killed query", err, errQueryInterrupted)
		if err != nil && !strings.Contains(err.Error(), "KILL QUERY") {
			t.Errorf("killed query: error %q does not name KILL QUERY", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the killed query still ran 15 s later")
	}
}

// TestServerMemoryGuardCancelsSort sorts a cross join of about 3.6 billion
// rows. The sort holds every row before it returns one, so neither result
// limit applies. The memory guard must cancel it with error 1041 long
// before the query timeout, and the connection must stay usable.
func TestServerMemoryGuardCancelsSort(t *testing.T) {
	const limit = 128 << 20
	server := startServer(t, treeSource(t, manyFDsTree(t, 1500)), engine.ServerConfig{
		MaxResultBytes: 16 << 20,
		MaxMemoryBytes: limit,
		QueryTimeout:   3 * time.Minute,
	})
	cfg := server.config()
	cfg.ReadTimeout = 3 * time.Minute
	conn := pinConn(t, openDB(t, cfg))
	ctx := context.Background()

	peak := startPeakHeap(t)
	start := time.Now()
	_, err := conn.QueryContext(ctx, "SELECT a.path, b.path FROM fds a, fds b, fds c ORDER BY a.path, b.path, c.path")
	took := time.Since(start)
	heap := peak.stop()
	wantError(t, "ORDER BY over a cross join of 3.6 billion rows", err, errOutOfResources)
	if err != nil && strings.Contains(err.Error(), "ran longest") {
		t.Errorf("error %q claims the statement ran longest, which is not true when an older statement was canceled first", err)
	}
	if took > 2*time.Minute {
		t.Errorf("the sort was canceled after %s, want well before the 3-minute query timeout", took)
	}
	if heap > 3*limit {
		t.Errorf("heap peaked at %d MiB, want under %d MiB, three times the memory limit", heap>>20, 3*limit>>20)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM processes").Scan(&n); err != nil || n != 14 {
		t.Errorf("SELECT COUNT(*) FROM processes after the cancellation = %d, %v; want 14", n, err)
	}
}

// TestServerCancelsQueryOfClosedClient closes a client's connection while
// its statement runs. The server must end the statement, which
// go-mysql-server does only for a bare *net.TCPConn.
func TestServerCancelsQueryOfClosedClient(t *testing.T) {
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{Password: protocolPassword})
	cfg := server.config()
	cfg.Passwd = protocolPassword
	observer := openDB(t, cfg)

	client := loggedInRaw(t, server.address)
	const query = "SELECT SLEEP(30)"
	if err := client.writePacket(0, append([]byte{comQuery}, query...)); err != nil {
		t.Fatal(err)
	}
	waitForQuery(t, observer, query)
	client.conn.Close()

	deadline := time.Now().Add(10 * time.Second)
	for slices.Contains(queryColumn(t, observer, "Info", "SHOW PROCESSLIST"), query) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still ran 10 s after its client closed the connection", query)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServerRateLimitsRejectionLogs repeats rejected logins and clients
// over the connection limit in a loop. Each kind of rejection must log one
// line per 10 s, and a valid client must still log in.
func TestServerRateLimitsRejectionLogs(t *testing.T) {
	var logged livetest.Buffer
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{
		Password:       protocolPassword,
		MaxConnections: 1,
		Logger:         slog.New(slog.NewTextHandler(&logged, nil)),
	})
	good := server.config()
	good.Passwd = protocolPassword
	bad := server.config()
	bad.Passwd = "wrong"

	start := time.Now()
	holder := pinConn(t, openDB(t, good))
	for range 30 {
		_, err := openDB(t, good).Conn(context.Background())
		wantError(t, "login over the connection limit", err, errTooManyConnections)
	}
	for range 30 {
		err := openDB(t, bad).Ping()
		wantError(t, "login with a wrong password", err, errAccessDenied)
	}
	elapsed := time.Since(start)
	var n int
	if err := holder.QueryRowContext(context.Background(), "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Errorf("SELECT 1 on the client holding the only slot: %d, %v; want 1", n, err)
	}

	text := logged.String()
	if elapsed >= 10*time.Second {
		t.Skipf("the loops took %s, longer than the 10 s log interval", elapsed)
	}
	for _, message := range []string{`msg="login rejected"`, `msg="login rejected: too many clients"`} {
		if count := strings.Count(text, message+" "); count != 1 {
			t.Errorf("log has %d lines with %s after 30 rejections, want 1:\n%s", count, message, text)
		}
	}
	if strings.Contains(text, `error="Too many connections`) {
		t.Errorf("a login over the connection limit was logged as a failed login too, want one line for it:\n%s", text)
	}
}

// TestServerUnreadResultsKeepServing has clients send queries with large
// results and never read them. The server holds each result until its write
// times out, and must keep serving other clients, and come back under its
// memory limit.
func TestServerUnreadResultsKeepServing(t *testing.T) {
	const limit = 512 << 20
	server := startServer(t, treeSource(t, cleanTree), engine.ServerConfig{
		Password:       protocolPassword,
		MaxResultBytes: 64 << 20,
		MaxMemoryBytes: limit,
	})
	cfg := server.config()
	cfg.Passwd = protocolPassword

	peak := startPeakHeap(t)
	// 37^3 rows of 1,000 bytes: about 50 MB each.
	const query = "SELECT REPEAT('x', 1000) FROM fds a, fds b, fds c"
	for range 8 {
		client := loggedInRaw(t, server.address)
		if err := client.writePacket(0, append([]byte{comQuery}, query...)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * time.Second)
	var n int
	if err := openDB(t, cfg).QueryRow("SELECT COUNT(*) FROM processes").Scan(&n); err != nil || n != 14 {
		t.Errorf("query while 8 clients leave 50 MB results unread: %d, %v; want 14", n, err)
	}
	if heap := peak.stop(); heap > 3*limit {
		t.Errorf("heap peaked at %d MiB, want under %d MiB, three times the memory limit", heap>>20, 3*limit>>20)
	}
	// The guard cancels one statement per second while the heap is over
	// the limit, so the heap may take a few seconds to settle. Two
	// collections free what sync.Pool keeps, such as go-mysql-server's
	// result buffers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		runtime.GC()
		var stats runtime.MemStats
		runtime.ReadMemStats(&stats)
		if stats.HeapAlloc <= limit {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("heap holds %d MiB 10 s after the clients stopped reading, want under the %d MiB memory limit", stats.HeapAlloc>>20, limit>>20)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
