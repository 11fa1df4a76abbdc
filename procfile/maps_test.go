package procfile

import (
	"errors"
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
