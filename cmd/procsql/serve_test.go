package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procsql/procsql/internal/livetest"
	"github.com/procsql/procsql/queries"
)

// The serve tests run procsql serve as its own process and query it with
// real MySQL clients: Debian's mariadb command-line client, and PyMySQL
// through testdata/clients/pymysql_check.py. The tests that serve the live
// /proc run inside fresh namespaces (see internal/livetest), and the others
// serve copied trees.

const (
	// requireClientsEnv set to 1 makes a missing client fail the test
	// instead of skipping it, as in CI.
	requireClientsEnv = "PROCSQL_REQUIRE_CLIENTS"
	// serveBinaryEnv passes the binary that TestServe built to the re-runs
	// of its subtests inside new namespaces, so it is built once.
	serveBinaryEnv = "PROCSQL_SERVE_TEST_BINARY"

	// debianPython is the interpreter that Debian's python3-pymysql
	// installs for. The python3 on PATH may be another one.
	debianPython  = "/usr/bin/python3"
	pymysqlScript = "../../testdata/clients/pymysql_check.py"

	deletedExecutableTree = "../../testdata/hunts/deleted_executable/positive"
)

// Bounds on waits that only end a hung test. None of them is a timing
// assertion: each is far longer than the step takes.
const (
	startBound  = 10 * time.Second // until the server logs that it listens
	clientBound = 30 * time.Second // for one client run
	exitBound   = 15 * time.Second // for the server to exit after SIGTERM
)

// anyUser logs in to a server that has no password, which accepts every
// user name.
var anyUser = clientLogin{user: "procsql"}

