package procfile

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func parseStatusCase(t *testing.T, name string) Status {
	t.Helper()
	s, err := ParseStatus(readCaseFile(t, name))
	if err != nil {
		t.Fatalf("ParseStatus(%s): %v", name, err)
	}
	return s
}

func checkStatusValue(t *testing.T, s Status, key, want string) {
	t.Helper()
	got, ok := s.Value(key)
	if !ok {
		t.Errorf("Value(%q) absent, want %q", key, want)
		return
	}
	if got != want {
		t.Errorf("Value(%q) = %q, want %q", key, got, want)
	}
}

func checkStatusUint(t *testing.T, s Status, key string, want uint64) {
	t.Helper()
	got, ok := s.Uint(key)
	if !ok {
		t.Errorf("Uint(%q) absent or invalid, want %d", key, want)
		return
	}
	if got != want {
		t.Errorf("Uint(%q) = %d, want %d", key, got, want)
	}
}

func checkStatusAbsent(t *testing.T, s Status, key string) {
	t.Helper()
	if got, ok := s.Value(key); ok {
		t.Errorf("Value(%q) = %q, want absent", key, got)
	}
	if got, ok := s.Bytes(key); ok {
		t.Errorf("Bytes(%q) = %d, want absent", key, got)
	}
}

func TestParseStatusNewFields(t *testing.T) {
	s := parseStatusCase(t, "19-status-field-set-varies/status.new_fields")
	checkStatusValue(t, s, "Name", "sleep")
	checkStatusValue(t, s, "State", "S (sleeping)")
	checkStatusUint(t, s, "Pid", 6021)
	checkStatusUint(t, s, "PPid", 5990)
	if got, ok := s.IDs("Uid"); !ok || got != [4]uint32{0, 0, 0, 0} {
		t.Errorf("IDs(Uid) = %v, %v, want [0 0 0 0], true", got, ok)
	}
	checkStatusValue(t, s, "Speculation_Store_Bypass", "thread vulnerable")
	checkStatusValue(t, s, "SpeculationIndirectBranch", "conditional enabled")
	checkStatusValue(t, s, "x86_Thread_features", "")
	checkStatusValue(t, s, "x86_Thread_features_locked", "")
}

func TestParseStatusNoNamespaceFields(t *testing.T) {
	s := parseStatusCase(t, "19-status-field-set-varies/status.no_ns_fields")
	checkStatusValue(t, s, "Name", "bash")
	checkStatusUint(t, s, "Pid", 9)
	checkStatusUint(t, s, "PPid", 8)
	for _, key := range []string{"NStgid", "NSpid", "NSpgid", "NSsid", "Umask"} {
		checkStatusAbsent(t, s, key)
	}
}

func TestParseStatusBlankLine(t *testing.T) {
	data := readCaseFile(t, "19-status-field-set-varies/status.blank_line")
	s, err := ParseStatus(data)
	if err != nil {
		t.Fatalf("ParseStatus: %v", err)
	}
	checkStatusValue(t, s, "Name", "python3")
	checkStatusUint(t, s, "Pid", 8804)
	checkStatusUint(t, s, "PPid", 8800)
	if got, ok := s.Bytes("VmRSS"); !ok || got != 5212*1024 {
		t.Errorf("Bytes(VmRSS) = %d, %v, want %d, true", got, ok, 5212*1024)
	}
	if got, ok := s.Bytes("RssShmem"); !ok || got != 0 {
		t.Errorf("Bytes(RssShmem) = %d, %v, want 0, true", got, ok)
	}

	lines := bytes.Count(data, []byte("\n"))
	blankLines := bytes.Count(data, []byte("\n\n"))
	if got, want := len(s.Keys()), lines-blankLines; got != want {
		t.Errorf("len(Keys()) = %d, want %d (one per non-blank line)", got, want)
	}
}

func TestParseStatusZombie(t *testing.T) {
	s := parseStatusCase(t, "10-zombie-process/status")
	checkStatusValue(t, s, "State", "Z (zombie)")
	for _, key := range []string{"Umask", "VmRSS", "VmSize", "RssAnon", "RssFile", "RssShmem"} {
		checkStatusAbsent(t, s, key)
	}
}

func TestParseStatusKernelThread(t *testing.T) {
	s := parseStatusCase(t, "09-kernel-threads/2/status")
	checkStatusValue(t, s, "Name", "kthreadd")
	checkStatusUint(t, s, "Kthread", 1)
	checkStatusAbsent(t, s, "VmRSS")
	if got, ok := s.Hex("CapBnd"); !ok || got != 0x1ffffffffff {
		t.Errorf("Hex(CapBnd) = %#x, %v, want 0x1ffffffffff, true", got, ok)
	}
	if got, ok := s.Hex("SigIgn"); !ok || got != 0x1000 {
		t.Errorf("Hex(SigIgn) = %#x, %v, want 0x1000, true", got, ok)
	}
}

