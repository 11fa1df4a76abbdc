package engine

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"golang.org/x/sys/unix"
)

// Limits on what a client sends. vitess, the protocol layer of
// go-mysql-server v0.20.0, allocates a buffer of the length that a packet
// header declares before the payload arrives. It joins a packet split over
// 16 MiB fragments without a limit, and it keeps long data until the
// statement is executed, reset or closed.
const (
	// maxPacketBytes is the server's max_allowed_packet: the largest
	// packet a client may send. It is below 16 MiB - 1, so every client
	// packet fits in one fragment.
	maxPacketBytes = 4 << 20
	// maxLongDataBytes bounds the long data (COM_STMT_SEND_LONG_DATA)
	// that the prepared statements of one connection hold together,
	// counted as longDataBytes counts it: one packet of the largest size.
	maxLongDataBytes = maxPacketBytes + longDataEntryBytes
	// maxLoginBytes bounds the packets a client sends before its login
	// ends: the handshake response and any authentication exchange,
	// counted after decryption under TLS.
	maxLoginBytes = 64 << 10
	// longDataEntryBytes estimates the memory of one long-data value
	// besides its bytes: a map entry and a bind variable in vitess.
	longDataEntryBytes = 64
)

// MySQL command bytes that packetGuard follows.
const (
	comStmtExecute     = 0x17
	comStmtSendLong    = 0x18
	comStmtClose       = 0x19
	comStmtReset       = 0x1a
	comResetConnection = 0x1f
)

// clientSSL is the CLIENT_SSL capability flag of a handshake response. A
// client that sets it in its first packet switches to TLS next.
const clientSSL = 0x800

// cursorTypeFlags are the cursor bits of COM_STMT_EXECUTE's flags byte:
// CURSOR_TYPE_READ_ONLY, CURSOR_TYPE_FOR_UPDATE and CURSOR_TYPE_SCROLLABLE.
const cursorTypeFlags = 0x07

// MySQL error numbers that the guard sends itself.
const (
	erUnknownStmtHandler       = 1243 // ER_UNKNOWN_STMT_HANDLER
	erWrongArguments           = 1210 // ER_WRONG_ARGUMENTS
	erMalformedPacket          = 1835 // ER_MALFORMED_PACKET
	erClientInteractionTimeout = 4031 // ER_CLIENT_INTERACTION_TIMEOUT
)

// errPacketRejected is the error that packetGuard's Read returns after it
// rejected a packet, which ends the connection.
var errPacketRejected = errors.New("connection closed after a rejected packet")

// errIdleTimeout is the error that packetGuard's Read returns when the
// client sent nothing for the idle timeout.
var errIdleTimeout = errors.New("connection closed after the idle timeout")

// preparedStatements looks up the prepared statements that vitess keeps for
// a connection. The guard calls it from Read, on the goroutine that runs the
// connection's commands, so no command changes them meanwhile.
type preparedStatements interface {
	// paramCount returns the number of parameters of statement id, and
	// false when the connection has no such statement.
	paramCount(id uint32) (uint16, bool)
	// boundBytes returns the memory that the bound values of statement
	// id take, as longDataBytes counts it.
	boundBytes(id uint32) int64
}

// guardConfig is the server's configuration of a packetGuard.
type guardConfig struct {
	// tls, when set, is the configuration for clients that request TLS.
	tls *tls.Config
	// idleTimeout closes a logged-in connection that sends no packet for
	// this long; 0 means no limit.
	idleTimeout time.Duration
	// logRejected logs a rejected packet, by kind.
	logRejected func(kind string, args ...any)
	// logIdle logs a connection closed for its idle timeout.
	logIdle func()
}

