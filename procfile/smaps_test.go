package procfile

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestParseSmapsAnonymousMapping(t *testing.T) {
	entries, err := ParseSmaps(readCaseFile(t, "16-maps-anonymous-and-pseudo-paths/smaps"))
	if err != nil {
		t.Fatalf("ParseSmaps: %v", err)
	}
	if len(entries) != 1 {
		t.Fatalf("len(entries) = %d, want 1", len(entries))
	}
	e := entries[0]
	if e.Start != 0x7f0a10000000 {
		t.Errorf("Start = %#x, want 0x7f0a10000000", e.Start)
	}
	if e.End != 0x7f0a10021000 {
		t.Errorf("End = %#x, want 0x7f0a10021000", e.End)
	}
	if e.Path != "" {
		t.Errorf("Path = %q, want \"\" (not the inode %q)", e.Path, "0")
	}
	if e.Inode != 0 {
		t.Errorf("Inode = %d, want 0", e.Inode)
	}

	wantFields := map[string]uint64{
		"Size":          132 * 1024,
		"Rss":           8 * 1024,
		"Pss":           8 * 1024,
		"Private_Dirty": 8 * 1024,
		"Swap":          0,
	}
	for key, want := range wantFields {
		got, ok := e.Fields[key]
		if !ok {
			t.Errorf("Fields[%q] absent, want %d", key, want)
			continue
		}
		if got != want {
			t.Errorf("Fields[%q] = %d, want %d", key, got, want)
		}
	}
	if got := len(e.Fields); got != 14 {
		t.Errorf("len(Fields) = %d, want 14 (every line but the header and VmFlags)", got)
	}
	if _, ok := e.Fields["VmFlags"]; ok {
		t.Error("Fields[VmFlags] present, want it only in VmFlags")
	}

	wantFlags := []string{"rd", "wr", "mr", "mw", "me", "ac", "sd"}
	if !slices.Equal(e.VmFlags, wantFlags) {
		t.Errorf("VmFlags = %q, want %q", e.VmFlags, wantFlags)
	}
}

func TestParseSmapsSeveralMappings(t *testing.T) {
	data := []byte("" +
		"55d0a5000000-55d0a5021000 rw-p 00000000 00:00 0                          [heap]\n" +
		"Size:                132 kB\n" +
		"THPeligible:    1\n" +
		"ProtectionKey:         0\n" +
		"VmFlags: rd wr mr mw me ac \n" +
		"7f2a1c000000-7f2a1c021000 r--p 00000000 fd:01 131090                     /opt/My App/lib/libfoo.so\n" +
		"Rss:                   4 kB\n")
	entries, err := ParseSmaps(data)
	if err != nil {
		t.Fatalf("ParseSmaps: %v", err)
	}
	if len(entries) != 2 {
		t.Fatalf("len(entries) = %d, want 2", len(entries))
	}
	if got := entries[0].Path; got != "[heap]" {
		t.Errorf("entries[0].Path = %q, want %q", got, "[heap]")
	}
	if got := entries[0].Fields["THPeligible"]; got != 1 {
		t.Errorf("entries[0].Fields[THPeligible] = %d, want 1 (raw, not kB)", got)
	}
	if got, ok := entries[0].Fields["ProtectionKey"]; !ok || got != 0 {
		t.Errorf("entries[0].Fields[ProtectionKey] = %d, %v, want 0, true", got, ok)
	}
	if got := entries[1].Path; got != "/opt/My App/lib/libfoo.so" {
		t.Errorf("entries[1].Path = %q, want %q", got, "/opt/My App/lib/libfoo.so")
	}
	if got := entries[1].Inode; got != 131090 {
		t.Errorf("entries[1].Inode = %d, want 131090", got)
	}
	if got := entries[1].Fields["Rss"]; got != 4096 {
		t.Errorf("entries[1].Fields[Rss] = %d, want 4096", got)
	}
	if entries[1].VmFlags != nil {
		t.Errorf("entries[1].VmFlags = %q, want nil", entries[1].VmFlags)
	}
}

func TestParseSmapsEmpty(t *testing.T) {
	entries, err := ParseSmaps(nil)
	if err != nil {
		t.Fatalf("ParseSmaps(nil): %v", err)
	}
	if len(entries) != 0 {
		t.Errorf("len(entries) = %d, want 0", len(entries))
	}
}

