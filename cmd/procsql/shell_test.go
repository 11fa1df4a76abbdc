package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/procsql/procsql/queries"
	"github.com/procsql/procsql/tables"
)

// writeFakeProc creates a procfs tree with one process, pid 1 named init, and
// returns its root.
func writeFakeProc(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"stat":      "cpu  1 2 3 4 5 6 7 0 0 0\nbtime 1700000000\n",
		"1/stat":    "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 1000000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		"1/cmdline": "init\x00",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runPipedShell runs "procsql --proc <fake tree> shell" with script as stdin.
func runPipedShell(t *testing.T, script string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := newApp(strings.NewReader(script), &out, &errOut)
	err = a.run(context.Background(), []string{"--proc", writeFakeProc(t), "shell"})
	return out.String(), errOut.String(), err
}

// assertInOrder checks that each piece occurs in text after the previous one.
func assertInOrder(t *testing.T, text string, pieces ...string) {
	t.Helper()
	rest := text
	for _, p := range pieces {
		i := strings.Index(rest, p)
		if i < 0 {
			t.Fatalf("output lacks %q after the earlier pieces; full output:\n%s", p, text)
		}
		rest = rest[i+len(p):]
	}
}

func findTable(t *testing.T, name string) tables.Table {
	t.Helper()
	for _, tbl := range tables.All() {
		if tbl.Name() == name {
			return tbl
		}
	}
	t.Fatalf("table %s is not registered", name)
	return nil
}

func TestShellPipedScript(t *testing.T) {
	script := strings.Join([]string{
		"SELECT pid,",
		"  name -- the command name",
		"FROM processes;",
		"SELECT 1 AS one; SELECT 2 AS two;",
		".tables",
		".schema processes",
		".mode json",
		"SELECT pid, name FROM processes;",
		"SELECT nope FROM processes;",
		".mode csv",
		"SELECT 'a;b' AS text",
	}, "\n")
	stdout, stderr, err := runPipedShell(t, script)

	processes := findTable(t, "processes")
	pid := processes.Columns()[slices.IndexFunc(processes.Columns(), func(c tables.Column) bool { return c.Name == "pid" })]
	assertInOrder(t, stdout,
		"pid,name\n1,init\n",
		"one\n1\ntwo\n2\n",
		"processes ",
		"processes -- "+processes.Comment()+"\n",
		"  pid ",
		"[\n  {\n    \"pid\": 1,\n    \"name\": \"init\"\n  }\n]\n",
		"text\na;b\n",
	)
	tablesLine := regexp.MustCompile(`(?m)^processes +` + regexp.QuoteMeta(processes.Comment()) + `$`)
	if !tablesLine.MatchString(stdout) {
		t.Errorf(".tables output lacks a line matching %s:\n%s", tablesLine, stdout)
	}
	pidLine := regexp.MustCompile(`(?m)^  pid +` + regexp.QuoteMeta(pid.Type.String()) + ` +` + regexp.QuoteMeta(pid.Comment) + `$`)
	if !pidLine.MatchString(stdout) {
		t.Errorf(".schema output lacks a line matching %s:\n%s", pidLine, stdout)
	}
	if !strings.Contains(stderr, "error: ") {
		t.Errorf("stderr = %q, want an error line", stderr)
	}
	if !strings.Contains(stderr, `"nope"`) {
		t.Errorf("stderr = %q, want the error to name column nope", stderr)
	}
	if strings.Count(stderr, "error: ") != 1 {
		t.Errorf("stderr = %q, want exactly one error line", stderr)
	}
	if err == nil {
		t.Fatal("shell returned nil, want an error because one statement failed")
	}
	if !strings.Contains(err.Error(), "1 of 10 ") {
		t.Errorf("error = %q, want it to count 1 of 10 failed inputs", err)
	}
}

func TestShellPipedSuccessReturnsNil(t *testing.T) {
	stdout, stderr, err := runPipedShell(t, "SELECT 1 AS one;\n\n-- only a comment\nSELECT 2 AS two\n")
	if err != nil {
		t.Fatalf("shell returned %v, want nil; stderr:\n%s", err, stderr)
	}
	if stdout != "one\n1\ntwo\n2\n" {
		t.Errorf("stdout = %q, want both results", stdout)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want it empty", stderr)
	}
}

func TestShellPipedCRLFInput(t *testing.T) {
	stdout, _, err := runPipedShell(t, ".mode jsonl\r\nSELECT 'x' AS v;\r\n")
	if err != nil {
		t.Fatalf("shell returned %v, want nil", err)
	}
	if stdout != "{\"v\":\"x\"}\n" {
		t.Errorf("stdout = %q, want one JSON line", stdout)
	}
}

func TestShellPipedQuitStopsReading(t *testing.T) {
	for _, quit := range []string{".quit", ".exit"} {
		t.Run(quit, func(t *testing.T) {
			stdout, _, err := runPipedShell(t, "SELECT 1 AS one;\n"+quit+"\nSELECT 2 AS two;\n")
			if err != nil {
				t.Fatalf("shell returned %v, want nil", err)
			}
			if stdout != "one\n1\n" {
				t.Errorf("stdout = %q, want only the result before %s", stdout, quit)
			}
		})
	}
}

func TestShellDotCommandErrors(t *testing.T) {
	cases := []struct {
		input   string
		message string
	}{
		{".bogus", `error: unknown command ".bogus": type .help for the list of commands`},
		{".schema nope", `error: table "nope" not found: use one of `},
		{".mode xml", `error: invalid format "xml": use one of table, csv, json, jsonl`},
		{".timer maybe", `error: invalid .timer argument "maybe": use .timer on or .timer off`},
		{".tables extra", `error: .tables takes no arguments, got "extra"`},
		{".hunts extra", `error: .hunts takes no arguments, got "extra"`},
		{".hunt", `error: .hunt needs at least one hunt id: type .hunts to list them`},
		{".hunt reverse_shel", `error: unknown hunt "reverse_shel": use one of deleted_executable, `},
	}
	for _, tc := range cases {
		t.Run(tc.input, func(t *testing.T) {
			stdout, stderr, err := runPipedShell(t, tc.input+"\nSELECT 1 AS after;\n")
			if !strings.Contains(stderr, tc.message) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.message)
			}
			if stdout != "after\n1\n" {
				t.Errorf("stdout = %q, want the statement after the failed command to run", stdout)
			}
			if err == nil {
				t.Error("shell returned nil, want an error for the failed command")
			}
		})
	}
}

