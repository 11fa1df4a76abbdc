package procfile

import (
	"maps"
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
