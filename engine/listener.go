package engine

import (
	"encoding/binary"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/dolthub/vitess/go/mysql"
)

// limitListener rejects connections beyond max with MySQL error 1040, as
// MySQL does. The vitess listener's own limit makes extra clients wait, or
// drops them without an error.
type limitListener struct {
	net.Listener
	max      int
	log      *slog.Logger
	rejected logLimiter

	mu   sync.Mutex
	open int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if l.open < l.max {
			l.open++
			l.mu.Unlock()
			return &countedConn{Conn: conn, release: l.release}, nil
		}
		l.mu.Unlock()
		if ok, suppressed := l.rejected.allow(); ok {
			l.log.Warn("connection rejected: too many clients", "client", conn.RemoteAddr().String(),
				"max_connections", l.max, "rejected_since_last_line", suppressed)
		}
		go reject(conn)
	}
}

func (l *limitListener) release() {
	l.mu.Lock()
	l.open--
	l.mu.Unlock()
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

// countedConn gives its slot back to the listener once, on Close.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