func TestServe(t *testing.T) {
	bin := serveBinary(t)

	t.Run("catalog", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		srv := startServer(t, bin, serverSetup{proc: deletedExecutableTree})

		databases := wantRows(t, srv.mariadb(anyUser, "SHOW DATABASES"))
		if !slices.Contains(column(databases, 0), "procsql") {
			t.Errorf("SHOW DATABASES = %q, want procsql among them", databases)
		}

		tables := column(wantRows(t, srv.mariadb(anyUser, "SHOW TABLES")), 0)
		want := []string{"processes", "fds", "environ", "hunts"}
		for _, hunt := range builtinHunts(t) {
			want = append(want, "hunt_"+hunt.ID)
		}
		for _, name := range want {
			if !slices.Contains(tables, name) {
				t.Errorf("SHOW TABLES lacks %s: %q", name, tables)
			}
		}

		fields := wantRows(t, srv.mariadb(anyUser, "DESCRIBE processes"))
		if got := fields[0]; len(got) < 3 || got[0] != "pid" || got[1] != "int" || got[2] != "NO" {
			t.Errorf("DESCRIBE processes row 1 = %q, want pid, int, NO first", got)
		}

		// The fixture tree is known to match the hunt with pid 4100 only.
		hits := wantRows(t, srv.mariadb(anyUser, "SELECT pid, name, exe, exe_sha256 FROM hunt_deleted_executable"))
		wantHit := [][]string{{"4100", "sysupdate", "/usr/local/bin/sysupdate", "175e7f1f0e9d5db3e10990ac8006eaec60392cafcb8acaece1a510990257ac90"}}
		if !slices.EqualFunc(hits, wantHit, slices.Equal) {
			t.Errorf("hunt_deleted_executable rows = %q, want %q", hits, wantHit)
		}
	})

	t.Run("live", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		requirePyMySQL(t)
		if !livetest.EnterNamespaces(t) {
			return
		}
		testServeLive(t, bin)
	})

	t.Run("read_only", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		srv := startServer(t, bin, serverSetup{proc: cleanTree})

		statements := []string{
			"DELETE FROM processes",
			"INSERT INTO processes (pid) VALUES (1)",
			"SET GLOBAL max_connections = 1",
			"ALTER USER procsql IDENTIFIED BY 'another'",
		}
		for _, statement := range statements {
			wantMariadbError(t, srv.mariadb(anyUser, statement), 1290)
			srv.wantServing(t, anyUser)
		}
	})

	t.Run("login", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		requirePyMySQL(t)
		const password = "procsql-test-login-secret"
		srv := startServer(t, bin, serverSetup{proc: cleanTree, password: password})
		account := clientLogin{user: "procsql", password: password}

		wantMariadbError(t, srv.mariadb(clientLogin{user: "procsql", password: "wrong"}, "SELECT 1"), 1045)
		srv.wantServing(t, account)
		wantMariadbError(t, srv.mariadb(clientLogin{user: "nobody", password: password}, "SELECT 1"), 1045)
		srv.wantServing(t, account)
		wantMariadbError(t, srv.mariadb(clientLogin{user: "procsql"}, "SELECT 1"), 1045)
		srv.wantServing(t, account)

		rejected := srv.pymysqlLogin(t, clientLogin{user: "procsql", password: "wrong"})
		if rejected.Error != "OperationalError" || rejected.Code != 1045 {
			t.Errorf("PyMySQL with a wrong password raised %s %d (%s), want OperationalError 1045", rejected.Error, rejected.Code, rejected.Message)
		}
		accepted := srv.pymysqlLogin(t, account)
		if accepted.Error != "" || !strings.HasPrefix(accepted.CurrentUser, "procsql@") {
			t.Errorf("PyMySQL with the password got CURRENT_USER() %q and error %s %d (%s), want procsql@ and no error",
				accepted.CurrentUser, accepted.Error, accepted.Code, accepted.Message)
		}
	})

	t.Run("user_from_environment", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		const password = "procsql-test-user-secret"
		srv := startServer(t, bin, serverSetup{proc: cleanTree, password: password, env: []string{userEnv + "=auditor"}})

		rows := wantRows(t, srv.mariadb(clientLogin{user: "auditor", password: password}, "SELECT CURRENT_USER()"))
		if got := rows[0][0]; !strings.HasPrefix(got, "auditor@") {
			t.Errorf("CURRENT_USER() = %q, want auditor@ and a host", got)
		}
		wantMariadbError(t, srv.mariadb(clientLogin{user: "procsql", password: password}, "SELECT 1"), 1045)
	})

	t.Run("password_kept_secret", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		requirePyMySQL(t)
		const password = "procsql-test-kept-secret"
		srv := startServer(t, bin, serverSetup{proc: cleanTree, password: password})
		account := clientLogin{user: "procsql", password: password}

		wantMariadbError(t, srv.mariadb(clientLogin{user: "procsql", password: password + "x"}, "SELECT 1"), 1045)
		srv.wantServing(t, account)
		srv.pymysqlLogin(t, clientLogin{user: "procsql", password: "x" + password})
		srv.pymysqlLogin(t, account)

		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", srv.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(cmdline, []byte(password)) {
			t.Errorf("server command line %q contains the password", cmdline)
		}

		srv.stop(t)
		if log := srv.log(); strings.Contains(log, password) {
			t.Errorf("server log contains the password:\n%s", log)
		}
	})

	t.Run("account_statement_not_logged", func(t *testing.T) {
		// The README states that passwords never appear in the log, and the
		// log line of a failed statement contains the statement's text.
		t.Parallel()
		requireMariadb(t)
		const password = "procsql-test-account-secret"
		const newPassword = "procsql-test-new-secret"
		srv := startServer(t, bin, serverSetup{proc: cleanTree, password: password})
		account := clientLogin{user: "procsql", password: password}

		wantMariadbError(t, srv.mariadb(account, "ALTER USER procsql IDENTIFIED BY '"+newPassword+"'"), 1290)
		wantMariadbError(t, srv.mariadb(account, "CREATE USER reader IDENTIFIED BY '"+newPassword+"'"), 1290)
		srv.stop(t)
		if log := srv.log(); strings.Contains(log, newPassword) {
			t.Errorf("server log contains the password of a rejected account statement:\n%s", log)
		}
	})

	t.Run("query_timeout", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		srv := startServer(t, bin, serverSetup{proc: cleanTree, flags: []string{"--query-timeout", "200ms"}})

		// The clean tree has 14 processes, so the cross join has 14^7 rows
		// and would run for minutes if the limit did not stop it.
		crossJoin := "SELECT COUNT(*) FROM processes a, processes b, processes c, processes d, processes e, processes f, processes g"
		wantMariadbError(t, srv.mariadb(anyUser, crossJoin), 3024)
		srv.wantServing(t, anyUser)
		wantMariadbError(t, srv.mariadb(anyUser, "SELECT SLEEP(60)"), 3024)
		srv.wantServing(t, anyUser)
	})

	t.Run("idle_timeout", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		srv := startServer(t, bin, serverSetup{proc: cleanTree, flags: []string{"--idle-timeout", "500ms"}})

		// mariadb reads its statements from a pipe. The second comes twice
		// the idle timeout after the first one's result, so the server
		// closes the connection in between.
		ctx, cancel := context.WithTimeout(context.Background(), clientBound)
		defer cancel()
		cmd := exec.CommandContext(ctx, "mariadb", "--no-defaults", "--host", "127.0.0.1", "--port", strconv.Itoa(srv.port),
			"--user", "procsql", "--batch", "--unbuffered", "--connect-timeout=10", "procsql")
		cmd.Env = slices.Clone(plainEnv)
		var stdout, stderr livetest.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		io.WriteString(stdin, "SELECT 1 AS first;\n")
		for !strings.Contains(stdout.String(), "first") && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Second)
		io.WriteString(stdin, "SELECT 2 AS second;\n")
		stdin.Close()
		r := mariadbResult{query: "SELECT 2 after 1s idle", err: cmd.Wait(), timedOut: ctx.Err() != nil}
		r.stdout, r.stderr = stdout.String(), stderr.String()
		if !strings.Contains(r.stdout, "first") {
			t.Errorf("mariadb printed %q, want the result of the first statement", r.stdout)
		}
		wantMariadbError(t, r, 4031)
		srv.wantServing(t, anyUser)
		if log := srv.log(); !strings.Contains(log, `msg="closed an idle connection"`) {
			t.Errorf("log has no line about the idle connection:\n%s", log)
		}
	})

	t.Run("max_rows", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		srv := startServer(t, bin, serverSetup{proc: cleanTree, flags: []string{"--max-rows", "5"}})

		wantMariadbError(t, srv.mariadb(anyUser, "SELECT * FROM hunts"), 1104)
		count := wantRows(t, srv.mariadb(anyUser, "SELECT COUNT(*) FROM hunts"))
		if want := strconv.Itoa(len(builtinHunts(t))); count[0][0] != want {
			t.Errorf("SELECT COUNT(*) FROM hunts = %q after the failed query, want %s", count, want)
		}
		if ids := wantRows(t, srv.mariadb(anyUser, "SELECT id FROM hunts ORDER BY id LIMIT 5")); len(ids) != 5 {
			t.Errorf("5 rows under --max-rows 5 returned %q, want 5 rows", ids)
		}
	})

	t.Run("max_connections", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		requirePyMySQL(t)
		srv := startServer(t, bin, serverSetup{proc: cleanTree, flags: []string{"--max-connections", "1"}})

		holder := srv.startPyMySQL(t, "hold", anyUser)
		var holdReport struct {
			Connected bool `json:"connected"`
		}
		holder.next(t, &holdReport)
		if !holdReport.Connected {
			t.Fatal("the holding client did not report its connection")
		}

		// The server checks the limit at the end of the login, so the client
		// gets error 1040 whether it uses TLS or not.
		wantMariadbError(t, srv.mariadb(anyUser, "SELECT 1", "--skip-ssl"), 1040)
		wantMariadbError(t, srv.mariadb(anyUser, "SELECT 1"), 1040)
		rejected := srv.pymysqlLogin(t, anyUser)
		if rejected.Error != "OperationalError" || rejected.Code != 1040 {
			t.Errorf("PyMySQL beyond the limit raised %s %d (%s), want OperationalError 1040", rejected.Error, rejected.Code, rejected.Message)
		}

		holder.closeInput(t)
		var valueReport struct {
			Value int `json:"value"`
		}
		holder.next(t, &valueReport)
		if valueReport.Value != 1 {
			t.Errorf("SELECT 1 on the holder's connection after the rejected logins returned %d, want 1", valueReport.Value)
		}
		holder.wait(t)

		// The server frees the slot once it has handled the holder's
		// disconnection, which may come after the holder exits.
		deadline := time.Now().Add(startBound)
		for {
			r := srv.mariadb(anyUser, "SELECT 1")
			if r.err == nil || r.errorCode() != 1040 || time.Now().After(deadline) {
				wantRows(t, r)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("unix_socket", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		requirePyMySQL(t)
		srv := startServer(t, bin, serverSetup{proc: cleanTree, socket: true})

		info, err := os.Stat(srv.socket)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("socket mode = %v, want 0600 so that only its owner connects", perm)
		}
		count := wantRows(t, srv.mariadb(anyUser, "SELECT COUNT(*) FROM hunts"))
		if want := strconv.Itoa(len(builtinHunts(t))); count[0][0] != want {
			t.Errorf("SELECT COUNT(*) FROM hunts over the socket = %q, want %s", count, want)
		}
		login := srv.pymysqlLogin(t, anyUser)
		if login.Error != "" || !strings.HasPrefix(login.CurrentUser, "procsql@") {
			t.Errorf("PyMySQL over the socket got CURRENT_USER() %q and error %s %d (%s), want procsql@ and no error",
				login.CurrentUser, login.Error, login.Code, login.Message)
		}
	})

	t.Run("logging", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		srv := startServer(t, bin, serverSetup{proc: cleanTree})
		auditor := clientLogin{user: "auditor"}

		wantRows(t, srv.mariadb(auditor, "SELECT 1"))
		wantMariadbError(t, srv.mariadb(auditor, "SELECT * FROM no_such_table"), 1146)
		wantMariadbError(t, srv.mariadb(auditor, "DELETE FROM processes"), 1290)
		srv.stop(t)
		log := srv.log()

		connected := connectionLines(log, "client connected")
		disconnected := connectionLines(log, "client disconnected")
		if len(connected) != 3 {
			t.Errorf("log has client connected lines for %d connections, want 3, one per client:\n%s", len(connected), log)
		}
		if len(disconnected) != len(connected) {
			t.Errorf("log has client disconnected lines for %d connections, want %d as connected:\n%s", len(disconnected), len(connected), log)
		}
		for id, opened := range connected {
			closed := disconnected[id]
			if len(opened) != 1 || len(closed) != 1 {
				t.Errorf("connection %s has %d client connected and %d client disconnected lines, want one of each:\n%s", id, len(opened), len(closed), log)
				continue
			}
			if host, _, err := net.SplitHostPort(opened[0].client); err != nil || host != "127.0.0.1" {
				t.Errorf("connection %s logged client %q, want 127.0.0.1 and a port", id, opened[0].client)
			}
			if opened[0].user != "auditor" {
				t.Errorf("connection %s logged user %q, want auditor", id, opened[0].user)
			}
			if closed[0] != opened[0] {
				t.Errorf("connection %s disconnected as %+v, want %+v as it connected", id, closed[0], opened[0])
			}
		}

		for _, query := range []string{"SELECT * FROM no_such_table", "DELETE FROM processes"} {
			if !hasLogLine(log, `msg="query failed"`, "user=auditor", `query="`+query+`"`) {
				t.Errorf("log has no query failed line for %q by auditor:\n%s", query, log)
			}
		}
	})

	t.Run("sigterm", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		srv := startServer(t, bin, serverSetup{proc: cleanTree})

		slept := srv.startMariadb(anyUser, "SELECT SLEEP(1) AS slept")
		srv.waitForRunning(t, "SELECT SLEEP")
		srv.signal(t, syscall.SIGTERM)
		srv.waitForLog(t, `msg="stopped accepting clients"`)

		wantMariadbError(t, srv.mariadb(anyUser, "SELECT 1"), 2002)
		rows := wantRows(t, <-slept)
		if len(rows) != 1 || rows[0][0] != "0" {
			t.Errorf("SELECT SLEEP(1) during shutdown returned %q, want one row with 0", rows)
		}
		if err := srv.wait(exitBound); err != nil {
			t.Errorf("server exited with %v after SIGTERM, want status 0:\n%s", err, srv.log())
		}
		log := srv.log()
		for _, message := range []string{`msg="shutting down"`, "msg=stopped"} {
			if !strings.Contains(log, message) {
				t.Errorf("log lacks %s:\n%s", message, log)
			}
		}
	})

	t.Run("sigterm_grace_ends", func(t *testing.T) {
		t.Parallel()
		requireMariadb(t)
		srv := startServer(t, bin, serverSetup{proc: cleanTree, flags: []string{"--grace", "100ms"}})

		slept := srv.startMariadb(anyUser, "SELECT SLEEP(60)")
		srv.waitForRunning(t, "SELECT SLEEP")
		srv.signal(t, syscall.SIGTERM)

		wantMariadbError(t, <-slept, 1053)
		if err := srv.wait(exitBound); err != nil {
			t.Errorf("server exited with %v after SIGTERM, want status 0:\n%s", err, srv.log())
		}
		if log := srv.log(); !strings.Contains(log, "msg=stopped") {
			t.Errorf("log lacks msg=stopped:\n%s", log)
		}
	})

	t.Run("sigterm_unread_result", func(t *testing.T) {
		// A client that stops reading a result must not keep the server
		// running past the grace period, so the server has to give up its
		// blocked write of that result.
		t.Parallel()
		requirePyMySQL(t)
		srv := startServer(t, bin, serverSetup{proc: cleanTree, socket: true, flags: []string{"--grace", "100ms"}})

		// 14^3 rows of 1000 bytes fill the socket buffers many times over.
		staller := srv.startPyMySQL(t, "stall", anyUser, "--query", "SELECT REPEAT('x', 1000) AS filler FROM processes a, processes b, processes c")
		var executed struct {
			Executed bool `json:"executed"`
		}
		staller.next(t, &executed)
		if !executed.Executed {
			t.Fatal("the stalling client did not report its query")
		}
		srv.signal(t, syscall.SIGTERM)

		const bound = 5 * time.Second
		if err := srv.wait(bound); err != nil {
			t.Errorf("server exited with %v after SIGTERM, want status 0:\n%s", err, srv.log())
		}
	})

	t.Run("abuse", func(t *testing.T) {
		// Statements that would make the server build or hold gigabytes.
		// Each must end with a limit's error, the server must keep serving
		// other clients, and its peak memory must stay far below what the
		// statements ask for: before the limits, REPEAT('x', 2000000000)
		// alone took 2 GB, and SPACE(2e9) never ended.
		t.Parallel()
		requireMariadb(t)
		srv := startServer(t, bin, serverSetup{proc: manyFDsTree(t, 1500), flags: []string{"--max-result-mib", "64", "--query-timeout", "30s"}})

		// fds has 1,537 rows, so this cross join has 3.6 billion.
		wantMariadbError(t, srv.mariadb(anyUser, "SELECT * FROM fds a, fds b, fds c"), 1104)
		srv.wantServing(t, anyUser)
		for _, query := range []string{
			"SELECT REPEAT('x', 2000000000)",
			"SELECT LPAD('', 2e9, 'x')",
			"SELECT RPAD('', 2e9, 'x')",
			"SELECT SPACE(2e9)",
			"SELECT REPEAT(REPEAT('x', 1e6), 1e4)",
			"SELECT CONCAT(REPEAT('a', 30000000), REPEAT('b', 30000000), REPEAT('c', 30000000))",
		} {
			wantMariadbError(t, srv.mariadb(anyUser, query), 1301)
		}
		srv.wantServing(t, anyUser)

		// group_concat_max_len bounds the value: 1,024 bytes by default.
		rows := wantRows(t, srv.mariadb(anyUser, "SELECT LENGTH(GROUP_CONCAT(a.path)) FROM fds a, fds b WHERE b.pid = 1"))
		if len(rows) != 1 || rows[0][0] != "1024" {
			t.Errorf("LENGTH(GROUP_CONCAT(a.path)) over 2.3 million rows = %q, want 1024", rows)
		}
		wantMariadbError(t, srv.mariadb(anyUser, "SET SESSION group_concat_max_len = 4294967295"), 1105)

		// mariadb sends up to --max-allowed-packet; the server accepts 4 MiB.
		for _, size := range []int{16 << 20, 64 << 20} {
			query := "SELECT LENGTH('" + strings.Repeat("x", size) + "')"
			wantMariadbError(t, srv.mariadbInput(anyUser, query, "--max-allowed-packet=1G"), 1153)
		}
		srv.wantServing(t, anyUser)

		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		peak := statusKiB(t, string(status), "VmHWM")
		t.Logf("peak resident memory of procsql serve: %d MiB", peak>>10)
		if peak > 1<<20 {
			t.Errorf("procsql serve peaked at %d MiB resident, want under 1024 MiB", peak>>10)
		}
	})

	t.Run("public_address", func(t *testing.T) {
		// The namespaces' network has only lo, so a server that wrongly
		// listens on every interface cannot be reached from outside.
		t.Parallel()
		requireMariadb(t)
		if !livetest.EnterNamespaces(t) {
			return
		}
		testServePublicAddress(t, bin)
	})
}

