package procfile

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// packetSample follows the kernel's format ("%pK %-6d %-4d %04x   %-5d %1d
// %-6u %-6u %-6lu") on a 64-bit host with kptr_restrict=1: a tcpdump socket on
// all protocols of interface 2, an unbound DHCP client socket, a socket bound
// to IPv4 on all interfaces, and a 32-bit kernel pointer.
const packetSample = "" +
	"sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n" +
	"0000000000000000 3      3    0003   2     1 0      0      31337 \n" +
	"0000000000000000 2      2    0000   0     0 2304   101    27001 \n" +
	"00000000d1f5a2b4 3      2    0800   0     1 0      0      27002 \n" +
	"c7a1f300 3      3    88cc   3     1 768    0      4001  \n"

func TestParseNetPacket(t *testing.T) {
	rows, err := ParseNetPacket([]byte(packetSample))
	if err != nil {
		t.Fatalf("ParseNetPacket: %v", err)
	}
	want := []PacketSocket{
		{RefCount: 3, Type: 3, Protocol: 0x0003, Iface: 2, Running: true, RmemAlloc: 0, UID: 0, Inode: 31337},
		{RefCount: 2, Type: 2, Protocol: 0x0000, Iface: 0, Running: false, RmemAlloc: 2304, UID: 101, Inode: 27001},
		{RefCount: 3, Type: 2, Protocol: 0x0800, Iface: 0, Running: true, RmemAlloc: 0, UID: 0, Inode: 27002},
		{RefCount: 3, Type: 3, Protocol: 0x88cc, Iface: 3, Running: true, RmemAlloc: 768, UID: 0, Inode: 4001},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
}

// A kernel that appends a column after Inode must not break the parser. A
// kernel patch that adds a Drops column this way has been posted.
func TestParseNetPacketExtraColumn(t *testing.T) {
	data := []byte("sk               RefCnt Type Proto  Iface R Rmem   User   Inode   Drops\n" +
		"0000000000000000 3      3    0003   2     1 0      0      31337   12\n")
	rows, err := ParseNetPacket(data)
	if err != nil {
		t.Fatalf("ParseNetPacket: %v", err)
	}
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	if rows[0].Inode != 31337 {
		t.Errorf("Inode = %d, want 31337", rows[0].Inode)
	}
}

func TestParseNetPacketMalformed(t *testing.T) {
	const good = "0000000000000000 3      3    0003   2     1 0      0      31337\n"
	tests := []struct {
		name        string
		bad         string
		wantInError string
	}{
		{"too few columns", "0000000000000000 3 3 0003 2 1 0 0", "found 8"},
		{"pointer of 4 digits", "0000 3 3 0003 2 1 0 0 5", "invalid sk"},
		{"refcount hex", "0000000000000000 3a 3 0003 2 1 0 0 5", "invalid RefCnt"},
		{"type over 16 bits", "0000000000000000 3 65536 0003 2 1 0 0 5", "invalid Type"},
		{"proto not hex", "0000000000000000 3 3 00g3 2 1 0 0 5", "invalid Proto"},
		{"iface not a number", "0000000000000000 3 3 0003 eth0 1 0 0 5", "invalid Iface"},
		{"running 2", "0000000000000000 3 3 0003 2 2 0 0 5", "invalid R"},
		{"rmem negative", "0000000000000000 3 3 0003 2 1 -5 0 5", "invalid Rmem"},
		{"user over 32 bits", "0000000000000000 3 3 0003 2 1 0 4294967296 5", "invalid User"},
		{"inode not a number", "0000000000000000 3 3 0003 2 1 0 0 x", "invalid Inode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ParseNetPacket([]byte(good + tt.bad + "\n" + good))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error = %v, want one wrapping ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), "line 2:") {
				t.Errorf("error %q does not name line 2", err)
			}
			if !strings.Contains(err.Error(), tt.wantInError) {
				t.Errorf("error %q does not contain %q", err, tt.wantInError)
			}
			if len(rows) != 2 {
				t.Errorf("got %d good rows, want 2 around the bad line", len(rows))
			}
		})
	}
}

