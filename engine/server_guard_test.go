package engine_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/internal/livetest"
)

// The tests in this file send packets that the connection guard checks or
// rewrites before vitess reads them, over plain connections and over TLS,
// where the guard ends TLS itself to see them.

// MySQL protocol values the tests use.
const (
	comStmtPrepare       = 0x16
	comStmtSendLongData  = 0x18
	comStmtReset         = 0x1a
	clientSSLFlag        = 0x800
	serverStatusCursor   = 0x40 // SERVER_STATUS_CURSOR_EXISTS
	cursorTypeReadOnly   = 0x01 // CURSOR_TYPE_READ_ONLY
	mysqlTypeVarString   = 0xfd
	errUnknownStmtHandle = 1243 // ER_UNKNOWN_STMT_HANDLER
	errWrongArguments    = 1210 // ER_WRONG_ARGUMENTS
	errMalformedPacket   = 1835 // ER_MALFORMED_PACKET
	errIdleTimeout       = 4031 // ER_CLIENT_INTERACTION_TIMEOUT
)

// guardedServer starts a server with a password and TLS that logs to the
// returned buffer.
func guardedServer(t *testing.T, cfg engine.ServerConfig) (*testServer, *livetest.Buffer) {
	t.Helper()
	var logged livetest.Buffer
	cfg.Password = protocolPassword
	cfg.TLS = &tls.Config{Certificates: []tls.Certificate{selfSignedCertificate(t)}, MinVersion: tls.VersionTLS12}
	cfg.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	return startServer(t, treeSource(t, permissionDeniedTree), cfg), &logged
}

// readPacketSequence reads the next packet and returns its payload and
// sequence number.
func (c *rawClient) readPacketSequence() ([]byte, byte, error) {
	var header [4]byte
	if _, err := io.ReadFull(c.reader, header[:]); err != nil {
		return nil, 0, err
	}
	payload := make([]byte, int(header[0])|int(header[1])<<8|int(header[2])<<16)
	_, err := io.ReadFull(c.reader, payload)
	return payload, header[3], err
}

// loggedInTLS returns a raw client that has requested TLS and logged in
// over it. It checks the sequence numbers of the login's packets, which
// the server must count from the client's TLS request.
func loggedInTLS(t *testing.T, address string) *rawClient {
	t.Helper()
	c, salt := startTLS(t, address)
	auth := nativePasswordResponse(salt, protocolPassword)
	reply, sequence := c.sendTLSLogin(t, "mysql_native_password", auth)
	if len(reply) == 0 || reply[0] != 0x00 {
		t.Fatalf("login over TLS: reply %q, want an OK packet", reply)
	}
	if sequence != 3 {
		t.Errorf("login over TLS: OK packet numbered %d, want 3", sequence)
	}
	return c
}

// tlsRequestFlags are the capability flags of the raw client's TLS request
// and handshake response: CLIENT_LONG_PASSWORD, CLIENT_PROTOCOL_41,
// CLIENT_SECURE_CONNECTION, CLIENT_PLUGIN_AUTH and CLIENT_SSL.
const tlsRequestFlags = 0x1 | 0x200 | 0x8000 | 0x80000 | clientSSLFlag

// startTLS connects, reads the greeting, requests TLS and completes the
// TLS handshake. It returns the client and the greeting's salt.
func startTLS(t *testing.T, address string) (*rawClient, []byte) {
	t.Helper()
	c := dialRaw(t, address)
	greeting, err := c.readPacket()
	if err != nil {
		t.Fatalf("read greeting: %v", err)
	}
	salt, err := greetingSalt(greeting)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.writePacket(1, tlsRequest()); err != nil {
		t.Fatalf("send TLS request: %v", err)
	}
	encrypted := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := encrypted.Handshake(); err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	c.conn = encrypted
	c.reader = bufio.NewReader(encrypted)
	return c, salt
}