// testServeLive serves the live /proc of the namespaces, with one process
// that holds a file and a pipe and runs a deleted copy of sleep, and
// queries it with both clients.
func testServeLive(t *testing.T, bin string) {
	dir := t.TempDir()
	evidence := filepath.Join(dir, "evidence file.txt")
	file, err := os.Create(evidence)
	if err != nil {
		t.Fatal(err)
	}
	pipeRead, pipeWrite, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pipeWrite.Close() })

	sleepData, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(dir, "sleep")
	if err := os.WriteFile(copied, sleepData, 0o755); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(copied, "600")
	child.ExtraFiles = []*os.File{file, pipeRead} // descriptors 3 and 4
	pid := startProcess(t, child)
	file.Close()
	pipeRead.Close()
	if err := os.Remove(copied); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(sleepData)

	const password = "procsql-test-live-secret"
	srv := startServer(t, bin, serverSetup{proc: "/proc", password: password})
	account := clientLogin{user: "procsql", password: password}

	t.Run("mariadb", func(t *testing.T) {
		databases := column(wantRows(t, srv.mariadb(account, "SHOW DATABASES")), 0)
		if !slices.Contains(databases, "procsql") {
			t.Errorf("SHOW DATABASES = %q, want procsql among them", databases)
		}
		tables := column(wantRows(t, srv.mariadb(account, "SHOW TABLES")), 0)
		for _, name := range []string{"processes", "fds", "hunts", "hunt_deleted_executable"} {
			if !slices.Contains(tables, name) {
				t.Errorf("SHOW TABLES lacks %s: %q", name, tables)
			}
		}
		fields := wantRows(t, srv.mariadb(account, "DESCRIBE processes"))
		if got := fields[0]; len(got) < 2 || got[0] != "pid" || got[1] != "int" {
			t.Errorf("DESCRIBE processes row 1 = %q, want pid int first", got)
		}

		join := fmt.Sprintf("SELECT p.name, f.fd, f.type, f.path FROM processes p JOIN fds f ON f.pid = p.pid WHERE p.pid = %d AND f.fd IN (3, 4) ORDER BY f.fd", pid)
		rows := wantRows(t, srv.mariadb(account, join))
		want := [][]string{{"sleep", "3", "file", evidence}, {"sleep", "4", "pipe", "NULL"}}
		if !slices.EqualFunc(rows, want, slices.Equal) {
			t.Errorf("join of processes and fds for sleep %d = %q, want %q", pid, rows, want)
		}

		hunt := fmt.Sprintf("SELECT pid, name, exe, exe_sha256 FROM hunt_deleted_executable WHERE pid = %d", pid)
		hits := srv.waitForRows(t, account, hunt)
		wantHit := [][]string{{strconv.Itoa(pid), "sleep", copied, hex.EncodeToString(sum[:])}}
		if !slices.EqualFunc(hits, wantHit, slices.Equal) {
			t.Errorf("hunt_deleted_executable rows for sleep %d = %q, want %q", pid, hits, wantHit)
		}
	})

	t.Run("pymysql", func(t *testing.T) {
		var got processReport
		srv.runPyMySQL(t, &got, "process", account, "--pid", strconv.Itoa(pid), "--null-fd", "4")

		wantTypes := map[string]string{"pid": "int", "name": "str", "argv": "str", "cmdline_raw": "bytes", "start_time": "datetime", "path": "NoneType"}
		for name, want := range wantTypes {
			if got.Types[name] != want {
				t.Errorf("PyMySQL type of %s = %q, want %s", name, got.Types[name], want)
			}
		}
		if got.PID != pid {
			t.Errorf("pid = %d, want %d", got.PID, pid)
		}
		if got.Name != "sleep" {
			t.Errorf("name = %q, want sleep", got.Name)
		}
		if want := []string{copied, "600"}; !slices.Equal(got.Argv, want) {
			t.Errorf("argv = %q, want %q", got.Argv, want)
		}
		if want := hex.EncodeToString([]byte(copied + "\x00600\x00")); got.CmdlineRaw != want {
			t.Errorf("cmdline_raw = %s, want %s", got.CmdlineRaw, want)
		}
		if got.Path != nil {
			t.Errorf("path of the pipe = %q, want None", *got.Path)
		}

		// isoformat leaves out the fraction when it is zero.
		started, err := time.Parse("2006-01-02T15:04:05.999999", got.StartTime)
		if err != nil {
			t.Fatalf("start_time %q: %v", got.StartTime, err)
		}
		if age := time.Now().UTC().Sub(started); age < -time.Minute || age > time.Minute {
			t.Errorf("start_time = %s UTC, want within a minute of now, %s", got.StartTime, time.Now().UTC().Format(time.RFC3339))
		}

		for _, name := range []string{"id", "title", "severity", "sql"} {
			if !slices.Contains(got.HuntColumns, name) {
				t.Errorf("SELECT * FROM hunts columns = %q, want %s among them", got.HuntColumns, name)
			}
		}
		var wantIDs []string
		for _, hunt := range builtinHunts(t) {
			wantIDs = append(wantIDs, hunt.ID)
		}
		slices.Sort(wantIDs)
		slices.Sort(got.HuntIDs)
		if !slices.Equal(got.HuntIDs, wantIDs) {
			t.Errorf("hunt ids = %q, want the built-in hunts %q", got.HuntIDs, wantIDs)
		}
	})
}

