package procfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Each parser's own _test.go file benchmarks it on that parser's small
// fixture. The benchmarks here run on inputs of the size a busy host produces,
// built from the templates in benchDir, and on helpers that the tables call
// once per row.

// benchDir holds realistic single-process templates: a maps file, the counter
// block of one smaps entry, an environment and a long command line.
const benchDir = "../testdata/bench"

// Sizes of the generated inputs.
const (
	benchMapsLines     = 2000  // a JVM or browser process with many libraries and arenas
	benchSmapsMappings = 500   // 500 entries of 25 counter lines each, about 400 KB
	benchTCPRows       = 10000 // a busy server's /proc/net/tcp
)

// readBenchFile returns the bytes of a template under benchDir.
func readBenchFile(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(benchDir, name))
	if err != nil {
		tb.Fatalf("read benchmark template: %v", err)
	}
	return data
}

// largeMaps repeats the maps template until it has n lines. Each copy lies
// 1 GiB below the one before, so no two mappings overlap. The pseudo mappings
// that a process has once, such as [heap] and [vsyscall], appear in the first
// copy only.
func largeMaps(tb testing.TB, n int) []byte {
	tb.Helper()
	template := strings.Split(strings.TrimSuffix(string(readBenchFile(tb, "maps")), "\n"), "\n")
	var out bytes.Buffer
	count := 0
	for copyIndex := uint64(0); count < n; copyIndex++ {
		shift := copyIndex << 30
		for _, line := range template {
			if count == n {
				break
			}
			addresses, rest, found := strings.Cut(line, " ")
			startText, endText, dash := strings.Cut(addresses, "-")
			start, startErr := strconv.ParseUint(startText, 16, 64)
			end, endErr := strconv.ParseUint(endText, 16, 64)
			if !found || !dash || startErr != nil || endErr != nil {
				tb.Fatalf("maps template line %q does not start with an address range", line)
			}
			if copyIndex > 0 && (onceInProcess(rest) || start < shift) {
				continue
			}
			fmt.Fprintf(&out, "%08x-%08x %s\n", start-shift, end-shift, rest)
			count++
		}
	}
	return out.Bytes()
}

// onceInProcess reports whether a maps line, without its address range, is
// one of the pseudo mappings that a process has only once.
func onceInProcess(line string) bool {
	for _, name := range []string{"[heap]", "[stack]", "[vvar]", "[vdso]", "[vsyscall]"} {
		if strings.HasSuffix(line, name) {
			return true
		}
	}
	return false
}

// largeSmaps returns an smaps file with n entries: the headers of largeMaps,
// each followed by the counter block template.
func largeSmaps(tb testing.TB, n int) []byte {
	tb.Helper()
	counters := readBenchFile(tb, "smaps_counters")
	var out bytes.Buffer
	for header := range bytes.Lines(largeMaps(tb, n)) {
		out.Write(header)
		out.Write(counters)
	}
	return out.Bytes()
}

// hostWords returns the 32-bit words of addr as a little-endian host prints
// them in /proc/net/tcp and tcp6: each group of 4 address bytes read as one
// native-endian integer.
func hostWords(addr netip.Addr) []uint32 {
	raw := addr.AsSlice()
	words := make([]uint32, len(raw)/4)
	for i := range words {
		words[i] = binary.LittleEndian.Uint32(raw[i*4:])
	}
	return words
}

// tcpRowWidth is the width to which the kernel pads every line of
// /proc/net/tcp, header included, as recorded in
// testdata/cases/23-net-tcp-duplicates-and-size/expected.txt.
const tcpRowWidth = 149

