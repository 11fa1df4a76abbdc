package procfile

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestParseCmdlineCases(t *testing.T) {
	tests := []struct {
		file          string
		wantArgv      []string
		wantDisplay   string
		wantTruncated bool
	}{
		{
			file:        "04-cmdline-rewritten-spaces/cmdline",
			wantArgv:    []string{"python3 jobrunner.py --queue high -x 4"},
			wantDisplay: "python3 jobrunner.py --queue high -x 4",
		},
		{
			file:        "04-cmdline-rewritten-spaces/cmdline.electron",
			wantArgv:    []string{"/opt/editor/editor --type=gpu-process --no-sandbox --log-level=2"},
			wantDisplay: "/opt/editor/editor --type=gpu-process --no-sandbox --log-level=2",
		},
		{
			file:        "04-cmdline-rewritten-spaces/cmdline.genuine_space",
			wantArgv:    []string{"./foo bar"},
			wantDisplay: "./foo bar",
		},
		{
			file:        "06-cmdline-empty-arguments/cmdline",
			wantArgv:    []string{"python3", "job.py", "", "--dry-run", ""},
			wantDisplay: "python3 job.py  --dry-run",
		},
		{
			file:        "29-permission-denied-other-user/1234/cmdline",
			wantArgv:    []string{"/usr/lib/postgresql/16/bin/postgres", "-D", "/var/lib/postgresql/16/main"},
			wantDisplay: "/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main",
		},
		{
			file:        "31-process-exits-mid-read/4103/cmdline",
			wantArgv:    []string{"sleep", "600"},
			wantDisplay: "sleep 600",
		},
		{file: "09-kernel-threads/2/cmdline", wantArgv: []string{}},
		{file: "09-kernel-threads/58/cmdline", wantArgv: []string{}},
		{file: "10-zombie-process/cmdline", wantArgv: []string{}},
		{file: "31-process-exits-mid-read/4102/cmdline", wantArgv: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			argv, truncated := ParseCmdline(readCaseFile(t, tt.file))
			if !slices.Equal(argv, tt.wantArgv) {
				t.Errorf("argv = %q, want %q", argv, tt.wantArgv)
			}
			if argv == nil {
				t.Error("argv = nil, want non-nil")
			}
			if truncated != tt.wantTruncated {
				t.Errorf("truncated = %v, want %v", truncated, tt.wantTruncated)
			}
			if got := JoinArgv(argv); got != tt.wantDisplay {
				t.Errorf("JoinArgv = %q, want %q", got, tt.wantDisplay)
			}
		})
	}
}

// The kernel cuts a rewritten command line at one page and prints no NUL.
func TestParseCmdlineNoTrailingNul(t *testing.T) {
	data := readCaseFile(t, "04-cmdline-rewritten-spaces/cmdline.no_trailing_nul")
	argv, truncated := ParseCmdline(data)
	if len(argv) != 1 {
		t.Fatalf("len(argv) = %d, want 1", len(argv))
	}
	if got := len(argv[0]); got != 4096 {
		t.Errorf("len(argv[0]) = %d, want 4096", got)
	}
	if !strings.HasPrefix(argv[0], "svc: www") {
		t.Errorf("argv[0] starts %q, want prefix %q", argv[0][:min(len(argv[0]), 16)], "svc: www")
	}
	if !strings.HasSuffix(argv[0], "www") {
		t.Errorf("argv[0] ends %q, want suffix %q", argv[0][max(len(argv[0])-16, 0):], "www")
	}
	if !truncated {
		t.Error("truncated = false, want true")
	}
}