// runPipedShellOn runs "procsql --proc procRoot shell" with script as stdin.
func runPipedShellOn(t *testing.T, procRoot, script string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := newApp(strings.NewReader(script), &out, &errOut)
	err = a.run(context.Background(), []string{"--proc", procRoot, "shell"})
	return out.String(), errOut.String(), err
}

func TestShellHuntsListsBuiltinHunts(t *testing.T) {
	stdout, stderr, err := runPipedShell(t, ".mode jsonl\n.hunts\n")
	if err != nil {
		t.Fatalf("shell returned %v, want nil; stderr:\n%s", err, stderr)
	}
	hunts, err := queries.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != len(hunts) {
		t.Fatalf(".hunts printed %d lines, want one per built-in hunt (%d):\n%s", len(lines), len(hunts), stdout)
	}
	listed := map[string]map[string]string{}
	for _, line := range lines {
		var row map[string]string
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("line %q is not a JSON object of strings: %v", line, err)
		}
		listed[row["id"]] = row
	}
	for _, h := range hunts {
		row, ok := listed[h.ID]
		if !ok {
			t.Errorf(".hunts lacks hunt %s:\n%s", h.ID, stdout)
			continue
		}
		if row["severity"] != h.Severity {
			t.Errorf("severity of %s = %q, want %q", h.ID, row["severity"], h.Severity)
		}
		if row["title"] != h.Title {
			t.Errorf("title of %s = %q, want %q", h.ID, row["title"], h.Title)
		}
	}
}

