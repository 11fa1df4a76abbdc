package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/procsql/procsql/internal/livetest"
)

// exportTree is the export package's copied /proc tree of a host named
// web-01, with 15 processes.
const exportTree = "../../export/testdata/web-01"

func TestExportCommandWritesEveryTable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "web-01")
	stdout, stderr, err := runHuntApp(t, "--proc", exportTree, "export", "--format", "csv", "--out", dir)
	if err != nil {
		t.Fatalf("export failed: %v\nstderr:\n%s", err, stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	for _, want := range []string{"processes.csv", "fds.csv", "environ.csv", "system.csv", "hunts.csv"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("directory holds %v, want %s among them", names, want)
		}
	}
	if want := filepath.Join(dir, "processes.csv") + "\t15 rows\t"; !strings.Contains(stdout, want) {
		t.Errorf("stdout does not contain %q:\n%s", want, stdout)
	}
	summary := regexp.MustCompile(fmt.Sprintf(`(?m)^exported %d files, \d+ bytes, of host web-01 captured at \S+ in \d+\.\d\d s$`, len(names)))
	if !summary.MatchString(stdout) {
		t.Errorf("stdout has no summary line like %q:\n%s", summary, stdout)
	}
}

func TestExportCommandFormatBeforeCommand(t *testing.T) {
	// --format given before the command name still selects the export
	// format, not the printed-result format that the root checks.
	dir := t.TempDir()
	_, stderr, err := runHuntApp(t, "--proc", exportTree, "--format", "parquet", "export", "--out", dir, "--tables", "processes")
	if err != nil {
		t.Fatalf("export failed: %v\nstderr:\n%s", err, stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "processes.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 8 || string(data[:4]) != "PAR1" || string(data[len(data)-4:]) != "PAR1" {
		t.Errorf("processes.parquet does not start and end with the Parquet magic PAR1")
	}
}

func TestExportCommandErrors(t *testing.T) {
	existing := t.TempDir()
	if err := os.WriteFile(filepath.Join(existing, "system.jsonl"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no output directory", []string{"export"}, "missing output directory: pass --out DIR"},
		{"unknown format", []string{"export", "--format", "xlsx", "--out", t.TempDir()}, `invalid export format "xlsx"`},
		{"unknown table", []string{"export", "--out", t.TempDir(), "--tables", "processes,sokets"}, `unknown table "sokets" in --tables: use one of`},
		{"existing file", []string{"export", "--format", "jsonl", "--out", existing}, "system.jsonl already in"},
		{"tables with timeline", []string{"export", "--format", "timesketch", "--out", t.TempDir(), "--tables", "fds"}, "--tables does not apply"},
		{"argument", []string{"export", "--out", t.TempDir(), "processes"}, `unknown command "processes"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := runHuntApp(t, append([]string{"--proc", exportTree}, c.args...)...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestExportCommandHostFlag(t *testing.T) {
	dir := t.TempDir()
	_, stderr, err := runHuntApp(t, "--proc", "../../testdata/hunts/clean", "export", "--format", "jsonl", "--out", dir, "--host", "case-7-db", "--tables", "processes")
	if err != nil {
		t.Fatalf("export failed: %v\nstderr:\n%s", err, stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "processes.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, line := range lines {
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if row["host"] != "case-7-db" {
			t.Fatalf("line %d: host %v, want case-7-db", i+1, row["host"])
		}
	}
}

// The live timeline test starts a process from a copied binary and deletes
// the binary, then checks the timeline's start event and hunt hit for it.
func TestLiveExportTimeline(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}
	before := time.Now().UTC().Add(-time.Second)
	dir := tmpDir(t)
	copied := filepath.Join(dir, "sysupdate")
	copyFile(t, "/bin/sleep", copied, 0o755)
	pid := startProcess(t, exec.Command(copied, "600"))
	if err := os.Remove(copied); err != nil {
		t.Fatal(err)
	}
	waitForHit(t, "deleted_executable", pid)

	out := filepath.Join(t.TempDir(), "timeline")
	stdout, stderr, err := runHuntApp(t, "--proc", "/proc", "export", "--format", "timesketch", "--out", out)
	if err != nil {
		t.Fatalf("export failed: %v\nstderr:\n%s", err, stderr)
	}
	if !strings.Contains(stdout, filepath.Join(out, "timeline.jsonl")) {
		t.Errorf("stdout does not name the timeline:\n%s", stdout)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(filepath.Join(out, "timeline.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	lines.Buffer(nil, 16<<20)
	var start, hit map[string]any
	for n := 1; lines.Scan(); n++ {
		var event map[string]any
		if err := json.Unmarshal(lines.Bytes(), &event); err != nil {
			t.Fatalf("line %d is not JSON: %v", n, err)
		}
		for _, field := range []string{"message", "datetime", "timestamp_desc"} {
			if s, _ := event[field].(string); s == "" {
				t.Errorf("line %d: %s is %v, want text", n, field, event[field])
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(event["datetime"])); err != nil || !strings.HasSuffix(fmt.Sprint(event["datetime"]), "+00:00") {
			t.Errorf("line %d: datetime %v is not ISO 8601 with zone +00:00", n, event["datetime"])
		}
		if event["host"] != host {
			t.Errorf("line %d: host %v, want %s", n, event["host"], host)
		}
		if event["pid"] != float64(pid) {
			continue
		}
		switch {
		case event["timestamp_desc"] == "Process start":
			start = event
		case event["timestamp_desc"] == "Hunt hit" && event["hunt"] == "deleted_executable":
			hit = event
		}
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}

	if start == nil {
		t.Fatalf("the timeline has no process start event for pid %d", pid)
	}
	wantStart := fmt.Sprintf("Process start: pid %d (sysupdate) %s 600", pid, copied)
	if start["message"] != wantStart {
		t.Errorf("start message %q, want %q", start["message"], wantStart)
	}
	if start["data_type"] != "procsql:process:start" || start["exe_deleted"] != true {
		t.Errorf("start event data_type %v, exe_deleted %v, want procsql:process:start and true", start["data_type"], start["exe_deleted"])
	}
	startedAt, err := time.Parse(time.RFC3339Nano, start["datetime"].(string))
	if err != nil || startedAt.Before(before) || startedAt.After(time.Now()) {
		t.Errorf("start datetime %v, want a time since the test began at %v", start["datetime"], before)
	}

	if hit == nil {
		t.Fatalf("the timeline has no deleted_executable hit for pid %d", pid)
	}
	wantHit := fmt.Sprintf("Hunt hit deleted_executable [high] Process running a deleted executable: pid %d (sysupdate) %s 600", pid, copied)
	if hit["message"] != wantHit {
		t.Errorf("hit message %q, want %q", hit["message"], wantHit)
	}
	if hit["hunt_severity"] != "high" || hit["data_type"] != "procsql:hunt:hit" {
		t.Errorf("hit severity %v, data_type %v", hit["hunt_severity"], hit["data_type"])
	}
	hitAt, err := time.Parse(time.RFC3339Nano, hit["datetime"].(string))
	if err != nil || hitAt.Before(startedAt) || hitAt.After(time.Now()) {
		t.Errorf("hit datetime %v, want the capture time, after the start %v", hit["datetime"], startedAt)
	}
}