func TestParseStatusOtherUser(t *testing.T) {
	s := parseStatusCase(t, "29-permission-denied-other-user/1234/status")
	checkStatusValue(t, s, "Name", "postgres")
	if got, ok := s.IDs("Uid"); !ok || got != [4]uint32{113, 113, 113, 113} {
		t.Errorf("IDs(Uid) = %v, %v, want [113 113 113 113], true", got, ok)
	}
	if got, ok := s.IDs("Gid"); !ok || got != [4]uint32{120, 120, 120, 120} {
		t.Errorf("IDs(Gid) = %v, %v, want [120 120 120 120], true", got, ok)
	}
}

func TestStatusKeysInFileOrder(t *testing.T) {
	s := parseStatusCase(t, "19-status-field-set-varies/status.new_fields")
	keys := s.Keys()
	want := []string{"Name", "Umask", "State", "Tgid"}
	if len(keys) < len(want) {
		t.Fatalf("Keys() = %q, want at least %d keys", keys, len(want))
	}
	for i, key := range want {
		if keys[i] != key {
			t.Errorf("Keys()[%d] = %q, want %q", i, keys[i], key)
		}
	}
	if last := keys[len(keys)-1]; last != "nonvoluntary_ctxt_switches" {
		t.Errorf("last key = %q, want %q", last, "nonvoluntary_ctxt_switches")
	}

	keys[0] = "changed"
	if got := s.Keys()[0]; got != "Name" {
		t.Errorf("Keys()[0] after changing a returned slice = %q, want %q", got, "Name")
	}
}

func TestStatusAccessorsRejectWrongShape(t *testing.T) {
	s, err := ParseStatus([]byte("Name:\tbash\nSigQ:\t0/63418\nVmRSS:\t12 MB\nUid:\t1 2 3\nHuge:\t99999999999999999999 kB\nCapEff:\t1ffffffffffffffff\n"))
	if err != nil {
		t.Fatalf("ParseStatus: %v", err)
	}
	if got, ok := s.Uint("SigQ"); ok {
		t.Errorf("Uint(SigQ) = %d, want false", got)
	}
	if got, ok := s.Bytes("VmRSS"); ok {
		t.Errorf("Bytes(VmRSS) with unit MB = %d, want false", got)
	}
	if got, ok := s.Bytes("Huge"); ok {
		t.Errorf("Bytes(Huge) overflowing 64 bits = %d, want false", got)
	}
	if got, ok := s.IDs("Uid"); ok {
		t.Errorf("IDs(Uid) with 3 IDs = %v, want false", got)
	}
	if got, ok := s.IDs("Name"); ok {
		t.Errorf("IDs(Name) = %v, want false", got)
	}
	if got, ok := s.Hex("CapEff"); ok {
		t.Errorf("Hex(CapEff) with 17 digits = %#x, want false", got)
	}
	if got, ok := s.Hex("Missing"); ok {
		t.Errorf("Hex(Missing) = %#x, want false", got)
	}
}

func TestParseStatusMalformed(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"line without colon", "Name:\tbash\nState S (sleeping)\n"},
		{"repeated key", "Name:\tbash\nPid:\t1\nName:\tsh\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStatus([]byte(tt.data))
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseStatus(%q) error = %v, want ErrMalformed", tt.data, err)
			}
		})
	}
}

func TestParseStatusEmpty(t *testing.T) {
	s, err := ParseStatus(nil)
	if err != nil {
		t.Fatalf("ParseStatus(nil): %v", err)
	}
	if got := len(s.Keys()); got != 0 {
		t.Errorf("len(Keys()) = %d, want 0", got)
	}
	if _, ok := s.Value("Name"); ok {
		t.Error("Value(Name) present in empty status, want absent")
	}
}

