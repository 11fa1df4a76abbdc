package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/procsql/procsql/source"
	"github.com/procsql/procsql/tables"
)

// handler wraps go-mysql-server's connection handler. Every statement a
// client sends passes the read-only check first, and runs with its own
// consistent read of the source, the server's time limit and row limit.
//
// TODO: errors that vitess sends itself, such as an unsupported command
// (1047) or a failed write to a client, reach neither this handler nor the
// log.
type handler struct {
	inner mysql.Handler
	srv   *Server
}

var _ mysql.Handler = (*handler)(nil)

func (h *handler) NewConnection(c *mysql.Conn) { h.inner.NewConnection(c) }

func (h *handler) ConnectionClosed(c *mysql.Conn) {
	h.srv.sessions.Delete(c.ConnectionID)
	h.srv.loginRejected.Delete(c.ConnectionID)
	if h.srv.listener.release(c) {
		h.srv.log.Info("client disconnected", "connection", c.ConnectionID, "client", remoteAddr(c), "user", c.User)
	}
	h.inner.ConnectionClosed(c)
}

// ConnectionAborted logs a connection that failed before its login ended,
// at most once per logInterval, because a client can repeat that in a loop.
// A rejected login has already logged its own line.
func (h *handler) ConnectionAborted(c *mysql.Conn, reason string) error {
	if _, rejected := h.srv.loginRejected.LoadAndDelete(c.ConnectionID); rejected {
		return h.inner.ConnectionAborted(c, reason)
	}
	if ok, suppressed := h.srv.aborted.allow(); ok {
		h.srv.log.Warn("connection aborted", "connection", c.ConnectionID, "client", remoteAddr(c), "reason", reason,
			"aborted_since_last_line", suppressed)
	}
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

func (h *handler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	stmt, _, err := h.check(c, query, false)
	if err != nil {
		return nil, err
	}
	if _, ok := stmt.(*sqlparser.Kill); ok {
		err := mysql.NewSQLError(mysql.EROptionPreventsStatement, mysql.SSUnknownSQLState, "KILL cannot be prepared: send KILL QUERY as a plain statement")
		h.logError(c, query, err)
		return nil, err
	}
	fields, err := h.inner.ComPrepare(ctx, c, query, prepare)
	if err != nil {
		h.logError(c, query, err)
	}
	return fields, err
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
	h.srv.log.Info("query killed", "connection", c.ConnectionID, "user", c.User, "killed_connection", id)
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

// run executes one statement through exec with a fresh Reader, the time
// limit and the row limit. It holds the results until the statement ends:
// the MySQL protocol has no way to report an error after rows were sent
// except closing the connection, and a query over a limit must leave the
// connection usable.
func (h *handler) run(ctx context.Context, c *mysql.Conn, query string, params []string, callback mysql.ResultSpoolFn, exec func(context.Context, mysql.ResultSpoolFn) error) error {
	if !h.srv.begin() {
		return mysql.NewSQLError(mysql.ERServerShutdown, mysql.SSServerShutdown, "procsql server is shutting down: reconnect to another server or restart procsql serve")
	}
	defer h.srv.end()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(h.srv.stop, cancel)()
	timeout := h.srv.cfg.QueryTimeout
	if timeout > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, timeout)
		defer cancelTimeout()
	}
	reader := tables.NewReader(source.NewCache(h.srv.eng.src))
	ctx = context.WithValue(ctx, readerKey{}, reader)

	// TODO: the spool bounds the result, but go-mysql-server builds each
	// value first, so one huge value such as REPEAT('x', 2000000000) can
	// take gigabytes before the time limit stops it.
	sp := spool{maxRows: h.srv.cfg.MaxRows, maxBytes: h.srv.cfg.MaxResultBytes}
	err := exec(ctx, sp.add)
	switch {
	case sp.tooManyRows:
		err = mysql.NewSQLError(mysql.ERTooBigSelect, mysql.SSUnknownSQLState,
			"result has more than %d rows, the server's limit (--max-rows): add a WHERE clause or a LIMIT", sp.maxRows)
	case sp.tooLarge:
		err = mysql.NewSQLError(mysql.ERTooBigSelect, mysql.SSUnknownSQLState,
			"result is larger than %d MiB, the server's limit (--max-result-size): select fewer columns or rows", sp.maxBytes>>20)
	case timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded):
		err = mysql.NewSQLError(mysql.ERQueryTimeout, mysql.SSUnknownSQLState,
			"query stopped after %s, the server's limit (--query-timeout): narrow it, for example with a WHERE clause on pid, or retry when the server is less busy", timeout)
	case err != nil && h.srv.stop.Err() != nil:
		err = mysql.NewSQLError(mysql.ERServerShutdown, mysql.SSServerShutdown, "query canceled because procsql server is shutting down")
	}
	if err != nil {
		h.logError(c, query, err, params...)
		return err
	}
	h.addWarnings(c, reader)
	return sp.flush(callback)
}

// addWarnings copies the query's read failures to the session, where the
// warning count of the result and SHOW WARNINGS find them.
func (h *handler) addWarnings(c *mysql.Conn, reader *tables.Reader) {
	v, ok := h.srv.sessions.Load(c.ConnectionID)
	if !ok {
		return
	}
	sess := v.(sql.Session)
	for _, w := range reader.Warnings() {
		sess.Warn(&sql.Warning{Level: "Warning", Code: mysql.ERUnknownError, Message: w})
	}
}

// maxLoggedQuery bounds the query text in a log line, in bytes.
const maxLoggedQuery = 300

// logError logs a failed statement with its literals and params redacted,
// because they may hold a password or a secret the client searched for.
func (h *handler) logError(c *mysql.Conn, query string, err error, params ...string) {
	text, removed := redactLiterals(query)
	removed = append(removed, params...)
	if len(text) > maxLoggedQuery {
		text = text[:maxLoggedQuery] + "..."
	}
	msg := redactMessage(oneLine(err).Error(), removed)
	h.srv.log.Warn("query failed", "connection", c.ConnectionID, "user", c.User, "query", text, "error", msg)
}

func remoteAddr(c *mysql.Conn) string { return addrString(c.RemoteAddr()) }

// spool holds a statement's results until it ends. It copies every value,
// because go-mysql-server may reuse the buffers behind them.
type spool struct {
	maxRows     int   // 0: no limit
	maxBytes    int64 // 0: no limit
	rows        int
	bytes       int64
	tooManyRows bool
	tooLarge    bool
	results     []spooled
}

type spooled struct {
	result *sqltypes.Result
	more   bool
}

func (s *spool) add(r *sqltypes.Result, more bool) error {
	s.rows += len(r.Rows)
	if s.maxRows > 0 && s.rows > s.maxRows {
		s.tooManyRows = true
		return errors.New("row limit reached")
	}
	cp := *r
	cp.Rows = make([][]sqltypes.Value, len(r.Rows))
	for i, row := range r.Rows {
		out := make([]sqltypes.Value, len(row))
		for j, v := range row {
			raw := v.Raw()
			s.bytes += int64(len(raw))
			out[j] = sqltypes.MakeTrusted(v.Type(), append([]byte(nil), raw...))
		}
		cp.Rows[i] = out
		if s.maxBytes > 0 && s.bytes > s.maxBytes {
			s.tooLarge = true
			return errors.New("result size limit reached")
		}
	}
	s.results = append(s.results, spooled{result: &cp, more: more})
	return nil
}

func (s *spool) flush(callback mysql.ResultSpoolFn) error {
	for _, r := range s.results {
		if err := callback(r.result, r.more); err != nil {
			return err
		}
	}
	return nil
}