// testServePublicAddress checks that serve rejects addresses beyond
// loopback without a password, and listens on them with one.
func testServePublicAddress(t *testing.T, bin string) {
	port := strconv.Itoa(freePort(t))
	for _, listen := range []string{"0.0.0.0:" + port, "[::]:" + port, ":" + port} {
		ctx, cancel := context.WithTimeout(context.Background(), startBound)
		cmd := exec.CommandContext(ctx, bin, "--proc", cleanTree, "serve", "--listen", listen)
		cmd.Env = plainEnv
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		if timedOut {
			t.Errorf("serve --listen %s without a password was still running after %s, want it to exit with an error:\n%s", listen, startBound, stderr.String())
			continue
		}
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
			t.Errorf("serve --listen %s without a password ended with %v, want exit status 1", listen, err)
		}
		if !strings.Contains(stderr.String(), passwordEnv) {
			t.Errorf("serve --listen %s without a password printed %q, want the error to name %s", listen, stderr.String(), passwordEnv)
		}
	}

	const password = "procsql-test-public-secret"
	srv := startServer(t, bin, serverSetup{proc: cleanTree, host: "0.0.0.0", password: password})
	srv.wantServing(t, clientLogin{user: "procsql", password: password})
}

// serveBinary returns the procsql binary for the serve tests. TestServe
// builds it and passes its path to its re-runs inside namespaces.
func serveBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv(serveBinaryEnv); bin != "" && os.Getenv(livetest.InsideEnv) == "1" {
		return bin
	}
	bin := buildProcsql(t, t.TempDir())
	t.Setenv(serveBinaryEnv, bin)
	return bin
}

