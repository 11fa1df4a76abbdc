package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/internal/livetest"
	"github.com/procsql/procsql/queries"
	"github.com/procsql/procsql/source"
)

// The server tests talk to engine.Server through go-sql-driver/mysql, as
// any Go client would. Tests that read the live /proc run inside fresh
// namespaces (see internal/livetest), and the others serve a copied tree.

// MySQL error numbers the server returns.
const (
	errTooManyConnections = 1040 // ER_CON_COUNT_ERROR
	errAccessDenied       = 1045
	errServerShutdown     = 1053
	errTooBigSelect       = 1104
	errReadOnly           = 1290 // ER_OPTION_PREVENTS_STATEMENT
	errQueryTimeout       = 3024
	errTLSRequired        = 3159 // ER_SECURE_TRANSPORT_REQUIRED
)

// permissionDeniedTree is a copied tree with two processes, 1234 (postgres,
// whose exe cannot be read) and 5678 (bash).
const permissionDeniedTree = "../testdata/cases/29-permission-denied-other-user"

// testServer is a served engine and the address its clients dial.
type testServer struct {
	*engine.Server
	network string
	address string
	served  chan error // receives what Serve returns
}

// startServer serves src with the built-in hunts under cfg, listening on
// 127.0.0.1:0 unless cfg sets Listen. At cleanup it shuts the server down
// and checks that Serve returned nil.
func startServer(t *testing.T, src source.Source, cfg engine.ServerConfig) *testServer {
	t.Helper()
	eng, err := engine.New(src, engine.WithHunts(builtinHunts(t)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	instance, err := eng.NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer on %s: %v", cfg.Listen, err)
	}
	server := &testServer{Server: instance, network: instance.Addr().Network(), address: instance.Addr().String(), served: make(chan error, 1)}
	go func() { server.served <- instance.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := instance.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown at cleanup: %v", err)
		}
		server.waitServe(t)
	})
	return server
}

// waitServe checks that Serve has returned nil, waiting up to 10 seconds.
func (server *testServer) waitServe(t *testing.T) {
	t.Helper()
	select {
	case err, ok := <-server.served:
		if ok && err != nil {
			t.Errorf("Serve returned %v, want nil", err)
		}
		if ok {
			// A later wait then returns at once.
			close(server.served)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("Serve did not return within 10s of Shutdown")
	}
}

// config returns a client configuration for the server's default account,
// with timeouts that turn a hung server into a test failure.
func (server *testServer) config() *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.User = "procsql"
	cfg.Net = server.network
	cfg.Addr = server.address
	cfg.DBName = engine.DatabaseName
	cfg.ParseTime = true
	cfg.Timeout = 5 * time.Second
	cfg.ReadTimeout = 30 * time.Second
	cfg.WriteTimeout = 30 * time.Second
	cfg.Logger = &mysql.NopLogger{}
	return cfg
}

func openDB(t *testing.T, cfg *mysql.Config) *sql.DB {
	t.Helper()
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { db.Close() })
	return db
}

// pinConn returns one connection of db, so that statements share a session.
func pinConn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func builtinHunts(t *testing.T) []queries.Hunt {
	t.Helper()
	hunts, err := queries.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return hunts
}

func findHunt(t *testing.T, id string) queries.Hunt {
	t.Helper()
	for _, hunt := range builtinHunts(t) {
		if hunt.ID == id {
			return hunt
		}
	}
	t.Fatalf("no built-in hunt %s", id)
	return queries.Hunt{}
}

