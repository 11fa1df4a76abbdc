package engine_test

import (
	"encoding/binary"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/internal/livetest"
)

// MySQL error numbers of protocol failures.
const (
	errUnknownCommand = 1047 // ER_UNKNOWN_COM_ERROR
	errPacketTooLarge = 1153 // ER_NET_PACKET_TOO_LARGE
	// errUnknownStmt is the error vitess sends for an unknown prepared
	// statement, CR_COMMANDS_OUT_OF_SYNC; MySQL sends 1243.
	errUnknownStmt     = 2014
	protocolPassword   = "pw"
	serverPacketLimit  = 4 << 20 // the server's max_allowed_packet
	comQuery           = 0x03
	comStmtExecuteByte = 0x17
)

// protocolCase is one malformed or hostile exchange with the server over a
// raw connection.
type protocolCase struct {
	name string
	run  func(t *testing.T, address string)
}

// TestServerSurvivesMalformedPackets sends each protocol case to one
// server. After each, a normal client must still log in and query, and the
// server's log must have at most one line about the case. Repeating every
// case must not add more than one line per case, because the lines are
// rate-limited by kind, and nothing may reach the standard library's
// logger, which vitess used to write to without a limit.
func TestServerSurvivesMalformedPackets(t *testing.T) {
	var stdlog livetest.Buffer
	log.SetOutput(&stdlog)
	t.Cleanup(func() { log.SetOutput(io.Discard) })
	var logged livetest.Buffer
	server := startServer(t, treeSource(t, permissionDeniedTree), engine.ServerConfig{
		Password: protocolPassword,
		Logger:   slog.New(slog.NewTextHandler(&logged, nil)),
	})
	cfg := server.config()
	cfg.Passwd = protocolPassword

	cases := protocolCases()
	start := time.Now()
	for _, c := range cases {
		before := len(logged.String())
		c.run(t, server.address)
		var n int
		if err := openDB(t, cfg).QueryRow("SELECT COUNT(*) FROM processes").Scan(&n); err != nil || n != 2 {
			t.Fatalf("after %s: query from a normal client: %d, %v; want 2", c.name, n, err)
		}
		// Lines about a closed connection may come a moment later.
		time.Sleep(100 * time.Millisecond)
		if lines := caseLines(logged.String()[before:]); len(lines) > 1 {
			t.Errorf("after %s the log has %d lines about it, want at most 1:\n%s", c.name, len(lines), strings.Join(lines, "\n"))
		}
	}

	before := len(logged.String())
	for range 3 {
		for _, c := range cases {
			c.run(t, server.address)
		}
	}
	lines := caseLines(logged.String()[before:])
	// Each kind logs again once 10 s have passed since its first line.
	if time.Since(start) < 10*time.Second && len(lines) > 0 {
		t.Errorf("repeating every case 3 times within the 10 s log interval added %d lines, want 0:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if stdlog.String() != "" {
		t.Errorf("the standard logger received lines, which bypass the server's log:\n%s", stdlog.String())
	}
}

// caseLines returns the lines of log other than the listening address and
// the connections and disconnections of clients.
func caseLines(log string) []string {
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if line == "" || strings.Contains(line, "msg=listening") ||
			strings.Contains(line, `msg="client connected"`) || strings.Contains(line, `msg="client disconnected"`) {
			continue
		}
		lines = append(lines, line)
	}
	return lines
}