func TestShellHuntReportsHit(t *testing.T) {
	stdout, stderr, err := runPipedShellOn(t, reverseShellTree, ".mode table\n.hunt reverse_shell\nSELECT 1 AS after;\n")
	if err != nil {
		t.Fatalf("shell returned %v, want nil because hits are no failure; stderr:\n%s", err, stderr)
	}
	assertInOrder(t, stdout,
		"== reverse_shell [critical] Shell with its standard streams on a network connection\n",
		"5200  5190  bash  /usr/bin/bash",
		"(2 rows)\ntriage: Treat a hit as an active intrusion.",
		"hits: 2 critical (1 hunt matched, 1 ran)\n",
		"after",
	)
}

func TestShellHuntMatchesHuntCommand(t *testing.T) {
	for _, format := range []string{"table", "csv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			shellOut, shellErr, err := runPipedShellOn(t, reverseShellTree, ".mode "+format+"\n.hunt reverse_shell traced_process\n")
			if err != nil {
				t.Fatalf("shell returned %v, want nil; stderr:\n%s", err, shellErr)
			}
			huntOut, huntErr, _ := runHuntApp(t, "--proc", reverseShellTree, "--format", format, "hunt", "reverse_shell", "traced_process")
			if shellOut != huntOut {
				t.Errorf("shell stdout differs from procsql hunt.\nshell:\n%s\nprocsql hunt:\n%s", shellOut, huntOut)
			}
			if shellErr != huntErr {
				t.Errorf("shell stderr = %q, want %q as procsql hunt prints", shellErr, huntErr)
			}
		})
	}
}

func TestShellSchemaUnknownTableListsNames(t *testing.T) {
	_, stderr, _ := runPipedShell(t, ".schema nope\n")
	for _, tbl := range tables.All() {
		if !strings.Contains(stderr, tbl.Name()) {
			t.Errorf("stderr = %q, want it to list table %s", stderr, tbl.Name())
		}
	}
}

func TestShellSchemaIgnoresNameCase(t *testing.T) {
	stdout, _, err := runPipedShell(t, ".schema PROCESSES\n")
	if err != nil {
		t.Fatalf("shell returned %v, want nil", err)
	}
	if !strings.HasPrefix(stdout, "processes -- ") {
		t.Errorf("stdout = %q, want the processes schema", stdout)
	}
}

func TestShellModeAndTimerWithoutArgument(t *testing.T) {
	stdout, _, err := runPipedShell(t, ".mode\n.timer\n.mode table\n.timer on;\n.mode\n.timer\n")
	if err != nil {
		t.Fatalf("shell returned %v, want nil", err)
	}
	want := "mode: csv\ntimer: off\nmode: table\ntimer: on\n"
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
}

func TestShellTimerPrintsElapsedTime(t *testing.T) {
	stdout, stderr, err := runPipedShell(t, ".timer on\nSELECT 1 AS one;\n.timer off\nSELECT 2 AS two;\n")
	if err != nil {
		t.Fatalf("shell returned %v, want nil", err)
	}
	if stdout != "one\n1\ntwo\n2\n" {
		t.Errorf("stdout = %q, want both results and no timing", stdout)
	}
	timing := regexp.MustCompile(`^time: [0-9.]+(µs|ms|s)\n$`)
	if !timing.MatchString(stderr) {
		t.Errorf("stderr = %q, want one line matching %s", stderr, timing)
	}
}

func TestShellHelpListsCommands(t *testing.T) {
	stdout, _, err := runPipedShell(t, ".help\n")
	if err != nil {
		t.Fatalf("shell returned %v, want nil", err)
	}
	for _, name := range []string{".tables", ".schema", ".mode", ".timer", ".hunts", ".hunt ID", ".help", ".quit", ".exit"} {
		if !strings.Contains(stdout, name) {
			t.Errorf(".help output lacks %s:\n%s", name, stdout)
		}
	}
}

