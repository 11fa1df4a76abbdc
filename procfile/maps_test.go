package procfile

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

func parseMapsCase(t *testing.T, name string) []Mapping {
	t.Helper()
	mappings, err := ParseMaps(readCaseFile(t, name))
	if err != nil {
		t.Fatalf("ParseMaps(%s): %v", name, err)
	}
	return mappings
}

// checkMapping compares every field of got and want, one error per field.
func checkMapping(t *testing.T, row int, got, want Mapping) {
	t.Helper()
	if got.Start != want.Start {
		t.Errorf("row %d: Start = %#x, want %#x", row, got.Start, want.Start)
	}
	if got.End != want.End {
		t.Errorf("row %d: End = %#x, want %#x", row, got.End, want.End)
	}
	if got.Perms != want.Perms {
		t.Errorf("row %d: Perms = %q, want %q", row, got.Perms, want.Perms)
	}
	if got.Offset != want.Offset {
		t.Errorf("row %d: Offset = %#x, want %#x", row, got.Offset, want.Offset)
	}
	if got.Device != want.Device {
		t.Errorf("row %d: Device = %q, want %q", row, got.Device, want.Device)
	}
	if got.Inode != want.Inode {
		t.Errorf("row %d: Inode = %d, want %d", row, got.Inode, want.Inode)
	}
	if got.Path != want.Path {
		t.Errorf("row %d: Path = %q, want %q", row, got.Path, want.Path)
	}
}

func TestParseMapsCases(t *testing.T) {
	tests := []struct {
		file string
		want []Mapping
	}{
		{"13-maps-path-with-spaces/maps", []Mapping{
			{0x7f2a1c000000, 0x7f2a1c021000, "r--p", 0, "fd:01", 131090, "/opt/My App/lib/libfoo.so"},
			{0x7f2a1c021000, 0x7f2a1c0a0000, "r-xp", 0x21000, "fd:01", 131090, "/opt/My App/lib/libfoo.so"},
		}},
		{"13-maps-path-with-spaces/maps.32bit", []Mapping{
			{0x08048000, 0x0805a000, "r-xp", 0, "08:03", 401177, "/home/user/Game Files/lib/libengine.so.2"},
			{0xb7700000, 0xb7721000, "rw-p", 0, "00:00", 0, ""},
		}},
		{"15-maps-deleted-and-memfd/maps", []Mapping{
			{0x7f41c0e10000, 0x7f41c0e11000, "rw-s", 0x2f000, "00:01", 90211, "/memfd:jit-code (deleted)"},
			{0x7fb6d7300000, 0x7fb6d7400000, "r-xp", 0x1000, "fd:01", 262199, "/usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)"},
			{0x7fb6d7500000, 0x7fb6d7501000, "rw-s", 0, "00:1a", 9, "/dev/shm/sem.jobs (deleted)"},
		}},
		{"16-maps-anonymous-and-pseudo-paths/maps", []Mapping{
			{0x55d0a5000000, 0x55d0a5021000, "rw-p", 0, "00:00", 0, "[heap]"},
			{0x7f0a10000000, 0x7f0a10021000, "rw-p", 0, "00:00", 0, ""},
			{0x7f0a10100000, 0x7f0a10200000, "rw-p", 0, "00:00", 0, "[anon:js heap arena]"},
			{0x7ffc1a000000, 0x7ffc1a021000, "rw-p", 0, "00:00", 0, "[stack]"},
			{0x7ffc1a1fc000, 0x7ffc1a200000, "r--p", 0, "00:00", 0, "[vvar]"},
			{0x7ffc1a200000, 0x7ffc1a202000, "r-xp", 0, "00:00", 0, "[vdso]"},
			{0xffffffffff600000, 0xffffffffff601000, "--xp", 0, "00:00", 0, "[vsyscall]"},
		}},
		{"11-exe-deleted-suffix/100/maps", []Mapping{
			{0x55d0a4a00000, 0x55d0a4a21000, "r--p", 0, "fd:01", 1311234, "/usr/local/bin/acme-agent (deleted)"},
			{0x55d0a4a21000, 0x55d0a4b40000, "r-xp", 0x21000, "fd:01", 1311234, "/usr/local/bin/acme-agent (deleted)"},
		}},
		{"09-kernel-threads/2/maps", nil},
		{"10-zombie-process/maps", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := parseMapsCase(t, tt.file)
			if got == nil {
				t.Error("ParseMaps = nil, want non-nil")
			}
			if len(got) != len(tt.want) {
				t.Fatalf("len(ParseMaps) = %d, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				checkMapping(t, i+1, got[i], tt.want[i])
			}
		})
	}
}

