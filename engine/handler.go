package engine

import (
	"context"
	"errors"

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
type handler struct {
	inner mysql.Handler
	srv   *Server
}

var _ mysql.Handler = (*handler)(nil)

func (h *handler) NewConnection(c *mysql.Conn) { h.inner.NewConnection(c) }

func (h *handler) ConnectionClosed(c *mysql.Conn) {
	h.srv.sessions.Delete(c.ConnectionID)
	h.srv.loginRejected.Delete(c.ConnectionID)
	h.srv.listener.release(c)
	if c.User != "" || h.srv.cfg.Password == "" {
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
	if err := h.check(c, query, false); err != nil {
		return err
	}
	return h.run(ctx, c, query, callback, func(ctx context.Context, spool mysql.ResultSpoolFn) error {
		return h.inner.ComQuery(ctx, c, query, spool)
	})
}

func (h *handler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	if err := h.check(c, query, true); err != nil {
		return "", err
	}
	var remainder string
	err := h.run(ctx, c, query, callback, func(ctx context.Context, spool mysql.ResultSpoolFn) error {
		var err error
		remainder, err = h.inner.ComMultiQuery(ctx, c, query, spool)
		return err
	})
	return remainder, err
}

func (h *handler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	if err := h.check(c, query, false); err != nil {
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
	return h.run(ctx, c, prepare.PrepareStmt, spoolTo, func(ctx context.Context, spool mysql.ResultSpoolFn) error {
		return h.inner.ComStmtExecute(ctx, c, prepare, func(r *sqltypes.Result) error { return spool(r, false) })
	})
}

func (h *handler) WarningCount(c *mysql.Conn) uint16 { return h.inner.WarningCount(c) }

func (h *handler) ComResetConnection(c *mysql.Conn) error { return h.inner.ComResetConnection(c) }

func (h *handler) ParserOptionsForConnection(c *mysql.Conn) (sqlparser.ParserOptions, error) {
	return h.inner.ParserOptionsForConnection(c)
}

// check applies the read-only check to a statement, or to the first
// statement of a multi-statement query. A statement that does not parse
// passes, so that go-mysql-server reports the syntax error as usual.
func (h *handler) check(c *mysql.Conn, query string, first bool) error {
	opts, err := h.inner.ParserOptionsForConnection(c)
	if err != nil {
		return err
	}
	var stmt sqlparser.Statement
	text := query
	if first {
		var end int
		stmt, end, err = sqlparser.ParseOneWithOptions(context.Background(), query, opts)
		if end > 0 && end <= len(query) {
			text = query[:end]
		}
	} else {
		stmt, err = sqlparser.ParseWithOptions(context.Background(), query, opts)
	}
	if err != nil {
		return nil
	}
	if err := checkStatement(stmt, text); err != nil {
		h.logError(c, query, err)
		return mysql.NewSQLError(mysql.EROptionPreventsStatement, mysql.SSUnknownSQLState, "%s", err.Error())
	}
	return nil
}

// run executes one statement through exec with a fresh Reader, the time
// limit and the row limit. It holds the results until the statement ends:
// the MySQL protocol has no way to report an error after rows were sent
// except closing the connection, and a query over a limit must leave the
// connection usable.
func (h *handler) run(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn, exec func(context.Context, mysql.ResultSpoolFn) error) error {
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

	sp := spool{max: h.srv.cfg.MaxRows}
	err := exec(ctx, sp.add)
	switch {
	case sp.overflow:
		err = mysql.NewSQLError(mysql.ERTooBigSelect, mysql.SSUnknownSQLState,
			"result has more than %d rows, the server's limit (--max-rows): add a WHERE clause or a LIMIT", sp.max)
	case timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded):
		err = mysql.NewSQLError(mysql.ERQueryTimeout, mysql.SSUnknownSQLState,
			"query stopped after %s, the server's limit (--query-timeout): narrow it, for example with a WHERE clause on pid, or retry when the server is less busy", timeout)
	case err != nil && h.srv.stop.Err() != nil:
		err = mysql.NewSQLError(mysql.ERServerShutdown, mysql.SSServerShutdown, "query canceled because procsql server is shutting down")
	}
	if err != nil {
		h.logError(c, query, err)
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

// logError logs a failed statement with its literals redacted, because
// they may hold a password or a secret the client searched for.
func (h *handler) logError(c *mysql.Conn, query string, err error) {
	text, removed := redactLiterals(query)
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
	max      int
	rows     int
	overflow bool
	results  []spooled
}

type spooled struct {
	result *sqltypes.Result
	more   bool
}

func (s *spool) add(r *sqltypes.Result, more bool) error {
	s.rows += len(r.Rows)
	if s.max > 0 && s.rows > s.max {
		s.overflow = true
		return errors.New("row limit reached")
	}
	cp := *r
	cp.Rows = make([][]sqltypes.Value, len(r.Rows))
	for i, row := range r.Rows {
		out := make([]sqltypes.Value, len(row))
		for j, v := range row {
			out[j] = sqltypes.MakeTrusted(v.Type(), append([]byte(nil), v.Raw()...))
		}
		cp.Rows[i] = out
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