func TestShellFormatElapsed(t *testing.T) {
	cases := map[time.Duration]string{
		85 * time.Microsecond:    "85µs",
		12300 * time.Microsecond: "12.3ms",
		2510 * time.Millisecond:  "2.51s",
	}
	for d, want := range cases {
		if got := formatElapsed(d); got != want {
			t.Errorf("formatElapsed(%v) = %q, want %q", d, got, want)
		}
	}
}

// splitAll feeds lines to a fresh splitter and returns every statement it
// completes, then the statement left at the end of input, if any.
func splitAll(lines ...string) []string {
	var sp splitter
	var stmts []string
	for _, line := range lines {
		stmts = append(stmts, sp.feed(line)...)
	}
	if last, ok := sp.flush(); ok {
		stmts = append(stmts, last)
	}
	return stmts
}

func TestShellSplitterStatements(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"one statement", []string{"SELECT 1;"}, []string{"SELECT 1"}},
		{"several on one line", []string{"SELECT 1; SELECT 2;SELECT 3;"}, []string{"SELECT 1", "SELECT 2", "SELECT 3"}},
		{"across lines", []string{"SELECT pid,", "  name", "FROM processes;"}, []string{"SELECT pid,\n  name\nFROM processes"}},
		{"trailing without semicolon", []string{"SELECT 1;", "SELECT 2"}, []string{"SELECT 1", "SELECT 2"}},
		{"empty statements", []string{";;  ;", "SELECT 1;;"}, []string{"SELECT 1"}},
		{"semicolon in single quotes", []string{"SELECT 'a;b';"}, []string{"SELECT 'a;b'"}},
		{"semicolon in double quotes", []string{`SELECT "a;b";`}, []string{`SELECT "a;b"`}},
		{"semicolon in backticks", []string{"SELECT 1 AS `a;b`;"}, []string{"SELECT 1 AS `a;b`"}},
		{"backslash-escaped quote", []string{`SELECT 'it\'s; fine';`}, []string{`SELECT 'it\'s; fine'`}},
		{"doubled quote", []string{`SELECT 'it''s; fine';`}, []string{`SELECT 'it''s; fine'`}},
		{"escaped backslash ends string", []string{`SELECT 'a\\'; SELECT 2;`}, []string{`SELECT 'a\\'`, "SELECT 2"}},
		{"backslash in backticks is literal", []string{"SELECT 1 AS `a\\`; SELECT 2;"}, []string{"SELECT 1 AS `a\\`", "SELECT 2"}},
		{"string across lines", []string{"SELECT 'a;", "b';"}, []string{"SELECT 'a;\nb'"}},
		{"dash comment", []string{"SELECT 1 -- not here; really", ";"}, []string{"SELECT 1"}},
		{"dash comment at line end", []string{"SELECT 1 --", ";"}, []string{"SELECT 1"}},
		{"double dash without space is minus", []string{"SELECT 1--1;"}, []string{"SELECT 1--1"}},
		{"hash comment", []string{"SELECT 1 # not here; really", ";"}, []string{"SELECT 1"}},
		{"block comment", []string{"SELECT /* a; b */ 1;"}, []string{"SELECT   1"}},
		{"block comment across lines", []string{"SELECT 1 /* a;", "b; */ + 1;"}, []string{"SELECT 1  \n + 1"}},
		{"hint comment kept", []string{"SELECT /*+ JOIN_ORDER(a) */ 1;"}, []string{"SELECT /*+ JOIN_ORDER(a) */ 1"}},
		{"comment-only lines", []string{"-- header", "/* note */", "SELECT 1;", "-- footer"}, []string{"SELECT 1"}},
		{"comment after statement", []string{"SELECT 1; -- done"}, []string{"SELECT 1"}},
		{"dashes inside string", []string{"SELECT '-- x';"}, []string{"SELECT '-- x'"}},
		{"unterminated string at end", []string{"SELECT 'abc"}, []string{"SELECT 'abc"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := splitAll(tc.lines...)
			if !slices.Equal(got, tc.want) {
				t.Errorf("split %q = %q, want %q", tc.lines, got, tc.want)
			}
		})
	}
}