func treeSource(t *testing.T, dir string) source.Source {
	t.Helper()
	src, err := source.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// errorNumber returns the MySQL error number of err, or 0 when err is not a
// MySQL error packet.
func errorNumber(err error) uint16 {
	var mysqlError *mysql.MySQLError
	if errors.As(err, &mysqlError) {
		return mysqlError.Number
	}
	return 0
}

func wantError(t *testing.T, operation string, err error, number uint16) {
	t.Helper()
	if err == nil {
		t.Errorf("%s succeeded, want MySQL error %d", operation, number)
		return
	}
	if got := errorNumber(err); got != number {
		t.Errorf("%s: error %v (number %d), want MySQL error %d", operation, err, got, number)
	}
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryRows runs query and returns its rows as strings, NULL as "NULL".
func queryRows(t *testing.T, db querier, query string, args ...any) [][]string {
	t.Helper()
	_, rows := queryTable(t, db, query, args...)
	return rows
}

// shortStatement returns query cut to 200 bytes for a failure message,
// since some tests send statements of megabytes.
func shortStatement(query string) string {
	if len(query) <= 200 {
		return query
	}
	return fmt.Sprintf("%s... (%d bytes)", query[:200], len(query))
}

// queryTable runs query and returns its column names and its rows as
// strings, NULL as "NULL".
func queryTable(t *testing.T, db querier, query string, args ...any) ([]string, [][]string) {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", shortStatement(query), err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rows.Next() {
		values := make([]sql.NullString, len(columns))
		pointers := make([]any, len(columns))
		for i := range values {
			pointers[i] = &values[i]
		}
		if err := rows.Scan(pointers...); err != nil {
			t.Fatalf("%s: scan: %v", query, err)
		}
		row := make([]string, len(columns))
		for i, v := range values {
			row[i] = "NULL"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return columns, out
}

// queryColumn runs query and returns the named column of every row.
func queryColumn(t *testing.T, db querier, column, query string, args ...any) []string {
	t.Helper()
	columns, rows := queryTable(t, db, query, args...)
	index := slices.Index(columns, column)
	if index < 0 {
		t.Fatalf("%s: no column %s in %v", query, column, columns)
	}
	var out []string
	for _, row := range rows {
		out = append(out, row[index])
	}
	return out
}

// waitForQuery polls SHOW PROCESSLIST on observer until a statement with
// exactly text runs, so that a test acts only once a slow query started.
func waitForQuery(t *testing.T, observer querier, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if slices.Contains(queryColumn(t, observer, "Info", "SHOW PROCESSLIST"), text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %q did not show in SHOW PROCESSLIST within 10s", text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// commName returns the command name the kernel gives a process that runs
// path: its base name cut to 15 bytes.
func commName(path string) string {
	base := filepath.Base(path)
	return base[:min(15, len(base))]
}

func TestServerScansColumnTypes(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}
	dir := t.TempDir()
	args := []string{"first arg", "", "--mode=x"}
	child := livetest.StartChild(t, "server", dir, args, []string{"SERVER_TEST=1"})
	pid := child.Cmd.Process.Pid
	report := child.Report
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	server := startServer(t, treeSource(t, "/proc"), engine.ServerConfig{})

	// Interpolated parameters go through the text protocol, prepared ones
	// through the binary protocol, which encodes each type differently.
	for _, protocol := range []struct {
		name        string
		interpolate bool
	}{{"text", true}, {"binary", false}} {
		t.Run(protocol.name, func(t *testing.T) {
			cfg := server.config()
			cfg.InterpolateParams = protocol.interpolate
			db := openDB(t, cfg)

			var (
				gotPID, gotPPID int64
				name            string
				uid             uint32
				startTime       time.Time
				startText       string
				exeDeleted      bool
				argvJSON        []byte
				cmdlineRaw      []byte
			)
			err := db.QueryRow("SELECT pid, ppid, name, uid, start_time, CAST(start_time AS CHAR), exe_deleted, argv, cmdline_raw FROM processes WHERE pid = ?", pid).
				Scan(&gotPID, &gotPPID, &name, &uid, &startTime, &startText, &exeDeleted, &argvJSON, &cmdlineRaw)
			if err != nil {
				t.Fatalf("processes row of child %d: %v", pid, err)
			}
			if gotPID != int64(pid) {
				t.Errorf("pid = %d, want %d", gotPID, pid)
			}
			if gotPPID != int64(os.Getpid()) {
				t.Errorf("ppid = %d, want the test's pid %d", gotPPID, os.Getpid())
			}
			if want := commName(self); name != want {
				t.Errorf("name = %q, want %q", name, want)
			}
			if uid != 0 {
				t.Errorf("uid = %d, want 0", uid)
			}

			wantStart, err := time.Parse("2006-01-02 15:04:05.999999", startText)
			if err != nil {
				t.Fatalf("CAST(start_time AS CHAR) = %q: %v", startText, err)
			}
			if !startTime.Equal(wantStart) {
				t.Errorf("start_time scans as %v, want %v as the server prints it", startTime, wantStart)
			}
			if startTime.Location() != time.UTC {
				t.Errorf("start_time location = %v, want UTC", startTime.Location())
			}
			if age := time.Since(startTime); age < -time.Second || age > time.Minute {
				t.Errorf("start_time %v is %v before now, want the child's start within the last minute", startTime, age)
			}
			if exeDeleted {
				t.Errorf("exe_deleted = true, want false for the test binary")
			}

			wantArgv := append([]string{os.Args[0]}, args...)
			var argv []string
			if err := json.Unmarshal(argvJSON, &argv); err != nil {
				t.Errorf("argv %q is not a JSON array of strings: %v", argvJSON, err)
			} else if !slices.Equal(argv, wantArgv) {
				t.Errorf("argv = %q, want %q", argv, wantArgv)
			}
			if want := strings.Join(wantArgv, "\x00") + "\x00"; string(cmdlineRaw) != want {
				t.Errorf("cmdline_raw = %q, want %q", cmdlineRaw, want)
			}

			var (
				deleted bool
				path    sql.NullString
				size    sql.NullInt64
				inode   uint64
			)
			if err := db.QueryRow("SELECT deleted, path, size_bytes FROM fds WHERE pid = ? AND fd = ?", pid, report.FileFD).Scan(&deleted, &path, &size); err != nil {
				t.Fatalf("fds row of the deleted file: %v", err)
			}
			if !deleted {
				t.Errorf("fds.deleted = false for the deleted file, want true")
			}
			if want := filepath.Join(dir, "evidence file.txt"); path != (sql.NullString{String: want, Valid: true}) {
				t.Errorf("fds.path = %+v, want %q", path, want)
			}
			if size != (sql.NullInt64{Int64: 10, Valid: true}) {
				t.Errorf("fds.size_bytes = %+v, want 10", size)
			}
			if err := db.QueryRow("SELECT deleted FROM fds WHERE pid = ? AND fd = ?", pid, report.KeptFD).Scan(&deleted); err != nil {
				t.Fatalf("fds row of the kept file: %v", err)
			}
			if deleted {
				t.Errorf("fds.deleted = true for the kept file, want false")
			}
			if err := db.QueryRow("SELECT path, size_bytes, inode FROM fds WHERE pid = ? AND fd = ?", pid, report.PipeRead).Scan(&path, &size, &inode); err != nil {
				t.Fatalf("fds row of the pipe: %v", err)
			}
			if path.Valid {
				t.Errorf("fds.path of a pipe = %q, want NULL", path.String)
			}
			if size.Valid {
				t.Errorf("fds.size_bytes of a pipe = %d, want NULL", size.Int64)
			}
			if inode != report.PipeInode {
				t.Errorf("fds.inode of the pipe = %d, want %d", inode, report.PipeInode)
			}

			var localPort, remotePort uint16
			var state string
			if err := db.QueryRow("SELECT local_port, remote_port, inode, state FROM sockets WHERE inode = ?", report.ListenInode).Scan(&localPort, &remotePort, &inode, &state); err != nil {
				t.Fatalf("sockets row of the listener: %v", err)
			}
			if int(localPort) != report.Port || remotePort != 0 || inode != report.ListenInode || state != "LISTEN" {
				t.Errorf("listener = port %d, remote port %d, inode %d, %s; want port %d, remote port 0, inode %d, LISTEN",
					localPort, remotePort, inode, state, report.Port, report.ListenInode)
			}

			// [vsyscall] lies above 2^63 on x86_64 kernels that map it, so
			// its start does not fit a signed 64-bit integer.
			var start, end, sizeBytes uint64
			var startHex, endHex string
			err = db.QueryRow("SELECT start, end, size_bytes, HEX(start), HEX(end) FROM maps WHERE pid = ? AND pseudo = '[vsyscall]'", pid).
				Scan(&start, &end, &sizeBytes, &startHex, &endHex)
			if errors.Is(err, sql.ErrNoRows) {
				t.Logf("no [vsyscall] mapping on this kernel: checking the highest mapping, which may lie below 2^63")
				err = db.QueryRow("SELECT start, end, size_bytes, HEX(start), HEX(end) FROM maps WHERE pid = ? ORDER BY start DESC LIMIT 1", pid).
					Scan(&start, &end, &sizeBytes, &startHex, &endHex)
			} else if err == nil && start < 1<<63 {
				t.Errorf("[vsyscall] start = %#x, want an address of 2^63 or more", start)
			}
			if err != nil {
				t.Fatalf("maps row: %v", err)
			}
			if want, err := strconv.ParseUint(startHex, 16, 64); err != nil || start != want {
				t.Errorf("maps.start scans as %#x, want HEX(start) = %s", start, startHex)
			}
			if want, err := strconv.ParseUint(endHex, 16, 64); err != nil || end != want {
				t.Errorf("maps.end scans as %#x, want HEX(end) = %s", end, endHex)
			}
			if sizeBytes != end-start {
				t.Errorf("maps.size_bytes = %d, want end - start = %d", sizeBytes, end-start)
			}
		})
	}
}

func TestServerPreparedStatements(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}
	child := livetest.StartChild(t, "server", t.TempDir(), nil, nil)
	pid := child.Cmd.Process.Pid
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	server := startServer(t, treeSource(t, "/proc"), engine.ServerConfig{})
	db := openDB(t, server.config())
	conn := pinConn(t, db)
	ctx := context.Background()

	lookup, err := conn.PrepareContext(ctx, "SELECT name FROM processes WHERE pid = ?")
	if err != nil {
		t.Fatalf("prepare lookup: %v", err)
	}
	defer lookup.Close()
	for i := range 3 {
		var name string
		if err := lookup.QueryRow(pid).Scan(&name); err != nil {
			t.Fatalf("execution %d of the lookup: %v", i, err)
		}
		if want := commName(self); name != want {
			t.Errorf("execution %d: name = %q, want %q", i, name, want)
		}
	}
	var name string
	if err := lookup.QueryRow(4194304).Scan(&name); !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("lookup of a pid above pid_max: %v (name %q), want no rows", err, name)
	}

	pair, err := conn.PrepareContext(ctx, "SELECT pid FROM processes WHERE pid = ? AND ppid = ?")
	if err != nil {
		t.Fatalf("prepare two-parameter lookup: %v", err)
	}
	defer pair.Close()
	var got int
	if err := pair.QueryRow(pid, os.Getpid()).Scan(&got); err != nil || got != pid {
		t.Errorf("pid = %d AND ppid = %d: pid %d (%v), want %d", pid, os.Getpid(), got, err, pid)
	}
	if err := pair.QueryRow(pid, pid).Scan(&got); !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("pid = %d AND ppid = %d: %v, want no rows", pid, pid, err)
	}

	_, err = conn.PrepareContext(ctx, "INSERT INTO processes (pid) VALUES (?)")
	wantError(t, "prepare INSERT", err, errReadOnly)
	if err := lookup.QueryRow(pid).Scan(&name); err != nil {
		t.Errorf("lookup after the rejected prepare: %v", err)
	}
}

func TestServerRejectsWrites(t *testing.T) {
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{})
	db := openDB(t, server.config())
	conn := pinConn(t, db)
	ctx := context.Background()
	globalLimit := func() string {
		t.Helper()
		return queryRows(t, conn, "SELECT @@GLOBAL.sql_select_limit")[0][0]
	}
	before := globalLimit()
	outfile := filepath.Join(t.TempDir(), "out.txt")

	for _, statement := range []string{
		"INSERT INTO processes (pid) VALUES (1)",
		"UPDATE processes SET name = 'x'",
		"DELETE FROM processes",
		"CREATE TABLE notes (a INT)",
		"DROP TABLE processes",
		"CREATE USER mallory IDENTIFIED BY 'x'",
		"GRANT ALL ON *.* TO procsql",
		"SET GLOBAL sql_select_limit = 1",
		"SET @@GLOBAL.sql_select_limit = 1",
		"SET SESSION sql_select_limit = 5, GLOBAL sql_select_limit = 1",
		"SET PERSIST sql_select_limit = 1",
		"SET PERSIST_ONLY sql_select_limit = 1",
		"SELECT pid FROM processes INTO OUTFILE '" + outfile + "'",
		"SELECT pid FROM processes INTO DUMPFILE '" + outfile + "'",
		"SELECT LOAD_FILE('/etc/passwd')",
	} {
		_, err := conn.ExecContext(ctx, statement)
		wantError(t, statement, err, errReadOnly)
	}

	// A multi-statement query must not slip a write in after a read.
	cfg := server.config()
	cfg.MultiStatements = true
	multi := pinConn(t, openDB(t, cfg))
	_, err := multi.ExecContext(ctx, "SELECT 1; SET GLOBAL sql_select_limit = 1")
	wantError(t, "SET GLOBAL after SELECT in one query", err, errReadOnly)

	if after := globalLimit(); after != before {
		t.Errorf("@@GLOBAL.sql_select_limit = %s after the rejected statements, want %s", after, before)
	}
	if _, err := os.Stat(outfile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("SELECT ... INTO OUTFILE created %s (stat: %v)", outfile, err)
	}
	if rows := queryRows(t, conn, "SELECT COUNT(*) FROM processes"); rows[0][0] != "2" {
		t.Errorf("process count after the rejected statements = %s, want 2", rows[0][0])
	}
}

