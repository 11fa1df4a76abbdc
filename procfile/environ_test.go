package procfile

import (
	"slices"
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