// tlsRequest returns an SSLRequest packet's payload.
func tlsRequest() []byte {
	request := binary.LittleEndian.AppendUint32(nil, tlsRequestFlags)
	request = binary.LittleEndian.AppendUint32(request, 1<<24)
	request = append(request, 33)
	return append(request, make([]byte, 23)...)
}

// sendTLSLogin sends the handshake response as packet 2, after the TLS
// request, and returns the server's reply and its sequence number.
func (c *rawClient) sendTLSLogin(t *testing.T, plugin string, auth []byte) ([]byte, byte) {
	t.Helper()
	response := append(tlsRequest(), "procsql"...)
	response = append(response, 0)
	response = append(append(response, byte(len(auth))), auth...)
	response = append(append(response, plugin...), 0)
	if err := c.writePacket(2, response); err != nil {
		t.Fatalf("send handshake response over TLS: %v", err)
	}
	reply, sequence, err := c.readPacketSequence()
	if err != nil {
		t.Fatalf("read login reply over TLS: %v", err)
	}
	return reply, sequence
}

// guardClients returns functions that log a raw client in, by kind of
// connection.
func guardClients(t *testing.T, address string) map[string]func() *rawClient {
	return map[string]func() *rawClient{
		"plain": func() *rawClient { return loggedInRaw(t, address) },
		"TLS":   func() *rawClient { return loggedInTLS(t, address) },
	}
}

// prepareRaw prepares query and returns its statement id and parameter
// count, after reading the definitions that follow.
func prepareRaw(t *testing.T, c *rawClient, query string) (uint32, uint16) {
	t.Helper()
	if err := c.writePacket(0, append([]byte{comStmtPrepare}, query...)); err != nil {
		t.Fatalf("send COM_STMT_PREPARE: %v", err)
	}
	reply, err := c.readPacket()
	if err != nil || len(reply) < 12 || reply[0] != 0 {
		t.Fatalf("prepare %q: reply %q, %v; want a COM_STMT_PREPARE_OK packet", query, reply, err)
	}
	id := binary.LittleEndian.Uint32(reply[1:5])
	columns := binary.LittleEndian.Uint16(reply[5:7])
	params := binary.LittleEndian.Uint16(reply[7:9])
	for _, n := range []uint16{params, columns} {
		if n == 0 {
			continue
		}
		for range int(n) + 1 { // the definitions and an EOF packet
			if _, err := c.readPacket(); err != nil {
				t.Fatalf("prepare %q: read definitions: %v", query, err)
			}
		}
	}
	return id, params
}

// sendLongData sends data as long data for parameter param of statement id.
func sendLongData(t *testing.T, c *rawClient, id uint32, param uint16, data []byte) {
	t.Helper()
	payload := []byte{comStmtSendLongData}
	payload = binary.LittleEndian.AppendUint32(payload, id)
	payload = binary.LittleEndian.AppendUint16(payload, param)
	if err := c.writePacket(0, append(payload, data...)); err != nil {
		t.Fatalf("send long data: %v", err)
	}
}

// executePacket returns a COM_STMT_EXECUTE of statement id with flags and
// one string parameter, sent inline unless it is nil, or no parameter when
// params is 0. iterations is the iteration count, which vitess requires to
// be 1.
func executePacket(id uint32, flags byte, iterations uint32, params uint16, value []byte) []byte {
	payload := []byte{comStmtExecuteByte}
	payload = binary.LittleEndian.AppendUint32(payload, id)
	payload = append(payload, flags)
	payload = binary.LittleEndian.AppendUint32(payload, iterations)
	if params == 0 {
		return payload
	}
	payload = append(payload, 0)                     // NULL bitmap
	payload = append(payload, 1)                     // new parameters bound
	payload = append(payload, mysqlTypeVarString, 0) // parameter type
	if value != nil {
		payload = append(payload, byte(len(value)))
		payload = append(payload, value...)
	}
	return payload
}