// packetGuard is an accepted connection that checks the packets the client
// sends before vitess reads them. It stops a client from making the server
// allocate more than maxPacketBytes for one packet, more than maxLoginBytes
// before login, or more than maxLongDataBytes of long data, and it closes
// a connection that stays idle past the idle timeout. It reads each packet
// header: it sends MySQL error 1153 for a packet over the limit and closes
// the connection before vitess reads the whole header.
//
// It also ends TLS itself, so that it reads the packets of TLS connections
// too: when a client's first packet requests TLS, the guard completes the
// TLS handshake and passes vitess the decrypted packets that follow, as if
// the client had not requested TLS. vitess never sees the request, so the
// guard renumbers the login packets in both directions by one, and
// Server.markTLS tells vitess that the connection uses TLS.
//
// It changes two things that vitess would mishandle: it clears the cursor
// flags of COM_STMT_EXECUTE, so that the result is sent at once rather than
// held for COM_STMT_FETCH without a time limit, and it rejects
// COM_STMT_RESET and COM_STMT_SEND_LONG_DATA for unknown statements or
// parameters, which panic or log the statement text in vitess.
type packetGuard struct {
	net.Conn // the accepted connection
	cfg      guardConfig
	loggedIn atomic.Bool
	// statements is set before the first read, by Server.connectionOpened;
	// nil skips the checks that need it.
	statements preparedStatements

	// Read's state. vitess reads a connection from one goroutine.
	tls              *tls.Conn // set once the client switched to TLS
	firstRead        bool      // the client's first packet has been read
	firstPacket      []byte    // the rest of the first packet to pass on
	bytesBeforeLogin int64
	header           [4]byte
	headerLen        int
	payloadLeft      int    // bytes of the current packet still to read
	payloadSeen      int    // bytes of the current packet read so far
	command          []byte // first bytes of the current packet's payload
	commandChecked   bool   // followCommand has checked the statement and parameter
	clearSSLFlag     bool   // the current packet is the handshake response after TLS
	executed         []uint32
	longData         map[uint32]int64 // long data bytes by statement id
	longDataBytes    int64            // long data bytes of all statements
	rejected         bool

	deadlineMu   sync.Mutex
	readDeadline time.Time // the deadline the server set, zero for none
	idleDeadline time.Time // the idle timeout of the read under way, zero for none

	// Write's state. vitess writes from the goroutine that reads.
	renumberWrites bool // add 1 to each packet's sequence number
	outHeader      [4]byte
	outHeaderLen   int
	outPayloadLeft int
}

// maxCommandBytes is how much of a packet's payload the guard keeps: the
// command byte, a statement id and a parameter number.
const maxCommandBytes = 7

func newPacketGuard(conn net.Conn, cfg guardConfig) *packetGuard {
	return &packetGuard{Conn: conn, cfg: cfg, longData: map[uint32]int64{}}
}

// isTLS reports whether the client switched to TLS. Only the goroutine that
// reads the connection may call it.
func (g *packetGuard) isTLS() bool { return g.tls != nil }

// Read implements net.Conn. It returns the bytes read up to the header
// byte that completes a rejected packet's header, and errPacketRejected on
// the next call.
func (g *packetGuard) Read(p []byte) (int, error) {
	if g.rejected {
		return 0, errPacketRejected
	}
	if !g.firstRead {
		g.firstRead = true
		if err := g.readFirstPacket(); err != nil {
			return 0, err
		}
	}
	if len(g.firstPacket) > 0 {
		n := copy(p, g.firstPacket)
		g.firstPacket = g.firstPacket[n:]
		return n, nil
	}
	if g.headerLen == 0 && g.payloadLeft == 0 {
		// vitess reads from the connection only once it has run every
		// complete packet, because it reads one packet at a time
		// through a buffer that it empties first.
		g.settleExecuted()
		g.armIdleTimeout()
	}
	n, err := g.source().Read(p)
	if n == 0 {
		if err != nil && g.idleTimedOut(err) {
			g.closeIdle()
			return 0, errIdleTimeout
		}
		return n, err
	}
	if keep, ok := g.inspect(p[:n]); !ok {
		g.rejected = true
		g.discardInput()
		return keep, nil
	}
	return n, err
}

// Write implements net.Conn.
func (g *packetGuard) Write(p []byte) (int, error) {
	if g.renumberWrites {
		p = g.renumber(p)
	}
	return g.sink().Write(p)
}

// source returns what Read reads the client's packets from.
func (g *packetGuard) source() io.Reader {
	if g.tls != nil {
		return g.tls
	}
	return g.Conn
}

// sink returns what Write writes the server's packets to.
func (g *packetGuard) sink() io.Writer {
	if g.tls != nil {
		return g.tls
	}
	return g.Conn
}

// inspect updates the guard with data, read from the client, and returns
// false with the number of bytes to pass on when data breaks a limit. It
// changes data in place where the guard rewrites a packet.
func (g *packetGuard) inspect(data []byte) (int, bool) {
	loggedIn := g.loggedIn.Load()
	if !loggedIn {
		g.bytesBeforeLogin += int64(len(data))
		if g.bytesBeforeLogin > maxLoginBytes {
			g.cfg.logRejected("login too large", "bytes", g.bytesBeforeLogin, "max_bytes", maxLoginBytes)
			g.sendError(g.header[3]+1, mysql.ERNetPacketTooLarge, mysql.SSNetError,
				"the login sent %d bytes, more than procsql's limit of %d before login: send shorter connection attributes, user or database names", g.bytesBeforeLogin, maxLoginBytes)
			return 0, false
		}
	}
	for i := 0; i < len(data); {
		if g.payloadLeft == 0 {
			g.header[g.headerLen] = data[i]
			if g.headerLen == 3 && g.tls != nil && !loggedIn && data[i] != 0 {
				// A login packet after the TLS request; a packet
				// numbered 0 is a command that the client sent
				// before the reply to its login.
				data[i]--
			}
			g.headerLen++
			i++
			if g.headerLen == 4 && !g.startPacket() {
				return i - 1, false
			}
			continue
		}
		take := min(g.payloadLeft, len(data)-i)
		chunk := data[i : i+take]
		if missing := maxCommandBytes - len(g.command); missing > 0 {
			g.command = append(g.command, chunk[:min(missing, take)]...)
		}
		g.rewrite(chunk)
		g.payloadLeft -= take
		g.payloadSeen += take
		i += take
		if !g.followCommand() {
			return i - take, false
		}
		if g.payloadLeft == 0 && !g.endPacket() {
			return i - take, false
		}
	}
	return len(data), true
}

