package procfile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseMeminfoFixture(t *testing.T) {
	entries, err := ParseMeminfo(readTestdata(t, "meminfo"))
	if err != nil {
		t.Fatalf("ParseMeminfo: %v", err)
	}
	if len(entries) != 45 {
		t.Errorf("len(entries) = %d, want 45", len(entries))
	}

	byName := make(map[string]MeminfoEntry)
	for _, e := range entries {
		byName[e.Name] = e
	}
	tests := []struct {
		name  string
		value uint64
		unit  string
	}{
		{"MemTotal", 8041216 * 1024, "bytes"},
		{"Active(anon)", 1290112 * 1024, "bytes"},
		{"VmallocTotal", 34359738367 * 1024, "bytes"},
		{"HugePages_Total", 0, ""},
		{"Hugepagesize", 2048 * 1024, "bytes"},
	}
	for _, tt := range tests {
		e, ok := byName[tt.name]
		if !ok {
			t.Errorf("%s absent", tt.name)
			continue
		}
		if e.Value != tt.value {
			t.Errorf("%s Value = %d, want %d", tt.name, e.Value, tt.value)
		}
		if e.Unit != tt.unit {
			t.Errorf("%s Unit = %q, want %q", tt.name, e.Unit, tt.unit)
		}
	}
	if entries[0].Name != "MemTotal" {
		t.Errorf("entries[0].Name = %q, want %q (file order)", entries[0].Name, "MemTotal")
	}
	if last := entries[len(entries)-1].Name; last != "DirectMap2M" {
		t.Errorf("last Name = %q, want %q (file order)", last, "DirectMap2M")
	}
}

func TestParseMeminfoMalformed(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"missing colon", "MemTotal 1 kB\n"},
		{"empty name", ": 1 kB\n"},
		{"missing value", "MemTotal:\n"},
		{"value not a number", "MemTotal: x kB\n"},
		{"unit not kB", "MemTotal: 1 MB\n"},
		{"three value fields", "MemTotal: 1 kB x\n"},
		{"overflowing after conversion", "MemTotal: 18014398509481984 kB\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseMeminfo([]byte(tt.data)); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseMeminfo(%q) error = %v, want ErrMalformed", tt.data, err)
			}
		})
	}
}

func TestParseMeminfoBlankLines(t *testing.T) {
	entries, err := ParseMeminfo([]byte("\nMemTotal: 1 kB\n\n  \nHugePages_Free: 3\n"))
	if err != nil {
		t.Fatalf("ParseMeminfo: %v", err)
	}
	if len(entries) != 2 {
		t.Fatalf("len(entries) = %d, want 2", len(entries))
	}
	if entries[1] != (MeminfoEntry{Name: "HugePages_Free", Value: 3}) {
		t.Errorf("entries[1] = %+v, want {HugePages_Free 3 \"\"}", entries[1])
	}
}

func BenchmarkParseMeminfo(b *testing.B) {
	data := readTestdata(b, "meminfo")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseMeminfo(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseMeminfoKeepsGoodLines(t *testing.T) {
	entries, err := ParseMeminfo([]byte("MemTotal: 1 kB\nFoo: -5 kB\nMemFree: 2 kB\n"))
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("error = %v, want ErrMalformed for line 2", err)
	}
	if len(entries) != 2 || entries[0].Name != "MemTotal" || entries[1].Name != "MemFree" {
		t.Errorf("entries = %+v, want MemTotal and MemFree", entries)
	}
}

// FuzzParseMeminfo checks that every entry ParseMeminfo returns parses back
// unchanged from the line the kernel would print for it, and that no line is
// dropped without an error.
func FuzzParseMeminfo(f *testing.F) {
	addFileSeeds(f, "testdata/meminfo")
	f.Fuzz(func(t *testing.T, data []byte) {
		var entries []MeminfoEntry
		var err error
		checkAllocations(t, len(data), func() { entries, err = ParseMeminfo(data) })
		checkMalformed(t, err)
		lines := countTableRows(data, "")
		if err == nil && len(entries) != lines {
			t.Errorf("got %d entries and no error from %d lines", len(entries), lines)
		}
		var written strings.Builder
		for i, e := range entries {
			switch e.Unit {
			case "bytes":
				if e.Value%1024 != 0 {
					t.Errorf("entry %d: %d bytes is not a whole number of kB", i, e.Value)
				}
				fmt.Fprintf(&written, "%s: %8d kB\n", e.Name, e.Value/1024)
			case "":
				fmt.Fprintf(&written, "%s: %8d\n", e.Name, e.Value)
			default:
				t.Errorf("entry %d: Unit = %q", i, e.Unit)
			}
		}
		again, err := ParseMeminfo([]byte(written.String()))
		if err != nil || !slices.Equal(again, entries) {
			t.Errorf("ParseMeminfo(%q) = %+v, %v, want %+v", written.String(), again, err, entries)
		}
	})
}
