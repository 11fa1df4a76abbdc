package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// handler wraps go-mysql-server's connection handler. Every statement a
// client sends passes the read-only check first, and runs with its own
// consistent read of the sources, the server's time limit and row limit.
// Errors that vitess sends itself, such as an unsupported command (1047) or
// a failed write to a client, never reach this handler; logVitess logs
// them.
type handler struct {
	inner mysql.Handler
	srv   *Server
}

var _ mysql.Handler = (*handler)(nil)

func (h *handler) NewConnection(c *mysql.Conn) {
	h.srv.connectionOpened(c)
	h.inner.NewConnection(c)
}

func (h *handler) ConnectionClosed(c *mysql.Conn) {
	// go-mysql-server's ConnectionClosed builds a session through
	// Server.newSession for a connection that has none, so the server
	// deletes the session only after that call.
	h.inner.ConnectionClosed(c)
	h.srv.connectionClosed(c)
}

// ConnectionAborted logs a connection that failed before its login ended,
// at most once per logInterval, because a client can repeat that in a loop.
// A rejected login or a rejected packet has already logged its own line.
func (h *handler) ConnectionAborted(c *mysql.Conn, reason string) error {
	if _, rejected := h.srv.loginRejected.LoadAndDelete(c.ConnectionID); rejected {
		return h.inner.ConnectionAborted(c, reason)
	}
	if guard, ok := unwrapConn(c.Conn).(*packetGuard); ok && guard.rejected {
		return h.inner.ConnectionAborted(c, reason)
	}
	h.srv.events.Warn("connection aborted", "connection", c.ConnectionID, "client", remoteAddr(c), "reason", reason)
	return h.inner.ConnectionAborted(c, reason)
}

func (h *handler) ComInitDB(c *mysql.Conn, schema string) error {
	err := h.inner.ComInitDB(c, schema)
	if err != nil {
		h.logError(c, "USE "+schema, err)
	}
	return err
}

func (h *handler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	stmt, _, err := h.check(c, query, false)
	if err != nil {
		return err
	}
	if kill, ok := stmt.(*sqlparser.Kill); ok {
		return h.killQuery(c, kill, query, callback, false)
	}
	return h.run(ctx, c, query, nil, callback, func(ctx context.Context, spool mysql.ResultSpoolFn) error {
		return h.inner.ComQuery(ctx, c, query, spool)
	})
}

func (h *handler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	stmt, remainder, err := h.check(c, query, true)
	if err != nil {
		return "", err
	}
	if kill, ok := stmt.(*sqlparser.Kill); ok {
		return remainder, h.killQuery(c, kill, query, callback, remainder != "")
	}
	err = h.run(ctx, c, query, nil, callback, func(ctx context.Context, spool mysql.ResultSpoolFn) error {
		var err error
		remainder, err = h.inner.ComMultiQuery(ctx, c, query, spool)
		return err
	})
	return remainder, err
}

func (h *handler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) (fields []*querypb.Field, err error) {
	// vitess keeps the statement even when preparing it fails.
	defer func() {
		if err != nil {
			delete(c.PrepareData, prepare.StatementID)
		}
	}()
	stmt, _, err := h.check(c, query, false)
	if err != nil {
		return nil, err
	}
	if _, ok := stmt.(*sqlparser.Kill); ok {
		err := mysql.NewSQLError(mysql.EROptionPreventsStatement, mysql.SSUnknownSQLState, "KILL cannot be prepared: send KILL QUERY as a plain statement")
		h.logError(c, query, err)
		return nil, err
	}
	if err := h.limitPrepared(c, prepare); err != nil {
		h.logError(c, query, err)
		return nil, err
	}
	fields, err = h.inner.ComPrepare(ctx, c, query, prepare)
	if err != nil {
		h.logError(c, query, err)
	}
	return fields, err
}

// Limits on the prepared statements of one connection. vitess keeps each
// until the client closes it, and MySQL allows 16,382 in all servers'
// connections together (max_prepared_stmt_count).
const (
	// erTooManyPrepared is MySQL's ER_MAX_PREPARED_STMT_COUNT_REACHED.
	erTooManyPrepared     = 1461
	maxPreparedStatements = 256
	maxPreparedBytes      = 16 << 20 // of statement text
)

