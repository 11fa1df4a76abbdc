package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procsql/procsql/queries"
)

const (
	cleanTree        = "../../testdata/hunts/clean"
	reverseShellTree = "../../testdata/hunts/reverse_shell/positive"
	secretsTree      = "../../testdata/hunts/secrets_in_environment/positive"
)

// runHuntApp runs procsql with args like runApp, and registers the hunt
// command on the root when the root does not have it yet.
func runHuntApp(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return runHuntAppContext(t, context.Background(), args...)
}

func runHuntAppContext(t *testing.T, ctx context.Context, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := newApp(strings.NewReader(""), &stdout, &stderr)
	root := a.rootCommand()
	if found, _, err := root.Find([]string{"hunt"}); err != nil || found == root {
		root.AddCommand(a.huntCommand())
	}
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	return stdout.String(), stderr.String(), err
}

func builtinCount(t *testing.T) int {
	t.Helper()
	hunts, err := queries.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return len(hunts)
}

// exitCode returns the exit status that err requests from main, or 0 for nil.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var coded interface{ ExitCode() int }
	if !errors.As(err, &coded) {
		t.Fatalf("error %q (%T) carries no exit code", err, err)
	}
	return coded.ExitCode()
}

func TestHuntCleanTreeHasNoHits(t *testing.T) {
	stdout, stderr, err := runHuntApp(t, "--proc", cleanTree, "hunt")
	if err != nil {
		t.Fatalf("error %v, want none", err)
	}
	if want := fmt.Sprintf("hits: none (0 hunts matched, %d ran)\n", builtinCount(t)); stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
}