// readResultRows reads a binary or text result set and returns its rows'
// payloads and the status flags of the EOF packet after the column
// definitions.
func readResultRows(t *testing.T, c *rawClient, operation string) ([][]byte, uint16) {
	t.Helper()
	first, err := c.readPacket()
	if err != nil {
		t.Fatalf("%s: read result: %v", operation, err)
	}
	if len(first) == 0 || first[0] == 0xff || first[0] == 0 {
		t.Fatalf("%s: reply %q, want a result set", operation, first)
	}
	for range int(first[0]) {
		if _, err := c.readPacket(); err != nil {
			t.Fatalf("%s: read column definition: %v", operation, err)
		}
	}
	eof, err := c.readPacket()
	if err != nil || len(eof) < 5 || eof[0] != 0xfe {
		t.Fatalf("%s: packet after the column definitions is %q, %v; want EOF", operation, eof, err)
	}
	status := binary.LittleEndian.Uint16(eof[3:5])
	if status&serverStatusCursor != 0 {
		return nil, status
	}
	var rows [][]byte
	for {
		row, err := c.readPacket()
		if err != nil {
			t.Fatalf("%s: read row: %v", operation, err)
		}
		if len(row) < 9 && row[0] == 0xfe {
			return rows, status
		}
		rows = append(rows, row)
	}
}

// selectOne sends SELECT 1 and reads its whole result.
func selectOne(t *testing.T, c *rawClient, operation string) {
	t.Helper()
	if err := c.writePacket(0, append([]byte{comQuery}, "SELECT 1"...)); err != nil {
		t.Fatalf("%s: send SELECT 1: %v", operation, err)
	}
	if rows, _ := readResultRows(t, c, operation); len(rows) != 1 {
		t.Fatalf("%s: SELECT 1 returned %d rows, want 1", operation, len(rows))
	}
}

// TestServerGuardDeclinesCursors executes a prepared statement with a
// read-only cursor and never fetches. The server must send the whole
// result at once, without SERVER_STATUS_CURSOR_EXISTS, rather than hold it
// for a fetch that may never come.
func TestServerGuardDeclinesCursors(t *testing.T) {
	server, _ := guardedServer(t, engine.ServerConfig{})
	for name, login := range guardClients(t, server.address) {
		t.Run(name, func(t *testing.T) {
			c := login()
			id, _ := prepareRaw(t, c, "SELECT pid FROM processes ORDER BY pid")
			if err := c.writePacket(0, executePacket(id, cursorTypeReadOnly, 1, 0, nil)); err != nil {
				t.Fatal(err)
			}
			rows, status := readResultRows(t, c, "execute with a cursor")
			if status&serverStatusCursor != 0 {
				t.Fatalf("status flags %#x have SERVER_STATUS_CURSOR_EXISTS, want the result sent at once", status)
			}
			if len(rows) != 2 {
				t.Errorf("execute with a cursor returned %d rows, want 2", len(rows))
			}
			wantQueryResult(t, c, "after the execute with a cursor")
		})
	}
}