// limitPrepared rejects prepare, which vitess has already added to the
// connection's statements, when the connection would then hold more than
// maxPreparedStatements or maxPreparedBytes. It also removes the analyzed
// statements that go-mysql-server keeps by query text for statements the
// client has closed, because vitess closes them without telling it.
func (h *handler) limitPrepared(c *mysql.Conn, prepare *mysql.PrepareData) error {
	open := make(map[string]bool, len(c.PrepareData))
	textBytes := 0
	for _, data := range c.PrepareData {
		open[data.PrepareStmt] = true
		textBytes += len(data.PrepareStmt)
	}
	cache := h.srv.eng.sql.PreparedDataCache
	var closed []string
	for text := range cache.CachedStatementsForSession(c.ConnectionID) {
		if !open[text] {
			closed = append(closed, text)
		}
	}
	for _, text := range closed {
		cache.UncacheStmt(c.ConnectionID, text)
	}
	if err := limitPreparedParams(c); err != nil {
		return err
	}
	if len(c.PrepareData) <= maxPreparedStatements && textBytes <= maxPreparedBytes {
		return nil
	}
	return mysql.NewSQLError(erTooManyPrepared, "42000",
		"this connection has %d prepared statements of %d bytes, more than procsql's limit of %d statements or %d bytes: close the statements it no longer uses",
		len(c.PrepareData), textBytes, maxPreparedStatements, maxPreparedBytes)
}

func (h *handler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, callback func(*sqltypes.Result) error) error {
	spoolTo := func(r *sqltypes.Result, _ bool) error { return callback(r) }
	var params []string
	for _, bv := range prepare.BindVars {
		params = append(params, string(bv.Value))
	}
	return h.run(ctx, c, prepare.PrepareStmt, params, spoolTo, func(ctx context.Context, spool mysql.ResultSpoolFn) error {
		return h.inner.ComStmtExecute(ctx, c, prepare, func(r *sqltypes.Result) error { return spool(r, false) })
	})
}

func (h *handler) WarningCount(c *mysql.Conn) uint16 { return h.inner.WarningCount(c) }

func (h *handler) ComResetConnection(c *mysql.Conn) error { return h.inner.ComResetConnection(c) }

func (h *handler) ParserOptionsForConnection(c *mysql.Conn) (sqlparser.ParserOptions, error) {
	return h.inner.ParserOptionsForConnection(c)
}

// check parses a statement, or the first statement of a multi-statement
// query, and applies the read-only check to it. It parses exactly as
// go-mysql-server will, with the same trimming and the connection's
// sql_mode, and rejects what does not parse: a check that let such text
// through could be bypassed by text that go-mysql-server reads differently.
// It returns the statement and, for a multi-statement query, the text after
// it.
func (h *handler) check(c *mysql.Conn, query string, multi bool) (sqlparser.Statement, string, error) {
	opts, err := h.inner.ParserOptionsForConnection(c)
	if err != nil {
		return nil, "", err
	}
	stmt, parsed, remainder, err := h.srv.eng.sql.Parser.ParseWithOptions(context.Background(), query, ';', multi, opts)
	if err != nil {
		h.logError(c, query, err)
		return nil, "", mysql.NewSQLError(mysql.ERParseError, mysql.SSClientError, "%s", oneLine(err).Error())
	}
	if err := checkStatementSize(stmt); err != nil {
		h.logError(c, query, err)
		return nil, "", mysql.NewSQLError(mysql.ERNotSupportedYet, mysql.SSClientError, "%s", err.Error())
	}
	if err := checkStatement(stmt, parsed); err != nil {
		h.logError(c, query, err)
		return nil, "", mysql.NewSQLError(mysql.EROptionPreventsStatement, mysql.SSUnknownSQLState, "%s", err.Error())
	}
	return stmt, remainder, nil
}

// killQuery stops the running query of a connection. procsql runs KILL
// QUERY itself because go-mysql-server requires a privilege that would
// also allow SET GLOBAL; every client logs in as the same account, so each
// may stop the others' queries, as MySQL lets an account stop its own.
func (h *handler) killQuery(c *mysql.Conn, kill *sqlparser.Kill, query string, callback mysql.ResultSpoolFn, more bool) error {
	id, err := connectionID(kill.ConnID)
	if err != nil {
		h.logError(c, query, err)
		return mysql.NewSQLError(mysql.ERParseError, mysql.SSClientError, "%s", err.Error())
	}
	h.srv.eng.sql.ProcessList.Kill(id)
	h.srv.activity.Info("query killed", "connection", c.ConnectionID, "user", c.User, "killed_connection", id)
	return callback(&sqltypes.Result{}, more)
}