// mixedTCP returns a /proc/net/tcp file with n rows in the layout of
// testdata/cases/23-net-tcp-duplicates-and-size/tcp, as a little-endian host
// prints it. A server at 192.0.2.10 has one LISTEN row per 100 rows and one
// TIME_WAIT row per 10, which is shorter and has inode 0. The other rows are
// ESTABLISHED client connections. Every 200th row repeats the row before it,
// as the kernel prints a row twice when the table changes between read()
// calls, so DedupIPSockets drops n/200 rows.
func mixedTCP(n int) []byte {
	var out bytes.Buffer
	writeLine := func(line string) {
		out.WriteString(line)
		out.WriteString(strings.Repeat(" ", max(0, tcpRowWidth-len(line))))
		out.WriteByte('\n')
	}
	writeLine("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode")

	server := hostWords(netip.MustParseAddr("192.0.2.10"))[0]
	previous := ""
	for sl := range n {
		client := hostWords(netip.AddrFrom4([4]byte{203, 0, 113, byte(sl % 250)}))[0]
		clientPort := 32768 + sl%28000
		var row string
		switch {
		case sl%200 == 199:
			row = fmt.Sprintf("%4d:%s", sl, previous)
		case sl%100 == 0:
			row = fmt.Sprintf("%4d: %08X:%04X %08X:%04X 0A 00000000:00000000 00:00000000 00000000 %5d %8d %d 1 0000000000000000 100 0 0 10 0",
				sl, server, 8000+sl/100, 0, 0, 33, 0, 50000+sl)
		case sl%10 == 5:
			row = fmt.Sprintf("%4d: %08X:01BB %08X:%04X 06 00000000:00000000 03:%08X 00000000 %5d %8d %d %d 0000000000000000",
				sl, server, client, clientPort, 1500+sl%4000, 0, 0, 0, 3)
		default:
			row = fmt.Sprintf("%4d: %08X:01BB %08X:%04X 01 %08X:00000000 02:%08X 00000000 %5d %8d %d 2 0000000000000000 20 4 30 10 -1",
				sl, server, client, clientPort, sl%3*512, 7000+sl%2000, 33, 0, 50000+sl)
		}
		_, previous, _ = strings.Cut(row, ":")
		writeLine(row)
	}
	return out.Bytes()
}

