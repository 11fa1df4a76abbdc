package procfile

import (
	"errors"
	"fmt"
	"strings"
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

// FuzzParseFDInfo checks that ParseFDInfo reports a line as present exactly
// when the data has one line with its key.
func FuzzParseFDInfo(f *testing.F) {
	addFileSeeds(f, "testdata/fdinfo_*")
	f.Add([]byte("pos:\t1000\nflags:\t0100002\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var info FDInfo
		var err error
		checkAllocations(t, len(data), func() { info, err = ParseFDInfo(data) })
		checkMalformed(t, err)
		if err != nil {
			return
		}
		counts := map[string]int{}
		for line := range strings.Lines(string(data)) {
			if key, _, found := strings.Cut(strings.TrimSuffix(line, "\n"), ":"); found {
				counts[key]++
			}
		}
		has := map[string]bool{"pos": info.HasPos, "flags": info.HasFlags, "mnt_id": info.HasMntID, "ino": info.HasIno}
		for key, present := range has {
			if counts[key] > 1 || present != (counts[key] == 1) {
				t.Errorf("%s present = %v with %d lines", key, present, counts[key])
			}
		}
	})
}

// FuzzFDInfoValues writes the four lines that ParseFDInfo reads, followed by
// arbitrary extra lines such as the per-type lines of an eventfd or inotify
// descriptor. The four values must come back unchanged. The exception is an
// extra line that repeats one of their keys, which must be an error.
func FuzzFDInfoValues(f *testing.F) {
	for _, data := range readSeedFiles(f, "testdata/fdinfo_*") {
		_, extra, _ := strings.Cut(string(data), "ino:")
		_, extra, _ = strings.Cut(extra, "\n")
		f.Add(int64(len(data)), uint32(02000002), int64(15), uint64(1057), extra)
	}
	f.Add(int64(-1), uint32(0), int64(0), uint64(0), "pos:\t5\n")
	f.Fuzz(func(t *testing.T, pos int64, flags uint32, mntID int64, ino uint64, extra string) {
		data := fmt.Sprintf("pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n%s", pos, flags, mntID, ino, extra)
		repeated := false
		for line := range strings.Lines(extra) {
			key, _, found := strings.Cut(line, ":")
			if !found {
				continue
			}
			switch key {
			case "pos", "flags", "mnt_id", "ino":
				repeated = true
			}
		}

		info, err := ParseFDInfo([]byte(data))
		if repeated {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseFDInfo(%q) error = %v, want ErrMalformed for a repeated key", data, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseFDInfo(%q): %v", data, err)
		}
		want := FDInfo{Pos: pos, HasPos: true, Flags: flags, HasFlags: true, MntID: mntID, HasMntID: true, Ino: ino, HasIno: true}
		if info != want {
			t.Errorf("ParseFDInfo(%q) = %+v, want %+v", data, info, want)
		}
	})
}
