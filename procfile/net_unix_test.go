package procfile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// unixSocketWant lists the values a test checks in one UnixSocket.
type unixSocketWant struct {
	inode     uint64
	refCount  uint64
	flags     uint64
	socktype  uint16
	typeName  string
	state     uint8
	stateName string // UnixSocketState
	path      string
	hasPath   bool
}

func checkUnixSocket(t *testing.T, index int, got UnixSocket, want unixSocketWant) {
	t.Helper()
	if got.Inode != want.inode {
		t.Errorf("row %d: Inode = %d, want %d", index, got.Inode, want.inode)
	}
	if got.RefCount != want.refCount {
		t.Errorf("row %d: RefCount = %d, want %d", index, got.RefCount, want.refCount)
	}
	if got.Protocol != 0 {
		t.Errorf("row %d: Protocol = %d, want 0", index, got.Protocol)
	}
	if got.Flags != want.flags {
		t.Errorf("row %d: Flags = %#x, want %#x", index, got.Flags, want.flags)
	}
	if got.Type != want.socktype {
		t.Errorf("row %d: Type = %d, want %d", index, got.Type, want.socktype)
	}
	if name := UnixTypeName(got.Type); name != want.typeName {
		t.Errorf("row %d: UnixTypeName = %q, want %q", index, name, want.typeName)
	}
	if got.State != want.state {
		t.Errorf("row %d: State = %d, want %d", index, got.State, want.state)
	}
	if name := UnixSocketState(got); name != want.stateName {
		t.Errorf("row %d: UnixSocketState = %q, want %q", index, name, want.stateName)
	}
	if got.Path != want.path {
		t.Errorf("row %d: Path = %q, want %q", index, got.Path, want.path)
	}
	if got.HasPath != want.hasPath {
		t.Errorf("row %d: HasPath = %t, want %t", index, got.HasPath, want.hasPath)
	}
}

func TestParseNetUnixPathsWithSpaces(t *testing.T) {
	rows, err := ParseNetUnix(readCaseFile(t, "25-unix-socket-path-with-spaces/unix"))
	if err != nil {
		t.Fatalf("ParseNetUnix: %v", err)
	}
	want := []unixSocketWant{
		{inode: 21401, refCount: 2, flags: 0x10000, socktype: 1, typeName: "stream", state: 1, stateName: "LISTEN",
			path: "/run/user/1000/my app/ipc socket", hasPath: true},
		{inode: 21402, refCount: 3, socktype: 1, typeName: "stream", state: 3, stateName: "CONNECTED"},
		{inode: 8125, refCount: 3, socktype: 1, typeName: "stream", state: 3, stateName: "CONNECTED",
			path: "/run/radio/qmi client    7", hasPath: true},
		{inode: 18001, refCount: 2, socktype: 2, typeName: "dgram", state: 1, stateName: "UNCONNECTED",
			path: "/run/systemd/notify", hasPath: true},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i := range want {
		checkUnixSocket(t, i, rows[i], want[i])
	}
	if got := UnixStateName(rows[0].State); got != "UNCONNECTED" {
		t.Errorf("row 0: UnixStateName = %q, want the raw St name %q", got, "UNCONNECTED")
	}
}

func TestParseNetUnix32BitPointer(t *testing.T) {
	rows, err := ParseNetUnix(readCaseFile(t, "25-unix-socket-path-with-spaces/unix.32bit_kernel"))
	if err != nil {
		t.Fatalf("ParseNetUnix: %v", err)
	}
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	checkUnixSocket(t, 0, rows[0], unixSocketWant{
		inode: 8125, refCount: 3, socktype: 1, typeName: "stream", state: 3, stateName: "CONNECTED",
		path: "/run/radio/qmi client    7", hasPath: true,
	})
}

// Early in boot the kernel prints a placeholder in place of a hashed pointer.
func TestParseNetUnixBootPointer(t *testing.T) {
	data := []byte("(____ptrval____): 00000002 00000000 00000000 0001 01 311 /run/early\n" +
		"(ptrval): 00000002 00000000 00000000 0001 01 312 /run/early32\n")
	rows, err := ParseNetUnix(data)
	if err != nil {
		t.Fatalf("ParseNetUnix: %v", err)
	}
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	if rows[0].Inode != 311 {
		t.Errorf("row 0: Inode = %d, want 311", rows[0].Inode)
	}
	if rows[1].Path != "/run/early32" {
		t.Errorf("row 1: Path = %q, want %q", rows[1].Path, "/run/early32")
	}
}

func TestParseNetUnixPathForms(t *testing.T) {
	const prefix = "0000000000000000: 00000002 00000000 00000000 0001 01 12345"
	tests := []struct {
		name     string
		line     string
		wantPath string
		wantHas  bool
	}{
		{"abstract", prefix + " @/tmp/.X11-unix/X0", "@/tmp/.X11-unix/X0", true},
		{"autobind abstract", prefix + " @0001a", "@0001a", true},
		{"leading space kept", prefix + "  relative", " relative", true},
		{"trailing spaces kept", prefix + " /run/a  ", "/run/a  ", true},
		{"tab inside", prefix + " /run/a\tb", "/run/a\tb", true},
		{"no path", prefix, "", false},
		// The kernel prints the separator only before a path, so this is a
		// path that starts with a newline, cut off by the end of the file.
		{"separator only", prefix + " ", "", true},
		{"wide inode", "0000000000000000: 00000002 00000000 00000000 0001 01 4026532000 /run/x", "/run/x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ParseNetUnix([]byte(tt.line + "\n"))
			if err != nil {
				t.Fatalf("ParseNetUnix: %v", err)
			}
			if len(rows) != 1 {
				t.Fatalf("got %d rows, want 1", len(rows))
			}
			if rows[0].Path != tt.wantPath {
				t.Errorf("Path = %q, want %q", rows[0].Path, tt.wantPath)
			}
			if rows[0].HasPath != tt.wantHas {
				t.Errorf("HasPath = %t, want %t", rows[0].HasPath, tt.wantHas)
			}
		})
	}
}

