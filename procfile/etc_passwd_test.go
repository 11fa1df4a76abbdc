package procfile

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
)

func TestParsePasswdFixture(t *testing.T) {
	got := ParsePasswd(readTestdata(t, "passwd"))
	want := map[uint32]string{
		0:     "root", // "toor" shares ID 0 but comes later
		1:     "daemon",
		113:   "postgres",
		1000:  "user",
		3000:  "crlf",
		65534: "nobody",
	}
	for id, name := range want {
		if got[id] != name {
			t.Errorf("ID %d = %q, want %q", id, got[id], name)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("ParsePasswd = %v, want %v", got, want)
	}
}

func TestParseGroupFixture(t *testing.T) {
	got := ParseGroup(readTestdata(t, "group"))
	want := map[uint32]string{
		0:     "root",
		1:     "daemon",
		120:   "postgres",
		1000:  "user",
		65534: "nogroup",
	}
	if !maps.Equal(got, want) {
		t.Errorf("ParseGroup = %v, want %v", got, want)
	}
}

func TestParsePasswdEmpty(t *testing.T) {
	got := ParsePasswd(nil)
	if got == nil {
		t.Error("ParsePasswd(nil) = nil, want an empty map")
	}
	if len(got) != 0 {
		t.Errorf("len(ParsePasswd(nil)) = %d, want 0", len(got))
	}
}

func BenchmarkParsePasswd(b *testing.B) {
	data := readTestdata(b, "passwd")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ParsePasswd(data)
	}
}

func BenchmarkParseGroup(b *testing.B) {
	data := readTestdata(b, "group")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ParseGroup(data)
	}
}

// parseIDFileModel is a plain reading of the rules that ParsePasswd
// documents, for the fuzz targets to compare with.
func parseIDFileModel(data string) map[uint32]string {
	names := map[uint32]string{}
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.ContainsAny(line[:1], "#+-") {
			continue
		}
		fields := strings.SplitN(line, ":", 4)
		if len(fields) < 3 || fields[0] == "" {
			continue
		}
		id, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			continue
		}
		if _, seen := names[uint32(id)]; !seen {
			names[uint32(id)] = fields[0]
		}
	}
	return names
}

// FuzzParsePasswd checks ParsePasswd and ParseGroup against a plain reading
// of their rules, in which the first valid line of each ID gives its name.
func FuzzParsePasswd(f *testing.F) {
	addFileSeeds(f, "testdata/passwd", "testdata/group")
	f.Fuzz(func(t *testing.T, data []byte) {
		var names map[uint32]string
		checkAllocations(t, len(data), func() { names = ParsePasswd(data) })
		want := parseIDFileModel(string(data))
		if !maps.Equal(names, want) {
			t.Errorf("ParsePasswd(%q) = %v, want %v", data, names, want)
		}
		if groups := ParseGroup(data); !maps.Equal(groups, want) {
			t.Errorf("ParseGroup(%q) = %v, want %v", data, groups, want)
		}
		for id, name := range names {
			if strings.ContainsAny(name, ":\n") {
				t.Errorf("ID %d: name %q contains ':' or a newline", id, name)
			}
		}
	})
}

// FuzzPasswdEntry writes one user between two fixed users, with an arbitrary
// comment (GECOS), home and shell, which users can change with chfn and chsh.
// It also writes one group with arbitrary members. Each ID must map to its
// name. The seeds are the entries of the passwd fixture.
func FuzzPasswdEntry(f *testing.F) {
	for _, data := range readSeedFiles(f, "testdata/passwd") {
		for line := range strings.Lines(string(data)) {
			fields := strings.Split(strings.TrimSuffix(line, "\n"), ":")
			if len(fields) == 7 {
				id, _ := strconv.ParseUint(fields[2], 10, 32)
				f.Add(fields[0], uint32(id), fields[4], fields[5], fields[6])
			}
		}
	}
	f.Fuzz(func(t *testing.T, name string, id uint32, gecos, home, rest string) {
		name = sanitize(name, ":\n\r")
		if name == "" || strings.ContainsAny(name[:1], "#+-") {
			name = "u" + name
		}
		gecos, home, rest = sanitize(gecos, "\n"), sanitize(home, "\n"), sanitize(rest, "\n")
		passwd := fmt.Sprintf("root:x:0:0:root:/root:/bin/bash\n%s:x:%d:%d:%s:%s:%s\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
			name, id, id, gecos, home, rest)
		group := fmt.Sprintf("root:x:0:\n%s:x:%d:%s\nnogroup:x:65534:\n", name, id, rest)

		want := map[uint32]string{0: "root", 65534: "nobody"}
		if id != 0 {
			want[id] = name
		}
		if got := ParsePasswd([]byte(passwd)); !maps.Equal(got, want) {
			t.Errorf("ParsePasswd(%q) = %v, want %v", passwd, got, want)
		}
		want[65534] = "nogroup"
		if id == 65534 {
			want[id] = name
		}
		if got := ParseGroup([]byte(group)); !maps.Equal(got, want) {
			t.Errorf("ParseGroup(%q) = %v, want %v", group, got, want)
		}
	})
}