func TestParseCmdlineEdges(t *testing.T) {
	tests := []struct {
		name          string
		data          []byte
		wantArgv      []string
		wantTruncated bool
	}{
		{"one NUL is one empty argument", []byte("\x00"), []string{""}, false},
		{"two NULs are two empty arguments", []byte("\x00\x00"), []string{"", ""}, false},
		{"last argument without NUL", []byte("a\x00b"), []string{"a", "b"}, false},
		{"4095 bytes without NUL", bytes.Repeat([]byte("x"), 4095), []string{strings.Repeat("x", 4095)}, false},
		{"4097 bytes without NUL", bytes.Repeat([]byte("x"), 4097), []string{strings.Repeat("x", 4097)}, false},
		{"4096 bytes ending in NUL", append(bytes.Repeat([]byte("x"), 4095), 0), []string{strings.Repeat("x", 4095)}, false},
		{"invalid UTF-8 kept", []byte("\xff\xfe\x00"), []string{"\xff\xfe"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv, truncated := ParseCmdline(tt.data)
			if !slices.Equal(argv, tt.wantArgv) {
				t.Errorf("argv = %q, want %q", argv, tt.wantArgv)
			}
			if truncated != tt.wantTruncated {
				t.Errorf("truncated = %v, want %v", truncated, tt.wantTruncated)
			}
		})
	}
}

func TestJoinArgvEdges(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{nil, ""},
		{[]string{}, ""},
		{[]string{""}, ""},
		{[]string{"", "a"}, " a"},
		{[]string{"a", "", ""}, "a"},
		{[]string{"a", "", "b"}, "a  b"},
	}
	for _, tt := range tests {
		if got := JoinArgv(tt.argv); got != tt.want {
			t.Errorf("JoinArgv(%q) = %q, want %q", tt.argv, got, tt.want)
		}
	}
}

func BenchmarkParseCmdline(b *testing.B) {
	data := readCaseFile(b, "06-cmdline-empty-arguments/cmdline")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ParseCmdline(data)
	}
}

// FuzzParseCmdline checks that the arguments of any cmdline data, joined
// with NULs, give back the data without its one trailing NUL.
func FuzzParseCmdline(f *testing.F) {
	addFileSeeds(f, caseGlob("*/cmdline*"), caseGlob("*/*/cmdline"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var argv []string
		var truncated bool
		checkAllocations(t, len(data), func() { argv, truncated = ParseCmdline(data) })
		if argv == nil {
			t.Fatal("argv = nil, want non-nil")
		}
		if len(data) == 0 && len(argv) != 0 {
			t.Errorf("argv = %q for empty data, want none", argv)
		}
		if len(data) > 0 {
			want := string(bytes.TrimSuffix(data, []byte{0}))
			if joined := strings.Join(argv, "\x00"); joined != want {
				t.Errorf("arguments joined with NULs = %q, want %q", joined, want)
			}
		}
		wantTruncated := len(data) == 4096 && bytes.IndexByte(data, 0) < 0
		if truncated != wantTruncated {
			t.Errorf("truncated = %v, want %v", truncated, wantTruncated)
		}
		if display := JoinArgv(argv); strings.HasSuffix(display, " ") {
			t.Errorf("JoinArgv = %q ends in a space", display)
		}
	})
}

// FuzzCmdlineArgv writes an argument vector as the kernel does, each argument
// followed by one NUL, and checks that ParseCmdline returns the same vector.
// packed contains the arguments separated by NULs. empty selects the empty
// vector of a kernel thread. The seeds are the vectors of the fixtures.
func FuzzCmdlineArgv(f *testing.F) {
	for _, data := range readSeedFiles(f, caseGlob("*/cmdline*"), caseGlob("*/*/cmdline")) {
		// The 4096-byte fixture of a cut command line is left to
		// FuzzParseCmdline. As a seed of this target, it made the fuzzing
		// engine of Go 1.26 run an order of magnitude fewer inputs.
		if len(data) >= cmdlineTitleLimit {
			continue
		}
		argv, _ := ParseCmdline(data)
		f.Add(strings.Join(argv, "\x00"), len(argv) == 0)
	}
	f.Add("", false)
	f.Fuzz(func(t *testing.T, packed string, empty bool) {
		want := []string{}
		if !empty {
			want = strings.Split(packed, "\x00")
		}
		var data []byte
		for _, arg := range want {
			data = append(append(data, arg...), 0)
		}

		argv, truncated := ParseCmdline(data)
		if !slices.Equal(argv, want) {
			t.Errorf("ParseCmdline(%q) = %q, want %q", data, argv, want)
		}
		if truncated {
			t.Errorf("truncated = true for %q, which ends in a NUL", data)
		}
	})
}