func TestServerQueryTimeout(t *testing.T) {
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{QueryTimeout: 300 * time.Millisecond})
	db := openDB(t, server.config())
	conn := pinConn(t, db)
	ctx := context.Background()

	// 33^5, about 39 million rows. The 4-way join of 1.2 million rows took
	// 4 s on a 2-CPU test machine, so this one exceeds 300 ms by far.
	const slow = "SELECT COUNT(*) FROM hunts a, hunts b, hunts c, hunts d, hunts e"
	var n int64
	err := conn.QueryRowContext(ctx, slow).Scan(&n)
	wantError(t, "cross join of five hunts tables", err, errQueryTimeout)
	if err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Errorf("SELECT 1 after the timeout: %d, %v; want 1", n, err)
	}

	err = conn.QueryRowContext(ctx, slow+" WHERE a.id <> ?", "none").Scan(&n)
	wantError(t, "prepared cross join of five hunts tables", err, errQueryTimeout)
	if err := conn.QueryRowContext(ctx, "SELECT pid FROM processes WHERE pid = ?", 5678).Scan(&n); err != nil || n != 5678 {
		t.Errorf("prepared lookup after the timeout: %d, %v; want 5678", n, err)
	}
}

func TestServerMaxRows(t *testing.T) {
	hunts := builtinHunts(t)
	if len(hunts) <= 5 {
		t.Fatalf("%d built-in hunts, want more than the limit of 5", len(hunts))
	}
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{MaxRows: 5})
	db := openDB(t, server.config())
	conn := pinConn(t, db)
	ctx := context.Background()

	_, err := conn.QueryContext(ctx, "SELECT * FROM hunts")
	wantError(t, "SELECT * FROM hunts", err, errTooBigSelect)
	if rows := queryRows(t, conn, "SELECT id FROM hunts LIMIT 5"); len(rows) != 5 {
		t.Errorf("LIMIT 5 returned %d rows, want 5", len(rows))
	}
	_, err = conn.QueryContext(ctx, "SELECT id FROM hunts LIMIT 6")
	wantError(t, "LIMIT 6", err, errTooBigSelect)
	_, err = conn.QueryContext(ctx, "SELECT id FROM hunts WHERE severity <> ?", "none")
	wantError(t, "prepared SELECT of every hunt", err, errTooBigSelect)
	if rows := queryRows(t, conn, "SELECT COUNT(*) FROM hunts"); rows[0][0] != strconv.Itoa(len(hunts)) {
		t.Errorf("COUNT(*) FROM hunts = %s, want %d", rows[0][0], len(hunts))
	}
}