// TestServerGuardBoundsLongData sends long data to several prepared
// statements of one connection. Together they may hold 4 MiB, the limit
// of one packet, however many statements share it.
func TestServerGuardBoundsLongData(t *testing.T) {
	server, logged := guardedServer(t, engine.ServerConfig{})
	chunk := bytes.Repeat([]byte("x"), 3<<20)
	for name, login := range guardClients(t, server.address) {
		t.Run(name, func(t *testing.T) {
			c := login()
			first, _ := prepareRaw(t, c, "SELECT LENGTH(?) AS a")
			second, _ := prepareRaw(t, c, "SELECT LENGTH(?) AS b")
			sendLongData(t, c, first, 0, chunk)
			sendLongData(t, c, second, 0, chunk)
			wantErrorPacket(t, c, "3 MiB of long data for a second statement", errPacketTooLarge)
			wantClosed(t, c, "after long data over the limit")
		})
		t.Run(name+" one full packet", func(t *testing.T) {
			c := login()
			id, _ := prepareRaw(t, c, "SELECT LENGTH(?) AS a")
			// The largest packet: the command, statement id and
			// parameter number take 7 bytes.
			sendLongData(t, c, id, 0, bytes.Repeat([]byte("x"), serverPacketLimit-7))
			if err := c.writePacket(0, executePacket(id, 0, 1, 1, nil)); err != nil {
				t.Fatal(err)
			}
			rows, _ := readResultRows(t, c, "execute with a packet of long data")
			if len(rows) != 1 || len(rows[0]) < 3 {
				t.Fatalf("execute with a packet of long data: rows %q, want one binary row", rows)
			}
			// A binary row: a 0 byte, the NULL bitmap and the integer,
			// little-endian.
			var length [8]byte
			copy(length[:], rows[0][2:])
			if got := binary.LittleEndian.Uint64(length[:]); got != serverPacketLimit-7 {
				t.Errorf("LENGTH of the long data = %d, want %d", got, serverPacketLimit-7)
			}
		})
		t.Run(name+" executed", func(t *testing.T) {
			c := login()
			id, _ := prepareRaw(t, c, "SELECT LENGTH(?) AS a")
			// An execution discards the long data, which frees its
			// part of the limit.
			for round := range 3 {
				sendLongData(t, c, id, 0, chunk)
				if err := c.writePacket(0, executePacket(id, 0, 1, 1, nil)); err != nil {
					t.Fatal(err)
				}
				rows, _ := readResultRows(t, c, "execute with 3 MiB of long data")
				if len(rows) != 1 {
					t.Errorf("round %d: %d result rows, want 1", round, len(rows))
				}
			}
		})
		t.Run(name+" malformed execute", func(t *testing.T) {
			c := login()
			id, _ := prepareRaw(t, c, "SELECT LENGTH(?) AS a")
			sendLongData(t, c, id, 0, chunk)
			// An iteration count other than 1 fails in vitess before it
			// runs the statement, and it keeps the long data.
			if err := c.writePacket(0, executePacket(id, 0, 2, 1, nil)); err != nil {
				t.Fatal(err)
			}
			reply, err := c.readPacket()
			if err != nil || len(reply) == 0 || reply[0] != 0xff {
				t.Fatalf("execute with 2 iterations: reply %q, %v; want an error packet", reply, err)
			}
			sendLongData(t, c, id, 0, chunk)
			wantErrorPacket(t, c, "long data after a failed execute", errPacketTooLarge)
		})
	}
	if !strings.Contains(logged.String(), "long data too large") {
		t.Errorf("log has no line about the long data over the limit:\n%s", logged.String())
	}
}

