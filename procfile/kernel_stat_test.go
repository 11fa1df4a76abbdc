package procfile

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseBootTimeFixture(t *testing.T) {
	btime, err := ParseBootTime(readTestdata(t, "kernel_stat"))
	if err != nil {
		t.Fatalf("ParseBootTime: %v", err)
	}
	if btime != 1700000000 {
		t.Errorf("ParseBootTime = %d, want 1700000000", btime)
	}
}

func TestParseBootTimeMalformed(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"no btime line", "cpu  1 2 3\nctxt 5\n"},
		{"btime not a number", "btime soon\n"},
		{"btime empty", "btime \n"},
		{"btime above 64 bits", "btime 99999999999999999999\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseBootTime([]byte(tt.data)); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseBootTime(%q) error = %v, want ErrMalformed", tt.data, err)
			}
		})
	}
}

// A line that only starts with "btime" is another key.
func TestParseBootTimeExactKey(t *testing.T) {
	btime, err := ParseBootTime([]byte("btimex 5\nbtime 7"))
	if err != nil {
		t.Fatalf("ParseBootTime: %v", err)
	}
	if btime != 7 {
		t.Errorf("ParseBootTime = %d, want 7", btime)
	}
}

func BenchmarkParseBootTime(b *testing.B) {
	data := readTestdata(b, "kernel_stat")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseBootTime(data); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseBootTime checks that ParseBootTime returns the value of the first
// line that starts with "btime ", or an error when there is none.
func FuzzParseBootTime(f *testing.F) {
	addFileSeeds(f, "testdata/kernel_stat")
	f.Fuzz(func(t *testing.T, data []byte) {
		var btime int64
		var err error
		checkAllocations(t, len(data), func() { btime, err = ParseBootTime(data) })
		checkMalformed(t, err)

		for line := range strings.Lines(string(data)) {
			value, found := strings.CutPrefix(line, "btime ")
			if !found {
				continue
			}
			want, wantErr := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if (err == nil) != (wantErr == nil) || (err == nil && btime != want) {
				t.Errorf("ParseBootTime = %d, %v for first btime line %q", btime, err, line)
			}
			return
		}
		if err == nil {
			t.Errorf("ParseBootTime = %d without a btime line", btime)
		}
	})
}