func TestServerMaxConnections(t *testing.T) {
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{MaxConnections: 2})
	ctx := context.Background()
	// Each client is its own pool, so closing the pool closes its
	// connection instead of keeping it idle.
	connect := func() (*sql.DB, *sql.Conn, error) {
		db := openDB(t, server.config())
		conn, err := db.Conn(ctx)
		return db, conn, err
	}
	ping := func(description string, conn *sql.Conn) {
		t.Helper()
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
			t.Errorf("SELECT 1 on %s: %d, %v; want 1", description, n, err)
		}
	}

	firstDB, first, err := connect()
	if err != nil {
		t.Fatalf("first connection: %v", err)
	}
	_, second, err := connect()
	if err != nil {
		t.Fatalf("second connection: %v", err)
	}
	defer second.Close()
	_, _, err = connect()
	wantError(t, "third connection", err, errTooManyConnections)
	ping("the first connection", first)
	ping("the second connection", second)

	first.Close()
	firstDB.Close()
	// The server frees the slot once it reads the end of the closed
	// connection, which may take a moment.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, next, err := connect()
		if err == nil {
			ping("the connection after one closed", next)
			next.Close()
			break
		}
		if errorNumber(err) != errTooManyConnections || time.Now().After(deadline) {
			t.Fatalf("connection after closing one: %v, want success within 10s", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ping("the second connection", second)
}

// TestServerStalledLoginsKeepNoSlots opens clients that read the greeting
// and never log in. Without a deadline on the login they would hold the
// connection slots, and so lock out every other client, for as long as
// they stay connected.
func TestServerStalledLoginsKeepNoSlots(t *testing.T) {
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{MaxConnections: 2})
	for range 2 {
		stalled := dialRaw(t, server.address)
		if greeting, err := stalled.readPacket(); err != nil || len(greeting) == 0 || greeting[0] != 10 {
			t.Fatalf("stalled client: greeting %q, %v; want a protocol 10 greeting", greeting, err)
		}
	}

	deadline := time.Now().Add(3 * time.Second)
	for {
		var n int
		err := openDB(t, server.config()).QueryRow("SELECT 1").Scan(&n)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client locked out for 3s by two clients that never logged in: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServerSurvivesAcceptError runs out of file descriptors while a client
// waits to be accepted. The accept fails with EMFILE, a temporary error, and
// the server must keep serving rather than end Serve as if shut down.
func TestServerSurvivesAcceptError(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}
	// The descriptor limit applies to this process only, which runs no
	// other test inside the namespaces.
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{})
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	lowered := limit
	lowered.Cur = uint64(len(fds) + 16)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
				t.Errorf("restore the descriptor limit: %v", err)
			}
		}
	}
	t.Cleanup(restore)

	// Fill every free descriptor, then free one for the client's socket,
	// so that the server's accept of that client finds none.
	var fillers []*os.File
	closeFillers := func() {
		for _, f := range fillers {
			f.Close()
		}
		fillers = nil
	}
	t.Cleanup(closeFillers)
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				t.Fatalf("open %s: %v, want EMFILE once the descriptors run out", os.DevNull, err)
			}
			break
		}
		fillers = append(fillers, f)
	}
	fillers[len(fillers)-1].Close()
	fillers = fillers[:len(fillers)-1]
	waiting, err := net.DialTimeout("tcp", server.address, time.Second)
	if err != nil {
		t.Fatalf("dial with one free descriptor: %v", err)
	}
	defer waiting.Close()

	select {
	case err := <-server.served:
		close(server.served)
		t.Errorf("Serve returned %v while the server ran out of descriptors, want it to keep serving until Shutdown", err)
	case <-time.After(500 * time.Millisecond):
	}

	closeFillers()
	restore()
	cfg := server.config()
	cfg.ReadTimeout = 3 * time.Second
	var n int
	if err := openDB(t, cfg).QueryRow("SELECT COUNT(*) FROM processes").Scan(&n); err != nil || n != 2 {
		t.Errorf("query once descriptors are free again: %d, %v; want 2", n, err)
	}
}

func TestServerPassword(t *testing.T) {
	const password = "correct horse battery"
	var logs livetest.Buffer
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{
		User:     "auditor",
		Password: password,
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	login := func(user, password string) error {
		cfg := server.config()
		cfg.User, cfg.Passwd = user, password
		db := openDB(t, cfg)
		var current string
		err := db.QueryRow("SELECT CURRENT_USER()").Scan(&current)
		if err == nil && current != user+"@%" {
			t.Errorf("CURRENT_USER() = %q, want %q", current, user+"@%")
		}
		return err
	}

	if err := login("auditor", password); err != nil {
		t.Errorf("login with the right password: %v", err)
	}
	wantError(t, "login with a wrong password", login("auditor", "wrong"), errAccessDenied)
	wantError(t, "login with no password", login("auditor", ""), errAccessDenied)
	wantError(t, "login as an unknown user", login("mallory", password), errAccessDenied)
	wantError(t, "login as the default user procsql", login("procsql", password), errAccessDenied)

	// Rejected logins log one line per 10 seconds, so only the first shows.
	text := logs.String()
	if !strings.Contains(text, `msg="login rejected"`) || !strings.Contains(text, "user=auditor") {
		t.Errorf("log does not record the rejected login of auditor:\n%s", text)
	}
	if strings.Contains(text, password) {
		t.Errorf("log contains the password:\n%s", text)
	}
}

func TestServerRejectsOpenListenWithoutPassword(t *testing.T) {
	eng, err := engine.New(treeSource(t, permissionDeniedTree))
	if err != nil {
		t.Fatal(err)
	}
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		srv, err := eng.NewServer(engine.ServerConfig{Listen: listen})
		if err == nil {
			srv.Shutdown(context.Background())
			t.Errorf("NewServer on %s without a password succeeded, want an error", listen)
			continue
		}
		if !strings.Contains(err.Error(), "PROCSQL_PASSWORD") {
			t.Errorf("NewServer on %s: error %q does not name PROCSQL_PASSWORD", listen, err)
		}
	}
}

// TestServerListensOnAnyAddressWithPassword runs in a fresh network
// namespace, whose only interface is lo, so the wildcard listener is
// reachable from nowhere else.
func TestServerListensOnAnyAddressWithPassword(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{Listen: "0.0.0.0:0", Password: "pw"})
	_, port, err := net.SplitHostPort(server.address)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.config()
	cfg.Addr = net.JoinHostPort("127.0.0.1", port)
	cfg.Passwd = "pw"
	var n int
	if err := openDB(t, cfg).QueryRow("SELECT COUNT(*) FROM processes").Scan(&n); err != nil || n != 2 {
		t.Errorf("query through the wildcard listener: %d, %v; want 2", n, err)
	}
}

func TestServerUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "procsql.sock")
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{Listen: path})
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Type() != os.ModeSocket {
		t.Errorf("%s has type %v, want a socket", path, info.Mode().Type())
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("socket mode = %#o, want 0600", perm)
	}
	if server.network != "unix" {
		t.Errorf("server address network = %q, want unix", server.network)
	}
	var n int
	if err := openDB(t, server.config()).QueryRow("SELECT COUNT(*) FROM processes").Scan(&n); err != nil || n != 2 {
		t.Errorf("query over the unix socket: %d, %v; want 2", n, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	// A socket file left behind would make the next start on the same path
	// fail with "the file exists".
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file after Shutdown: %v, want it removed", err)
	}
}

// selfSignedCertificate returns a certificate for 127.0.0.1 and its key.
func selfSignedCertificate(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "procsql test server"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestServerTLS(t *testing.T) {
	cert := selfSignedCertificate(t)
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)

	for _, password := range []string{"", "pw"} {
		t.Run("password "+strconv.Quote(password), func(t *testing.T) {
			server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{
				Password:   password,
				TLS:        &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
				RequireTLS: true,
			})
			var mu sync.Mutex
			var handshakes []tls.ConnectionState
			cfg := server.config()
			cfg.Passwd = password
			cfg.TLS = &tls.Config{
				RootCAs:    roots,
				ServerName: "127.0.0.1",
				VerifyConnection: func(state tls.ConnectionState) error {
					mu.Lock()
					handshakes = append(handshakes, state)
					mu.Unlock()
					return nil
				},
			}
			var n int
			if err := openDB(t, cfg).QueryRow("SELECT COUNT(*) FROM processes").Scan(&n); err != nil || n != 2 {
				t.Fatalf("query over TLS: %d, %v; want 2", n, err)
			}
			mu.Lock()
			if len(handshakes) == 0 {
				t.Errorf("the client completed no TLS handshake")
			}
			for _, state := range handshakes {
				if len(state.PeerCertificates) == 0 || !bytes.Equal(state.PeerCertificates[0].Raw, cert.Certificate[0]) {
					t.Errorf("TLS peer is not the server's certificate")
				}
				if state.Version < tls.VersionTLS12 {
					t.Errorf("TLS version %#x, want 1.2 or later", state.Version)
				}
			}
			mu.Unlock()

			plain := server.config()
			plain.Passwd = password
			plain.TLSConfig = "false"
			err := openDB(t, plain).QueryRow("SELECT 1").Scan(&n)
			wantError(t, "query without TLS", err, errTLSRequired)
		})
	}
}

// rawClient speaks just enough of the MySQL client protocol to log in with
// mysql_native_password, without TLS, and to read on after an error packet,
// as a hostile client may.
type rawClient struct {
	conn   net.Conn
	reader *bufio.Reader
}

func dialRaw(t *testing.T, address string) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", address, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{conn: conn, reader: bufio.NewReader(conn)}
}

func (c *rawClient) readPacket() ([]byte, error) {
	var header [4]byte
	if _, err := io.ReadFull(c.reader, header[:]); err != nil {
		return nil, err
	}
	payload := make([]byte, int(header[0])|int(header[1])<<8|int(header[2])<<16)
	_, err := io.ReadFull(c.reader, payload)
	return payload, err
}

func (c *rawClient) writePacket(sequence byte, payload []byte) error {
	header := []byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), sequence}
	_, err := c.conn.Write(append(header, payload...))
	return err
}

// greetingSalt returns the 20-byte authentication salt of a protocol 10
// server greeting.
func greetingSalt(greeting []byte) ([]byte, error) {
	if len(greeting) < 1 || greeting[0] != 10 {
		return nil, fmt.Errorf("greeting %q is not protocol version 10", greeting)
	}
	versionEnd := bytes.IndexByte(greeting[1:], 0)
	if versionEnd < 0 {
		return nil, fmt.Errorf("greeting %q has no end to the server version", greeting)
	}
	pos := 1 + versionEnd + 1 + 4 // server version and connection id
	// salt part 1, filler, capabilities (low), charset, status,
	// capabilities (high), salt length and 10 reserved bytes
	if len(greeting) < pos+8+1+2+1+2+2+1+10+12 {
		return nil, fmt.Errorf("greeting %q is too short", greeting)
	}
	salt := append([]byte(nil), greeting[pos:pos+8]...)
	pos += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10
	return append(salt, greeting[pos:pos+12]...), nil
}

// nativePasswordResponse is the mysql_native_password response:
// SHA1(password) XOR SHA1(salt + SHA1(SHA1(password))).
func nativePasswordResponse(salt []byte, password string) []byte {
	first := sha1.Sum([]byte(password))
	second := sha1.Sum(first[:])
	response := sha1.Sum(append(append([]byte(nil), salt...), second[:]...))
	for i := range response {
		response[i] ^= first[i]
	}
	return response[:]
}

// loginWithoutTLS reads the greeting, sends a plain-text handshake response
// and returns the server's reply.
func (c *rawClient) loginWithoutTLS(t *testing.T, user, password string) []byte {
	t.Helper()
	greeting, err := c.readPacket()
	if err != nil {
		t.Fatalf("read server greeting: %v", err)
	}
	salt, err := greetingSalt(greeting)
	if err != nil {
		t.Fatal(err)
	}

	// A HandshakeResponse41 without the CLIENT_SSL flag, so the connection
	// stays plain text.
	const (
		clientLongPassword     = 0x1
		clientProtocol41       = 0x200
		clientTransactions     = 0x2000
		clientSecureConnection = 0x8000
		clientPluginAuth       = 0x80000
	)
	response := binary.LittleEndian.AppendUint32(nil, clientLongPassword|clientProtocol41|clientTransactions|clientSecureConnection|clientPluginAuth)
	response = binary.LittleEndian.AppendUint32(response, 1<<24) // max packet size
	response = append(response, 33)                              // utf8_general_ci
	response = append(response, make([]byte, 23)...)
	response = append(append(response, user...), 0)
	auth := nativePasswordResponse(salt, password)
	response = append(append(response, byte(len(auth))), auth...)
	response = append(append(response, "mysql_native_password"...), 0)
	if err := c.writePacket(1, response); err != nil {
		t.Fatalf("send handshake response: %v", err)
	}

	reply, err := c.readPacket()
	if err != nil {
		t.Fatalf("read reply to the handshake response: %v", err)
	}
	return reply
}

