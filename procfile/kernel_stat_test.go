package procfile

import (
	"errors"
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
