package procfile

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/procfs"
)

// countRetries is how often the live tests re-read a table whose row count
// differed from procfs's count, because sockets of other processes in the
// same network namespace can open or close between the two reads.
const countRetries = 5

// TestLiveTCPAndUnix opens sockets on loopback and in a temporary folder,
// finds them with ParseNetIP and ParseNetUnix in this process's /proc, and
// compares the row counts with github.com/prometheus/procfs.
func TestLiveTCPAndUnix(t *testing.T) {
	if _, err := os.Stat("/proc/self/net/tcp"); err != nil {
		t.Skipf("no /proc/self/net/tcp: %v", err)
	}
	fs, err := procfs.NewFS("/proc")
	if err != nil {
		t.Fatalf("procfs.NewFS: %v", err)
	}

	t.Run("tcp", func(t *testing.T) { checkLiveTCP(t, fs) })
	t.Run("unix", func(t *testing.T) { checkLiveUnix(t, fs) })
}

func checkLiveTCP(t *testing.T, fs procfs.FS) {
	listener, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1: %v", err)
	}
	defer listener.Close()
	client, err := net.Dial("tcp4", listener.Addr().String())
	if err != nil {
		t.Fatalf("dial %s: %v", listener.Addr(), err)
	}
	defer client.Close()
	server, err := listener.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	defer server.Close()

	listenAddr := listener.Addr().(*net.TCPAddr).AddrPort()
	clientAddr := client.LocalAddr().(*net.TCPAddr).AddrPort()

	var rows []IPSocket
	for attempt := 1; ; attempt++ {
		data, err := os.ReadFile("/proc/self/net/tcp")
		if err != nil {
			t.Fatalf("read /proc/self/net/tcp: %v", err)
		}
		rows, err = ParseNetIP(data, binary.NativeEndian)
		if err != nil {
			t.Fatalf("ParseNetIP(/proc/self/net/tcp): %v", err)
		}
		theirs, err := fs.NetTCP()
		if err != nil {
			t.Fatalf("procfs NetTCP: %v", err)
		}
		if len(rows) == len(theirs) {
			break
		}
		if attempt == countRetries {
			t.Errorf("ParseNetIP found %d rows, procfs NetTCP %d, in each of %d reads", len(rows), len(theirs), countRetries)
			break
		}
	}

	listenRow, found := findIPSocket(rows, listenAddr, netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
	if !found {
		t.Fatalf("no row with local %s and remote 0.0.0.0:0 in /proc/self/net/tcp", listenAddr)
	}
	if got := TCPStateName(listenRow.State); got != "LISTEN" {
		t.Errorf("listener %s: state = %s, want LISTEN", listenAddr, got)
	}
	if listenRow.Inode == 0 {
		t.Errorf("listener %s: inode = 0, want the socket's inode", listenAddr)
	}

	clientRow, found := findIPSocket(rows, clientAddr, listenAddr)
	if !found {
		t.Fatalf("no row with local %s and remote %s in /proc/self/net/tcp", clientAddr, listenAddr)
	}
	if got := TCPStateName(clientRow.State); got != "ESTABLISHED" {
		t.Errorf("client %s: state = %s, want ESTABLISHED", clientAddr, got)
	}
	if uid := uint32(os.Getuid()); clientRow.UID != uid {
		t.Errorf("client %s: UID = %d, want %d", clientAddr, clientRow.UID, uid)
	}

	serverRow, found := findIPSocket(rows, listenAddr, clientAddr)
	if !found {
		t.Fatalf("no row with local %s and remote %s in /proc/self/net/tcp", listenAddr, clientAddr)
	}
	if got := TCPStateName(serverRow.State); got != "ESTABLISHED" {
		t.Errorf("accepted %s: state = %s, want ESTABLISHED", listenAddr, got)
	}
}

func findIPSocket(rows []IPSocket, local, remote netip.AddrPort) (IPSocket, bool) {
	for _, row := range rows {
		if netip.AddrPortFrom(row.LocalAddr, row.LocalPort) == local &&
			netip.AddrPortFrom(row.RemoteAddr, row.RemotePort) == remote {
			return row, true
		}
	}
	return IPSocket{}, false
}

func checkLiveUnix(t *testing.T, fs procfs.FS) {
	// The space in the name checks that the path survives whole.
	path := filepath.Join(t.TempDir(), "live socket")
	if len(path) >= 108 {
		t.Skipf("temporary socket path %q exceeds the 107-byte sun_path limit", path)
	}
	listener, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("listen on %s: %v", path, err)
	}
	defer listener.Close()

	var rows []UnixSocket
	for attempt := 1; ; attempt++ {
		data, err := os.ReadFile("/proc/self/net/unix")
		if err != nil {
			t.Fatalf("read /proc/self/net/unix: %v", err)
		}
		rows, err = ParseNetUnix(data)
		if err != nil {
			t.Fatalf("ParseNetUnix(/proc/self/net/unix): %v", err)
		}
		theirs, err := fs.NetUNIX()
		if err != nil {
			t.Fatalf("procfs NetUNIX: %v", err)
		}
		if len(rows) == len(theirs.Rows) {
			break
		}
		if attempt == countRetries {
			t.Errorf("ParseNetUnix found %d rows, procfs NetUNIX %d, in each of %d reads", len(rows), len(theirs.Rows), countRetries)
			break
		}
	}

	var listenRow UnixSocket
	found := false
	for _, row := range rows {
		if row.HasPath && row.Path == path {
			listenRow, found = row, true
			break
		}
	}
	if !found {
		t.Fatalf("no row with path %q in /proc/self/net/unix", path)
	}
	if got := UnixSocketState(listenRow); got != "LISTEN" {
		t.Errorf("listener %q: state = %s, want LISTEN", path, got)
	}
	if got := UnixTypeName(listenRow.Type); got != "stream" {
		t.Errorf("listener %q: type = %s, want stream", path, got)
	}
	if listenRow.Inode == 0 {
		t.Errorf("listener %q: inode = 0, want the socket's inode", path)
	}
}
