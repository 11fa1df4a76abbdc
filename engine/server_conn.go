package engine

import (
	"context"
	"errors"

	"github.com/dolthub/vitess/go/mysql"
)

// connectionOpened lets the connection's guard look up the prepared
// statements that vitess keeps for it.
func (s *Server) connectionOpened(c *mysql.Conn) {
	if guard, ok := unwrapConn(c.Conn).(*packetGuard); ok {
		guard.statements = vitessStatements{conn: c}
	}
}

// connectionClosed removes a closed connection from the server's sessions
// and connection counts. The handler calls it after go-mysql-server's
// ConnectionClosed, which may build a new session for the connection.
func (s *Server) connectionClosed(c *mysql.Conn) {
	s.sessions.Delete(c.ConnectionID)
	s.loginRejected.Delete(c.ConnectionID)
	if s.listener.release(c) {
		s.activity.Info("client disconnected", "connection", c.ConnectionID, "client", remoteAddr(c), "user", c.User)
	}
}

// markTLS sets the CLIENT_SSL capability of a connection whose guard ended
// TLS, so that vitess and go-mysql-server see a TLS connection, as they do
// when vitess ends TLS itself.
func markTLS(c *mysql.Conn) {
	if guard, ok := unwrapConn(c.Conn).(*packetGuard); ok && guard.isTLS() {
		c.Capabilities |= mysql.CapabilityClientSSL
	}
}

// vitessStatements are the prepared statements of a vitess connection.
type vitessStatements struct {
	conn *mysql.Conn
}

var _ preparedStatements = vitessStatements{}

func (v vitessStatements) paramCount(id uint32) (uint16, bool) {
	prepare, ok := v.conn.PrepareData[id]
	if !ok || prepare == nil {
		return 0, false
	}
	return prepare.ParamsCount, true
}

func (v vitessStatements) boundBytes(id uint32) int64 {
	prepare, ok := v.conn.PrepareData[id]
	if !ok || prepare == nil {
		return 0
	}
	var total int64
	for _, value := range prepare.BindVars {
		if value != nil {
			total += int64(len(value.Value)) + longDataEntryBytes
		}
	}
	return total
}

// errQueryKilled is the error of a statement that KILL QUERY stopped, as
// MySQL reports it (ER_QUERY_INTERRUPTED).
var errQueryKilled = mysql.NewSQLError(mysql.ERQueryInterrupted, "70100",
	"query execution was interrupted: KILL QUERY stopped the statement")

// killed reports whether err, a statement's failure, comes from KILL QUERY.
// go-mysql-server cancels the context of the statement's process, which
// it derives from ctx, so the statement fails on context.Canceled while
// ctx itself is not done. go-mysql-server v0.20.0 returns that failure as
// a MySQL error 1105 with only the text of context.Canceled.
func killed(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return true
	}
	var sqlErr *mysql.SQLError
	return errors.As(err, &sqlErr) && sqlErr.Number() == mysql.ERUnknownError && sqlErr.Message == context.Canceled.Error()
}

// maxPreparedParams bounds the parameters of a connection's prepared
// statements together: as many as MySQL allows in one statement. vitess
// and go-mysql-server keep memory for each parameter. Statements of 30,000
// parameters took 11.6 MB each, measured as resident memory over 40 of
// them, so 256 of them would take about 3 GB.
const maxPreparedParams = 65535

// limitPreparedParams returns MySQL error 1461 when the prepared
// statements of c have more than maxPreparedParams parameters in all.
func limitPreparedParams(c *mysql.Conn) error {
	total := 0
	for _, data := range c.PrepareData {
		total += int(data.ParamsCount)
	}
	if total <= maxPreparedParams {
		return nil
	}
	return mysql.NewSQLError(erTooManyPrepared, "42000",
		"the prepared statements of this connection have %d parameters in all, more than procsql's limit of %d: close the statements it no longer uses",
		total, maxPreparedParams)
}
