package engine

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/procsql/procsql/source"
)

// The tests in this file check state that the server keeps per connection
// and that no client can see: its sessions and the connection guard.

// stateTestTree is a copied tree with two processes.
const stateTestTree = "../testdata/cases/29-permission-denied-other-user"

// startStateServer serves stateTestTree under cfg on 127.0.0.1:0 and shuts
// the server down at cleanup.
func startStateServer(t *testing.T, cfg ServerConfig) *Server {
	t.Helper()
	src, err := source.NewDir(stateTestTree)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(src)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	srv, err := eng.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return within 10s of Shutdown")
		}
	})
	return srv
}

// countSessions returns the number of sessions the server keeps.
func (s *Server) countSessions() int {
	n := 0
	s.sessions.Range(func(any, any) bool {
		n++
		return true
	})
	return n
}

// waitNoConnections waits up to 10 s until the listener tracks no open
// connection, that is until the server has handled every close.
func waitNoConnections(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.listener.open()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open 10s after their clients closed them", len(s.listener.open()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServerForgetsClosedConnections opens connections that close before
// they log in, and connections whose login fails. The server must keep no
// session for any of them, because each session holds about 80 KB, and its
// heap must come back to where it started.
func TestServerForgetsClosedConnections(t *testing.T) {
	srv := startStateServer(t, ServerConfig{Password: "pw"})
	before := heapInUse()
	const cycles = 1000
	for i := range cycles {
		conn, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if i%2 == 1 {
			// Read the greeting and send a handshake response with a
			// wrong password.
			c := &stateClient{conn: conn}
			c.readPacket(t)
			c.writePacket(t, 1, handshakeResponse("procsql", make([]byte, 20), 0))
			if reply := c.readPacket(t); len(reply) == 0 || reply[0] != 0xff {
				t.Fatalf("login with a wrong password: reply %q, want an error packet", reply)
			}
		}
		conn.Close()
	}
	waitNoConnections(t, srv)
	if n := srv.countSessions(); n != 0 {
		t.Errorf("after %d connections closed before or at login, the server keeps %d sessions, want 0", cycles, n)
	}
	// 80 KB for each connection would be 80 MB.
	const slack = 16 << 20
	if grown := int64(heapInUse()) - int64(before); grown > slack {
		t.Errorf("heap grew by %d MiB over %d connections, want at most %d MiB", grown>>20, cycles, slack>>20)
	}
}

// heapInUse returns the bytes of live heap objects after two collections,
// the second for what sync.Pool kept through the first.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return stats.HeapAlloc
}

// stateClient reads and writes MySQL packets on a raw connection.
type stateClient struct {
	conn net.Conn
}

func (c *stateClient) readPacket(t *testing.T) []byte {
	t.Helper()
	var header [4]byte
	if _, err := io.ReadFull(c.conn, header[:]); err != nil {
		t.Fatalf("read packet header: %v", err)
	}
	payload := make([]byte, int(header[0])|int(header[1])<<8|int(header[2])<<16)
	if _, err := io.ReadFull(c.conn, payload); err != nil {
		t.Fatalf("read packet payload: %v", err)
	}
	return payload
}

func (c *stateClient) writePacket(t *testing.T, sequence byte, payload []byte) {
	t.Helper()
	header := []byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), sequence}
	if _, err := c.conn.Write(append(header, payload...)); err != nil {
		t.Fatalf("write packet: %v", err)
	}
}

// handshakeResponse returns a HandshakeResponse41 for user with a
// mysql_native_password response of auth and the capability flags in
// extraFlags.
func handshakeResponse(user string, auth []byte, extraFlags uint32) []byte {
	const (
		clientLongPassword     = 0x1
		clientProtocol41       = 0x200
		clientSecureConnection = 0x8000
		clientPluginAuth       = 0x80000
	)
	flags := clientLongPassword | clientProtocol41 | clientSecureConnection | clientPluginAuth | extraFlags
	response := binary.LittleEndian.AppendUint32(nil, flags)
	response = binary.LittleEndian.AppendUint32(response, 1<<24)
	response = append(response, 33)
	response = append(response, make([]byte, 23)...)
	response = append(append(response, user...), 0)
	response = append(append(response, byte(len(auth))), auth...)
	return append(append(response, "mysql_native_password"...), 0)
}
