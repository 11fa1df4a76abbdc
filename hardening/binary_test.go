package hardening

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binaryEnv passes the path of the built procsql binary to the copy of the
// test binary that runs inside the namespaces, so the binary is built once.
const binaryEnv = "PROCSQL_HARDENING_BINARY"

// systemPath is the PATH of every process the tests start. It names the
// directories of unshare, ip, setpriv and strace on Debian and nothing from
// the environment of the test run.
const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// procsqlBinary returns the path of a procsql binary built from this module.
// The first call builds it into a new directory under the system temporary
// directory that every user may read and search, because the unprivileged
// test runs it as nobody.
func procsqlBinary(t *testing.T) string {
	t.Helper()
	if path := os.Getenv(binaryEnv); path != "" {
		return path
	}
	built.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			built.err = fmt.Errorf("go tool not found in PATH, so procsql cannot be built: %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "procsql-hardening-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		if err := os.Chmod(dir, 0o755); err != nil {
			built.err = err
			return
		}
		path := dir + "/procsql"
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, "build", "-o", path, "github.com/procsql/procsql/cmd/procsql")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build of cmd/procsql failed: %w\n%s", err, out)
			return
		}
		built.path = path
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// removeBuiltBinary deletes the directory that procsqlBinary built into.
func removeBuiltBinary() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

// procsqlRun is one finished run of the procsql binary.
type procsqlRun struct {
	args   []string
	stdout string
	stderr string
	status int // exit status, or -1 when a signal ended the process
	signal syscall.Signal
	rusage *syscall.Rusage
	end    time.Time // when the process had exited
}

// runOptions sets what a procsql run gets besides its arguments.
type runOptions struct {
	env     []string  // the whole environment; nil gives PATH, HOME=/nonexistent and LANG=C
	stdin   io.Reader // nil reads from /dev/null
	dir     string    // working directory; "" keeps the test's
	prefix  []string  // a command that runs procsql, such as setpriv with its options
	timeout time.Duration

	// stdout and stderr, when set, receive the output in place of
	// procsqlRun's fields. An *os.File is passed on as it is, so procsql
	// writes to that file and not to a pipe.
	stdout, stderr io.Writer
}

// runProcsql runs the binary with args and waits for it. It returns an error
// when the process cannot be started or outlives the timeout (one minute
// unless set), and leaves the exit status to the caller. It does not fail
// the test, so goroutines other than the test's may call it.
func runProcsql(binary string, opts runOptions, args ...string) (procsqlRun, error) {
	if opts.timeout == 0 {
		opts.timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.timeout)
	defer cancel()
	argv := append(append([]string{}, opts.prefix...), binary)
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = opts.env
	if cmd.Env == nil {
		cmd.Env = []string{"PATH=" + systemPath, "HOME=/nonexistent", "LANG=C"}
	}
	cmd.Stdin = opts.stdin
	cmd.Dir = opts.dir

	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if opts.stdout != nil {
		cmd.Stdout = opts.stdout
	}
	if opts.stderr != nil {
		cmd.Stderr = opts.stderr
	}
	err := cmd.Run()
	run := procsqlRun{args: args, stdout: stdout.String(), stderr: stderr.String(), end: time.Now()}

	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return run, fmt.Errorf("start procsql %s: %w", quoteArgs(args), err)
	}
	if ctx.Err() != nil {
		return run, fmt.Errorf("procsql %s did not exit within %v and was killed; stderr:\n%s", quoteArgs(args), opts.timeout, firstLines(run.stderr, 30))
	}
	state := cmd.ProcessState
	run.status = state.ExitCode()
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		run.signal = ws.Signal()
	}
	run.rusage, _ = state.SysUsage().(*syscall.Rusage)
	return run, nil
}

// mustRunProcsql is runProcsql for the test's own goroutine: it fails the
// test when the run cannot start, times out or crashes.
func mustRunProcsql(t *testing.T, binary string, opts runOptions, args ...string) procsqlRun {
	t.Helper()
	run, err := runProcsql(binary, opts, args...)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range crashProblems(run) {
		t.Fatal(problem)
	}
	return run
}

func quoteArgs(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"*") {
			a = fmt.Sprintf("%q", a)
		}
		quoted[i] = a
	}
	return strings.Join(quoted, " ")
}

// crashMarkers are texts that the Go runtime prints on stderr when a
// program panics, hits a fatal error or receives a fatal signal.
var crashMarkers = []string{"panic:", "fatal error:", "goroutine ", "[signal ", "SIGSEGV"}

// crashProblems returns what shows that the run crashed: a fatal signal or
// a Go runtime message on stderr. Go exits with status 2 after a panic, as
// hunt does on a failure, so the exit status alone cannot tell.
func crashProblems(run procsqlRun) []string {
	var problems []string
	if run.status < 0 {
		problems = append(problems, fmt.Sprintf("procsql %s was ended by signal %v", quoteArgs(run.args), run.signal))
	}
	for _, marker := range crashMarkers {
		if strings.Contains(run.stderr, marker) {
			problems = append(problems, fmt.Sprintf("procsql %s crashed: stderr contains %q:\n%s", quoteArgs(run.args), marker, firstLines(run.stderr, 30)))
			break
		}
	}
	return problems
}

// firstLines returns at most n lines of text.
func firstLines(text string, n int) string {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) <= n {
		return text
	}
	return strings.Join(lines[:n], "") + fmt.Sprintf("... (%d more lines)\n", len(lines)-n)
}

// row is one decoded JSON object of procsql's jsonl output. Numbers stay
// json.Number, so 64-bit addresses and inodes keep every digit.
type row map[string]any

// decodeRows parses jsonl output into rows.
func decodeRows(text string) ([]row, error) {
	decoder := json.NewDecoder(strings.NewReader(text))
	decoder.UseNumber()
	var rows []row
	for {
		var r row
		err := decoder.Decode(&r)
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, fmt.Errorf("output is not JSON lines after %d rows: %w", len(rows), err)
		}
		rows = append(rows, r)
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]int) []string {
	return slices.Sorted(maps.Keys(m))
}