// requireMariadb skips the test when the mariadb client is missing, or
// fails it when requireClientsEnv is 1.
func requireMariadb(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("mariadb"); err != nil {
		missingClient(t, "the mariadb client", "mariadb-client", err)
	}
}

// requirePyMySQL skips the test when Debian's python3 or its PyMySQL is
// missing, or fails it when requireClientsEnv is 1.
func requirePyMySQL(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(debianPython, "-c", "import pymysql").CombinedOutput(); err != nil {
		missingClient(t, "PyMySQL for "+debianPython, "python3-pymysql", fmt.Errorf("%v: %s", err, bytes.TrimSpace(out)))
	}
}

func missingClient(t *testing.T, client, debianPackage string, err error) {
	t.Helper()
	if os.Getenv(requireClientsEnv) == "1" {
		t.Fatalf("%s is missing and %s=1 requires it: install the Debian package %s (%v)", client, requireClientsEnv, debianPackage, err)
	}
	t.Skipf("%s is missing: install the Debian package %s to run this test (%v)", client, debianPackage, err)
}

func builtinHunts(t *testing.T) []queries.Hunt {
	t.Helper()
	hunts, err := queries.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return hunts
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	listener.Close()
	return port
}

// serverSetup sets how startServer runs procsql serve.
type serverSetup struct {
	proc     string   // --proc directory
	host     string   // TCP address to listen on, 127.0.0.1 when empty
	socket   bool     // listen on a unix socket in a temporary directory instead of TCP
	password string   // PROCSQL_PASSWORD in the server's environment, none when empty
	env      []string // more variables for the server's environment
	flags    []string // more serve flags
}

