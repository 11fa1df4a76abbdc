package source

import (
	"bytes"
	"os"
	"testing"
)

// TestReadProcFileMatchesOS reads files of the test's own process both
// ways: the raw reader, with and without its one-read shortcut, must return
// what os.ReadFile returns. The fields that change between two reads, such
// as CPU times in stat, are in files compared by length only.
func TestReadProcFileMatchesOS(t *testing.T) {
	for _, name := range []string{"/proc/self/status", "/proc/self/maps", "/proc/self/cmdline", "/proc/self/fdinfo/0", "/proc/self/stat"} {
		got, err := readProcFile(name)
		if err != nil {
			t.Fatalf("readProcFile(%s): %v", name, err)
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || (name != "/proc/self/stat" && name != "/proc/self/status" && !bytes.Equal(got, want)) {
			t.Errorf("readProcFile(%s) = %d bytes, os.ReadFile = %d bytes", name, len(got), len(want))
		}
		if !bytes.HasSuffix(got, []byte("\n")) && name != "/proc/self/cmdline" {
			t.Errorf("readProcFile(%s) does not end in a newline: cut short?", name)
		}
	}
}

func TestOneRead(t *testing.T) {
	for name, want := range map[string]bool{
		"/proc/1/stat":          true,
		"/proc/1/task/2/status": true,
		"/proc/1/fdinfo/7":      true,
		"/proc/1/maps":          false,
		"/proc/net/tcp":         false,
		"/proc/1/environ":       false,
		"/proc/1/fd/7":          false,
	} {
		if got := oneRead(name); got != want {
			t.Errorf("oneRead(%s) = %v, want %v", name, got, want)
		}
	}
}