// startPacket checks a complete packet header.
func (g *packetGuard) startPacket() bool {
	g.headerLen = 0
	length := int(g.header[0]) | int(g.header[1])<<8 | int(g.header[2])<<16
	if !g.checkLength(length) {
		return false
	}
	g.payloadLeft = length
	g.payloadSeen = 0
	g.command = g.command[:0]
	g.commandChecked = false
	return true
}

// checkLength checks the length of a packet whose header is g.header, and
// sends the client an error when it is empty or over the limit.
func (g *packetGuard) checkLength(length int) bool {
	reply := g.header[3] + 1
	switch {
	case !g.loggedIn.Load() && length > maxLoginBytes:
		g.cfg.logRejected("login packet too large", "bytes", length, "max_bytes", maxLoginBytes)
		g.sendError(reply, mysql.ERNetPacketTooLarge, mysql.SSNetError,
			"Got a packet bigger than 'max_allowed_packet' bytes: this login packet has %d bytes, more than procsql's limit of %d before login; send shorter connection attributes, user or database names", length, maxLoginBytes)
		return false
	case length > maxPacketBytes:
		g.cfg.logRejected("packet too large", "bytes", length, "max_bytes", maxPacketBytes)
		g.sendError(reply, mysql.ERNetPacketTooLarge, mysql.SSNetError,
			"Got a packet bigger than 'max_allowed_packet' bytes: this packet has %d bytes and procsql's limit is %d; send a shorter statement or smaller parameters", length, maxPacketBytes)
		return false
	case length == 0:
		g.cfg.logRejected("empty packet")
		g.sendError(reply, mysql.ERUnknownComError, mysql.SSUnknownComError, "empty packet: every packet carries a command or a login")
		return false
	}
	return true
}

// rewrite changes the bytes of chunk, the next bytes of the current
// packet's payload, that the guard rewrites: the CLIENT_SSL flag of the
// handshake response after TLS, and the cursor flags of COM_STMT_EXECUTE.
func (g *packetGuard) rewrite(chunk []byte) {
	at := func(offset int) (int, bool) {
		i := offset - g.payloadSeen
		return i, i >= 0 && i < len(chunk)
	}
	if g.clearSSLFlag {
		if i, ok := at(1); ok {
			chunk[i] &^= clientSSL >> 8
		}
		return
	}
	if g.loggedIn.Load() && len(g.command) > 0 && g.command[0] == comStmtExecute {
		if i, ok := at(5); ok {
			chunk[i] &^= cursorTypeFlags
		}
	}
}

// followCommand checks what the current packet does to a prepared
// statement once its command byte, statement id and, for long data, its
// parameter number are known.
func (g *packetGuard) followCommand() bool {
	if !g.loggedIn.Load() || len(g.command) < 5 {
		return true
	}
	id := binary.LittleEndian.Uint32(g.command[1:5])
	switch g.command[0] {
	case comStmtSendLong:
		if len(g.command) < maxCommandBytes {
			return true
		}
		if !g.commandChecked {
			g.commandChecked = true
			if !g.knownParameter(id) {
				return false
			}
		}
		total := g.longDataBytes + int64(g.payloadSeen) + longDataEntryBytes
		if total > maxLongDataBytes {
			g.cfg.logRejected("long data too large", "statement", id, "bytes", total, "max_bytes", maxLongDataBytes)
			g.sendError(g.header[3]+1, mysql.ERNetPacketTooLarge, mysql.SSNetError,
				"Got a packet bigger than 'max_allowed_packet' bytes: the long data of this connection's prepared statements would take %d bytes, more than procsql's limit of %d; execute, reset or close statements before sending more", total, maxLongDataBytes)
			return false
		}
	case comStmtReset:
		if g.statements == nil || g.commandChecked {
			return true
		}
		g.commandChecked = true
		if _, ok := g.statements.paramCount(id); !ok {
			g.cfg.logRejected("unknown statement", "command", "COM_STMT_RESET", "statement", id)
			g.sendError(g.header[3]+1, erUnknownStmtHandler, mysql.SSUnknownSQLState,
				"COM_STMT_RESET names prepared statement %d, which this connection never prepared or has closed", id)
			return false
		}
	}
	return true
}