func protocolCases() []protocolCase {
	return []protocolCase{
		{"garbage instead of the handshake response", func(t *testing.T, address string) {
			c := dialRaw(t, address)
			readGreeting(t, c)
			c.conn.Write([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
			wantClosed(t, c, "garbage handshake")
		}},
		{"16 MiB header before login, then close", func(t *testing.T, address string) {
			c := dialRaw(t, address)
			readGreeting(t, c)
			c.conn.Write([]byte{0xff, 0xff, 0xff, 1})
			wantErrorPacket(t, c, "16 MiB handshake header", errPacketTooLarge)
			c.conn.Close()
		}},
		{"truncated handshake response", func(t *testing.T, address string) {
			c := dialRaw(t, address)
			readGreeting(t, c)
			c.writePacket(1, []byte{0x00, 0x82, 0x00, 0x00, 0x00, 0x00})
			wantClosed(t, c, "truncated handshake response")
		}},
		{"16 MiB header after login, then close", func(t *testing.T, address string) {
			c := loggedInRaw(t, address)
			c.conn.Write([]byte{0xff, 0xff, 0xff, 0, comQuery})
			wantErrorPacket(t, c, "16 MiB query header", errPacketTooLarge)
		}},
		{"query larger than max_allowed_packet", func(t *testing.T, address string) {
			c := loggedInRaw(t, address)
			query := append([]byte{comQuery}, "SELECT '"+strings.Repeat("x", serverPacketLimit)+"'"...)
			c.writePacket(0, query)
			wantErrorPacket(t, c, "query of 4 MiB", errPacketTooLarge)
		}},
		{"COM_QUERY shorter than its header declares", func(t *testing.T, address string) {
			c := loggedInRaw(t, address)
			header := []byte{0xe8, 0x03, 0x00, 0x00} // 1000 bytes
			c.conn.Write(append(header, comQuery, 'S', 'E', 'L', 'E', 'C', 'T'))
			c.conn.Close()
		}},
		{"unknown command byte", func(t *testing.T, address string) {
			c := loggedInRaw(t, address)
			c.writePacket(0, []byte{0xee, 1, 2, 3})
			wantErrorPacket(t, c, "command 0xee", errUnknownCommand)
			wantQueryResult(t, c, "after an unknown command")
		}},
		{"COM_STMT_EXECUTE of an unknown statement", func(t *testing.T, address string) {
			c := loggedInRaw(t, address)
			execute := []byte{comStmtExecuteByte, 0x39, 0x30, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}
			c.writePacket(0, execute)
			wantErrorPacket(t, c, "COM_STMT_EXECUTE of statement 12345", errUnknownStmt)
			wantQueryResult(t, c, "after executing an unknown statement")
		}},
		{"zero-length packet", func(t *testing.T, address string) {
			c := loggedInRaw(t, address)
			c.conn.Write([]byte{0, 0, 0, 0})
			wantErrorPacket(t, c, "zero-length packet", errUnknownCommand)
			wantClosed(t, c, "zero-length packet")
		}},
		{"login and query in 1-byte writes", func(t *testing.T, address string) {
			c := dialRaw(t, address)
			c.conn = oneByteWriter{c.conn}
			if reply := c.loginWithoutTLS(t, "procsql", protocolPassword); len(reply) == 0 || reply[0] != 0x00 {
				t.Fatalf("login in 1-byte writes: reply %q, want an OK packet", reply)
			}
			wantQueryResult(t, c, "query in 1-byte writes")
		}},
		{"handshake response, then nothing", func(t *testing.T, address string) {
			c := loggedInRaw(t, address)
			// The client stays logged in and idle until the test ends.
			_ = c
		}},
	}
}

// readGreeting reads the server's greeting and fails unless it is a
// protocol 10 greeting.
func readGreeting(t *testing.T, c *rawClient) {
	t.Helper()
	greeting, err := c.readPacket()
	if err != nil || len(greeting) == 0 || greeting[0] != 10 {
		t.Fatalf("greeting %q, %v; want protocol version 10", greeting, err)
	}
}

// loggedInRaw returns a raw client that has logged in.
func loggedInRaw(t *testing.T, address string) *rawClient {
	t.Helper()
	c := dialRaw(t, address)
	if reply := c.loginWithoutTLS(t, "procsql", protocolPassword); len(reply) == 0 || reply[0] != 0x00 {
		t.Fatalf("raw login: reply %q, want an OK packet", reply)
	}
	return c
}

// wantErrorPacket reads the next packet and fails unless it is a MySQL
// error packet with number.
func wantErrorPacket(t *testing.T, c *rawClient, operation string, number uint16) {
	t.Helper()
	reply, err := c.readPacket()
	if err != nil {
		t.Errorf("%s: read the reply: %v, want error %d", operation, err, number)
		return
	}
	if len(reply) < 3 || reply[0] != 0xff {
		t.Errorf("%s: reply %q, want an error packet", operation, reply)
		return
	}
	if got := binary.LittleEndian.Uint16(reply[1:3]); got != number {
		t.Errorf("%s: error %d (%s), want %d", operation, got, reply[3:], number)
	}
}

// wantClosed fails unless the server closes the connection within the
// raw client's deadline, after any packets it still sends.
func wantClosed(t *testing.T, c *rawClient, operation string) {
	t.Helper()
	for {
		if _, err := c.readPacket(); err != nil {
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				t.Errorf("%s: the server kept the connection open, want it closed", operation)
			}
			return
		}
	}
}

// wantQueryResult sends SELECT 1 on a logged-in raw client and fails
// unless the reply starts a result set.
func wantQueryResult(t *testing.T, c *rawClient, operation string) {
	t.Helper()
	if err := c.writePacket(0, append([]byte{comQuery}, "SELECT 1"...)); err != nil {
		t.Fatalf("%s: send SELECT 1: %v", operation, err)
	}
	reply, err := c.readPacket()
	if err != nil {
		t.Fatalf("%s: read the reply to SELECT 1: %v", operation, err)
	}
	if len(reply) != 1 || reply[0] != 1 {
		t.Errorf("%s: reply to SELECT 1 is %q, want a result set of one column", operation, reply)
	}
}

// oneByteWriter writes each byte with its own call, so that every packet
// reaches the server split at every possible point.
type oneByteWriter struct{ net.Conn }

func (w oneByteWriter) Write(p []byte) (int, error) {
	for i := range p {
		if _, err := w.Conn.Write(p[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}
