package engine

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
)

// readFirstPacket reads the client's first packet whole, before any of it
// reaches vitess. A request for TLS starts TLS and is dropped; any other
// packet is held for Read to pass on.
func (g *packetGuard) readFirstPacket() error {
	var header [4]byte
	if _, err := io.ReadFull(g.Conn, header[:]); err != nil {
		return err
	}
	g.header = header
	length := int(header[0]) | int(header[1])<<8 | int(header[2])<<16
	if !g.checkLength(length) {
		g.rejected = true
		g.discardInput()
		return errPacketRejected
	}
	payload := make([]byte, length)
	if _, err := io.ReadFull(g.Conn, payload); err != nil {
		return err
	}
	g.bytesBeforeLogin += int64(len(header) + length)
	if g.cfg.tls != nil && length >= 4 && binary.LittleEndian.Uint32(payload)&clientSSL != 0 {
		return g.startTLS()
	}
	g.firstPacket = append(header[:], payload...)
	return nil
}

// startTLS runs the server side of the TLS handshake. The client numbered
// its request 1, which vitess never reads, so from here until the login
// ends the guard lowers the client's sequence numbers by one and raises
// the server's.
func (g *packetGuard) startTLS() error {
	conn := tls.Server(g.Conn, g.cfg.tls)
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	if err := conn.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	g.tls = conn
	g.clearSSLFlag = true
	g.renumberWrites = true
	return nil
}

// renumber returns p, written by vitess during a login over TLS, with the
// sequence number of each packet header raised by one. It stops after the
// first packet that ends once the login has succeeded: the reply to the
// login.
func (g *packetGuard) renumber(p []byte) []byte {
	out := append([]byte(nil), p...)
	for i := 0; i < len(out) && g.renumberWrites; {
		if g.outPayloadLeft == 0 {
			if g.outHeaderLen == 3 {
				out[i]++
			}
			g.outHeader[g.outHeaderLen] = out[i]
			g.outHeaderLen++
			i++
			if g.outHeaderLen == 4 {
				g.outHeaderLen = 0
				g.outPayloadLeft = int(g.outHeader[0]) | int(g.outHeader[1])<<8 | int(g.outHeader[2])<<16
				if g.outPayloadLeft == 0 {
					g.endWrittenPacket()
				}
			}
			continue
		}
		take := min(g.outPayloadLeft, len(out)-i)
		g.outPayloadLeft -= take
		i += take
		if g.outPayloadLeft == 0 {
			g.endWrittenPacket()
		}
	}
	return out
}

func (g *packetGuard) endWrittenPacket() {
	if g.loggedIn.Load() {
		g.renumberWrites = false
	}
}