func TestParseNetPacketTruncated(t *testing.T) {
	data := []byte(packetSample)
	for end := 0; end <= len(data); end++ {
		rows, _ := ParseNetPacket(data[:end])
		if len(rows) > 4 {
			t.Fatalf("cut to %d bytes: got %d rows, more than the whole sample's 4", end, len(rows))
		}
	}
}

func BenchmarkParseNetPacket(b *testing.B) {
	header, rows, _ := bytes.Cut([]byte(packetSample), []byte{'\n'})
	data := append(append([]byte{}, header...), '\n')
	for len(data) < 1<<20 {
		data = append(data, rows...)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseNetPacket(data); err != nil {
			b.Fatal(err)
		}
	}
}

// formatPacketLine writes row as the kernel prints a /proc/net/packet row,
// with a hidden 64-bit socket pointer.
func formatPacketLine(row PacketSocket) string {
	running := 0
	if row.Running {
		running = 1
	}
	return fmt.Sprintf("0000000000000000 %-6d %-4d %04x   %-5d %1d %-6d %-6d %-6d",
		row.RefCount, row.Type, row.Protocol, row.Iface, running, row.RmemAlloc, row.UID, row.Inode)
}

// FuzzParseNetPacket checks that every row ParseNetPacket returns parses back
// unchanged from the line the kernel would print for it, and that no line is
// dropped without an error.
func FuzzParseNetPacket(f *testing.F) {
	f.Add([]byte(packetSample))
	f.Fuzz(func(t *testing.T, data []byte) {
		var rows []PacketSocket
		var err error
		checkAllocations(t, len(data), func() { rows, err = ParseNetPacket(data) })
		checkMalformed(t, err)
		lines := countTableRows(data, "sk")
		if err == nil && len(rows) != lines {
			t.Errorf("got %d rows and no error from %d lines", len(rows), lines)
		}
		if len(rows) > lines {
			t.Errorf("got %d rows from %d lines", len(rows), lines)
		}
		for i, row := range rows {
			line := formatPacketLine(row)
			again, err := ParseNetPacket([]byte(line))
			if err != nil || len(again) != 1 || again[0] != row {
				t.Errorf("row %d: ParseNetPacket(%q) = %+v, %v, want %+v", i, line, again, err, row)
			}
		}
	})
}

// FuzzNetPacketRow writes a row from known values between two fixed rows and
// checks that every column comes back unchanged. The seeds are the rows of
// packetSample.
func FuzzNetPacketRow(f *testing.F) {
	rows, err := ParseNetPacket([]byte(packetSample))
	if err != nil {
		f.Fatalf("ParseNetPacket(packetSample): %v", err)
	}
	for _, row := range rows {
		f.Add(uint32(row.RefCount), row.Type, row.Protocol, int32(row.Iface), row.Running, uint32(row.RmemAlloc), row.UID, row.Inode)
	}
	f.Fuzz(func(t *testing.T, refCount uint32, socketType, protocol uint16, iface int32, running bool, rmem, uid uint32, inode uint64) {
		want := PacketSocket{
			RefCount: uint64(refCount), Type: socketType, Protocol: protocol, Iface: int64(iface),
			Running: running, RmemAlloc: uint64(rmem), UID: uid, Inode: inode,
		}
		data := packetSample + formatPacketLine(want) + "\n" + formatPacketLine(rows[0]) + "\n"

		got, err := ParseNetPacket([]byte(data))
		if err != nil {
			t.Fatalf("ParseNetPacket(%q): %v", data, err)
		}
		wantRows := append(append(slices.Clone(rows), want), rows[0])
		if !slices.Equal(got, wantRows) {
			t.Errorf("ParseNetPacket(%q) = %+v, want %+v", data, got, wantRows)
		}
	})
}