func BenchmarkParseStatus(b *testing.B) {
	data := readCaseFile(b, "19-status-field-set-varies/status.new_fields")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseStatus(data); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseStatus checks that every value ParseStatus returns is the trimmed
// text after the first ':' of its own line, and that no key is lost or
// repeated.
func FuzzParseStatus(f *testing.F) {
	addFileSeeds(f, caseGlob("*/status*"), caseGlob("*/*/status"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Status
		var err error
		checkAllocations(t, len(data), func() { s, err = ParseStatus(data) })
		checkMalformed(t, err)
		if err != nil {
			return
		}

		var wantKeys []string
		for line := range strings.Lines(string(data)) {
			line = strings.TrimSuffix(line, "\n")
			if strings.TrimSpace(line) == "" {
				continue
			}
			key, value, _ := strings.Cut(line, ":")
			wantKeys = append(wantKeys, key)
			got, ok := s.Value(key)
			if !ok {
				t.Errorf("Value(%q) absent, want %q", key, strings.TrimSpace(value))
				continue
			}
			if got != strings.TrimSpace(value) {
				t.Errorf("Value(%q) = %q, want %q", key, got, strings.TrimSpace(value))
			}
		}
		if keys := s.Keys(); !slices.Equal(keys, wantKeys) {
			t.Errorf("Keys() = %q, want %q", keys, wantKeys)
		}

		for _, key := range wantKeys {
			value, _ := s.Value(key)
			n, ok := s.Uint(key)
			want, err := strconv.ParseUint(value, 10, 64)
			if ok != (err == nil) || (ok && n != want) {
				t.Errorf("Uint(%q) = %d, %v for value %q", key, n, ok, value)
			}
			h, ok := s.Hex(key)
			want, err = strconv.ParseUint(value, 16, 64)
			if ok != (err == nil) || (ok && h != want) {
				t.Errorf("Hex(%q) = %#x, %v for value %q", key, h, ok, value)
			}
			if size, ok := s.Bytes(key); ok && size%1024 != 0 {
				t.Errorf("Bytes(%q) = %d, not a multiple of 1024", key, size)
			}
			s.IDs(key)
		}
	})
}

// escapeStatusName escapes a process name as the kernel does in the "Name"
// line of /proc/<pid>/status, which must stay on one line. It writes a
// newline as `\n` and a backslash as `\\`.
func escapeStatusName(name string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(name)
}

// FuzzStatusName formats a status file around an arbitrary process name and
// checks that the name comes back trimmed and every other line unchanged.
// The seeds are the names in the status and stat fixtures.
func FuzzStatusName(f *testing.F) {
	for _, data := range readSeedFiles(f, caseGlob("*/status*"), caseGlob("*/*/status")) {
		s, err := ParseStatus(data)
		if err != nil {
			f.Fatalf("seed %q: %v", data, err)
		}
		name, _ := s.Value("Name")
		f.Add(name, uint64(len(data)))
	}
	for _, data := range readSeedFiles(f, caseGlob("*/*/stat")) {
		s, err := ParseStat(data)
		if err != nil {
			f.Fatalf("seed %q: %v", data, err)
		}
		f.Add(s.Comm, uint64(s.PID))
	}
	f.Add("Pid:\t1\nUid: 0", uint64(7))
	f.Fuzz(func(t *testing.T, name string, seed uint64) {
		random := rand.New(rand.NewPCG(seed, 3))
		pid, ppid := random.Uint32N(1<<22), random.Uint32N(1<<22)
		uid := random.Uint32()
		rss := random.Uint64N(1 << 40)
		capEff := random.Uint64()
		escaped := escapeStatusName(name)
		data := fmt.Sprintf("Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t%d\nPPid:\t%d\n"+
			"Uid:\t%d\t%d\t%d\t%d\nVmRSS:\t%8d kB\nCapEff:\t%016x\n",
			escaped, pid, ppid, uid, uid, uid, uid, rss, capEff)

		s, err := ParseStatus([]byte(data))
		if err != nil {
			t.Fatalf("ParseStatus(%q): %v", data, err)
		}
		if got, _ := s.Value("Name"); got != strings.TrimSpace(escaped) {
			t.Errorf("Name = %q, want %q", got, strings.TrimSpace(escaped))
		}
		if got, ok := s.Uint("Pid"); !ok || got != uint64(pid) {
			t.Errorf("Pid = %d, %v, want %d", got, ok, pid)
		}
		if got, ok := s.Uint("PPid"); !ok || got != uint64(ppid) {
			t.Errorf("PPid = %d, %v, want %d", got, ok, ppid)
		}
		if got, ok := s.IDs("Uid"); !ok || got != [4]uint32{uid, uid, uid, uid} {
			t.Errorf("Uid = %v, %v, want four times %d", got, ok, uid)
		}
		if got, ok := s.Bytes("VmRSS"); !ok || got != rss*1024 {
			t.Errorf("VmRSS = %d, %v, want %d", got, ok, rss*1024)
		}
		if got, ok := s.Hex("CapEff"); !ok || got != capEff {
			t.Errorf("CapEff = %#x, %v, want %#x", got, ok, capEff)
		}
		if got := len(s.Keys()); got != 8 {
			t.Errorf("len(Keys()) = %d, want 8", got)
		}
	})
}