func TestHuntReportsHitsGrouped(t *testing.T) {
	stdout, _, err := runHuntApp(t, "--proc", reverseShellTree, "--format", "table", "hunt", "reverse_shell")
	var matched *huntsMatchedError
	if !errors.As(err, &matched) {
		t.Fatalf("error %v, want a huntsMatchedError", err)
	}
	if matched.hunts != 1 || matched.hits != 2 {
		t.Errorf("matched %d hunts with %d hits, want 1 and 2", matched.hunts, matched.hits)
	}
	if code := exitCode(t, err); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if want := "1 hunt matched with 2 hits"; err.Error() != want {
		t.Errorf("error text %q, want %q", err, want)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if want := "== reverse_shell [critical] Shell with its standard streams on a network connection"; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	if !strings.HasPrefix(lines[1], "host ") || !strings.Contains(lines[1], " pid ") {
		t.Errorf("second line %q, want the table header, host first", lines[1])
	}
	for _, want := range []string{
		"5200  5190  bash  /usr/bin/bash",
		"203.0.113.7 ",
		"::ffff:203.0.113.7",
		"(2 rows)\ntriage: Treat a hit as an active intrusion.",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if want := "hits: 2 critical (1 hunt matched, 1 ran)"; lines[len(lines)-1] != want {
		t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
	}
}

// decodeHits parses JSON lines into maps.
func decodeHits(t *testing.T, text string) []map[string]any {
	t.Helper()
	var hits []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		var hit map[string]any
		if err := json.Unmarshal([]byte(line), &hit); err != nil {
			t.Fatalf("line %q is not a JSON object: %v", line, err)
		}
		hits = append(hits, hit)
	}
	return hits
}

func TestHuntJSONLinesOutput(t *testing.T) {
	stdout, stderr, err := runHuntApp(t, "--proc", reverseShellTree, "--format", "jsonl", "hunt", "reverse_shell")
	if code := exitCode(t, err); code != 1 {
		t.Fatalf("exit code %d (%v), want 1", code, err)
	}
	hits := decodeHits(t, stdout)
	if len(hits) != 2 {
		t.Fatalf("got %d hits, want 2:\n%s", len(hits), stdout)
	}
	for i, pid := range []float64{5200, 5201} {
		hit := hits[i]
		if hit["hunt"] != "reverse_shell" || hit["severity"] != "critical" || hit["title"] != "Shell with its standard streams on a network connection" {
			t.Errorf("hit %d: hunt, severity, title = %v, %v, %v", i, hit["hunt"], hit["severity"], hit["title"])
		}
		row, ok := hit["row"].(map[string]any)
		if !ok {
			t.Fatalf("hit %d has no row object: %v", i, hit)
		}
		if row["pid"] != pid {
			t.Errorf("hit %d: row pid %v, want %v", i, row["pid"], pid)
		}
		if row["state"] != "ESTABLISHED" {
			t.Errorf("hit %d: row state %v, want ESTABLISHED", i, row["state"])
		}
	}
	if want := "hits: 2 critical (1 hunt matched, 1 ran)\n"; stderr != want {
		t.Errorf("stderr = %q, want the summary %q", stderr, want)
	}
}

func TestHuntJSONOutput(t *testing.T) {
	stdout, _, err := runHuntApp(t, "--proc", reverseShellTree, "--format", "json", "hunt", "reverse_shell", "traced_process")
	if code := exitCode(t, err); code != 1 {
		t.Fatalf("exit code %d (%v), want 1", code, err)
	}
	var hits []struct {
		Hunt       string
		Techniques []string
		Row        map[string]any
	}
	if err := json.Unmarshal([]byte(stdout), &hits); err != nil {
		t.Fatalf("stdout is not a JSON array: %v\n%s", err, stdout)
	}
	if len(hits) != 2 || hits[0].Hunt != "reverse_shell" || hits[0].Row["pid"] != float64(5200) {
		t.Errorf("hits = %+v, want the two reverse_shell rows", hits)
	}
	if len(hits) > 0 && strings.Join(hits[0].Techniques, ",") != "T1059.004" {
		t.Errorf("techniques = %v, want [T1059.004]", hits[0].Techniques)
	}

	empty, stderr, err := runHuntApp(t, "--proc", cleanTree, "--format", "json", "hunt")
	if err != nil {
		t.Fatal(err)
	}
	if empty != "[]\n" {
		t.Errorf("stdout without hits = %q, want an empty array", empty)
	}
	if !strings.HasPrefix(stderr, "hits: none") {
		t.Errorf("stderr = %q, want the summary", stderr)
	}
}

func TestHuntSecretsNeverPrinted(t *testing.T) {
	secrets := []string{"wJalrXUtnFEMI", "EXAMPLEKEY", "Fixture000", "s3cr3t", "hunter2", "Zml4dHVyZSBrZXk"}
	for _, format := range []string{"table", "csv", "json", "jsonl"} {
		stdout, stderr, err := runHuntApp(t, "--proc", secretsTree, "--format", format, "hunt", "secrets_in_environment")
		if code := exitCode(t, err); code != 1 {
			t.Fatalf("%s: exit code %d (%v), want 1", format, code, err)
		}
		if !strings.Contains(stdout, "wJal****") {
			t.Errorf("%s: output lacks the redacted value wJal****:\n%s", format, stdout)
		}
		for _, s := range secrets {
			if strings.Contains(stdout+stderr, s) {
				t.Errorf("%s: output contains the secret text %q", format, s)
			}
		}
	}
}

func TestHuntList(t *testing.T) {
	stdout, _, err := runHuntApp(t, "--format", "csv", "hunt", "--list", "--severity", "critical")
	if err != nil {
		t.Fatal(err)
	}
	want := "id,severity,title\n" +
		"hidden_process,critical,Process missing from the /proc listing but present when looked up\n" +
		"memfd_executable,critical,Process running from an in-memory file (memfd)\n" +
		"reverse_shell,critical,Shell with its standard streams on a network connection\n"
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}

	all, _, err := runHuntApp(t, "--format", "csv", "hunt", "--list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(all, "\n"), "\n")
	if len(lines) != builtinCount(t)+1 {
		t.Errorf("--list printed %d lines, want a header and %d hunts", len(lines), builtinCount(t))
	}
	if !strings.HasPrefix(lines[len(lines)-1], "secrets_in_environment,low,") {
		t.Errorf("last hunt listed %q, want the least severe one", lines[len(lines)-1])
	}
}

func TestHuntSeverityFilter(t *testing.T) {
	stdout, _, err := runHuntApp(t, "--proc", cleanTree, "hunt", "--severity", "critical")
	if err != nil {
		t.Fatal(err)
	}
	if want := "hits: none (0 hunts matched, 3 ran)\n"; stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	// Hunts named on the command line are filtered by severity too.
	stdout, _, err = runHuntApp(t, "--proc", reverseShellTree, "hunt", "--severity", "high", "reverse_shell", "executable_in_temp_dir")
	if code := exitCode(t, err); code != 1 {
		t.Fatalf("exit code %d (%v), want 1", code, err)
	}
	if !strings.HasSuffix(stdout, "(1 hunt matched, 1 ran)\n") || strings.Contains(stdout, "executable_in_temp_dir") {
		t.Errorf("stdout = %q, want only reverse_shell to run", stdout)
	}
}

// writeHunt writes a user hunt file that selects with query.
func writeHunt(t *testing.T, dir, id, severity, query string) {
	t.Helper()
	body := fmt.Sprintf("-- id: %s\n-- title: Custom %s\n-- severity: %s\n-- techniques: T1057\n"+
		"-- description: A hunt written by the user.\n-- triage: Check it.\n-- false_positives: None.\n\n%s\n", id, id, severity, query)
	if err := os.WriteFile(filepath.Join(dir, id+".sql"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHuntUserDirectory(t *testing.T) {
	dir := t.TempDir()
	writeHunt(t, dir, "init_process", "info", "SELECT pid, name FROM processes WHERE pid = 1")
	stdout, _, err := runHuntApp(t, "--proc", cleanTree, "--format", "csv", "hunt", "--hunts", dir)
	if code := exitCode(t, err); code != 1 {
		t.Fatalf("exit code %d (%v), want 1", code, err)
	}
	want := "== init_process [info] Custom init_process\npid,name\n1,systemd\ntriage: Check it.\n\n" +
		fmt.Sprintf("hits: 1 info (1 hunt matched, %d ran)\n", builtinCount(t)+1)
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}

	listed, _, err := runHuntApp(t, "--format", "csv", "hunt", "--hunts", dir, "--list", "init_process")
	if err != nil {
		t.Fatal(err)
	}
	if want := "id,severity,title\ninit_process,info,Custom init_process\n"; listed != want {
		t.Errorf("--list = %q, want %q", listed, want)
	}
}

func TestHuntFailedQueryDoesNotStopOthers(t *testing.T) {
	dir := t.TempDir()
	writeHunt(t, dir, "broken_query", "high", "SELECT pid FROM no_such_table")
	stdout, _, err := runHuntApp(t, "--proc", reverseShellTree, "hunt", "--hunts", dir, "broken_query", "reverse_shell")
	if code := exitCode(t, err); code != 2 {
		t.Fatalf("exit code %d (%v), want 2", code, err)
	}
	if want := "1 hunt failed: broken_query: table not found: no_such_table"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	if !strings.Contains(stdout, "== reverse_shell [critical]") {
		t.Errorf("stdout lacks the reverse_shell hits:\n%s", stdout)
	}
	if want := "hits: 2 critical (1 hunt matched, 1 ran, 1 failed)\n"; !strings.HasSuffix(stdout, want) {
		t.Errorf("stdout ends %q, want %q", stdout[max(0, len(stdout)-80):], want)
	}
}

func TestHuntErrors(t *testing.T) {
	dir := t.TempDir()
	malformed := filepath.Join(dir, "malformed")
	duplicate := filepath.Join(dir, "duplicate")
	for _, d := range []string{malformed, duplicate} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeHunt(t, malformed, "bad_severity", "severe", "SELECT 1")
	writeHunt(t, duplicate, "reverse_shell", "low", "SELECT 1")

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown id", []string{"--proc", cleanTree, "hunt", "reverse_shel"}, `unknown hunt "reverse_shel": use one of deleted_executable, `},
		{"invalid severity", []string{"--proc", cleanTree, "hunt", "--severity", "severe"}, `invalid --severity "severe": use one of info, low, medium, high, critical`},
		{"nothing left", []string{"--proc", cleanTree, "hunt", "--severity", "critical", "uid_mismatch"}, "no hunt left to run"},
		{"malformed hunt file", []string{"--proc", cleanTree, "hunt", "--hunts", malformed}, "hunt file " + filepath.Join(malformed, "bad_severity.sql") + ` line 3: invalid severity "severe"`},
		{"duplicate id", []string{"--proc", cleanTree, "hunt", "--hunts", duplicate}, `id "reverse_shell" is already a built-in hunt`},
		{"missing hunt directory", []string{"--proc", cleanTree, "hunt", "--hunts", filepath.Join(dir, "nope")}, "read hunt directory"},
		{"missing root", []string{"--proc", "/nonexistent/proc", "hunt"}, `open procfs root "/nonexistent/proc"`},
		{"unknown flag", []string{"hunt", "--sevrity", "high"}, "unknown flag: --sevrity"},
		{"invalid format", []string{"--format", "xml", "hunt"}, `invalid format "xml"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, _, err := runHuntApp(t, c.args...)
			if err == nil {
				t.Fatalf("no error, stdout %q", stdout)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if code := exitCode(t, err); code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestHuntCanceledKeepsCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := runHuntAppContext(t, ctx, "--proc", cleanTree, "hunt")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want one that matches context.Canceled", err)
	}
	var failed *huntFailedError
	if errors.As(err, &failed) {
		t.Errorf("error %q is a huntFailedError, want cancellation left for main to report", err)
	}
}

func TestHuntWarningsPrintedOnce(t *testing.T) {
	// Several hunts read environ and exe of the same process, so each
	// failure must be counted on one line, not once per hunt.
	_, stderr, err := runHuntApp(t, "--proc", permissionTree, "hunt")
	if err != nil {
		t.Fatalf("error %v, want none", err)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "warning: ") {
		t.Fatalf("stderr = %q, want one warning line", stderr)
	}
	for _, want := range []string{" of environ failed (EACCES)", " of exe failed (EACCES)"} {
		if n := strings.Count(lines[0], want); n != 1 {
			t.Errorf("warning line has %q %d times, want once:\n%s", want, n, lines[0])
		}
	}
}

func TestHuntOnSnapshot(t *testing.T) {
	out := filepath.Join(t.TempDir(), "host.procsql")
	if _, _, err := runHuntApp(t, "--proc", reverseShellTree, "snapshot", "-o", out); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runHuntApp(t, "--snapshot", out, "--format", "jsonl", "hunt", "reverse_shell")
	if code := exitCode(t, err); code != 1 {
		t.Fatalf("exit code %d (%v), want 1", code, err)
	}
	if hits := decodeHits(t, stdout); len(hits) != 2 {
		t.Errorf("got %d hits from the snapshot, want 2:\n%s", len(hits), stdout)
	}
}

func TestWarningSetKeepsLargestCount(t *testing.T) {
	s := newWarningSet()
	s.add([]string{"1 read of environ failed (EACCES), so the values from it are NULL or missing", "a note"})
	s.add([]string{"3 reads of environ failed (EACCES), so the values from it are NULL or missing", "a note"})
	s.add([]string{"2 reads of fd failed (EACCES), so the values from it are NULL or missing"})
	want := []string{
		"3 reads of environ failed (EACCES), so the values from it are NULL or missing",
		"2 reads of fd failed (EACCES), so the values from it are NULL or missing",
		"a note",
	}
	if got := s.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines = %q, want %q", got, want)
	}
}

func TestWrapText(t *testing.T) {
	got := wrapText("triage: one two three four", 14, "  ")
	if want := "triage: one\n  two three\n  four"; got != want {
		t.Errorf("wrapText = %q, want %q", got, want)
	}
}