func TestShellSplitterPending(t *testing.T) {
	cases := []struct {
		name    string
		lines   []string
		pending bool
	}{
		{"nothing", nil, false},
		{"complete statement", []string{"SELECT 1;"}, false},
		{"unfinished statement", []string{"SELECT 1"}, true},
		{"open string", []string{"SELECT 'a"}, true},
		{"open block comment", []string{"/* note"}, true},
		{"closed line comment", []string{"-- note"}, false},
		{"comment after statement", []string{"SELECT 1; -- note"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var sp splitter
			for _, line := range tc.lines {
				sp.feed(line)
			}
			if got := sp.pending(); got != tc.pending {
				t.Errorf("pending after %q = %v, want %v", tc.lines, got, tc.pending)
			}
		})
	}
}

func TestShellSplitterReset(t *testing.T) {
	var sp splitter
	sp.feed("SELECT 'unfinished")
	sp.reset()
	if sp.pending() {
		t.Fatal("pending after reset = true, want false")
	}
	if got := sp.feed("SELECT 2;"); !slices.Equal(got, []string{"SELECT 2"}) {
		t.Errorf("statements after reset = %q, want [SELECT 2]", got)
	}
}

// complete runs the completer on text with the cursor at its end and returns
// the words it offers, each being the word under the cursor plus a suffix.
func complete(c *completer, text string) []string {
	line := []rune(text)
	suffixes, length := c.Do(line, len(line))
	word := string(line[len(line)-length:])
	var words []string
	for _, s := range suffixes {
		words = append(words, word+string(s))
	}
	return words
}

func TestShellCompleter(t *testing.T) {
	c := newCompleter(tables.All(), []string{"memfd_executable", "reverse_shell", "rwx_memory"})
	cases := []struct {
		text    string
		want    []string // each must be offered
		notWant []string // none may be offered
	}{
		{"SELECT * FROM proc", []string{"processes", "process_sockets"}, nil},
		{"SELECT * FROM PROC", []string{"PROCesses"}, nil},
		{"select * fr", []string{"from"}, []string{"FROM"}},
		{"SEL", []string{"SELECT"}, []string{"select"}},
		{"SELECT exe_del", []string{"exe_deleted"}, nil},
		{"SELECT p.cmd", []string{"cmdline"}, nil},
		{".ta", []string{".tables"}, []string{".timer"}},
		{".t", []string{".tables", ".timer"}, nil},
		{"  .he", []string{".help"}, nil},
		{".schema proc", []string{"processes"}, nil},
		{".schema ", []string{"processes", "fds"}, nil},
		{".mode j", []string{"json", "jsonl"}, []string{"csv"}},
		{".timer o", []string{"on", "off"}, nil},
		{".tables x", nil, []string{"xprocesses"}},
		{".hu", []string{".hunt", ".hunts"}, []string{".help"}},
		{".hunt ", []string{"memfd_executable", "reverse_shell", "rwx_memory"}, nil},
		{".hunt r", []string{"reverse_shell", "rwx_memory"}, []string{"memfd_executable"}},
		{".hunt reverse_shell m", []string{"memfd_executable"}, []string{"reverse_shell"}},
		{".hunts ", nil, []string{"reverse_shell"}},
		{".mode r", nil, []string{"reverse_shell"}},
		{"SELECT ", nil, []string{"processes", "SELECT"}},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			got := complete(c, tc.text)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("completions of %q = %q, want %q among them", tc.text, got, w)
				}
			}
			for _, w := range tc.notWant {
				if slices.Contains(got, w) {
					t.Errorf("completions of %q = %q, want no %q", tc.text, got, w)
				}
			}
		})
	}
}

// buildProcsql builds the procsql binary into dir and returns its path.
func buildProcsql(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found, so the binary cannot be built: %v", err)
	}
	bin := filepath.Join(dir, "procsql")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build failed: %v\n%s", err, out)
	}
	return bin
}

