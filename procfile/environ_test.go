package procfile

import (
	"slices"
	"strings"
	"testing"
)

func TestParseEnvironCases(t *testing.T) {
	tests := []struct {
		file string
		want []EnvVar
	}{
		{"08-environ-nul-separated/environ", []EnvVar{
			{Name: "HOME", Value: "/home/user", HasValue: true},
			{Name: "MULTI", Value: "line1\nline2", HasValue: true},
			{Name: "EDITOR", Value: "vi", HasValue: true},
			{Name: "EMPTY", Value: "", HasValue: true},
		}},
		{"08-environ-nul-separated/environ.no_trailing_nul", []EnvVar{
			{Name: "A", Value: "1", HasValue: true},
			{Name: "B", Value: "2", HasValue: true},
		}},
		{"29-permission-denied-other-user/5678/environ", []EnvVar{
			{Name: "HOME", Value: "/home/user", HasValue: true},
			{Name: "SHELL", Value: "/bin/bash", HasValue: true},
		}},
		{"09-kernel-threads/2/environ", nil},
		{"10-zombie-process/environ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := ParseEnviron(readCaseFile(t, tt.file))
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseEnviron = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseEnvironEdges(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []EnvVar
	}{
		{"entry without equals", "NOEQ\x00A=1\x00", []EnvVar{
			{Name: "NOEQ"},
			{Name: "A", Value: "1", HasValue: true},
		}},
		{"value containing equals", "A=b=c\x00", []EnvVar{{Name: "A", Value: "b=c", HasValue: true}}},
		{"empty name", "=x\x00", []EnvVar{{Name: "", Value: "x", HasValue: true}}},
		{"leading and repeated NULs", "\x00\x00A=1\x00\x00\x00B=2\x00\x00", []EnvVar{
			{Name: "A", Value: "1", HasValue: true},
			{Name: "B", Value: "2", HasValue: true},
		}},
		{"invalid UTF-8 kept", "X=\xff\xfe\x00", []EnvVar{{Name: "X", Value: "\xff\xfe", HasValue: true}}},
		{"only NULs", "\x00\x00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseEnviron([]byte(tt.data))
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseEnviron(%q) = %#v, want %#v", tt.data, got, tt.want)
			}
		})
	}
}

func BenchmarkParseEnviron(b *testing.B) {
	data := readCaseFile(b, "08-environ-nul-separated/environ")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ParseEnviron(data)
	}
}

// FuzzParseEnviron checks that the entries of any environ data, written back
// as NAME=VALUE and joined with NULs, give back the data without its empty
// entries.
func FuzzParseEnviron(f *testing.F) {
	addFileSeeds(f, caseGlob("*/environ*"), caseGlob("*/*/environ"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var vars []EnvVar
		checkAllocations(t, len(data), func() { vars = ParseEnviron(data) })

		var want []string
		for entry := range strings.SplitSeq(string(data), "\x00") {
			if entry != "" {
				want = append(want, entry)
			}
		}
		got := make([]string, 0, len(vars))
		for _, v := range vars {
			if strings.Contains(v.Name, "=") {
				t.Errorf("Name %q contains '='", v.Name)
			}
			if !v.HasValue && v.Value != "" {
				t.Errorf("entry %q without '=' has Value %q, want \"\"", v.Name, v.Value)
			}
			entry := v.Name
			if v.HasValue {
				entry += "=" + v.Value
			}
			got = append(got, entry)
		}
		if !slices.Equal(got, want) {
			t.Errorf("entries written back = %q, want %q", got, want)
		}
	})
}

// FuzzEnvironVar places one NAME=VALUE entry between two fixed ones and
// checks that it and its neighbours come back unchanged. As in any
// environment the kernel prints, the name contains no '=' and neither
// contains a NUL. The seeds are the entries of the environ fixtures.
func FuzzEnvironVar(f *testing.F) {
	for _, data := range readSeedFiles(f, caseGlob("*/environ*"), caseGlob("*/*/environ")) {
		for _, v := range ParseEnviron(data) {
			f.Add(v.Name, v.Value)
		}
	}
	f.Add("", "")
	f.Fuzz(func(t *testing.T, name, value string) {
		name = sanitize(name, "=\x00")
		value = sanitize(value, "\x00")
		data := "FIRST=1\x00" + name + "=" + value + "\x00LAST=2\x00"

		want := []EnvVar{
			{Name: "FIRST", Value: "1", HasValue: true},
			{Name: name, Value: value, HasValue: true},
			{Name: "LAST", Value: "2", HasValue: true},
		}
		if got := ParseEnviron([]byte(data)); !slices.Equal(got, want) {
			t.Errorf("ParseEnviron(%q) = %#v, want %#v", data, got, want)
		}
	})
}
