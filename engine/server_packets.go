package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"golang.org/x/sys/unix"
)

// Limits on what a client sends. vitess, the protocol layer of
// go-mysql-server v0.20.0, allocates a buffer of the length that a packet
// header declares before the payload arrives, and joins a packet split
// over 16 MiB fragments without a limit.
const (
	// maxPacketBytes is the server's max_allowed_packet: the largest
	// packet a client may send, and the most long data it may send for one
	// prepared statement. It is below 16 MiB - 1, so every client packet
	// fits in one fragment.
	maxPacketBytes = 4 << 20
	// maxLoginBytes bounds what a client sends before its login ends: the
	// handshake response, or the TLS handshake and the encrypted response.
	maxLoginBytes = 64 << 10
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
// client that sets it in a 32-byte response switches to TLS next.
const clientSSL = 0x800

// errPacketRejected is the error that packetGuard's Read returns after it
// rejected a packet, which ends the connection.
var errPacketRejected = errors.New("connection closed after a rejected packet")

// packetGuard is an accepted connection that checks the packets the client
// sends before vitess reads them. It stops a client from making the server
// allocate more than maxPacketBytes for one packet or maxLoginBytes before
// login. On a plain-text connection it reads each packet header: it sends
// MySQL error 1153 for a packet over the limit and closes the connection
// before vitess reads the whole header. Once a client switches to TLS, the
// headers are encrypted, so it counts bytes instead and closes the
// connection of a client that sends more than maxLoginBytes before login
// or more than maxPacketBytes without waiting for a reply.
//
// NOTE: over TLS, a client that has logged in can still declare a packet of
// up to 16 MiB, for which vitess allocates a buffer at once, and an
// oversized packet ends the connection without error 1153.
type packetGuard struct {
	net.Conn
	tlsOffered bool
	loggedIn   atomic.Bool
	log        func(kind string, args ...any)

	// Read's state. vitess reads a connection from one goroutine.
	bytesBeforeLogin int64
	header           [4]byte
	headerLen        int
	payloadLeft      int    // bytes of the current packet still to read
	payloadSeen      int    // bytes of the current packet read so far
	command          []byte // first bytes of the current packet's payload
	packets          int    // packets read so far
	encrypted        bool
	longData         map[uint32]int64 // long data bytes by statement id
	rejected         bool

	unansweredBytes atomic.Int64 // read since the last write, counted under TLS
}

func newPacketGuard(conn net.Conn, tlsOffered bool, log func(kind string, args ...any)) *packetGuard {
	return &packetGuard{Conn: conn, tlsOffered: tlsOffered, log: log, longData: map[uint32]int64{}}
}

// Write implements net.Conn. A write replies to what the client sent, so it
// starts a new count of unanswered bytes.
func (g *packetGuard) Write(p []byte) (int, error) {
	n, err := g.Conn.Write(p)
	if n > 0 {
		g.unansweredBytes.Store(0)
	}
	return n, err
}

// Read implements net.Conn. It returns the bytes read up to the header
// byte that completes a rejected packet's header, and errPacketRejected on
// the next call.
func (g *packetGuard) Read(p []byte) (int, error) {
	if g.rejected {
		return 0, errPacketRejected
	}
	n, err := g.Conn.Read(p)
	if n == 0 {
		return n, err
	}
	if keep, ok := g.inspect(p[:n]); !ok {
		g.rejected = true
		g.discardInput()
		return keep, nil
	}
	return n, err
}

// discardInput ends the connection after a rejected packet. It first reads
// and drops what the client is still sending, for up to rejectDrainTime,
// because closing a socket with unread input resets the connection, and the
// client could lose the error packet before reading it.
func (g *packetGuard) discardInput() {
	if half, ok := g.Conn.(interface{ CloseWrite() error }); ok {
		half.CloseWrite()
	}
	g.Conn.SetReadDeadline(time.Now().Add(rejectDrainTime))
	io.Copy(io.Discard, g.Conn)
	g.Conn.Close()
}

// rejectDrainTime bounds discardInput's wait for a client to stop sending.
const rejectDrainTime = time.Second

// inspect updates the guard with data, read from the client, and returns
// false with the number of bytes to pass on when data breaks a limit.
func (g *packetGuard) inspect(data []byte) (int, bool) {
	if !g.loggedIn.Load() {
		g.bytesBeforeLogin += int64(len(data))
		if g.bytesBeforeLogin > maxLoginBytes {
			g.log("login too large", "bytes", g.bytesBeforeLogin, "max_bytes", maxLoginBytes)
			return 0, false
		}
	}
	if g.encrypted {
		if g.loggedIn.Load() && g.unansweredBytes.Add(int64(len(data))) > maxPacketBytes+maxLoginBytes {
			g.log("too many bytes without waiting for a reply over TLS", "max_bytes", maxPacketBytes+maxLoginBytes)
			return 0, false
		}
		return len(data), true
	}
	for i := 0; i < len(data); {
		if g.payloadLeft == 0 && g.headerLen < 4 {
			g.header[g.headerLen] = data[i]
			g.headerLen++
			i++
			if g.headerLen == 4 {
				if !g.startPacket() {
					return i - 1, false
				}
			}
			continue
		}
		take := min(g.payloadLeft, len(data)-i)
		if missing := 5 - len(g.command); missing > 0 {
			g.command = append(g.command, data[i:i+min(missing, take)]...)
		}
		g.payloadLeft -= take
		g.payloadSeen += take
		i += take
		if !g.followCommand() {
			return i - take, false
		}
		if g.payloadLeft == 0 {
			g.endPacket()
		}
	}
	return len(data), true
}

// startPacket checks a complete packet header.
func (g *packetGuard) startPacket() bool {
	length := int(g.header[0]) | int(g.header[1])<<8 | int(g.header[2])<<16
	sequence := g.header[3]
	g.packets++
	limit := maxPacketBytes
	if !g.loggedIn.Load() {
		limit = maxLoginBytes
	}
	switch {
	case length > limit:
		g.log("packet too large", "bytes", length, "max_bytes", limit)
		g.sendError(sequence+1, mysql.ERNetPacketTooLarge, mysql.SSNetError,
			"Got a packet bigger than 'max_allowed_packet' bytes: this packet has %d bytes and procsql's limit is %d; send a shorter statement", length, limit)
		return false
	case length == 0:
		g.log("empty packet")
		g.sendError(sequence+1, mysql.ERUnknownComError, mysql.SSUnknownComError, "empty packet: every packet carries a command or a login")
		return false
	}
	g.headerLen = 0
	g.payloadLeft = length
	g.payloadSeen = 0
	g.command = g.command[:0]
	return true
}

// followCommand tracks the long data that the current packet adds to a
// prepared statement once its command byte and statement id are known.
// vitess keeps that data until the statement is executed, reset or closed.
func (g *packetGuard) followCommand() bool {
	if !g.loggedIn.Load() || len(g.command) < 5 {
		return true
	}
	id := binary.LittleEndian.Uint32(g.command[1:5])
	switch g.command[0] {
	case comStmtSendLong:
		total := g.longData[id] + int64(g.payloadSeen)
		if total > maxPacketBytes {
			g.log("long data too large", "statement", id, "bytes", total, "max_bytes", maxPacketBytes)
			g.sendError(g.header[3]+1, mysql.ERNetPacketTooLarge, mysql.SSNetError,
				"Got a packet bigger than 'max_allowed_packet' bytes: long data for statement %d exceeds procsql's limit of %d bytes", id, maxPacketBytes)
			return false
		}
	}
	return true
}

// endPacket records a complete packet.
func (g *packetGuard) endPacket() {
	if len(g.command) == 0 {
		return
	}
	if !g.loggedIn.Load() {
		// A 32-byte first packet with CLIENT_SSL requests TLS, which
		// vitess starts after it.
		if g.packets == 1 && g.tlsOffered && g.payloadSeen == 32 && len(g.command) >= 4 &&
			binary.LittleEndian.Uint32(g.command[:4])&clientSSL != 0 {
			g.encrypted = true
		}
		return
	}
	if len(g.command) >= 5 {
		id := binary.LittleEndian.Uint32(g.command[1:5])
		switch g.command[0] {
		case comStmtSendLong:
			g.longData[id] += int64(g.payloadSeen)
		case comStmtExecute, comStmtClose, comStmtReset:
			delete(g.longData, id)
		}
	}
	if g.command[0] == comResetConnection {
		clear(g.longData)
	}
}

// sendError writes a MySQL error packet straight to the client, which
// vitess is not writing to while it waits for a packet.
func (g *packetGuard) sendError(sequence byte, code int, state, format string, args ...any) {
	message := fmt.Sprintf(format, args...)
	payload := []byte{0xff, byte(code), byte(code >> 8), '#'}
	payload = append(payload, state...)
	payload = append(payload, message...)
	header := []byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), sequence}
	g.Conn.Write(append(header, payload...))
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