// terminal is a procsql process attached to a pseudo-terminal.
type terminal struct {
	t   *testing.T
	cmd *exec.Cmd
	ptm *os.File // master side: writes reach procsql as keys, reads return its output

	done    chan struct{} // closed when the process has exited
	exitErr error         // the result of cmd.Wait, set before done is closed

	mu     sync.Mutex
	output strings.Builder // all output so far, with \r removed
	seen   int             // offset in output up to which expect has matched
}

// startTerminal runs bin with args on a new pseudo-terminal with environment env.
func startTerminal(t *testing.T, bin string, env []string, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	ptm, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Skipf("pseudo-terminal not available: %v", err)
	}
	term := &terminal{t: t, cmd: cmd, ptm: ptm, done: make(chan struct{})}
	go term.readOutput()
	go func() {
		term.exitErr = cmd.Wait()
		close(term.done)
	}()
	t.Cleanup(func() {
		select {
		case <-term.done:
		default:
			cmd.Process.Kill()
			<-term.done
		}
		ptm.Close()
	})
	return term
}

func (term *terminal) readOutput() {
	buf := make([]byte, 4096)
	for {
		n, err := term.ptm.Read(buf)
		term.mu.Lock()
		term.output.WriteString(strings.ReplaceAll(string(buf[:n]), "\r", ""))
		term.mu.Unlock()
		if err != nil {
			return // EIO once the process has exited
		}
	}
}