func connectionID(expr sqlparser.Expr) (uint32, error) {
	val, ok := expr.(*sqlparser.SQLVal)
	if ok && val.Type == sqlparser.IntVal {
		if id, err := strconv.ParseUint(string(val.Val), 10, 32); err == nil {
			return uint32(id), nil
		}
	}
	return 0, fmt.Errorf("KILL QUERY takes a connection id, a whole number as SHOW PROCESSLIST lists it, got %s", sqlparser.String(expr))
}

// run executes one statement through exec with fresh source reads, the time
// limit and the row limit. It holds the results until the statement ends:
// the MySQL protocol has no way to report an error after rows were sent
// except closing the connection, and a query over a limit must leave the
// connection usable.
func (h *handler) run(ctx context.Context, c *mysql.Conn, query string, params []string, callback mysql.ResultSpoolFn, exec func(context.Context, mysql.ResultSpoolFn) error) error {
	if !h.srv.begin() {
		return mysql.NewSQLError(mysql.ERServerShutdown, mysql.SSServerShutdown, "procsql server is shutting down: reconnect to another server or restart procsql serve")
	}
	defer h.srv.end()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer context.AfterFunc(h.srv.stop, func() { cancel(context.Canceled) })()
	timeout := h.srv.cfg.QueryTimeout
	if timeout > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, timeout)
		defer cancelTimeout()
	}
	st := h.srv.eng.newStatement(ctx)
	ctx = context.WithValue(ctx, statementKey{}, st)
	ctx = withMaxValueBytes(ctx, h.srv.maxValueBytes)
	var running *runningStatement
	if h.srv.memory != nil {
		running = h.srv.memory.add(c, cancel)
		defer h.srv.memory.remove(running)
	}
	defer h.watchClient(c, cancel)()

	sp := spool{maxRows: h.srv.cfg.MaxRows, maxBytes: h.srv.cfg.MaxResultBytes}
	if h.srv.memory != nil {
		sp.shared, sp.maxShared = &h.srv.spooledBytes, h.srv.memory.limit/2
		defer sp.release()
	}
	err := exec(ctx, sp.add)
	switch {
	case sp.tooManyRows:
		err = mysql.NewSQLError(mysql.ERTooBigSelect, mysql.SSUnknownSQLState,
			"result has more than %d rows, the server's limit (--max-rows): add a WHERE clause or a LIMIT", sp.maxRows)
	case sp.tooLarge:
		err = mysql.NewSQLError(mysql.ERTooBigSelect, mysql.SSUnknownSQLState,
			"result is larger than %s, the server's limit (--max-result-mib): select fewer columns or rows", formatMiB(sp.maxBytes))
	case sp.sharedFull:
		err = mysql.NewSQLError(mysql.EROutOfResources, mysql.SSUnknownSQLState,
			"the results that the server holds for its clients passed %s, half its memory limit: retry when other clients have read theirs, or select fewer rows", formatMiB(sp.maxShared))
	case timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded):
		err = mysql.NewSQLError(mysql.ERQueryTimeout, mysql.SSUnknownSQLState,
			"query stopped after %s, the server's limit (--query-timeout): narrow it, for example with a WHERE clause on pid, or retry when the server is less busy", timeout)
	case errors.Is(context.Cause(ctx), errMemoryLimit):
		err = mysql.NewSQLError(mysql.EROutOfResources, mysql.SSUnknownSQLState,
			"statement canceled because the server's memory use passed its limit of %s; the server cancels the longest-running statements first: narrow it with a WHERE clause or a LIMIT, or retry when fewer statements run", formatMiB(h.srv.memory.limit))
	case errors.Is(context.Cause(ctx), errClientGone):
		err = errClientGone
	case err != nil && h.srv.stop.Err() != nil:
		err = mysql.NewSQLError(mysql.ERServerShutdown, mysql.SSServerShutdown, "query canceled because procsql server is shutting down")
	case killed(ctx, err):
		err = errQueryKilled
	}
	if err != nil {
		h.logError(c, query, err, params...)
		return err
	}
	h.addWarnings(c, st)
	if running != nil {
		h.srv.memory.markSending(running)
	}
	return sp.flush(callback)
}

// errClientGone is the cause of a statement canceled because its client
// closed the connection.
var errClientGone = errors.New("statement canceled because the client closed the connection")

// clientPollInterval is how often a running statement checks that its
// client is still connected.
const clientPollInterval = 500 * time.Millisecond