// A path that contains newlines splits its row over several lines. The lines
// after the first join the path again, and the next real row still parses.
func TestParseNetUnixNewlineInPath(t *testing.T) {
	data := []byte("Num       RefCount Protocol Flags    Type St Inode Path\n" +
		"0000000000000000: 00000002 00000000 00010000 0001 01 100 /tmp/evil\nname\n\nend\n" +
		"0000000000000000: 00000002 00000000 00000000 0001 01 101\n" +
		"0000000000000000: 00000002 00000000 00000000 0002 01 102 /run/next\n")
	rows, err := ParseNetUnix(data)
	if err != nil {
		t.Fatalf("ParseNetUnix: %v", err)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want 3", len(rows))
	}
	if want := "/tmp/evil\nname\n\nend"; rows[0].Path != want {
		t.Errorf("row 0: Path = %q, want %q", rows[0].Path, want)
	}
	if rows[1].Inode != 101 {
		t.Errorf("row 1: Inode = %d, want 101", rows[1].Inode)
	}
	if rows[2].Path != "/run/next" {
		t.Errorf("row 2: Path = %q, want %q", rows[2].Path, "/run/next")
	}
}

func TestParseNetUnixMalformed(t *testing.T) {
	const good = "0000000000000000: 00000003 00000000 00000000 0001 03 21402\n"
	tests := []struct {
		name        string
		bad         string
		wantInError string
	}{
		{"pointer without colon", "0000000000000000 00000003 00000000 00000000 0001 03 5", "invalid Num"},
		{"pointer of 12 digits", "000000000000: 00000003 00000000 00000000 0001 03 5", "invalid Num"},
		{"refcount missing", "0000000000000000:", "invalid RefCount"},
		{"protocol not hex", "0000000000000000: 00000003 0000000Z 00000000 0001 03 5", "invalid Protocol"},
		{"flags not hex", "0000000000000000: 00000003 00000000 -1 0001 03 5", "invalid Flags"},
		{"type over 16 bits", "0000000000000000: 00000003 00000000 00000000 10001 03 5", "invalid Type"},
		{"state over 8 bits", "0000000000000000: 00000003 00000000 00000000 0001 103 5", "invalid St"},
		{"inode missing", "0000000000000000: 00000003 00000000 00000000 0001 03", "invalid Inode"},
		{"inode hex", "0000000000000000: 00000003 00000000 00000000 0001 03 5f", "invalid Inode"},
		{"tab before path", "0000000000000000: 00000003 00000000 00000000 0001 03 5\t/run/x", "invalid text after Inode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The bad line follows a row without a path, so it cannot be
			// the continuation of a path that contains a newline.
			data := []byte(good + tt.bad + "\n" + good)
			rows, err := ParseNetUnix(data)
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

func TestParseNetUnixTruncated(t *testing.T) {
	for _, name := range []string{
		"25-unix-socket-path-with-spaces/unix",
		"25-unix-socket-path-with-spaces/unix.32bit_kernel",
	} {
		data := readCaseFile(t, name)
		whole, err := ParseNetUnix(data)
		if err != nil {
			t.Fatalf("%s: ParseNetUnix: %v", name, err)
		}
		for end := 0; end <= len(data); end++ {
			rows, _ := ParseNetUnix(data[:end])
			if len(rows) > len(whole) {
				t.Fatalf("%s cut to %d bytes: got %d rows, more than the whole file's %d", name, end, len(rows), len(whole))
			}
		}
	}
}

func TestUnixNames(t *testing.T) {
	typeTests := []struct {
		socktype uint16
		want     string
	}{
		{1, "stream"}, {2, "dgram"}, {5, "seqpacket"}, {3, "unknown(3)"}, {0, "unknown(0)"},
	}
	for _, tt := range typeTests {
		if got := UnixTypeName(tt.socktype); got != tt.want {
			t.Errorf("UnixTypeName(%d) = %q, want %q", tt.socktype, got, tt.want)
		}
	}

	stateTests := []struct {
		state uint8
		want  string
	}{
		{1, "UNCONNECTED"}, {2, "CONNECTING"}, {3, "CONNECTED"}, {4, "DISCONNECTING"}, {0, "UNKNOWN(0)"}, {9, "UNKNOWN(9)"},
	}
	for _, tt := range stateTests {
		if got := UnixStateName(tt.state); got != tt.want {
			t.Errorf("UnixStateName(%d) = %q, want %q", tt.state, got, tt.want)
		}
	}

	listening := UnixSocket{Flags: 0x10000, State: 1}
	if got := UnixSocketState(listening); got != "LISTEN" {
		t.Errorf("UnixSocketState(flags 0x10000) = %q, want %q", got, "LISTEN")
	}
	connected := UnixSocket{State: 3}
	if got := UnixSocketState(connected); got != "CONNECTED" {
		t.Errorf("UnixSocketState(state 3) = %q, want %q", got, "CONNECTED")
	}
}

func BenchmarkParseNetUnix(b *testing.B) {
	fixture := readCaseFile(b, "25-unix-socket-path-with-spaces/unix")
	header, rows, _ := bytes.Cut(fixture, []byte{'\n'})
	data := append(append([]byte{}, header...), '\n')
	for len(data) < 1<<20 {
		data = append(data, rows...)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseNetUnix(data); err != nil {
			b.Fatal(err)
		}
	}
}

// formatUnixLine writes row as the kernel prints a /proc/net/unix row, with a
// hidden 64-bit socket pointer. A bound socket gets one space and the path
// as it is, newlines included.
func formatUnixLine(row UnixSocket) string {
	line := fmt.Sprintf("0000000000000000: %08X %08X %08X %04X %02X %5d",
		row.RefCount, row.Protocol, row.Flags, row.Type, row.State, row.Inode)
	if row.HasPath {
		line += " " + row.Path
	}
	return line
}

// FuzzParseNetUnix checks that ParseNetUnix returns no more rows than the
// data has lines, and that every row whose path has no newline parses back
// unchanged from the line the kernel would print for it.
func FuzzParseNetUnix(f *testing.F) {
	addFileSeeds(f, caseGlob("*/unix*"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var rows []UnixSocket
		var err error
		checkAllocations(t, len(data), func() { rows, err = ParseNetUnix(data) })
		checkMalformed(t, err)
		if lines := countTableRows(data, "Num"); len(rows) > lines {
			t.Errorf("got %d rows from %d lines", len(rows), lines)
		}
		for i, row := range rows {
			if !row.HasPath && row.Path != "" {
				t.Errorf("row %d: Path = %q without HasPath", i, row.Path)
			}
			if strings.Contains(row.Path, "\n") {
				continue
			}
			line := formatUnixLine(row)
			again, err := ParseNetUnix([]byte(line))
			if err != nil || len(again) != 1 || again[0] != row {
				t.Errorf("row %d: ParseNetUnix(%q) = %+v, %v, want %+v", i, line, again, err, row)
			}
		}
	})
}

// FuzzNetUnixPath writes a bound socket with an arbitrary path, which may
// contain spaces and newlines, between fixed rows. Its columns and its
// neighbours must come back unchanged. The kernel prints every NUL of an
// abstract name as '@'. A newline followed by text that parses as a row
// forges a row, as ParseNetUnix documents, so for such a path only the rows
// around it are checked. The seeds are the paths of the unix fixtures.
func FuzzNetUnixPath(f *testing.F) {
	for _, data := range readSeedFiles(f, caseGlob("*/unix*")) {
		rows, err := ParseNetUnix(data)
		if err != nil {
			f.Fatalf("seed %q: %v", data, err)
		}
		for _, row := range rows {
			f.Add(row.Path, row.Flags == unixListenFlag, row.Inode)
		}
	}
	f.Add("\n/run/evil", false, uint64(1))
	f.Fuzz(func(t *testing.T, path string, listening bool, inode uint64) {
		path = strings.ReplaceAll(path, "\x00", "@")
		if path == "" {
			// A bound socket always has a name, because binding to an
			// empty path gives an abstract name chosen by the kernel.
			path = "@00001"
		}
		first := UnixSocket{RefCount: 2, Flags: unixListenFlag, Type: 1, State: 1, Inode: 21401, Path: "/run/first", HasPath: true}
		want := UnixSocket{RefCount: 3, Type: 1, State: 3, Inode: inode, Path: path, HasPath: true}
		if listening {
			want.Flags, want.State = unixListenFlag, 1
		}
		unbound := UnixSocket{RefCount: 3, Type: 1, State: 3, Inode: 21402}
		last := UnixSocket{RefCount: 2, Type: 2, State: 1, Inode: 18001, Path: "/run/systemd/notify", HasPath: true}
		data := "Num       RefCount Protocol Flags    Type St Inode Path\n" + formatUnixLine(first) + "\n" +
			formatUnixLine(want) + "\n" + formatUnixLine(unbound) + "\n" + formatUnixLine(last) + "\n"

		rows, _ := ParseNetUnix([]byte(data))
		if len(rows) < 4 {
			t.Fatalf("ParseNetUnix(%q) = %d rows, want at least 4", data, len(rows))
		}
		if rows[0] != first {
			t.Errorf("row 0 = %+v, want %+v", rows[0], first)
		}
		if got := rows[len(rows)-2]; got != unbound {
			t.Errorf("row before last = %+v, want %+v", got, unbound)
		}
		if got := rows[len(rows)-1]; got != last {
			t.Errorf("last row = %+v, want %+v", got, last)
		}

		forged := false
		for _, continuation := range strings.Split(path, "\n")[1:] {
			if _, problem := parseUnixSocketLine([]byte(continuation)); problem == "" {
				forged = true
			}
		}
		if forged {
			return
		}
		if len(rows) != 4 {
			t.Fatalf("ParseNetUnix(%q) = %d rows, want 4", data, len(rows))
		}
		if rows[1] != want {
			t.Errorf("row 1 = %+v, want %+v", rows[1], want)
		}
	})
}

// A path that starts with a newline leaves the row ending in the separator
// space. The row keeps its path, and the next line continues it.
func TestParseNetUnixPathStartsWithNewline(t *testing.T) {
	data := []byte("0000000000000000: 00000002 00000000 00000000 0001 01 100 \n/run/evil\n" +
		"0000000000000000: 00000002 00000000 00000000 0002 01 102 /run/next\n")
	rows, err := ParseNetUnix(data)
	if err != nil {
		t.Fatalf("ParseNetUnix: %v", err)
	}
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	if want := "\n/run/evil"; rows[0].Path != want {
		t.Errorf("row 0: Path = %q, want %q", rows[0].Path, want)
	}
	if !rows[0].HasPath {
		t.Error("row 0: HasPath = false, want true")
	}
	if rows[1].Inode != 102 {
		t.Errorf("row 1: Inode = %d, want 102", rows[1].Inode)
	}
}

// Joining a path of many lines must allocate in proportion to its length.
// Appending each line to the path copied the whole path again per line.
func TestParseNetUnixLongContinuation(t *testing.T) {
	const lines = 100000
	data := []byte("0000000000000000: 00000002 00000000 00000000 0001 01 100 /p" + strings.Repeat("\nx", lines) + "\n")
	var rows []UnixSocket
	var err error
	checkAllocations(t, len(data), func() { rows, err = ParseNetUnix(data) })
	if err != nil {
		t.Fatalf("ParseNetUnix: %v", err)
	}
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	if want := "/p" + strings.Repeat("\nx", lines); rows[0].Path != want {
		t.Errorf("Path has %d bytes, want %d", len(rows[0].Path), len(want))
	}
}