// knownParameter checks, once per packet, that long data names a prepared
// statement of the connection and one of its parameters.
func (g *packetGuard) knownParameter(id uint32) bool {
	if g.statements == nil {
		return true
	}
	param := binary.LittleEndian.Uint16(g.command[5:7])
	count, ok := g.statements.paramCount(id)
	switch {
	case !ok:
		g.cfg.logRejected("unknown statement", "command", "COM_STMT_SEND_LONG_DATA", "statement", id)
		g.sendError(g.header[3]+1, erUnknownStmtHandler, mysql.SSUnknownSQLState,
			"COM_STMT_SEND_LONG_DATA names prepared statement %d, which this connection never prepared or has closed", id)
		return false
	case param >= count:
		g.cfg.logRejected("unknown parameter", "command", "COM_STMT_SEND_LONG_DATA", "statement", id, "parameter", param, "parameters", count)
		g.sendError(g.header[3]+1, erWrongArguments, mysql.SSUnknownSQLState,
			"COM_STMT_SEND_LONG_DATA is for parameter %d of prepared statement %d, which has %d parameters numbered from 0", param, id, count)
		return false
	}
	return true
}

// endPacket records a complete packet.
func (g *packetGuard) endPacket() bool {
	if !g.loggedIn.Load() {
		g.clearSSLFlag = false
		return true
	}
	if g.command[0] == comResetConnection {
		clear(g.longData)
		g.longDataBytes = 0
		return true
	}
	if len(g.command) < 5 {
		if g.command[0] == comStmtReset {
			// vitess would read a statement id past the payload.
			g.cfg.logRejected("malformed packet", "command", "COM_STMT_RESET", "bytes", g.payloadSeen)
			g.sendError(g.header[3]+1, erMalformedPacket, mysql.SSUnknownSQLState,
				"malformed COM_STMT_RESET: %d bytes, want 5", g.payloadSeen)
			return false
		}
		return true
	}
	id := binary.LittleEndian.Uint32(g.command[1:5])
	switch g.command[0] {
	case comStmtSendLong:
		g.addLongData(id, int64(g.payloadSeen)+longDataEntryBytes)
	case comStmtExecute:
		g.executed = append(g.executed, id)
	case comStmtClose, comStmtReset:
		g.addLongData(id, -g.longData[id])
		delete(g.longData, id)
	}
	return true
}

func (g *packetGuard) addLongData(id uint32, bytes int64) {
	g.longData[id] += bytes
	g.longDataBytes += bytes
}

// settleExecuted counts, for each statement executed since the last call,
// the bound values that vitess still keeps. It clears them after a
// successful execution, and keeps them after a malformed one.
func (g *packetGuard) settleExecuted() {
	for _, id := range g.executed {
		held := int64(0)
		if g.statements != nil {
			held = g.statements.boundBytes(id)
		}
		g.addLongData(id, held-g.longData[id])
		if held == 0 {
			delete(g.longData, id)
		}
	}
	g.executed = g.executed[:0]
}

// discardInput ends the connection after a rejected packet. It first reads
// and drops what the client is still sending, for up to rejectDrainTime,
// because closing a socket with unread input resets the connection, and the
// client could lose the error packet before reading it.
func (g *packetGuard) discardInput() {
	if g.tls != nil {
		g.tls.CloseWrite()
	}
	if half, ok := g.Conn.(interface{ CloseWrite() error }); ok {
		half.CloseWrite()
	}
	g.Conn.SetReadDeadline(time.Now().Add(rejectDrainTime))
	io.Copy(io.Discard, g.Conn)
	g.Conn.Close()
}

// rejectDrainTime bounds discardInput's wait for a client to stop sending.
const rejectDrainTime = time.Second

// sendError writes a MySQL error packet straight to the client, which
// vitess is not writing to while it waits for a packet. sequence is in the
// client's numbering.
func (g *packetGuard) sendError(sequence byte, code int, state, format string, args ...any) {
	message := fmt.Sprintf(format, args...)
	payload := []byte{0xff, byte(code), byte(code >> 8), '#'}
	payload = append(payload, state...)
	payload = append(payload, message...)
	header := []byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), sequence}
	g.sink().Write(append(header, payload...))
}

// peerClosed reports whether the client of conn has closed its end, without
// reading from conn. It reports false for connections it cannot poll.
func peerClosed(conn net.Conn) bool {
	raw, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	control, err := raw.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	control.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		if n, err := unix.Poll(fds, 0); err == nil && n > 0 {
			closed = fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
		}
	})
	return closed
}