// watchClient cancels a statement when its client closes the connection,
// and returns the function that stops watching. go-mysql-server does this
// only for a bare *net.TCPConn, which the connection guard hides.
func (h *handler) watchClient(c *mysql.Conn, cancel context.CancelCauseFunc) func() {
	guard, ok := unwrapConn(c.Conn).(*packetGuard)
	if !ok {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		ticker := time.NewTicker(clientPollInterval)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
				if peerClosed(guard.Conn) {
					cancel(errClientGone)
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// addWarnings copies the query's read failures to the session, where the
// warning count of the result and SHOW WARNINGS find them.
func (h *handler) addWarnings(c *mysql.Conn, st *statement) {
	v, ok := h.srv.sessions.Load(c.ConnectionID)
	if !ok {
		return
	}
	sess := v.(sql.Session)
	for _, w := range st.warnings() {
		sess.Warn(&sql.Warning{Level: "Warning", Code: mysql.ERUnknownError, Message: w})
	}
}

// maxLoggedQuery bounds the query text in a log line, in bytes.
const maxLoggedQuery = 300

// logError logs a failed statement with its literals and params redacted,
// because they may hold a password or a secret the client searched for.
func (h *handler) logError(c *mysql.Conn, query string, err error, params ...string) {
	text, msg := redactForLog(query, err, params)
	h.srv.activity.Warn("query failed", "connection", c.ConnectionID, "user", c.User, "query", text, "error", msg)
}

func remoteAddr(c *mysql.Conn) string { return addrString(c.RemoteAddr()) }

// spool holds a statement's results until it ends. It copies every value,
// because go-mysql-server may reuse the buffers behind them. With shared
// set, it also counts its bytes there, towards maxShared for the results
// of all statements, which a client that does not read its result holds
// until the write times out.
type spool struct {
	maxRows     int   // 0: no limit
	maxBytes    int64 // 0: no limit
	rows        int
	bytes       int64
	tooManyRows bool
	tooLarge    bool
	results     []spooled

	shared     *atomic.Int64
	maxShared  int64
	counted    int64 // bytes added to shared
	sharedFull bool
}

type spooled struct {
	result *sqltypes.Result
	more   bool
}

// Memory that the spool counts for each held value and row besides the
// value's bytes: a sqltypes.Value, and a row's slice header. Narrow rows
// take several times their values' bytes, so counting only the values let a
// result of 64 MiB of values take over 500 MiB.
const (
	spooledValueOverhead = int64(unsafe.Sizeof(sqltypes.Value{}))
	spooledRowOverhead   = int64(unsafe.Sizeof([]sqltypes.Value{}))
)

func (s *spool) add(r *sqltypes.Result, more bool) error {
	s.rows += len(r.Rows)
	if s.maxRows > 0 && s.rows > s.maxRows {
		s.tooManyRows = true
		return errors.New("row limit reached")
	}
	cp := *r
	cp.Rows = make([][]sqltypes.Value, len(r.Rows))
	for i, row := range r.Rows {
		size := 0
		for _, v := range row {
			size += len(v.Raw())
		}
		// One buffer holds the row's values, which saves an allocation
		// per value.
		buf := make([]byte, 0, size)
		out := make([]sqltypes.Value, len(row))
		for j, v := range row {
			start := len(buf)
			buf = append(buf, v.Raw()...)
			out[j] = sqltypes.MakeTrusted(v.Type(), buf[start:len(buf):len(buf)])
		}
		s.bytes += int64(size) + int64(len(row))*spooledValueOverhead + spooledRowOverhead
		cp.Rows[i] = out
		if s.maxBytes > 0 && s.bytes > s.maxBytes {
			s.tooLarge = true
			return errors.New("result size limit reached")
		}
	}
	if s.shared != nil {
		grown := s.bytes - s.counted
		s.counted = s.bytes
		if s.shared.Add(grown) > s.maxShared {
			s.sharedFull = true
			return errors.New("server result memory limit reached")
		}
	}
	s.results = append(s.results, spooled{result: &cp, more: more})
	return nil
}

// release gives the spool's bytes back to shared.
func (s *spool) release() {
	s.shared.Add(-s.counted)
	s.counted = 0
}

func (s *spool) flush(callback mysql.ResultSpoolFn) error {
	for _, r := range s.results {
		if err := callback(r.result, r.more); err != nil {
			return err
		}
	}
	return nil
}
