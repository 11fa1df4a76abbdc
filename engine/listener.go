package engine

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/netutil"
)

// connListener accepts the server's connections and keeps track of them,
// so that Shutdown can end them. It enforces the connection limit as MySQL
// does, with error 1040, where the vitess listener would make extra clients
// wait or drop them without an error:
//
//   - Only logged-in connections count towards max, so clients that never
//     finish their login cannot lock others out.
//   - A connection has loginTimeout to log in. At most maxPending
//     connections may be logging in at once, which bounds the descriptors
//     that stalled clients can hold. Beyond that, a new connection closes
//     the one that has been logging in longest. A flood of stalled clients
//     then slows logins down but cannot stop them.
//
// It returns each accepted connection in a packetGuard, which bounds what a
// client can make the server allocate.
type connListener struct {
	net.Listener
	max        int // logged-in connections; 0 means no limit
	maxPending int
	log        *limitedLog
	// guardConfig returns the configuration of the packetGuard of an
	// accepted connection.
	guardConfig func(conn net.Conn) guardConfig

	mu       sync.Mutex
	conns    map[net.Conn]*connState
	loggedIn int
}

// connState is the state connListener tracks for an open connection.
type connState struct {
	accepted time.Time
	loggedIn bool
}

// loginTimeout is the time a client has from connecting to the end of its
// login, as MySQL's connect_timeout (10 s by default).
const loginTimeout = 10 * time.Second

// minPending is the least number of connections that may be logging in at
// once; the limit is larger with a larger max.
const minPending = 1024

func newConnListener(ln net.Listener, maxLoggedIn int, log *limitedLog, guardConfig func(net.Conn) guardConfig) *connListener {
	return &connListener{
		Listener:    ln,
		max:         maxLoggedIn,
		maxPending:  max(minPending, maxLoggedIn),
		log:         log,
		guardConfig: guardConfig,
		conns:       map[net.Conn]*connState{},
	}
}

// Accept returns the next connection. It retries failed accepts, such as
// EMFILE when the process is out of descriptors, with a growing pause, and
// returns an error only once the listener is closed.
func (l *connListener) Accept() (net.Conn, error) {
	pause := 5 * time.Millisecond
	for {
		conn, err := l.Listener.Accept()
		if errors.Is(err, net.ErrClosed) {
			return nil, err
		}
		if err != nil {
			l.log.Log(slog.LevelError, "accept failed", "accept failed; retrying", "error", err.Error(), "retry_in", pause.String())
			time.Sleep(pause)
			pause = min(2*pause, time.Second)
			continue
		}
		pause = 5 * time.Millisecond
		conn = newPacketGuard(conn, l.guardConfig(conn))

		l.mu.Lock()
		var oldest net.Conn
		if len(l.conns)-l.loggedIn >= l.maxPending {
			oldest = l.oldestPending()
		}
		l.conns[conn] = &connState{accepted: time.Now()}
		l.mu.Unlock()
		if oldest != nil {
			l.log.Warn("closed the connection logging in longest, because too many are logging in at once",
				"client", addrString(oldest.RemoteAddr()), "max_logging_in", l.maxPending)
			oldest.Close()
		}
		conn.SetReadDeadline(time.Now().Add(loginTimeout))
		return conn, nil
	}
}

// oldestPending returns the connection that has been logging in longest.
// The caller holds l.mu.
func (l *connListener) oldestPending() net.Conn {
	var oldest net.Conn
	var since time.Time
	for conn, state := range l.conns {
		if !state.loggedIn && (oldest == nil || state.accepted.Before(since)) {
			oldest, since = conn, state.accepted
		}
	}
	return oldest
}

// loginDone counts c as logged in and lifts its login deadline, or returns
// MySQL error 1040 when max connections are logged in already.
func (l *connListener) loginDone(c *mysql.Conn) error {
	raw := unwrapConn(c.Conn)
	l.mu.Lock()
	if l.max > 0 && l.loggedIn >= l.max {
		l.mu.Unlock()
		l.log.Warn("login rejected: too many clients", "client", addrString(c.RemoteAddr()), "max_connections", l.max)
		return mysql.NewSQLError(mysql.ERConCount, "08004", "%s", tooManyConnections)
	}
	if state, ok := l.conns[raw]; ok && !state.loggedIn {
		state.loggedIn = true
		l.loggedIn++
	}
	l.mu.Unlock()
	if guard, ok := raw.(*packetGuard); ok {
		guard.loggedIn.Store(true)
	}
	return c.Conn.SetReadDeadline(time.Time{})
}

// release removes a closed connection from the counts and reports whether
// it had logged in.
func (l *connListener) release(c *mysql.Conn) bool {
	raw := unwrapConn(c.Conn)
	l.mu.Lock()
	defer l.mu.Unlock()
	state, ok := l.conns[raw]
	if !ok {
		return false
	}
	if state.loggedIn {
		l.loggedIn--
	}
	delete(l.conns, raw)
	return state.loggedIn
}

// endIdle makes each connection's next read fail at once, so that the
// server closes it after it has written any result it is sending.
func (l *connListener) endIdle() {
	for _, c := range l.open() {
		c.SetReadDeadline(time.Now())
	}
}

// waitDrained waits up to d for every connection to close, and reports
// whether they did.
func (l *connListener) waitDrained(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for len(l.open()) > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// closeAll closes every open connection, which also ends writes blocked on
// a client that stopped reading, and returns how many it closed.
func (l *connListener) closeAll() int {
	conns := l.open()
	for _, c := range conns {
		c.Close()
	}
	return len(conns)
}

func (l *connListener) open() []net.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	conns := make([]net.Conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	return conns
}

const tooManyConnections = "Too many connections: the procsql server's limit (--max-connections) is reached; try again later"

// unwrapConn returns the connection that the listener returned, a
// packetGuard, from the timeout and TLS wrappers that vitess puts around
// it.
func unwrapConn(conn net.Conn) net.Conn {
	for {
		switch wrapped := conn.(type) {
		case netutil.ConnWithTimeouts:
			conn = wrapped.Conn
		case *tls.Conn:
			conn = wrapped.NetConn()
		default:
			return conn
		}
	}
}

// addrString formats a client address for the log. Clients of a unix socket
// have no address of their own.
func addrString(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	if addr.Network() == "unix" {
		return "unix socket"
	}
	return addr.String()
}