func TestServerRequireTLSClosesPlainLogin(t *testing.T) {
	cert := selfSignedCertificate(t)
	const password = "pw"

	// The raw client logs in where TLS is optional, which shows that its
	// handshake is sound.
	optional := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{
		Password: password,
		TLS:      &tls.Config{Certificates: []tls.Certificate{cert}},
	})
	if reply := dialRaw(t, optional.address).loginWithoutTLS(t, "procsql", password); len(reply) == 0 || reply[0] != 0x00 {
		t.Fatalf("raw login where TLS is optional: reply %q, want an OK packet", reply)
	}

	required := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{
		Password:   password,
		TLS:        &tls.Config{Certificates: []tls.Certificate{cert}},
		RequireTLS: true,
	})
	client := dialRaw(t, required.address)
	reply := client.loginWithoutTLS(t, "procsql", password)
	if len(reply) < 3 || reply[0] != 0xff {
		t.Fatalf("plain-text login where TLS is required: reply %q, want an error packet", reply)
	}
	if number := binary.LittleEndian.Uint16(reply[1:3]); number != errTLSRequired {
		t.Errorf("plain-text login where TLS is required: error number %d, want %d", number, errTLSRequired)
	}
	// A client may ignore the error and read on. The server must have
	// closed the connection rather than finish the login.
	client.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	next, err := client.readPacket()
	switch {
	case err == nil:
		t.Errorf("after rejecting a plain-text login, the server sent packet %q, want the connection closed", next)
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Errorf("after rejecting a plain-text login, the server kept the connection open for 5s, want it closed")
	}
}

func TestServerHunts(t *testing.T) {
	hunt := findHunt(t, "deleted_executable")
	server := startServer(t, treeSource(t, "../testdata/hunts/deleted_executable/positive"), engine.ServerConfig{Password: "pw"})
	cfg := server.config()
	cfg.Passwd = "pw"
	db := openDB(t, cfg)

	var id, severity, text string
	var techniques sql.NullString
	if err := db.QueryRow("SELECT id, severity, techniques, `sql` FROM hunts WHERE id = 'deleted_executable'").Scan(&id, &severity, &techniques, &text); err != nil {
		t.Fatalf("hunts row: %v", err)
	}
	if id != hunt.ID {
		t.Errorf("id = %q, want %q", id, hunt.ID)
	}
	if severity != hunt.Severity {
		t.Errorf("severity = %q, want %q", severity, hunt.Severity)
	}
	if want := strings.Join(hunt.Techniques, ", "); techniques != (sql.NullString{String: want, Valid: true}) {
		t.Errorf("techniques = %+v, want %q", techniques, want)
	}
	if text != hunt.SQL {
		t.Errorf("sql = %q, want the hunt's SQL %q", text, hunt.SQL)
	}
	if got := queryRows(t, db, "SELECT COUNT(*) FROM hunts")[0][0]; got != strconv.Itoa(len(builtinHunts(t))) {
		t.Errorf("hunts has %s rows, want %d", got, len(builtinHunts(t)))
	}

	if got := queryColumn(t, db, "pid", "SELECT pid FROM hunt_deleted_executable"); !slices.Equal(got, []string{"4100"}) {
		t.Errorf("hunt_deleted_executable returns pids %v, want [4100]", got)
	}
}

func TestServerHuntViewLive(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}
	data, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(t.TempDir(), "sleep")
	if err := os.WriteFile(copied, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copied, "600")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.Dir = "/"
	// Start returns once execve succeeded, so the process runs the copy.
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if err := os.Remove(copied); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(data)

	server := startServer(t, treeSource(t, "/proc"), engine.ServerConfig{Password: "pw"})
	cfg := server.config()
	cfg.Passwd = "pw"
	rows := queryRows(t, openDB(t, cfg), "SELECT pid, exe, exe_sha256 FROM hunt_deleted_executable")
	want := [][]string{{strconv.Itoa(cmd.Process.Pid), copied, hex.EncodeToString(digest[:])}}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("hunt_deleted_executable returns %q, want %q", rows, want)
	}
}

