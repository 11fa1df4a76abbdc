package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/chzyer/readline"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/output"
	"github.com/procsql/procsql/tables"
)

const (
	primaryPrompt      = "procsql> "
	continuationPrompt = "    ...> "

	// historyEnv names the variable that sets the history file. Without it
	// the shell keeps no history, so it writes nothing on a suspect host.
	historyEnv = "PROCSQL_HISTORY"
)

func (a *app) shellCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "shell",
		Short: "Open the interactive SQL shell",
		Long: `Open a shell that reads SQL statements ending in ";" and prints each result.

A statement may span several lines, and one line may hold several statements.
A line that starts with a dot is a shell command such as .tables, .schema,
.mode, .timer or .hunt; type .help in the shell to list them.

On a terminal, Tab completes table names, column names, SQL keywords and shell
commands. Ctrl-C cancels the running query or clears the input, and Ctrl-D on
an empty line exits. procsql writes nothing to the host by default, so the
shell keeps history only when PROCSQL_HISTORY names a file, such as
PROCSQL_HISTORY=~/.procsql_history on your own machine.

When stdin is not a terminal, the shell prints no prompts, saves no history,
also runs a last statement that lacks ";", and exits with status 1 if any
statement or shell command failed.`,
		Example: `  procsql shell
  procsql --format json shell < triage.sql`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runShell(cmd.Context())
		},
	}
}

// shell is one session of the SQL shell: its engine session, the settings
// that dot commands change and the failure count for piped input.
type shell struct {
	app     *app
	eng     *engine.Engine
	session *sql.Context
	format  string
	timer   bool

	// interrupts receives SIGINT in interactive mode, so that Ctrl-C cancels
	// the running query. It is nil for piped input.
	interrupts chan os.Signal

	inputs   int // statements and dot commands run
	failures int // statements and dot commands that failed
}

// lineSource reads the shell's input one line at a time, without the line
// ending. readLine returns io.EOF at the end of input and errInputCleared when
// the user pressed Ctrl-C at the prompt.
type lineSource interface {
	readLine(prompt string) (string, error)
}

var errInputCleared = errors.New("input cleared")

// runShell reads statements and dot commands from a.stdin until EOF or .quit.
// On a terminal, failed statements neither end the shell nor cause an error
// return. With piped input, runShell returns an error when any statement or
// dot command failed, so scripts can check the exit status.
func (a *app) runShell(ctx context.Context) error {
	eng, err := a.openEngine(ctx, "")
	if err != nil {
		return err
	}
	s := &shell{app: a, eng: eng, format: a.format}

	stdin, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(stdin.Fd())) {
		s.session = eng.NewSession(ctx)
		return s.runPiped()
	}
	return s.runInteractive(ctx, stdin)
}

func (s *shell) runPiped() error {
	if err := s.loop(&pipedSource{r: bufio.NewReader(s.app.stdin)}); err != nil {
		return err
	}
	if s.failures > 0 {
		return fmt.Errorf("%d of %d statements and shell commands failed, as printed above", s.failures, s.inputs)
	}
	return nil
}

func (s *shell) runInteractive(ctx context.Context, stdin *os.File) error {
	// main cancels ctx on the first SIGINT. In the shell, Ctrl-C cancels only
	// the running query, so the session ignores that cancellation and the
	// shell receives SIGINT itself.
	s.session = s.eng.NewSession(context.WithoutCancel(ctx))
	s.interrupts = make(chan os.Signal, 1)
	signal.Notify(s.interrupts, os.Interrupt)
	defer signal.Stop(s.interrupts)

	// With stdout redirected to a file, prompts and echo go to stderr so the
	// file contains only results.
	promptOut := s.app.stderr
	if isTerminal(s.app.stdout) {
		promptOut = s.app.stdout
	}
	history := s.historyFile()
	if history != "" {
		// readline rewrites a long history through a new file that it
		// creates with mode 0666, and the history may hold secrets copied
		// from the host, so the shell's files are owner-only. The shell
		// creates no other file.
		syscall.Umask(0o077)
	}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            primaryPrompt,
		HistoryFile:       history,
		HistorySearchFold: true,
		AutoComplete:      newCompleter(tables.All(), s.huntIDs()),
		// NOTE: readline switches fd 0 to raw mode, not stdin's own fd. The
		// two are the same whenever main built the app.
		Stdin:  readline.NewCancelableStdin(stdin),
		Stdout: promptOut,
		Stderr: s.app.stderr,
	})
	if err != nil {
		return fmt.Errorf("start line editor: %w", err)
	}
	defer rl.Close()

	fmt.Fprintln(promptOut, `Enter SQL statements ending with ";". Type .help for shell commands.`)
	return s.loop(readlineSource{rl: rl})
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// historyFile returns the path of the history file, or "" to keep no history.
// It creates the file if needed and warns on stderr when the file cannot be
// opened for writing, because readline would silently drop the history.
func (s *shell) historyFile() string {
	path := os.Getenv(historyEnv)
	if path == "" {
		return ""
	}
	// Owner-only, because statements may contain values copied from the
	// host, such as secrets found in environ.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintf(s.app.stderr, "warning: history will not be saved: %v (set %s to a writable file, or unset it for no history)\n", err, historyEnv)
		return ""
	}
	f.Close()
	return path
}