// testServer is a procsql serve process that a test started. Clients reach
// it on 127.0.0.1:port, or on socket when that is set.
type testServer struct {
	cmd    *exec.Cmd
	port   int
	socket string
	stderr *livetest.Buffer

	done    chan struct{} // closed once the process has exited
	waitErr error         // the result of cmd.Wait, set before done is closed
}

// startServer starts procsql serve, waits until it logs that it listens,
// and kills it at test cleanup if it still runs.
func startServer(t *testing.T, bin string, setup serverSetup) *testServer {
	t.Helper()
	srv := &testServer{stderr: &livetest.Buffer{}, done: make(chan struct{})}
	var listen string
	if setup.socket {
		srv.socket = filepath.Join(t.TempDir(), "procsql.sock")
		listen = srv.socket
	} else {
		host := setup.host
		if host == "" {
			host = "127.0.0.1"
		}
		srv.port = freePort(t)
		listen = net.JoinHostPort(host, strconv.Itoa(srv.port))
	}

	args := append([]string{"--proc", setup.proc, "serve", "--listen", listen}, setup.flags...)
	srv.cmd = exec.Command(bin, args...)
	srv.cmd.Env = append(slices.Clone(plainEnv), setup.env...)
	if setup.password != "" {
		srv.cmd.Env = append(srv.cmd.Env, passwordEnv+"="+setup.password)
	}
	srv.cmd.Stderr = srv.stderr
	if err := srv.cmd.Start(); err != nil {
		t.Fatalf("start procsql serve: %v", err)
	}
	go func() {
		srv.waitErr = srv.cmd.Wait()
		close(srv.done)
	}()
	t.Cleanup(func() {
		srv.cmd.Process.Kill()
		<-srv.done
	})
	srv.waitForLog(t, "msg=listening")
	return srv
}

func (srv *testServer) log() string { return srv.stderr.String() }