// expect waits up to 10 s for want to appear in the output after the last
// match and returns the output up to and including it.
func (term *terminal) expect(want string) string {
	term.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		term.mu.Lock()
		rest := term.output.String()[term.seen:]
		if i := strings.Index(rest, want); i >= 0 {
			term.seen += i + len(want)
			term.mu.Unlock()
			return rest[:i+len(want)]
		}
		term.mu.Unlock()
		if time.Now().After(deadline) {
			term.t.Fatalf("timed out after 10s waiting for %q; output since the last match:\n%q", want, rest)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (term *terminal) send(keys string) {
	term.t.Helper()
	if _, err := term.ptm.Write([]byte(keys)); err != nil {
		term.t.Fatalf("write %q to the terminal: %v", keys, err)
	}
}

// wait waits up to 10 s for the process to exit and returns its exit error.
func (term *terminal) wait() error {
	term.t.Helper()
	select {
	case <-term.done:
		return term.exitErr
	case <-time.After(10 * time.Second):
		term.t.Fatalf("procsql did not exit within 10s; output:\n%q", term.allOutput())
		return nil
	}
}

func (term *terminal) allOutput() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.output.String()
}

// terminalEnv returns the test's environment with HOME set to home and no
// PROCSQL_HISTORY, plus extra.
func terminalEnv(home string, extra ...string) []string {
	env := []string{"HOME=" + home, "TERM=xterm"}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != "HOME" && name != "TERM" && name != historyEnv {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func TestShellTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it on a pseudo-terminal")
	}
	bin := buildProcsql(t, t.TempDir())
	procRoot := writeFakeProc(t)

	t.Run("session", func(t *testing.T) {
		home := t.TempDir()
		historyPath := filepath.Join(home, "history")
		term := startTerminal(t, bin, terminalEnv(home, historyEnv+"="+historyPath), "--proc", procRoot, "shell")
		term.expect(primaryPrompt)

		// One statement: the result table appears, then a new prompt.
		term.send("SELECT pid, name FROM processes;\r")
		term.expect("pid  name\n---  ----\n1    init\n(1 row)\n")
		term.expect(primaryPrompt)

		// A statement across two lines shows the continuation prompt.
		term.send("SELECT name AS first_name\r")
		term.expect(continuationPrompt)
		term.send("FROM processes WHERE pid = 1;\r")
		term.expect("first_name\n----------\ninit\n(1 row)\n")
		term.expect(primaryPrompt)

		// Tab extends "proc" to "process", the prefix that processes and
		// process_sockets share. A second Tab lists both. Two more Tabs
		// select the second, processes, and Enter accepts it.
		term.send("SELECT COUNT(*) AS n FROM proc\t")
		term.expect("FROM process")
		term.send("\t")
		term.expect("process_sockets")
		term.expect("processes")
		term.send("\t\t\r;")
		term.expect("FROM processes;")
		term.send("\r")
		term.expect("n\n-\n1\n(1 row)\n")
		term.expect(primaryPrompt)

		// A failed statement prints an error and keeps the shell.
		term.send("SELECT nope FROM processes;\r")
		term.expect("error: ")
		term.expect(primaryPrompt)

		// Ctrl-C at the prompt drops the typed text, so the next statement
		// runs alone.
		term.send("SELECT garbage")
		term.expect("garbage")
		term.send("\x03")
		term.expect("^C")
		term.expect(primaryPrompt)
		term.send("SELECT 42 AS answer;\r")
		term.expect("answer\n------\n42\n(1 row)\n")
		term.expect(primaryPrompt)

		// Ctrl-C while a query runs cancels the query, not the shell.
		term.send("SELECT SLEEP(20);\r")
		term.expect("SLEEP(20);\n")
		time.Sleep(300 * time.Millisecond) // let the query start
		start := time.Now()
		term.send("\x03")
		term.expect("error: query canceled\n")
		if waited := time.Since(start); waited > 5*time.Second {
			t.Errorf("query stopped %v after Ctrl-C, want well under the 20s sleep", waited)
		}
		term.expect(primaryPrompt)
		term.send("SELECT 7 AS seven;\r")
		term.expect("seven\n-----\n7\n(1 row)\n")
		term.expect(primaryPrompt)

		// Ctrl-D on an empty line exits with status 0.
		term.send("\x04")
		if err := term.wait(); err != nil {
			t.Fatalf("procsql exited with %v, want status 0; output:\n%s", err, term.allOutput())
		}

		history, err := os.ReadFile(historyPath)
		if err != nil {
			t.Fatalf("read history file: %v", err)
		}
		lines := strings.Split(string(history), "\n")
		for _, want := range []string{"SELECT pid, name FROM processes;", "SELECT name AS first_name", "SELECT 42 AS answer;"} {
			if !slices.Contains(lines, want) {
				t.Errorf("history lacks line %q; history:\n%s", want, history)
			}
		}
		if strings.Contains(string(history), "garbage") {
			t.Errorf("history contains the line cleared with Ctrl-C; history:\n%s", history)
		}
	})

	t.Run("no history by default", func(t *testing.T) {
		home := t.TempDir()
		term := startTerminal(t, bin, terminalEnv(home), "--proc", procRoot, "shell")
		term.expect(primaryPrompt)
		term.send("SELECT 1 AS one;\r")
		term.expect("one\n---\n1\n(1 row)\n")
		term.expect(primaryPrompt)
		term.send(".quit\r")
		if err := term.wait(); err != nil {
			t.Fatalf("procsql exited with %v, want status 0", err)
		}
		entries, err := os.ReadDir(home)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 0 {
			t.Errorf("the shell wrote %d files to HOME without %s, want none: %v", len(entries), historyEnv, entries)
		}
	})

	t.Run("unwritable history", func(t *testing.T) {
		home := t.TempDir()
		missing := filepath.Join(home, "no-such-dir", "history")
		term := startTerminal(t, bin, terminalEnv(home, historyEnv+"="+missing), "--proc", procRoot, "shell")
		term.expect("warning: history will not be saved: open " + missing + ": no such file or directory")
		term.expect(primaryPrompt)
		term.send("SELECT 1 AS one;\r")
		term.expect("one\n---\n1\n(1 row)\n")
		term.expect(primaryPrompt)
		term.send(".quit\r")
		if err := term.wait(); err != nil {
			t.Fatalf("procsql exited with %v, want status 0", err)
		}
	})
}
