package procfile

import (
	"os"
	"path/filepath"
	"testing"
)

// casesDir holds the shared /proc fault cases, one folder per kind of fault.
const casesDir = "../testdata/cases"

// readCaseFile returns the bytes of a file under casesDir, such as
// "01-stat-comm-with-spaces/stat".
func readCaseFile(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(casesDir, name))
	if err != nil {
		tb.Fatalf("read case file: %v", err)
	}
	return data
}

// readTestdata returns the bytes of a file under this package's testdata.
func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("read testdata: %v", err)
	}
	return data
}