func TestServerIntrospection(t *testing.T) {
	hunts := builtinHunts(t)
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{Password: "pw"})
	cfg := server.config()
	cfg.Passwd = "pw"
	db := openDB(t, cfg)

	// column returns the named column of one row of a SHOW result, found
	// by the value of its first column.
	column := func(t *testing.T, columns []string, rows [][]string, key, name string) string {
		t.Helper()
		index := slices.Index(columns, name)
		if index < 0 {
			t.Fatalf("no column %s in %v", name, columns)
		}
		for _, row := range rows {
			if row[0] == key {
				return row[index]
			}
		}
		t.Fatalf("no row %s in %q", key, rows)
		return ""
	}

	t.Run("version", func(t *testing.T) {
		rows := queryRows(t, db, "SELECT @@version, @@version_comment, DATABASE()")
		if want := []string{"8.0.31", "procsql", "procsql"}; !slices.Equal(rows[0], want) {
			t.Errorf("@@version, @@version_comment, DATABASE() = %q, want %q", rows[0], want)
		}
	})
	t.Run("SHOW DATABASES", func(t *testing.T) {
		names := queryColumn(t, db, "Database", "SHOW DATABASES")
		for _, want := range []string{"information_schema", "procsql"} {
			if !slices.Contains(names, want) {
				t.Errorf("SHOW DATABASES = %q, want %s among them", names, want)
			}
		}
	})
	t.Run("SHOW VARIABLES", func(t *testing.T) {
		columns, rows := queryTable(t, db, "SHOW VARIABLES")
		if got := column(t, columns, rows, "version_comment", "Value"); got != "procsql" {
			t.Errorf("SHOW VARIABLES: version_comment = %q, want procsql", got)
		}
	})
	t.Run("SHOW FULL TABLES", func(t *testing.T) {
		columns, rows := queryTable(t, db, "SHOW FULL TABLES")
		for name, want := range map[string]string{"processes": "BASE TABLE", "hunts": "BASE TABLE", "hunt_deleted_executable": "VIEW"} {
			if got := column(t, columns, rows, name, "Table_type"); got != want {
				t.Errorf("%s has type %q, want %q", name, got, want)
			}
		}
		views := 0
		for _, row := range rows {
			if row[1] == "VIEW" {
				views++
			}
		}
		if views != len(hunts) {
			t.Errorf("SHOW FULL TABLES lists %d views, want one per hunt, %d", views, len(hunts))
		}
	})
	t.Run("SHOW FULL COLUMNS", func(t *testing.T) {
		columns, rows := queryTable(t, db, "SHOW FULL COLUMNS FROM processes")
		if rows[0][0] != "pid" {
			t.Errorf("first column of processes = %q, want pid", rows[0][0])
		}
		for name, want := range map[string]string{"pid": "int", "start_time": "datetime(6)", "argv": "json", "cmdline_raw": "longblob", "vsize_bytes": "bigint unsigned"} {
			if got := column(t, columns, rows, name, "Type"); got != want {
				t.Errorf("processes.%s has type %q, want %q", name, got, want)
			}
		}
		if got := column(t, columns, rows, "pid", "Comment"); got != "process id" {
			t.Errorf("processes.pid comment = %q, want \"process id\"", got)
		}
	})
	t.Run("SHOW INDEX", func(t *testing.T) {
		if got := queryColumn(t, db, "Column_name", "SHOW INDEX FROM processes"); !slices.Contains(got, "pid") {
			t.Errorf("SHOW INDEX FROM processes lists columns %q, want pid among them", got)
		}
	})
	t.Run("SHOW TABLE STATUS", func(t *testing.T) {
		if got := queryColumn(t, db, "Name", "SHOW TABLE STATUS"); !slices.Contains(got, "processes") || !slices.Contains(got, "hunts") {
			t.Errorf("SHOW TABLE STATUS lists %q, want processes and hunts among them", got)
		}
	})
	t.Run("SHOW CREATE TABLE", func(t *testing.T) {
		rows := queryRows(t, db, "SHOW CREATE TABLE processes")
		if !strings.Contains(rows[0][1], "`pid` int") {
			t.Errorf("SHOW CREATE TABLE processes = %q, want a pid int column", rows[0][1])
		}
	})
	t.Run("SHOW CREATE VIEW", func(t *testing.T) {
		rows := queryRows(t, db, "SHOW CREATE VIEW hunt_deleted_executable")
		if !strings.Contains(rows[0][1], "exe_deleted") {
			t.Errorf("SHOW CREATE VIEW hunt_deleted_executable = %q, want the hunt's SELECT", rows[0][1])
		}
	})
	t.Run("SHOW GRANTS", func(t *testing.T) {
		rows := queryRows(t, db, "SHOW GRANTS")
		if len(rows) != 1 || !strings.HasPrefix(rows[0][0], "GRANT SELECT") {
			t.Errorf("SHOW GRANTS = %q, want one grant of SELECT first", rows)
		}
	})
	t.Run("SCHEMATA", func(t *testing.T) {
		got := queryColumn(t, db, "SCHEMA_NAME", "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'procsql'")
		if !slices.Equal(got, []string{"procsql"}) {
			t.Errorf("SCHEMATA = %q, want [procsql]", got)
		}
	})
	t.Run("TABLES", func(t *testing.T) {
		rows := queryRows(t, db, "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'procsql' AND TABLE_NAME IN ('processes', 'hunt_deleted_executable') ORDER BY TABLE_NAME")
		want := [][]string{{"hunt_deleted_executable", "VIEW"}, {"processes", "BASE TABLE"}}
		if !slices.EqualFunc(rows, want, slices.Equal) {
			t.Errorf("TABLES = %q, want %q", rows, want)
		}
	})
	t.Run("COLUMNS", func(t *testing.T) {
		rows := queryRows(t, db, "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'procsql' AND ((TABLE_NAME = 'processes' AND COLUMN_NAME = 'pid') OR (TABLE_NAME = 'maps' AND COLUMN_NAME = 'start')) ORDER BY TABLE_NAME")
		want := [][]string{{"maps", "start", "bigint unsigned"}, {"processes", "pid", "int"}}
		if !slices.EqualFunc(rows, want, slices.Equal) {
			t.Errorf("COLUMNS = %q, want %q", rows, want)
		}
	})
	t.Run("STATISTICS", func(t *testing.T) {
		got := queryColumn(t, db, "COLUMN_NAME", "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'procsql' AND TABLE_NAME = 'processes'")
		if !slices.Contains(got, "pid") {
			t.Errorf("STATISTICS for processes = %q, want pid among them", got)
		}
	})
	t.Run("ROUTINES", func(t *testing.T) {
		if rows := queryRows(t, db, "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'procsql'"); len(rows) != 0 {
			t.Errorf("ROUTINES = %q, want none", rows)
		}
	})
	t.Run("VIEWS", func(t *testing.T) {
		rows := queryRows(t, db, "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'procsql' ORDER BY TABLE_NAME")
		if len(rows) != len(hunts) {
			t.Errorf("VIEWS has %d rows, want one per hunt, %d", len(rows), len(hunts))
		}
		hunt := findHunt(t, "deleted_executable")
		found := false
		for _, row := range rows {
			if row[0] == "hunt_deleted_executable" {
				found = true
				if row[1] != hunt.SQL {
					t.Errorf("VIEW_DEFINITION of hunt_deleted_executable = %q, want the hunt's SQL %q", row[1], hunt.SQL)
				}
			}
		}
		if !found {
			t.Errorf("VIEWS lacks hunt_deleted_executable")
		}
	})
	t.Run("client setup statements", func(t *testing.T) {
		// Statements that GUI clients and connectors send after login.
		for _, query := range []string{
			"SET NAMES utf8mb4",
			"SET SESSION sql_mode = 'ANSI_QUOTES'",
			"SET autocommit = 1",
			"USE procsql",
			"SHOW SESSION STATUS",
			"SHOW CHARACTER SET",
			"SHOW COLLATION",
			"SHOW ENGINES",
			"SHOW PLUGINS",
			"SHOW PROCEDURE STATUS WHERE Db = 'procsql'",
			"SHOW FUNCTION STATUS WHERE Db = 'procsql'",
			"SHOW TRIGGERS",
			"SHOW EVENTS",
			"SHOW PROCESSLIST",
			"SELECT CONNECTION_ID(), @@sql_mode, @@lower_case_table_names, @@max_allowed_packet",
			"SELECT * FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = 'procsql'",
			"SELECT * FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'procsql'",
			"SELECT * FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'procsql'",
			"SELECT * FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'procsql'",
			"SELECT * FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = 'procsql'",
			"SELECT * FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'procsql'",
		} {
			rows, err := db.Query(query)
			if err != nil {
				t.Errorf("%s: %v", query, err)
				continue
			}
			for rows.Next() {
			}
			if err := rows.Err(); err != nil {
				t.Errorf("%s: %v", query, err)
			}
			rows.Close()
		}
	})
}