// TestServerGuardRejectsUnknownStatements resets an unknown statement and
// sends long data for an unknown parameter. vitess panicked on the first
// and logged the statement's text for the second.
func TestServerGuardRejectsUnknownStatements(t *testing.T) {
	server, logged := guardedServer(t, engine.ServerConfig{})
	const secret = "hunter2-topsecret"
	for name, login := range guardClients(t, server.address) {
		t.Run(name+" reset", func(t *testing.T) {
			c := login()
			reset := binary.LittleEndian.AppendUint32([]byte{comStmtReset}, 12345)
			if err := c.writePacket(0, reset); err != nil {
				t.Fatal(err)
			}
			wantErrorPacket(t, c, "COM_STMT_RESET of statement 12345", errUnknownStmtHandle)
			wantClosed(t, c, "after COM_STMT_RESET of an unknown statement")
		})
		t.Run(name+" short reset", func(t *testing.T) {
			c := login()
			if err := c.writePacket(0, []byte{comStmtReset, 1, 0}); err != nil {
				t.Fatal(err)
			}
			wantErrorPacket(t, c, "COM_STMT_RESET of 3 bytes", errMalformedPacket)
		})
		t.Run(name+" reset known", func(t *testing.T) {
			c := login()
			id, _ := prepareRaw(t, c, "SELECT LENGTH(?) AS a")
			sendLongData(t, c, id, 0, []byte("abc"))
			if err := c.writePacket(0, binary.LittleEndian.AppendUint32([]byte{comStmtReset}, id)); err != nil {
				t.Fatal(err)
			}
			reply, err := c.readPacket()
			if err != nil || len(reply) == 0 || reply[0] != 0 {
				t.Fatalf("COM_STMT_RESET of a prepared statement: reply %q, %v; want an OK packet", reply, err)
			}
			wantQueryResult(t, c, "after resetting a statement")
		})
		t.Run(name+" long data parameter", func(t *testing.T) {
			c := login()
			id, params := prepareRaw(t, c, "SELECT '"+secret+"', LENGTH(?) AS a")
			if params != 1 {
				t.Fatalf("statement has %d parameters, want 1", params)
			}
			sendLongData(t, c, id, 7, []byte("abc"))
			wantErrorPacket(t, c, "long data for parameter 7 of 1", errWrongArguments)
		})
		t.Run(name+" long data statement", func(t *testing.T) {
			c := login()
			sendLongData(t, c, 999, 0, []byte("abc"))
			wantErrorPacket(t, c, "long data for statement 999", errUnknownStmtHandle)
		})
	}
	var n int
	cfg := server.config()
	cfg.Passwd = protocolPassword
	if err := openDB(t, cfg).QueryRow("SELECT COUNT(*) FROM processes").Scan(&n); err != nil || n != 2 {
		t.Errorf("query after the rejected packets: %d, %v; want 2", n, err)
	}
	text := logged.String()
	for _, leaked := range []string{"panic", secret} {
		if strings.Contains(text, leaked) {
			t.Errorf("log contains %q:\n%s", leaked, text)
		}
	}
}

// TestServerGuardNamesLoginLimit sends a login packet over the limit
// before login. The error must name the login packet, not a statement.
func TestServerGuardNamesLoginLimit(t *testing.T) {
	server, _ := guardedServer(t, engine.ServerConfig{})
	c := dialRaw(t, server.address)
	readGreeting(t, c)
	if _, err := c.conn.Write([]byte{0x00, 0x00, 0x02, 1}); err != nil { // 128 KiB
		t.Fatal(err)
	}
	reply, err := c.readPacket()
	if err != nil || len(reply) < 3 || reply[0] != 0xff {
		t.Fatalf("login packet of 128 KiB: reply %q, %v; want an error packet", reply, err)
	}
	if number := binary.LittleEndian.Uint16(reply[1:3]); number != errPacketTooLarge {
		t.Errorf("login packet of 128 KiB: error %d, want %d", number, errPacketTooLarge)
	}
	message := string(reply[9:])
	if !strings.Contains(message, "login packet has 131072 bytes") || strings.Contains(message, "statement") {
		t.Errorf("login packet of 128 KiB: message %q, want one that names the login packet and its size", message)
	}
}

// TestServerGuardNumbersTLSLogins logs in over TLS with a wrong password,
// and with an authentication method that the server switches. The guard
// hides the TLS request from vitess, so it must renumber every packet of
// the login for the client.
func TestServerGuardNumbersTLSLogins(t *testing.T) {
	server, _ := guardedServer(t, engine.ServerConfig{})

	c, salt := startTLS(t, server.address)
	reply, sequence := c.sendTLSLogin(t, "mysql_native_password", nativePasswordResponse(salt, "wrong"))
	if len(reply) < 3 || reply[0] != 0xff || binary.LittleEndian.Uint16(reply[1:3]) != errAccessDenied {
		t.Errorf("wrong password over TLS: reply %q, want error %d", reply, errAccessDenied)
	}
	if sequence != 3 {
		t.Errorf("wrong password over TLS: error numbered %d, want 3", sequence)
	}

	c, _ = startTLS(t, server.address)
	reply, sequence = c.sendTLSLogin(t, "caching_sha2_password", nil)
	if len(reply) == 0 || reply[0] != 0xfe || sequence != 3 {
		t.Fatalf("login with caching_sha2_password over TLS: reply %q numbered %d, want an authentication switch numbered 3", reply, sequence)
	}
	plugin, data, found := bytes.Cut(reply[1:], []byte{0})
	if !found || string(plugin) != "mysql_native_password" || len(data) < 20 {
		t.Fatalf("authentication switch %q, want mysql_native_password with a 20-byte salt", reply)
	}
	if err := c.writePacket(4, nativePasswordResponse(data[:20], protocolPassword)); err != nil {
		t.Fatal(err)
	}
	reply, sequence, err := c.readPacketSequence()
	if err != nil || len(reply) == 0 || reply[0] != 0 || sequence != 5 {
		t.Fatalf("reply to the switched login: %q numbered %d, %v; want an OK packet numbered 5", reply, sequence, err)
	}
	selectOne(t, c, "SELECT 1 after the switched login")
}

