package engine

import (
	"encoding/binary"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/dolthub/vitess/go/mysql"
)

// connListener keeps track of the connections it accepts, so that Shutdown
// can close them, and rejects connections beyond max (when max > 0) with
// MySQL error 1040, as MySQL does. The vitess listener's own limit makes
// extra clients wait, or drops them without an error.
type connListener struct {
	net.Listener
	max      int
	log      *slog.Logger
	rejected logLimiter

	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

func newConnListener(ln net.Listener, max int, log *slog.Logger) *connListener {
	return &connListener{
		Listener: ln,
		max:      max,
		log:      log,
		rejected: logLimiter{interval: logInterval},
		conns:    map[*trackedConn]struct{}{},
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if l.max == 0 || len(l.conns) < l.max {
			tracked := &trackedConn{Conn: conn, listener: l}
			l.conns[tracked] = struct{}{}
			l.mu.Unlock()
			return tracked, nil
		}
		l.mu.Unlock()
		if ok, suppressed := l.rejected.allow(); ok {
			l.log.Warn("connection rejected: too many clients", "client", addrString(conn.RemoteAddr()),
				"max_connections", l.max, "rejected_since_last_line", suppressed)
		}
		go reject(conn)
	}
}

// closeAll closes every open connection, which also ends writes blocked on
// a client that stopped reading, and returns how many it closed.
func (l *connListener) closeAll() int {
	l.mu.Lock()
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return len(conns)
}

// reject sends the error packet that a MySQL server sends in place of its
// greeting, then closes the connection.
func reject(conn net.Conn) {
	defer conn.Close()
	msg := "#08004Too many connections: the procsql server's limit (--max-connections) is reached; try again later"
	payload := make([]byte, 0, 3+len(msg))
	payload = append(payload, 0xff)
	payload = binary.LittleEndian.AppendUint16(payload, mysql.ERConCount)
	payload = append(payload, msg...)
	packet := make([]byte, 4, 4+len(payload))
	packet[0], packet[1], packet[2] = byte(len(payload)), byte(len(payload)>>8), byte(len(payload)>>16)
	packet = append(packet, payload...)
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	conn.Write(packet)
}

// trackedConn removes itself from its listener on Close.
type trackedConn struct {
	net.Conn
	listener *connListener
	once     sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.listener.mu.Lock()
		delete(c.listener.conns, c)
		c.listener.mu.Unlock()
	})
	return c.Conn.Close()
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