// The vsyscall end address is above math.MaxInt64, so a signed parse fails.
func TestParseMapsVsyscallAboveMaxInt64(t *testing.T) {
	mappings := parseMapsCase(t, "16-maps-anonymous-and-pseudo-paths/maps")
	last := mappings[len(mappings)-1]
	if last.End != 0xffffffffff601000 {
		t.Errorf("End = %#x, want 0xffffffffff601000", last.End)
	}
	if last.End <= math.MaxInt64 {
		t.Errorf("End = %#x, want above math.MaxInt64", last.End)
	}
}

func TestParseMapsDeletedAndMemfd(t *testing.T) {
	mappings := parseMapsCase(t, "15-maps-deleted-and-memfd/maps")
	tests := []struct {
		path        string
		deleted     bool
		kind        string
		memfdName   string
		memfdNameOK bool
	}{
		{"/memfd:jit-code", true, MapMemfd, "jit-code", true},
		{"/usr/lib/x86_64-linux-gnu/libssl.so.3", true, MapFile, "", false},
		{"/dev/shm/sem.jobs", true, MapFile, "", false},
	}
	for i, tt := range tests {
		raw := mappings[i].Path
		path, deleted := SplitDeleted(raw)
		if path != tt.path {
			t.Errorf("row %d: path = %q, want %q", i+1, path, tt.path)
		}
		if deleted != tt.deleted {
			t.Errorf("row %d: deleted = %v, want %v", i+1, deleted, tt.deleted)
		}
		if got := MapPathKind(raw); got != tt.kind {
			t.Errorf("row %d: MapPathKind(%q) = %q, want %q", i+1, raw, got, tt.kind)
		}
		name, ok := MemfdName(raw)
		if name != tt.memfdName || ok != tt.memfdNameOK {
			t.Errorf("row %d: MemfdName(%q) = %q, %v, want %q, %v", i+1, raw, name, ok, tt.memfdName, tt.memfdNameOK)
		}
	}
}

func TestParseMapsDeletedExecutable(t *testing.T) {
	for i, m := range parseMapsCase(t, "11-exe-deleted-suffix/100/maps") {
		path, deleted := SplitDeleted(m.Path)
		if path != "/usr/local/bin/acme-agent" {
			t.Errorf("row %d: path = %q, want %q", i+1, path, "/usr/local/bin/acme-agent")
		}
		if !deleted {
			t.Errorf("row %d: deleted = false, want true", i+1)
		}
	}
}

func TestMapPathKindCases(t *testing.T) {
	mappings := parseMapsCase(t, "16-maps-anonymous-and-pseudo-paths/maps")
	want := []string{MapPseudo, MapAnonymous, MapAnonNamed, MapPseudo, MapPseudo, MapPseudo, MapPseudo}
	for i, m := range mappings {
		if got := MapPathKind(m.Path); got != want[i] {
			t.Errorf("row %d: MapPathKind(%q) = %q, want %q", i+1, m.Path, got, want[i])
		}
	}
}