// waitForLog waits until the log contains text, and fails the test if the
// server exits first or startBound passes.
func (srv *testServer) waitForLog(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(startBound)
	for !strings.Contains(srv.log(), text) {
		select {
		case <-srv.done:
			t.Fatalf("procsql serve exited (%v) before logging %q:\n%s", srv.waitErr, text, srv.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("procsql serve did not log %q within %s:\n%s", text, startBound, srv.log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (srv *testServer) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := srv.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("send %v to procsql serve: %v", sig, err)
	}
}

// wait waits up to bound for the server to exit and returns its exit
// error, or a timeout error while it still runs.
func (srv *testServer) wait(bound time.Duration) error {
	select {
	case <-srv.done:
		return srv.waitErr
	case <-time.After(bound):
		return fmt.Errorf("still running %s later", bound)
	}
}

// stop ends the server with SIGTERM and fails the test unless it exits
// with status 0, so that its log is complete.
func (srv *testServer) stop(t *testing.T) {
	t.Helper()
	srv.signal(t, syscall.SIGTERM)
	if err := srv.wait(exitBound); err != nil {
		t.Fatalf("server exited with %v after SIGTERM, want status 0:\n%s", err, srv.log())
	}
}

// clientLogin is the account that a client logs in with.
type clientLogin struct {
	user     string
	password string // empty for a login without a password
}

// mariadbResult is the outcome of one run of the mariadb client.
type mariadbResult struct {
	query    string
	stdout   string
	stderr   string
	err      error
	timedOut bool
}

var mariadbErrorPattern = regexp.MustCompile(`(?m)^ERROR (\d+) \(`)

// errorCode returns the MySQL error number that mariadb printed, or 0.
func (r mariadbResult) errorCode() int {
	match := mariadbErrorPattern.FindStringSubmatch(r.stderr)
	if match == nil {
		return 0
	}
	code, _ := strconv.Atoi(match[1])
	return code
}

// mariadb runs one query with the mariadb client in batch mode. It never
// fails the test, so that other goroutines may call it.
func (srv *testServer) mariadb(login clientLogin, query string, options ...string) mariadbResult {
	// --no-defaults must come first. It keeps option files such as
	// ~/.my.cnf from changing the client.
	args := []string{"--no-defaults"}
	if srv.socket != "" {
		args = append(args, "--socket", srv.socket)
	} else {
		args = append(args, "--host", "127.0.0.1", "--port", strconv.Itoa(srv.port))
	}
	args = append(args, "--user", login.user, "--batch", "--connect-timeout=10")
	args = append(args, options...)
	args = append(args, "--execute", query, "procsql")

	ctx, cancel := context.WithTimeout(context.Background(), clientBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mariadb", args...)
	cmd.Env = slices.Clone(plainEnv)
	if login.password != "" {
		// mariadb reads the password from MYSQL_PWD, as it would for -p,
		// without a prompt.
		cmd.Env = append(cmd.Env, "MYSQL_PWD="+login.password)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	return mariadbResult{query: query, stdout: stdout.String(), stderr: stderr.String(), err: err, timedOut: ctx.Err() != nil}
}

// mariadbInput runs mariadb with input on its standard input, for
// statements too long for a command-line argument. It never fails the
// test.
func (srv *testServer) mariadbInput(login clientLogin, input string, options ...string) mariadbResult {
	args := []string{"--no-defaults", "--host", "127.0.0.1", "--port", strconv.Itoa(srv.port), "--user", login.user, "--batch", "--connect-timeout=10"}
	args = append(append(args, options...), "procsql")
	ctx, cancel := context.WithTimeout(context.Background(), clientBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mariadb", args...)
	cmd.Env = slices.Clone(plainEnv)
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	return mariadbResult{query: input[:min(len(input), 60)] + "...", stdout: stdout.String(), stderr: stderr.String(), err: err, timedOut: ctx.Err() != nil}
}

// manyFDsTree returns a copy of cleanTree in which process 1 has extra more
// descriptors, so that joins of fds with itself are as large as on a busy
// host.
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

// statusKiB returns the value in KiB of field in the text of a
// /proc/<pid>/status file.
func statusKiB(t *testing.T, status, field string) int64 {
	t.Helper()
	for _, line := range strings.Split(status, "\n") {
		value, found := strings.CutPrefix(line, field+":")
		if !found {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
		if err != nil {
			t.Fatalf("%s line %q: %v", field, line, err)
		}
		return kib
	}
	t.Fatalf("no %s line in /proc status:\n%s", field, status)
	return 0
}

// startMariadb runs mariadb in a goroutine and sends its result on the
// returned channel.
func (srv *testServer) startMariadb(login clientLogin, query string) <-chan mariadbResult {
	result := make(chan mariadbResult, 1)
	go func() { result <- srv.mariadb(login, query) }()
	return result
}

// wantServing fails the test unless a new client gets a result.
func (srv *testServer) wantServing(t *testing.T, login clientLogin) {
	t.Helper()
	rows := wantRows(t, srv.mariadb(login, "SELECT 1 + 1"))
	if len(rows) != 1 || rows[0][0] != "2" {
		t.Errorf("SELECT 1 + 1 = %q, want 2", rows)
	}
}

// waitForRunning waits until the server's process list shows a statement
// that starts with prefix.
func (srv *testServer) waitForRunning(t *testing.T, prefix string) {
	t.Helper()
	query := fmt.Sprintf("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE '%s%%'", prefix)
	deadline := time.Now().Add(startBound)
	for {
		rows := wantRows(t, srv.mariadb(anyUser, query))
		if rows[0][0] != "0" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no statement starting with %q appeared in the process list within %s", prefix, startBound)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitForRows runs query until it returns rows, because a started process
// may need a moment before a hunt matches it, and returns them.
func (srv *testServer) waitForRows(t *testing.T, login clientLogin, query string) [][]string {
	t.Helper()
	deadline := time.Now().Add(startBound)
	for {
		rows := wantRows(t, srv.mariadb(login, query))
		if len(rows) > 0 || time.Now().After(deadline) {
			return rows
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wantRows fails the test unless mariadb succeeded, and returns the rows of
// its batch output without the header line. The values keep mariadb's
// escapes, and NULL is the text NULL.
func wantRows(t *testing.T, r mariadbResult) [][]string {
	t.Helper()
	if r.timedOut {
		t.Fatalf("mariadb %q did not finish within %s", r.query, clientBound)
	}
	if r.err != nil {
		t.Fatalf("mariadb %q failed: %v\n%s", r.query, r.err, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatalf("mariadb %q printed no header line: %q", r.query, r.stdout)
	}
	rows := [][]string{}
	for _, line := range lines[1:] {
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows
}

// wantMariadbError fails the test unless mariadb failed with MySQL error
// code.
func wantMariadbError(t *testing.T, r mariadbResult, code int) {
	t.Helper()
	if r.timedOut {
		t.Fatalf("mariadb %q did not finish within %s", r.query, clientBound)
	}
	if r.err == nil {
		t.Errorf("mariadb %q succeeded with %q, want error %d", r.query, r.stdout, code)
		return
	}
	if got := r.errorCode(); got != code {
		t.Errorf("mariadb %q failed with error %d, want %d:\n%s", r.query, got, code, r.stderr)
	}
}

// column returns column i of rows.
func column(rows [][]string, i int) []string {
	values := make([]string, 0, len(rows))
	for _, row := range rows {
		if i < len(row) {
			values = append(values, row[i])
		}
	}
	return values
}

// loginReport is what pymysql_check.py login prints: the current user, or
// the class, code and message of the error that the login raised.
type loginReport struct {
	CurrentUser string `json:"current_user"`
	Error       string `json:"error"`
	Code        int    `json:"code"`
	Message     string `json:"message"`
}

// processReport is what pymysql_check.py process prints.
type processReport struct {
	Types       map[string]string `json:"types"` // Python type name of each value
	PID         int               `json:"pid"`
	Name        string            `json:"name"`
	Argv        []string          `json:"argv"`
	CmdlineRaw  string            `json:"cmdline_raw_hex"`
	StartTime   string            `json:"start_time"` // datetime.isoformat()
	Path        *string           `json:"path"`       // fds.path of the --null-fd descriptor
	HuntColumns []string          `json:"hunt_columns"`
	HuntIDs     []string          `json:"hunt_ids"`
}

func (srv *testServer) pymysqlCommand(ctx context.Context, mode string, login clientLogin, extra ...string) *exec.Cmd {
	args := []string{pymysqlScript, mode, "--user", login.user, "--password", login.password}
	if srv.socket != "" {
		args = append(args, "--socket", srv.socket)
	} else {
		args = append(args, "--host", "127.0.0.1", "--port", strconv.Itoa(srv.port))
	}
	cmd := exec.CommandContext(ctx, debianPython, append(args, extra...)...)
	cmd.Env = plainEnv
	return cmd
}

// runPyMySQL runs pymysql_check.py in mode and decodes the JSON object
// that it prints into report.
func (srv *testServer) runPyMySQL(t *testing.T, report any, mode string, login clientLogin, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientBound)
	defer cancel()
	cmd := srv.pymysqlCommand(ctx, mode, login, extra...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("pymysql_check.py %s did not finish within %s", mode, clientBound)
	}
	if err != nil {
		t.Fatalf("pymysql_check.py %s failed: %v\n%s", mode, err, stderr.String())
	}
	if err := json.Unmarshal(out, report); err != nil {
		t.Fatalf("pymysql_check.py %s printed %q, want one JSON object: %v", mode, out, err)
	}
}

func (srv *testServer) pymysqlLogin(t *testing.T, login clientLogin) loginReport {
	t.Helper()
	var report loginReport
	srv.runPyMySQL(t, &report, "login", login)
	return report
}

// pymysqlSession is a running pymysql_check.py that reads stdin until it
// closes and prints JSON lines.
type pymysqlSession struct {
	cmd   *exec.Cmd
	input io.WriteCloser
	lines chan string
}

// startPyMySQL starts pymysql_check.py in mode, and closes its input and
// kills it at test cleanup.
func (srv *testServer) startPyMySQL(t *testing.T, mode string, login clientLogin, extra ...string) *pymysqlSession {
	t.Helper()
	cmd := srv.pymysqlCommand(context.Background(), mode, login, extra...)
	cmd.Stderr = os.Stderr
	input, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	output, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pymysql_check.py %s: %v", mode, err)
	}
	session := &pymysqlSession{cmd: cmd, input: input, lines: make(chan string)}
	go func() {
		scanner := bufio.NewScanner(output)
		for scanner.Scan() {
			session.lines <- scanner.Text()
		}
		close(session.lines)
	}()
	t.Cleanup(func() {
		input.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return session
}

// next decodes the next JSON line that the session prints into report.
func (s *pymysqlSession) next(t *testing.T, report any) {
	t.Helper()
	select {
	case line, ok := <-s.lines:
		if !ok {
			t.Fatalf("pymysql_check.py exited before printing a line")
		}
		if err := json.Unmarshal([]byte(line), report); err != nil {
			t.Fatalf("pymysql_check.py printed %q, want a JSON object: %v", line, err)
		}
	case <-time.After(clientBound):
		t.Fatalf("pymysql_check.py printed nothing within %s", clientBound)
	}
}

func (s *pymysqlSession) closeInput(t *testing.T) {
	t.Helper()
	if err := s.input.Close(); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the session to exit and fails the test unless it exits
// with status 0.
func (s *pymysqlSession) wait(t *testing.T) {
	t.Helper()
	for range s.lines {
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("pymysql_check.py exited with %v", err)
	}
}

// connectionLine is one client connected or disconnected line of the log.
type connectionLine struct {
	client string
	user   string
}

var connectionLinePattern = regexp.MustCompile(`msg="(client connected|client disconnected)" connection=(\d+) client=(\S+) user=(\S+)`)

// connectionLines returns the log lines with message, by connection id.
func connectionLines(log, message string) map[string][]connectionLine {
	lines := map[string][]connectionLine{}
	for _, match := range connectionLinePattern.FindAllStringSubmatch(log, -1) {
		if match[1] == message {
			lines[match[2]] = append(lines[match[2]], connectionLine{client: match[3], user: match[4]})
		}
	}
	return lines
}

// hasLogLine reports whether one line of log contains every part.
func hasLogLine(log string, parts ...string) bool {
	for _, line := range strings.Split(log, "\n") {
		matches := true
		for _, part := range parts {
			if !strings.Contains(line, part) {
				matches = false
				break
			}
		}
		if matches {
			return true
		}
	}
	return false
}