// tcp6Rows returns a /proc/net/tcp6 file with n ESTABLISHED rows in the
// layout of testdata/cases/21-tcp6-address-byte-order/tcp6, as a
// little-endian host prints it, between 2001:db8::10 port 443 and clients in
// 2001:db8:1::/64.
func tcp6Rows(n int) []byte {
	var out bytes.Buffer
	out.WriteString("  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	server := hostWords(netip.MustParseAddr("2001:db8::10"))
	for sl := range n {
		clientBytes := netip.MustParseAddr("2001:db8:1::").As16()
		binary.BigEndian.PutUint32(clientBytes[12:], uint32(sl+1))
		client := hostWords(netip.AddrFrom16(clientBytes))
		fmt.Fprintf(&out, "%4d: %08X%08X%08X%08X:01BB %08X%08X%08X%08X:%04X 01 00000000:00000000 02:%08X 00000000 %5d %8d %d 1 0000000000000000 20 4 30 10 -1\n",
			sl, server[0], server[1], server[2], server[3],
			client[0], client[1], client[2], client[3], 32768+sl%28000, 7000+sl%2000, 33, 0, 90000+sl)
	}
	return out.Bytes()
}

func BenchmarkParseMapsLarge(b *testing.B) {
	data := largeMaps(b, benchMapsLines)
	mappings, err := ParseMaps(data)
	if err != nil {
		b.Fatal(err)
	}
	if len(mappings) != benchMapsLines {
		b.Fatalf("generated maps parsed into %d mappings, want %d", len(mappings), benchMapsLines)
	}

	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMaps(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSmapsLarge(b *testing.B) {
	data := largeSmaps(b, benchSmapsMappings)
	entries, err := ParseSmaps(data)
	if err != nil {
		b.Fatal(err)
	}
	if len(entries) != benchSmapsMappings {
		b.Fatalf("generated smaps parsed into %d entries, want %d", len(entries), benchSmapsMappings)
	}

	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSmaps(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMapPathHelpers runs the per-row work of the maps table's path,
// deleted, kind and pseudo columns on every path of the maps template.
func BenchmarkMapPathHelpers(b *testing.B) {
	mappings, err := ParseMaps(readBenchFile(b, "maps"))
	if err != nil {
		b.Fatal(err)
	}
	paths := make([]string, len(mappings))
	for i, m := range mappings {
		paths[i] = m.Path
	}

	b.ReportAllocs()
	for b.Loop() {
		for _, path := range paths {
			SplitDeleted(path)
			MapPathKind(path)
			MemfdName(path)
		}
	}
}

// BenchmarkStatusAccessors reads the status values that one row of the
// processes table uses from an already parsed status file.
func BenchmarkStatusAccessors(b *testing.B) {
	status, err := ParseStatus(readCaseFile(b, "19-status-field-set-varies/status.new_fields"))
	if err != nil {
		b.Fatal(err)
	}
	if _, ok := status.IDs("Uid"); !ok {
		b.Fatal(`status fixture has no valid "Uid" line`)
	}
	if _, ok := status.Bytes("VmRSS"); !ok {
		b.Fatal(`status fixture has no valid "VmRSS" line`)
	}

	b.ReportAllocs()
	for b.Loop() {
		for range 3 {
			status.IDs("Uid")
			status.IDs("Gid")
		}
		status.Uint("TracerPid")
		status.Uint("Seccomp")
		status.Bytes("VmRSS")
		status.Value("CapEff")
	}
}

func BenchmarkParseCmdlineLong(b *testing.B) {
	data := readBenchFile(b, "cmdline")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		ParseCmdline(data)
	}
}

func BenchmarkJoinArgv(b *testing.B) {
	argv, _ := ParseCmdline(readBenchFile(b, "cmdline"))
	b.ReportAllocs()
	for b.Loop() {
		JoinArgv(argv)
	}
}

func BenchmarkParseEnvironSession(b *testing.B) {
	data := readBenchFile(b, "environ")
	if vars := ParseEnviron(data); len(vars) < 50 {
		b.Fatalf("environ template parsed into %d variables, want at least 50", len(vars))
	}

	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		ParseEnviron(data)
	}
}

func BenchmarkParseNetIPMixedTCP(b *testing.B) {
	data := mixedTCP(benchTCPRows)
	rows, err := ParseNetIP(data, binary.LittleEndian)
	if err != nil {
		b.Fatal(err)
	}
	if len(rows) != benchTCPRows {
		b.Fatalf("generated tcp parsed into %d rows, want %d", len(rows), benchTCPRows)
	}

	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseNetIP(data, binary.LittleEndian); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseNetIPTCP6(b *testing.B) {
	data := tcp6Rows(benchTCPRows)
	rows, err := ParseNetIP(data, binary.LittleEndian)
	if err != nil {
		b.Fatal(err)
	}
	if len(rows) != benchTCPRows {
		b.Fatalf("generated tcp6 parsed into %d rows, want %d", len(rows), benchTCPRows)
	}
	if got := rows[0].LocalAddr.String(); got != "2001:db8::10" {
		b.Fatalf("generated tcp6 row 0 has local address %s, want 2001:db8::10", got)
	}

	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseNetIP(data, binary.LittleEndian); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDedupIPSockets(b *testing.B) {
	rows, err := ParseNetIP(mixedTCP(benchTCPRows), binary.LittleEndian)
	if err != nil {
		b.Fatal(err)
	}
	if _, dropped := DedupIPSockets(rows); dropped != benchTCPRows/200 {
		b.Fatalf("DedupIPSockets dropped %d rows of the generated tcp, want %d", dropped, benchTCPRows/200)
	}

	b.ReportAllocs()
	for b.Loop() {
		DedupIPSockets(rows)
	}
}
