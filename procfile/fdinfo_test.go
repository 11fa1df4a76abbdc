package procfile

import (
	"errors"
	"testing"
)

func TestParseFDInfoEpoll(t *testing.T) {
	info, err := ParseFDInfo(readTestdata(t, "fdinfo_epoll"))
	if err != nil {
		t.Fatalf("ParseFDInfo: %v", err)
	}
	want := FDInfo{
		Pos: 0, HasPos: true,
		Flags: 02000002, HasFlags: true,
		MntID: 15, HasMntID: true,
		Ino: 1057, HasIno: true,
	}
	if info != want {
		t.Errorf("ParseFDInfo = %+v, want %+v", info, want)
	}
}

// Kernels before Linux 3.15 print only pos and flags.
func TestParseFDInfoOldKernel(t *testing.T) {
	info, err := ParseFDInfo([]byte("pos:\t1000\nflags:\t0100002\n"))
	if err != nil {
		t.Fatalf("ParseFDInfo: %v", err)
	}
	if !info.HasPos || info.Pos != 1000 {
		t.Errorf("Pos = %d, %v, want 1000, true", info.Pos, info.HasPos)
	}
	if !info.HasFlags || info.Flags != 0100002 {
		t.Errorf("Flags = %#o, %v, want 0100002, true", info.Flags, info.HasFlags)
	}
	if info.HasMntID {
		t.Errorf("HasMntID = true with MntID %d, want false", info.MntID)
	}
	if info.HasIno {
		t.Errorf("HasIno = true with Ino %d, want false", info.Ino)
	}
}

func TestParseFDInfoMalformed(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"flags not octal", "pos:\t0\nflags:\t09\n"},
		{"flags above 32 bits", "flags:\t077777777777\n"},
		{"pos not a number", "pos:\tx\n"},
		{"mnt_id empty", "mnt_id:\t\n"},
		{"negative ino", "ino:\t-1\n"},
		{"repeated pos", "pos:\t0\npos:\t1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseFDInfo([]byte(tt.data)); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseFDInfo(%q) error = %v, want ErrMalformed", tt.data, err)
			}
		})
	}
}

func BenchmarkParseFDInfo(b *testing.B) {
	data := readTestdata(b, "fdinfo_epoll")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseFDInfo(data); err != nil {
			b.Fatal(err)
		}
	}
}
