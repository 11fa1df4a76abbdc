package engine

import (
	"errors"
	"os"
	"time"

	"github.com/dolthub/vitess/go/mysql"
)

// SetReadDeadline implements net.Conn. The guard keeps t, so that the idle
// timeout never extends it.
func (g *packetGuard) SetReadDeadline(t time.Time) error {
	g.deadlineMu.Lock()
	defer g.deadlineMu.Unlock()
	g.readDeadline = t
	g.idleDeadline = time.Time{}
	return g.Conn.SetReadDeadline(t)
}

// SetDeadline implements net.Conn.
func (g *packetGuard) SetDeadline(t time.Time) error {
	g.deadlineMu.Lock()
	defer g.deadlineMu.Unlock()
	g.readDeadline = t
	g.idleDeadline = time.Time{}
	return g.Conn.SetDeadline(t)
}

// armIdleTimeout sets the read deadline of a logged-in connection that is
// about to wait for its next packet to the idle timeout, unless the server
// set an earlier deadline. The deadline then holds until the packet is
// complete.
func (g *packetGuard) armIdleTimeout() {
	if g.cfg.idleTimeout <= 0 || !g.loggedIn.Load() {
		return
	}
	g.deadlineMu.Lock()
	defer g.deadlineMu.Unlock()
	idle := time.Now().Add(g.cfg.idleTimeout)
	if !g.readDeadline.IsZero() && g.readDeadline.Before(idle) {
		return
	}
	g.idleDeadline = idle
	g.Conn.SetReadDeadline(idle)
}

// idleTimedOut reports whether err ended a read at the idle timeout rather
// than at a deadline the server set.
func (g *packetGuard) idleTimedOut(err error) bool {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	g.deadlineMu.Lock()
	defer g.deadlineMu.Unlock()
	return !g.idleDeadline.IsZero() && !time.Now().Before(g.idleDeadline)
}

// closeIdle sends MySQL error 4031 (ER_CLIENT_INTERACTION_TIMEOUT), as
// MySQL 8.0.24 and later do at their wait_timeout, and ends the connection. The error is numbered 1, as the
// reply to the command that the client sends next, because clients read it
// only then.
func (g *packetGuard) closeIdle() {
	g.cfg.logIdle()
	g.sendError(1, erClientInteractionTimeout, mysql.SSUnknownSQLState,
		"connection closed after %s without a statement, the server's limit (--idle-timeout): reconnect", g.cfg.idleTimeout)
	g.rejected = true
	g.discardInput()
}