func TestParseSmapsMalformed(t *testing.T) {
	header := "7f0a10000000-7f0a10021000 rw-p 00000000 00:00 0 \n"
	tests := []struct {
		name string
		data string
	}{
		{"counter before header", "Size:                132 kB\n"},
		{"unit not kB", header + "Size:                132 MB\n"},
		{"value not a number", header + "Size:                x kB\n"},
		{"value missing", header + "Size:\n"},
		{"three value fields", header + "Size:                1 kB extra\n"},
		{"overflowing size", header + "Size:                99999999999999999999 kB\n"},
		{"size overflowing after conversion", header + "Size:                18014398509481984 kB\n"},
		{"repeated key", header + "Rss: 4 kB\nRss: 8 kB\n"},
		{"bad header", "7f0a10000000 rw-p 00000000 00:00 0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseSmaps([]byte(tt.data)); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseSmaps(%q) error = %v, want ErrMalformed", tt.data, err)
			}
		})
	}
}

func BenchmarkParseSmaps(b *testing.B) {
	data := readCaseFile(b, "16-maps-anonymous-and-pseudo-paths/smaps")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseSmaps(data); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseSmaps checks that every entry ParseSmaps returns has the mapping
// of its own header line, and that no header line is dropped.
func FuzzParseSmaps(f *testing.F) {
	addFileSeeds(f, caseGlob("*/smaps"))
	f.Add([]byte("55d0a5000000-55d0a5021000 rw-p 00000000 00:00 0                          [heap]\n" +
		"Size:                132 kB\nTHPeligible:    1\nVmFlags: rd wr mr mw me ac \n" +
		"7f2a1c000000-7f2a1c021000 r--p 00000000 fd:01 131090                     /opt/My App/lib/libfoo.so\n" +
		"Rss:                   4 kB\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var entries []SmapsEntry
		var err error
		checkAllocations(t, len(data), func() { entries, err = ParseSmaps(data) })
		checkMalformed(t, err)
		if err != nil {
			return
		}

		var headers []Mapping
		for line := range strings.SplitSeq(string(data), "\n") {
			first, _, _ := strings.Cut(strings.ReplaceAll(line, "\t", " "), " ")
			if line == "" || strings.HasSuffix(first, ":") {
				continue
			}
			m, err := ParseMapsLine([]byte(line))
			if err != nil {
				t.Fatalf("ParseSmaps accepted header %q that ParseMapsLine rejects: %v", line, err)
			}
			headers = append(headers, m)
		}
		if len(entries) != len(headers) {
			t.Fatalf("got %d entries from %d header lines", len(entries), len(headers))
		}
		for i, e := range entries {
			checkMapping(t, i, e.Mapping, headers[i])
			if _, ok := e.Fields["VmFlags"]; ok {
				t.Errorf("entry %d: Fields has VmFlags", i)
			}
		}
	})
}

// FuzzSmapsPath formats an smaps entry with known counters and an arbitrary
// path, escaped as in maps, after a fixed entry. The path and every counter
// must come back unchanged. The seeds are the paths of the maps fixtures.
func FuzzSmapsPath(f *testing.F) {
	for _, data := range readSeedFiles(f, caseGlob("*/maps*"), caseGlob("*/*/maps"), caseGlob("*/smaps")) {
		entries, err := ParseSmaps(data)
		if err != nil {
			f.Fatalf("seed %q: %v", data, err)
		}
		for _, e := range entries {
			f.Add(e.Path, e.Inode, e.Start)
		}
	}
	f.Fuzz(func(t *testing.T, path string, rss, swap uint64) {
		path = strings.ReplaceAll(path, "\n", `\012`)
		if strings.HasPrefix(path, " ") {
			path = "/" + path
		}
		rss, swap = rss%(1<<50), swap%(1<<50)
		first := Mapping{0x400000, 0x401000, "r-xp", 0, "08:01", 12, "/bin/first"}
		want := Mapping{0x7f0a10000000, 0x7f0a10021000, "rw-p", 0x1000, "fd:01", 77, path}
		data := formatMapsLine(first, 73) + "\nRss:                   4 kB\nVmFlags: rd ex \n" +
			formatMapsLine(want, 73) + "\n" +
			fmt.Sprintf("Rss:            %8d kB\nSwap:           %8d kB\nTHPeligible:    0\nVmFlags: rd wr \n", rss, swap)

		entries, err := ParseSmaps([]byte(data))
		if err != nil {
			t.Fatalf("ParseSmaps(%q): %v", data, err)
		}
		if len(entries) != 2 {
			t.Fatalf("ParseSmaps(%q) = %d entries, want 2", data, len(entries))
		}
		checkMapping(t, 1, entries[0].Mapping, first)
		checkMapping(t, 2, entries[1].Mapping, want)
		wantFields := map[string]uint64{"Rss": rss * 1024, "Swap": swap * 1024, "THPeligible": 0}
		if !maps.Equal(entries[1].Fields, wantFields) {
			t.Errorf("Fields = %v, want %v", entries[1].Fields, wantFields)
		}
		if !slices.Equal(entries[1].VmFlags, []string{"rd", "wr"}) {
			t.Errorf("VmFlags = %q, want [rd wr]", entries[1].VmFlags)
		}
	})
}
