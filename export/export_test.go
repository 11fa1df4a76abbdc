package export_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/procsql/procsql/export"
	"github.com/procsql/procsql/export/internal/exporttest"
)

// dirEntries returns the names in dir, hidden temporary files included.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestRunWritesSelectedTables(t *testing.T) {
	eng, ctx := exporttest.OpenTree(t, hostTree)
	dir := filepath.Join(t.TempDir(), "exports", "web-01")
	report := exporttest.Export(t, eng, ctx, export.Options{Format: export.Parquet, Dir: dir, Tables: []string{"processes", " FDS"}})
	if got, want := dirEntries(t, dir), []string{"fds.parquet", "processes.parquet"}; !slices.Equal(got, want) {
		t.Errorf("directory holds %v, want %v", got, want)
	}
	if len(report.Files) != 2 || report.Files[0].Table != "fds" || report.Files[1].Table != "processes" {
		t.Errorf("report files %+v, want fds then processes", report.Files)
	}
	for _, f := range report.Files {
		info, err := os.Stat(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() != f.Bytes {
			t.Errorf("report gives %s %d bytes, the file has %d", f.Path, f.Bytes, info.Size())
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f.Path, perm)
		}
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("created directory has mode %v, want 0700", perm)
	}
	if report.Files[1].Rows != 15 {
		t.Errorf("processes.parquet has %d rows, want the tree's 15 processes", report.Files[1].Rows)
	}
}

func TestRunRejectsUnknownTable(t *testing.T) {
	eng, ctx := exporttest.OpenTree(t, hostTree)
	dir := t.TempDir()
	_, err := export.Run(ctx, eng, export.Options{Format: export.CSV, Dir: dir, Tables: []string{"processes", "proceses"}})
	if err == nil {
		t.Fatal("export of table proceses succeeded, want an error")
	}
	for _, want := range []string{`unknown table "proceses"`, "processes", "environ", "threads"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("failed export left %v", names)
	}
}

func TestRunRefusesExistingFilesUnlessForced(t *testing.T) {
	eng, ctx := exporttest.OpenTree(t, hostTree)
	dir := t.TempDir()
	existing := filepath.Join(dir, "processes.jsonl")
	if err := os.WriteFile(existing, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := export.Run(ctx, eng, export.Options{Format: export.JSONL, Dir: dir})
	if err == nil {
		t.Fatal("export over an existing file succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "processes.jsonl already in") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("error %q does not name processes.jsonl and --force", err)
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{"processes.jsonl"}) {
		t.Errorf("refused export left %v, want only the existing file", got)
	}
	if data, _ := os.ReadFile(existing); string(data) != "keep me\n" {
		t.Errorf("existing file now holds %q", data)
	}

	report := exporttest.Export(t, eng, ctx, export.Options{Format: export.JSONL, Dir: dir, Force: true})
	data, err := os.ReadFile(existing)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(`{"pid":1,`)) {
		t.Errorf("forced export left processes.jsonl starting %q", data[:min(len(data), 40)])
	}
	if got := dirEntries(t, dir); len(got) != len(report.Files) {
		t.Errorf("directory holds %v, want only the %d exported files", got, len(report.Files))
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	eng, ctx := exporttest.OpenTree(t, hostTree)
	cases := []struct {
		name string
		opts export.Options
		want string
	}{
		{"unknown format", export.Options{Format: "orc", Dir: t.TempDir()}, `invalid export format "orc": use one of parquet, jsonl, csv, timesketch`},
		{"no directory", export.Options{Format: export.CSV}, "missing output directory"},
		{"tables with timeline", export.Options{Format: export.Timesketch, Dir: t.TempDir(), Tables: []string{"processes"}}, "--tables does not apply to --format timesketch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := export.Run(ctx, eng, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestRunRejectsFileAsDirectory(t *testing.T) {
	eng, ctx := exporttest.OpenTree(t, hostTree)
	file := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := export.Run(ctx, eng, export.Options{Format: export.CSV, Dir: file})
	if err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("error %v, want one saying %s is not a directory", err, file)
	}
}

func TestRunHostOverridesEveryRow(t *testing.T) {
	eng, ctx := exporttest.OpenTree(t, hostTree)
	dir := t.TempDir()
	report := exporttest.Export(t, eng, ctx, export.Options{Format: export.JSONL, Dir: dir, Host: "case-7-web"})
	if report.Host != "case-7-web" {
		t.Errorf("report host %q, want case-7-web", report.Host)
	}
	for _, f := range report.Files {
		_, rows := readJSONL(t, f.Path)
		for i, row := range rows {
			if row["host"] != "case-7-web" {
				t.Fatalf("%s line %d: host %v, want case-7-web", f.Path, i+1, row["host"])
			}
		}
	}
}

// A tree without sys/kernel/hostname names no host. Unless the engine
// labels its rows itself, with a host column of the system table, the
// export needs --host.
func TestRunWithoutHostName(t *testing.T) {
	tree := "../testdata/hunts/clean"
	eng, ctx := exporttest.OpenTree(t, tree)
	system := exporttest.Query(t, eng, ctx, "SELECT * FROM `system`")
	_, err := export.Run(ctx, eng, export.Options{Format: export.CSV, Dir: t.TempDir()})
	if !slices.Contains(system.Columns, "host") {
		if err == nil || !strings.Contains(err.Error(), "--host NAME") {
			t.Errorf("error %v, want one asking for --host NAME", err)
		}
		return
	}
	if err != nil {
		t.Errorf("export of a tree the engine labels failed: %v", err)
	}
}
