package procfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Helpers shared by the fuzz targets. Each target sits in the test file of
// its parser and takes its seeds from the fixtures under ../testdata/cases
// and testdata. Beyond "no panic", the targets check that values land in
// the right field, that splits round-trip and that allocation stays in
// proportion to the input. A hang fails too, because the fuzzing engine of
// Go 1.26 fails a worker that spends more than 10 seconds on one input.

// addFileSeeds adds the content of every fixture that matches one of the glob
// patterns, relative to this package's folder, as a seed of a fuzz target
// that takes one []byte. It fails the target when a pattern matches no file,
// so a renamed fixture cannot silently drop its seeds.
func addFileSeeds(f *testing.F, patterns ...string) {
	f.Helper()
	for _, data := range readSeedFiles(f, patterns...) {
		f.Add(data)
	}
}

// readSeedFiles returns the content of every file that matches one of the
// glob patterns, relative to this package's folder.
func readSeedFiles(tb testing.TB, patterns ...string) [][]byte {
	tb.Helper()
	var contents [][]byte
	for _, pattern := range patterns {
		names, err := filepath.Glob(pattern)
		if err != nil {
			tb.Fatalf("seed pattern %q: %v", pattern, err)
		}
		if len(names) == 0 {
			tb.Fatalf("seed pattern %q matches no file", pattern)
		}
		for _, name := range names {
			data, err := os.ReadFile(name)
			if err != nil {
				tb.Fatalf("read seed: %v", err)
			}
			contents = append(contents, data)
		}
	}
	return contents
}

// caseGlob returns a glob pattern for files under casesDir.
func caseGlob(pattern string) string {
	return filepath.Join(casesDir, pattern)
}

// Allocation bound of the fuzz targets: a parser may allocate at most
// maxAllocPerInputByte bytes per input byte plus allocSlack bytes. The
// fixtures under ../testdata/cases need 1 to 7 bytes per input byte. Inputs
// made of the shortest possible rows need more, because a row struct is
// larger than its line. Allocation that grows faster than the input, such as
// a quadratic copy, fails the bound.
const (
	maxAllocPerInputByte = 64
	allocSlack           = 16 << 10
)

// checkAllocations runs parse once and fails t when it allocated more bytes
// than the bound above allows for an input of inputLen bytes.
//
// NOTE: the count comes from runtime.MemStats.TotalAlloc, which also counts
// allocations of other goroutines running at the same time. No test of this
// package runs in parallel, and allocSlack absorbs the runtime's own.
func checkAllocations(t *testing.T, inputLen int, parse func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	parse()
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	if limit := uint64(inputLen)*maxAllocPerInputByte + allocSlack; allocated > limit {
		t.Errorf("parsing %d bytes allocated %d bytes, more than the limit of %d", inputLen, allocated, limit)
	}
}

// checkMalformed fails t unless err is nil or wraps ErrMalformed.
func checkMalformed(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrMalformed) {
		t.Errorf("error %q does not wrap ErrMalformed", err)
	}
}

// countTableRows returns the number of lines of data that are neither blank
// (only spaces and tabs) nor, when header is not "", a first line whose first
// column is header. It counts lines the way parseTableLines cuts them.
func countTableRows(data []byte, header string) int {
	rows := 0
	lineNumber := 0
	for len(data) > 0 {
		var line []byte
		line, data = cutTableLine(data)
		lineNumber++
		if lineNumber == 1 && header != "" && firstColumnIs(line, header) {
			continue
		}
		if len(bytes.Trim(line, " \t")) == 0 {
			continue
		}
		rows++
	}
	return rows
}

// sanitize replaces every byte of text that is in forbidden with '_', so a
// fuzzed string can stand where the kernel never prints those bytes.
func sanitize(text, forbidden string) string {
	out := []byte(text)
	for i, c := range out {
		if bytes.IndexByte([]byte(forbidden), c) >= 0 {
			out[i] = '_'
		}
	}
	return string(out)
}