// TestServerGuardChecksTLSPackets sends an empty packet and a packet one
// byte over the limit over TLS, where the guard used to see only
// encrypted bytes: vitess panicked on the first and ran the second.
func TestServerGuardChecksTLSPackets(t *testing.T) {
	server, logged := guardedServer(t, engine.ServerConfig{})

	c := loggedInTLS(t, server.address)
	selectOne(t, c, "SELECT 1 over TLS")
	if err := c.writePacket(0, nil); err != nil {
		t.Fatal(err)
	}
	wantErrorPacket(t, c, "empty packet over TLS", errUnknownCommand)
	wantClosed(t, c, "after an empty packet over TLS")

	c = loggedInTLS(t, server.address)
	query := append([]byte{comQuery}, "SELECT '"...)
	query = append(query, bytes.Repeat([]byte("x"), serverPacketLimit-len(query))...)
	query = append(query, '\'')
	if len(query) != serverPacketLimit+1 {
		t.Fatalf("query packet has %d bytes, want %d", len(query), serverPacketLimit+1)
	}
	if err := c.writePacket(0, query); err != nil {
		t.Fatal(err)
	}
	wantErrorPacket(t, c, "packet of 4 MiB + 1 byte over TLS", errPacketTooLarge)

	c = loggedInTLS(t, server.address)
	if err := c.conn.(*tls.Conn).Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logged.String(), "panic") {
		t.Errorf("log reports a panic:\n%s", logged.String())
	}
}

// TestServerIdleTimeout leaves a logged-in client idle past the idle
// timeout. The server must send error 4031 and close the connection, and
// keep a client that sends a statement now and then.
func TestServerIdleTimeout(t *testing.T) {
	// Long enough that a loaded machine does not delay the busy client's
	// next statement past it.
	const idle = 2 * time.Second
	server, logged := guardedServer(t, engine.ServerConfig{IdleTimeout: idle})
	for name, login := range guardClients(t, server.address) {
		t.Run(name, func(t *testing.T) {
			busy := login()
			quiet := login()
			start := time.Now()
			for time.Since(start) < 3*idle {
				selectOne(t, busy, "a statement every 100 ms")
				time.Sleep(100 * time.Millisecond)
			}
			wantErrorPacket(t, quiet, "idle client", errIdleTimeout)
			wantClosed(t, quiet, "idle client")
			if elapsed := time.Since(start); elapsed > 3*idle+2*time.Second {
				t.Errorf("idle client closed after %s, want about %s", elapsed, idle)
			}
		})
	}

	// A pooled connection that the server closed is replaced on its next
	// use.
	cfg := server.config()
	cfg.Passwd = protocolPassword
	db := openDB(t, cfg)
	var n int
	for range 2 {
		if err := db.QueryRow("SELECT COUNT(*) FROM processes").Scan(&n); err != nil || n != 2 {
			t.Fatalf("query: %d, %v; want 2", n, err)
		}
		time.Sleep(2 * idle)
	}
	if !strings.Contains(logged.String(), `msg="closed an idle connection"`) {
		t.Errorf("log has no line about the idle connections:\n%s", logged.String())
	}
	if strings.Contains(logged.String(), "protocol error") {
		t.Errorf("log has vitess lines about the idle timeout:\n%s", logged.String())
	}
}