// loop reads input until EOF or .quit and runs each complete statement and
// each dot command. It returns an error only when reading fails or the
// session context is canceled.
func (s *shell) loop(src lineSource) error {
	var sp splitter
	for {
		if err := s.stopped(); err != nil {
			return err
		}
		prompt := primaryPrompt
		if sp.pending() {
			prompt = continuationPrompt
		}

		line, err := src.readLine(prompt)
		if errors.Is(err, errInputCleared) {
			sp.reset()
			continue
		}
		if errors.Is(err, io.EOF) {
			// A script may end without a final ";". At an interactive prompt
			// Ctrl-D ends the session and drops an unfinished statement.
			if stmt, ok := sp.flush(); ok && s.interrupts == nil {
				s.runStatements([]string{stmt})
			}
			return s.stopped()
		}
		if err != nil {
			return err
		}

		if !sp.pending() && isDotCommand(line) {
			sp.reset()
			if quit := s.runDotCommand(line); quit {
				return nil
			}
			continue
		}
		if canceled := s.runStatements(sp.feed(line)); canceled {
			sp.reset()
		}
	}
}

// stopped returns an error when the session context was canceled. That
// happens only with piped input, when main receives SIGINT.
func (s *shell) stopped() error {
	if s.session.Err() == nil {
		return nil
	}
	return fmt.Errorf("shell stopped: %w", context.Cause(s.session))
}

// runStatements runs stmts in order. When one is canceled it skips the rest
// and returns true.
func (s *shell) runStatements(stmts []string) (canceled bool) {
	for i, stmt := range stmts {
		if !s.runStatement(stmt) {
			continue
		}
		switch skipped := len(stmts) - i - 1; skipped {
		case 0:
		case 1:
			fmt.Fprintln(s.app.stderr, "skipped 1 more statement from the same input")
		default:
			fmt.Fprintf(s.app.stderr, "skipped %d more statements from the same input\n", skipped)
		}
		return true
	}
	return false
}

// runStatement runs one statement and prints its result, or its error on
// stderr. It returns true when Ctrl-C or the session context canceled it.
func (s *shell) runStatement(stmt string) (canceled bool) {
	s.inputs++
	queryCtx, cancel := context.WithCancel(s.session)
	defer cancel()

	stopWatching := s.cancelOnInterrupt(cancel)
	start := time.Now()
	res, err := s.eng.Query(s.session.WithContext(queryCtx), stmt)
	elapsed := time.Since(start)
	stopWatching()

	if err != nil {
		s.failures++
		if queryCtx.Err() != nil {
			if s.interrupts != nil {
				// The terminal echoes ^C without a line break.
				fmt.Fprintln(s.app.stderr)
			}
			fmt.Fprintln(s.app.stderr, "error: query canceled")
			return true
		}
		fmt.Fprintf(s.app.stderr, "error: %v\n", err)
		return false
	}
	if err := s.app.writeResult(res, s.format); err != nil {
		s.failures++
		fmt.Fprintf(s.app.stderr, "error: %v\n", err)
		return false
	}
	if s.timer {
		fmt.Fprintf(s.app.stderr, "time: %s\n", formatElapsed(elapsed))
	}
	return false
}

// cancelOnInterrupt calls cancel when SIGINT arrives before the returned stop
// function is called. It does nothing for piped input.
func (s *shell) cancelOnInterrupt(cancel context.CancelFunc) (stop func()) {
	if s.interrupts == nil {
		return func() {}
	}
	// Drop a Ctrl-C pressed while the previous result was printed, so it
	// does not cancel this query.
	select {
	case <-s.interrupts:
	default:
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-s.interrupts:
			cancel()
		case <-done:
		}
	}()
	return func() { close(done) }
}

// formatElapsed prints durations below 1ms in microseconds ("85µs"), below 1s
// in milliseconds ("12.3ms") and longer ones in seconds ("2.51s").
func formatElapsed(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// readlineSource reads lines from a terminal with editing, history and
// completion. readline saves each entered line to the history file.
type readlineSource struct {
	rl *readline.Instance
}

func (r readlineSource) readLine(prompt string) (string, error) {
	r.rl.SetPrompt(prompt)
	line, err := r.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", errInputCleared
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read input: %w", err)
	}
	return line, err
}

// pipedSource reads lines from a script or pipe, without prompts or history.
type pipedSource struct {
	r *bufio.Reader
}

func (p *pipedSource) readLine(string) (string, error) {
	line, err := p.r.ReadString('\n')
	if errors.Is(err, io.EOF) && line != "" {
		err = nil // the last line has no newline
	}
	if errors.Is(err, io.EOF) {
		return "", io.EOF
	}
	if err != nil {
		return "", fmt.Errorf("read input: %w", err)
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

// dotCommands lists the shell commands for .help, in the order shown.
var dotCommands = []struct{ usage, summary string }{
	{".tables", "list the tables with a description of each"},
	{".schema [TABLE]", "list the columns of TABLE, or of every table, with type and description"},
	{".mode [FORMAT]", "set the output format: " + strings.Join(output.Formats, ", ") + "; with no FORMAT, print the current one"},
	{".timer on|off", "print the run time of each statement on stderr after its result"},
	{".hunts", "list the built-in hunts with id, severity and title"},
	{".hunt ID [ID...]", "run the named hunts and print their hits grouped by hunt, as procsql hunt does"},
	{".help", "print this help"},
	{".quit, .exit", "leave the shell; Ctrl-D on an empty line also leaves it"},
}