func TestMapPathKindEdges(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{
		{"", MapAnonymous},
		{"[vvar_vclock]", MapPseudo},
		{"[stack:1234]", MapPseudo},
		{"[uprobes]", MapPseudo},
		{"[anon_shmem:pool]", MapAnonNamed},
		{"[anon:]", MapAnonNamed},
		{"/memfd:x", MapMemfd},
		{"anon_inode:[io_uring]", MapAnonInode},
		{"/SYSV00000000 (deleted)", MapFile},
		{"[unclosed", MapFile},
		{"/lib/[weird]", MapFile},
	}
	for _, tt := range tests {
		if got := MapPathKind(tt.path); got != tt.want {
			t.Errorf("MapPathKind(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestSplitDeletedExeLinks(t *testing.T) {
	tests := []struct {
		file        string
		wantPath    string
		wantDeleted bool
	}{
		{"11-exe-deleted-suffix/100/exe", "/usr/local/bin/acme-agent", true},
		{"11-exe-deleted-suffix/101/exe", "/opt/app/srv (deleted)", true},
		{"11-exe-deleted-suffix/102/exe", "/opt/app/tool", true}, // a guess without the link count
		{"29-permission-denied-other-user/5678/exe", "/usr/bin/bash", false},
	}
	for _, tt := range tests {
		path, deleted := SplitDeleted(string(readCaseFile(t, tt.file)))
		if path != tt.wantPath {
			t.Errorf("%s: path = %q, want %q", tt.file, path, tt.wantPath)
		}
		if deleted != tt.wantDeleted {
			t.Errorf("%s: deleted = %v, want %v", tt.file, deleted, tt.wantDeleted)
		}
	}
}

// Pid 102 runs a live file named "/opt/app/tool (deleted)" with link count 1.
func TestSplitDeletedNlinkLiveFile(t *testing.T) {
	link := string(readCaseFile(t, "11-exe-deleted-suffix/102/exe"))
	path, deleted := SplitDeletedNlink(link, 1)
	if path != "/opt/app/tool (deleted)" {
		t.Errorf("path = %q, want %q", path, "/opt/app/tool (deleted)")
	}
	if deleted {
		t.Error("deleted = true, want false")
	}
}

func TestSplitDeletedNlinkZero(t *testing.T) {
	tests := []struct {
		link, wantPath string
	}{
		{"/opt/app/srv (deleted) (deleted)", "/opt/app/srv (deleted)"},
		{"/usr/local/bin/acme-agent (deleted)", "/usr/local/bin/acme-agent"},
		{"/tmp/x", "/tmp/x"},
	}
	for _, tt := range tests {
		path, deleted := SplitDeletedNlink(tt.link, 0)
		if path != tt.wantPath {
			t.Errorf("SplitDeletedNlink(%q, 0) path = %q, want %q", tt.link, path, tt.wantPath)
		}
		if !deleted {
			t.Errorf("SplitDeletedNlink(%q, 0) deleted = false, want true", tt.link)
		}
	}
}

func TestParseMapsLineEdges(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Mapping
	}{
		{"no trailing newline", "00400000-00401000 r-xp 00000000 08:01 12 /bin/x",
			Mapping{0x400000, 0x401000, "r-xp", 0, "08:01", 12, "/bin/x"}},
		{"ends after inode", "00400000-00401000 rw-p 00000000 00:00 0",
			Mapping{0x400000, 0x401000, "rw-p", 0, "00:00", 0, ""}},
		{"trailing spaces in path kept", "00400000-00401000 r--p 00000000 08:01 12    /a b  \n",
			Mapping{0x400000, 0x401000, "r--p", 0, "08:01", 12, "/a b  "}},
		{"escaped newline kept raw", `00400000-00401000 r--p 00000000 08:01 12 /tmp/a\012b`,
			Mapping{0x400000, 0x401000, "r--p", 0, "08:01", 12, `/tmp/a\012b`}},
		{"three-digit major", "00400000-00401000 r--p 00000000 103:02 12 /x",
			Mapping{0x400000, 0x401000, "r--p", 0, "103:02", 12, "/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMapsLine([]byte(tt.line))
			if err != nil {
				t.Fatalf("ParseMapsLine(%q): %v", tt.line, err)
			}
			checkMapping(t, 1, got, tt.want)
		})
	}
}

func TestParseMapsMalformed(t *testing.T) {
	tests := []struct {
		name string
		line string
	}{
		{"empty", ""},
		{"spaces only", "   "},
		{"four fields", "00400000-00401000 r-xp 00000000 08:01"},
		{"range without dash", "00400000 r-xp 00000000 08:01 12"},
		{"start not hex", "0040000g-00401000 r-xp 00000000 08:01 12"},
		{"end above 64 bits", "00400000-1ffffffffffffffff r-xp 00000000 08:01 12"},
		{"perms too short", "00400000-00401000 r-x 00000000 08:01 12"},
		{"perms letter", "00400000-00401000 r-xq 00000000 08:01 12"},
		{"offset not hex", "00400000-00401000 r-xp 0000000z 08:01 12"},
		{"device without colon", "00400000-00401000 r-xp 00000000 0801 12"},
		{"device minor empty", "00400000-00401000 r-xp 00000000 08: 12"},
		{"inode not decimal", "00400000-00401000 r-xp 00000000 08:01 1a"},
		{"smaps counter line", "Size:                132 kB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseMapsLine([]byte(tt.line)); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseMapsLine(%q) error = %v, want ErrMalformed", tt.line, err)
			}
		})
	}
}