func TestServerConcurrentQueries(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}
	child := livetest.StartChild(t, "server", t.TempDir(), nil, nil)
	pid := child.Cmd.Process.Pid
	server := startServer(t, treeSource(t, "/proc"), engine.ServerConfig{QueryTimeout: 30 * time.Second})
	db := openDB(t, server.config())
	ctx := context.Background()

	t.Run("lookup during slow query", func(t *testing.T) {
		slow, fast := pinConn(t, db), pinConn(t, db)
		slowQuery := fmt.Sprintf("SELECT SLEEP(1), pid FROM processes WHERE pid = %d", pid)
		type result struct {
			pid int
			err error
		}
		done := make(chan result, 1)
		go func() {
			var r result
			var slept int
			r.err = slow.QueryRowContext(ctx, slowQuery).Scan(&slept, &r.pid)
			done <- r
		}()
		waitForQuery(t, fast, slowQuery)

		var got int
		if err := fast.QueryRowContext(ctx, "SELECT pid FROM processes WHERE pid = ?", pid).Scan(&got); err != nil || got != pid {
			t.Errorf("lookup during the slow query: %d, %v; want %d", got, err, pid)
		}
		select {
		case r := <-done:
			t.Errorf("slow query ended (%v) before the lookup returned, want the lookup to overtake it", r.err)
		default:
		}
		if r := <-done; r.err != nil || r.pid != pid {
			t.Errorf("slow query: pid %d, %v; want %d", r.pid, r.err, pid)
		}
	})

	t.Run("self-join agrees", func(t *testing.T) {
		// The shell renames itself between a and b as fast as it can, so
		// two reads of its stat would often disagree.
		shell := exec.Command("/bin/sh", "-c", "while :; do printf a > /proc/$$/comm; printf b > /proc/$$/comm; done")
		shell.Env = []string{"PATH=/usr/bin:/bin"}
		if err := shell.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			shell.Process.Kill()
			shell.Wait()
		})

		join, err := db.Prepare("SELECT a.name, b.name FROM processes a JOIN processes b ON a.pid = b.pid WHERE a.pid = ?")
		if err != nil {
			t.Fatal(err)
		}
		defer join.Close()

		// Loop until both names showed, at least 50 and at most 500 times.
		seen := map[string]bool{}
		for i := 0; i < 500 && (i < 50 || !seen["a"] || !seen["b"]); i++ {
			var a, b string
			if err := join.QueryRow(shell.Process.Pid).Scan(&a, &b); err != nil {
				t.Fatalf("self-join %d: %v", i, err)
			}
			if a != b {
				t.Errorf("self-join %d: names %q and %q, want one read of the process", i, a, b)
			}
			seen[a] = true
		}
		if !seen["a"] || !seen["b"] {
			t.Errorf("self-joins saw names %v, want both a and b, else the renaming shell did not run", seen)
		}
	})
}

func TestServerReadWarnings(t *testing.T) {
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{})
	conn := pinConn(t, openDB(t, server.config()))
	want := [][]string{{"Warning", "1105", "1 read of exe failed (EACCES), so the values from it are NULL or missing"}}

	rows := queryRows(t, conn, "SELECT pid, exe FROM processes WHERE pid = 1234")
	if !slices.EqualFunc(rows, [][]string{{"1234", "NULL"}}, slices.Equal) {
		t.Errorf("exe of pid 1234 = %q, want NULL", rows)
	}
	if got := queryRows(t, conn, "SHOW WARNINGS"); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("SHOW WARNINGS after a failed read = %q, want %q", got, want)
	}

	queryRows(t, conn, "SELECT pid FROM processes WHERE pid = 5678")
	if got := queryRows(t, conn, "SHOW WARNINGS"); len(got) != 0 {
		t.Errorf("SHOW WARNINGS after a clean query = %q, want none", got)
	}

	queryRows(t, conn, "SELECT exe FROM processes WHERE pid = ?", 1234)
	if got := queryRows(t, conn, "SHOW WARNINGS"); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("SHOW WARNINGS after a prepared query with a failed read = %q, want %q", got, want)
	}
}

// startSlowQuery runs query on its own connection and waits until the
// server runs it. The first channel receives the query's rows, the second
// its error.
func startSlowQuery(t *testing.T, db *sql.DB, query string) (<-chan [][]string, <-chan error) {
	t.Helper()
	slow, observer := pinConn(t, db), pinConn(t, db)
	rowsOut, errOut := make(chan [][]string, 1), make(chan error, 1)
	go func() {
		rows, err := slow.QueryContext(context.Background(), query)
		if err != nil {
			errOut <- err
			return
		}
		defer rows.Close()
		var out [][]string
		for rows.Next() {
			var slept, name string
			if err := rows.Scan(&slept, &name); err != nil {
				errOut <- err
				return
			}
			out = append(out, []string{slept, name})
		}
		if err := rows.Err(); err != nil {
			errOut <- err
			return
		}
		rowsOut <- out
	}()
	waitForQuery(t, observer, query)
	return rowsOut, errOut
}

func TestServerShutdownWaitsForQuery(t *testing.T) {
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{})
	db := openDB(t, server.config())
	idle := pinConn(t, db)
	rows, errs := startSlowQuery(t, db, "SELECT SLEEP(1), name FROM processes WHERE pid = 5678")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shutdown := make(chan error, 1)
	go func() { shutdown <- server.Shutdown(ctx) }()

	// The listener closes at once, while the query still runs. A client
	// that connected just before may see its connection reset.
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", server.address, time.Second)
		if err != nil {
			if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("connection attempt during shutdown: %v, want connection refused", err)
			}
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("server still accepts connections 5s into Shutdown")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var n int
	err := idle.QueryRowContext(context.Background(), "SELECT 1").Scan(&n)
	wantError(t, "new query on an open connection during the grace period", err, errServerShutdown)

	select {
	case got := <-rows:
		if want := [][]string{{"0", "bash"}}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("slow query returned %q, want %q", got, want)
		}
	case err := <-errs:
		t.Errorf("slow query failed during a long grace period: %v", err)
	}
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	server.waitServe(t)

	if _, err := net.DialTimeout("tcp", server.address, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("connection attempt after Shutdown: %v, want connection refused", err)
	}
	// Shutdown closes the connections that remain.
	err = idle.QueryRowContext(context.Background(), "SELECT 1").Scan(&n)
	if !errors.Is(err, driver.ErrBadConn) && !errors.Is(err, mysql.ErrInvalidConn) {
		t.Errorf("query on a connection after Shutdown: %v, want a closed connection", err)
	}
}

func TestServerShutdownCancelsQuery(t *testing.T) {
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{})
	db := openDB(t, server.config())
	rows, errs := startSlowQuery(t, db, "SELECT SLEEP(20), name FROM processes WHERE pid = 5678")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := server.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a short grace period = %v, want context.DeadlineExceeded", err)
	}
	select {
	case got := <-rows:
		t.Errorf("slow query returned %q after the grace period, want it canceled", got)
	case err := <-errs:
		if errorNumber(err) != errServerShutdown && !errors.Is(err, driver.ErrBadConn) && !errors.Is(err, mysql.ErrInvalidConn) {
			t.Errorf("canceled query: %v, want MySQL error %d or a closed connection", err, errServerShutdown)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("slow query still runs 10s after Shutdown returned")
	}
	server.waitServe(t)
}