func TestParseMapsErrorNamesLine(t *testing.T) {
	data := []byte("00400000-00401000 r-xp 00000000 08:01 12 /bin/x\nbroken\n")
	_, err := ParseMaps(data)
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("ParseMaps error = %v, want ErrMalformed", err)
	}
	if want := "maps line 2: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want prefix %q", err, want)
	}
}

func BenchmarkParseMaps(b *testing.B) {
	data := readCaseFile(b, "16-maps-anonymous-and-pseudo-paths/maps")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseMaps(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseMapsLineEndBelowStart(t *testing.T) {
	_, err := ParseMapsLine([]byte("00400000-00300000 r-xp 00000000 08:01 42 /bin/x"))
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("error = %v, want ErrMalformed for an end below the start", err)
	}
}

// parseHex and parseDecimal replace strconv.ParseUint in the maps parser, so
// they must accept and reject the same texts and return the same values.
func TestMapsNumbersMatchParseUint(t *testing.T) {
	texts := []string{
		"", "0", "00", "7f", "7F", "ffffffffffffffff", "FFFFFFFFFFFFFFFF",
		"10000000000000000", "0000000000000000000001", "18446744073709551615",
		"18446744073709551616", "99999999999999999999", "+1", "-1", "0x10",
		"1_0", " 1", "1 ", "g", "12a",
	}
	for _, text := range texts {
		wantHex, err := strconv.ParseUint(text, 16, 64)
		gotHex, ok := parseHex(text)
		if ok != (err == nil) || (ok && gotHex != wantHex) {
			t.Errorf("parseHex(%q) = %d, %v; strconv.ParseUint gives %d, %v", text, gotHex, ok, wantHex, err)
		}
		wantDecimal, err := strconv.ParseUint(text, 10, 64)
		gotDecimal, ok := parseDecimal(text)
		if ok != (err == nil) || (ok && gotDecimal != wantDecimal) {
			t.Errorf("parseDecimal(%q) = %d, %v; strconv.ParseUint gives %d, %v", text, gotDecimal, ok, wantDecimal, err)
		}
	}
}

// formatMapsLine writes m as the kernel prints a maps line. That is hex
// addresses and offset of at least 8 digits, the device, the decimal inode
// and one space. A mapping with a path adds spaces up to column width and the
// path. width is 73 on a 64-bit kernel and 49 on a 32-bit one.
func formatMapsLine(m Mapping, width int) string {
	line := fmt.Sprintf("%08x-%08x %s %08x %s %d ", m.Start, m.End, m.Perms, m.Offset, m.Device, m.Inode)
	if m.Path == "" {
		return line
	}
	if len(line) < width {
		line += strings.Repeat(" ", width-len(line))
	}
	return line + m.Path
}

// FuzzParseMaps checks that every mapping ParseMaps returns has valid fields
// and parses back unchanged from the line the kernel would print for it. It
// also checks that no line is dropped without an error, that SplitDeleted
// round-trips on each path and that SplitDeletedNlink agrees with it.
func FuzzParseMaps(f *testing.F) {
	addFileSeeds(f, caseGlob("*/maps*"), caseGlob("*/*/maps"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var mappings []Mapping
		var err error
		checkAllocations(t, len(data), func() { mappings, err = ParseMaps(data) })
		checkMalformed(t, err)

		lines := 0
		for line := range strings.SplitSeq(string(data), "\n") {
			if line != "" {
				lines++
			}
		}
		if err == nil && len(mappings) != lines {
			t.Errorf("got %d mappings and no error from %d non-empty lines", len(mappings), lines)
		}
		if len(mappings) > lines {
			t.Errorf("got %d mappings from %d non-empty lines", len(mappings), lines)
		}

		for i, m := range mappings {
			if m.End < m.Start {
				t.Errorf("row %d: End %#x below Start %#x", i, m.End, m.Start)
			}
			if !validPerms(m.Perms) {
				t.Errorf("row %d: Perms = %q", i, m.Perms)
			}
			if !validDevice(m.Device) {
				t.Errorf("row %d: Device = %q", i, m.Device)
			}
			if strings.HasPrefix(m.Path, " ") || strings.Contains(m.Path, "\n") {
				t.Errorf("row %d: Path = %q starts with a space or contains a newline", i, m.Path)
			}
			line := formatMapsLine(m, 73)
			again, err := ParseMapsLine([]byte(line))
			if err != nil {
				t.Errorf("row %d: ParseMapsLine(%q): %v", i, line, err)
			} else {
				checkMapping(t, i, again, m)
			}

			path, deleted := SplitDeleted(m.Path)
			if deleted {
				path += deletedSuffix
			}
			if path != m.Path {
				t.Errorf("row %d: SplitDeleted(%q) written back = %q", i, m.Path, path)
			}
			if live, deleted := SplitDeletedNlink(m.Path, 1); live != m.Path || deleted {
				t.Errorf("row %d: SplitDeletedNlink(%q, 1) = %q, %v, want the path whole", i, m.Path, live, deleted)
			}
			trimmed, _ := SplitDeleted(m.Path)
			if gone, deleted := SplitDeletedNlink(m.Path, 0); gone != trimmed || !deleted {
				t.Errorf("row %d: SplitDeletedNlink(%q, 0) = %q, %v, want %q, true", i, m.Path, gone, deleted, trimmed)
			}
			if name, ok := MemfdName(m.Path); ok != (MapPathKind(m.Path) == MapMemfd) {
				t.Errorf("row %d: MemfdName(%q) = %q, %v but MapPathKind = %q", i, m.Path, name, ok, MapPathKind(m.Path))
			}
		}
	})
}

// FuzzMapsPath formats a maps line from known fields and an arbitrary path
// between two fixed lines. Every column must come back unchanged. A newline
// in the path is escaped as `\012`, as the kernel does. The kernel's paths
// start with '/', '[' or a name such as "anon_inode:", never with a space,
// so a leading space gets a '/' in front. The seeds are the mappings of the
// maps fixtures.
func FuzzMapsPath(f *testing.F) {
	for _, data := range readSeedFiles(f, caseGlob("*/maps*"), caseGlob("*/*/maps")) {
		mappings, err := ParseMaps(data)
		if err != nil {
			f.Fatalf("seed %q: %v", data, err)
		}
		for _, m := range mappings {
			f.Add(m.Start, m.End-m.Start, byte(3), m.Offset, uint32(m.Inode), m.Inode, m.Path, len(data)%2 == 0)
		}
	}
	f.Fuzz(func(t *testing.T, start, size uint64, permBits byte, offset uint64, device uint32, inode uint64, path string, bits32 bool) {
		width := 73
		if bits32 {
			width = 49
			start, size, offset = uint64(uint32(start)), uint64(uint32(size)), uint64(uint32(offset))
		}
		end := start + size
		if end < start {
			start, end = end, start
		}
		perms := []byte("---p")
		for i, letter := range "rwx" {
			if permBits&(1<<i) != 0 {
				perms[i] = byte(letter)
			}
		}
		if permBits&8 != 0 {
			perms[3] = 's'
		}
		path = strings.ReplaceAll(path, "\n", `\012`)
		if strings.HasPrefix(path, " ") {
			path = "/" + path
		}
		want := Mapping{
			Start: start, End: end, Perms: string(perms), Offset: offset,
			// The kernel's dev_t has a 12-bit major and a 20-bit minor number.
			Device: fmt.Sprintf("%02x:%02x", device>>20, device&0xfffff),
			Inode:  inode, Path: path,
		}
		first := Mapping{0x400000, 0x401000, "r-xp", 0, "08:01", 12, "/bin/first"}
		last := Mapping{0x7ffc1a000000, 0x7ffc1a021000, "rw-p", 0, "00:00", 0, "[stack]"}
		data := formatMapsLine(first, width) + "\n" + formatMapsLine(want, width) + "\n" + formatMapsLine(last, width) + "\n"

		mappings, err := ParseMaps([]byte(data))
		if err != nil {
			t.Fatalf("ParseMaps(%q): %v", data, err)
		}
		if len(mappings) != 3 {
			t.Fatalf("ParseMaps(%q) = %d mappings, want 3", data, len(mappings))
		}
		checkMapping(t, 1, mappings[0], first)
		checkMapping(t, 2, mappings[1], want)
		checkMapping(t, 3, mappings[2], last)
	})
}
