// Command timeit runs each of several commands a number of times,
// alternating between them (A B C A B C ...) so that a slow phase of a
// shared machine hits every command alike. For each run it measures the
// wall time from start to exit and the peak resident set size that wait4
// reports for the child. It prints the median, minimum and maximum of each
// command and their ratios to a baseline command.
//
// Usage:
//
//	timeit [-runs 7] [-baseline NAME] [-format text|markdown] NAME=COMMAND ...
//
// A COMMAND without shell syntax is split at spaces and run directly.
// Otherwise it is run with /bin/sh -c, and the peak RSS is then the maximum
// over the shell and the children it waited for. Each run's stdout is
// counted in lines and discarded.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// command is one NAME=COMMAND argument and the measurements of its runs.
type command struct {
	name  string
	text  string
	argv  []string
	walls []time.Duration
	rss   []int64 // peak RSS of each run in KiB
	lines []int64 // lines written to stdout by each run
	fails []string
}

// run is one measured execution.
type run struct {
	wall   time.Duration
	rssKiB int64
	lines  int64
	status int
	stderr []byte
}

func main() {
	runs := flag.Int("runs", 7, "number of measured runs of each command")
	warmup := flag.Int("warmup", 1, "number of unmeasured runs of each command before the measured ones")
	baseline := flag.String("baseline", "", "`name` of the command that ratios compare with (default the first)")
	format := flag.String("format", "text", "output format: text or markdown")
	tsvPath := flag.String("tsv", "", "also write one tab-separated line per command to this `file`")
	stderrDir := flag.String("stderr-dir", "", "save the stderr of each measured run as DIR/NAME.RUN.stderr in this `directory`")
	allowExit := flag.String("allow-exit", "0", "comma-separated exit statuses that count as success, such as 0,1 for procsql hunt")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: timeit [flags] NAME=COMMAND ...\n\nRuns the commands alternately and prints the median, min and max of wall time and peak RSS.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	commands, err := parseCommands(flag.Args())
	if err == nil {
		err = validateFlags(*runs, *warmup, *format)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeit:", err)
		os.Exit(2)
	}
	allowed, err := parseStatuses(*allowExit)
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeit:", err)
		os.Exit(2)
	}
	base := commands[0]
	if *baseline != "" {
		i := slices.IndexFunc(commands, func(c *command) bool { return c.name == *baseline })
		if i < 0 {
			fmt.Fprintf(os.Stderr, "timeit: baseline %q is not one of the command names\n", *baseline)
			os.Exit(2)
		}
		base = commands[i]
	}

	measure(commands, *warmup, *runs, allowed, *stderrDir)

	if *format == "markdown" {
		printMarkdown(os.Stdout, commands, base)
	} else {
		printText(os.Stdout, commands, base)
	}
	if *tsvPath != "" {
		if err := writeTSV(*tsvPath, commands, base); err != nil {
			fmt.Fprintln(os.Stderr, "timeit:", err)
			os.Exit(1)
		}
	}
	failed := false
	for _, c := range commands {
		for _, f := range c.fails {
			fmt.Fprintf(os.Stderr, "timeit: %s: %s\n", c.name, f)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func validateFlags(runs, warmup int, format string) error {
	if runs < 1 {
		return fmt.Errorf("invalid -runs %d: give 1 or more", runs)
	}
	if warmup < 0 {
		return fmt.Errorf("invalid -warmup %d: give 0 or more", warmup)
	}
	if format != "text" && format != "markdown" {
		return fmt.Errorf("invalid -format %q: give text or markdown", format)
	}
	return nil
}

// parseCommands parses NAME=COMMAND arguments. Names must be unique and
// contain no spaces, tabs or slashes, so they can name files and TSV fields.
func parseCommands(args []string) ([]*command, error) {
	if len(args) == 0 {
		return nil, errors.New("missing commands: give one or more NAME=COMMAND arguments")
	}
	var commands []*command
	seen := map[string]bool{}
	for _, arg := range args {
		name, text, ok := strings.Cut(arg, "=")
		if !ok || name == "" || strings.TrimSpace(text) == "" {
			return nil, fmt.Errorf("invalid argument %q: give NAME=COMMAND", arg)
		}
		if strings.ContainsAny(name, "\t/ ") {
			return nil, fmt.Errorf("invalid name %q: use no spaces, tabs or slashes", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("duplicate name %q: give each command its own name", name)
		}
		seen[name] = true
		commands = append(commands, &command{name: name, text: text, argv: argvOf(text)})
	}
	return commands, nil
}

// argvOf returns the argument vector to run text with: its words when it
// has no shell syntax, or /bin/sh -c text.
func argvOf(text string) []string {
	if strings.ContainsAny(text, "\"'\\$`;&|<>(){}*?[]~#=\n") {
		return []string{"/bin/sh", "-c", text}
	}
	return strings.Fields(text)
}

func parseStatuses(list string) (map[int]bool, error) {
	allowed := map[int]bool{}
	for _, field := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 0 || n > 255 {
			return nil, fmt.Errorf("invalid -allow-exit %q: give exit statuses from 0 to 255 separated by commas", list)
		}
		allowed[n] = true
	}
	return allowed, nil
}

// measure runs the commands in turn, warmup rounds first, and records the
// measured rounds. A run that exits with a status not in allowed is recorded
// as a failure with the start of its stderr.
func measure(commands []*command, warmup, runs int, allowed map[int]bool, stderrDir string) {
	for round := -warmup; round < runs; round++ {
		label := fmt.Sprintf("run %d", round+1)
		if round < 0 {
			label = fmt.Sprintf("warm-up run %d", round+warmup+1)
		}
		for _, c := range commands {
			r, err := execute(c.argv)
			if err != nil {
				c.fails = append(c.fails, fmt.Sprintf("%s failed to start: %v", label, err))
				continue
			}
			if !allowed[r.status] {
				c.fails = append(c.fails, fmt.Sprintf("%s exited with status %d: %s", label, r.status, firstLines(r.stderr, 3)))
			}
			if round < 0 {
				continue
			}
			c.walls = append(c.walls, r.wall)
			c.rss = append(c.rss, r.rssKiB)
			c.lines = append(c.lines, r.lines)
			if stderrDir != "" {
				path := filepath.Join(stderrDir, fmt.Sprintf("%s.%d.stderr", c.name, round+1))
				if err := os.WriteFile(path, r.stderr, 0o644); err != nil {
					c.fails = append(c.fails, fmt.Sprintf("save stderr of %s: %v", label, err))
				}
			}
		}
	}
}

// lineCounter is an io.Writer that counts newlines and keeps nothing.
type lineCounter struct{ lines int64 }

func (l *lineCounter) Write(p []byte) (int, error) {
	l.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// execute runs argv once with stdin from /dev/null, counting the lines it
// writes to stdout and keeping its stderr.
func execute(argv []string) (run, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	out := &lineCounter{}
	var stderr bytes.Buffer
	cmd.Stdout = out
	cmd.Stderr = &stderr

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return run{}, err
	}
	err := cmd.Wait()
	wall := time.Since(start)
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return run{}, err
	}

	r := run{wall: wall, lines: out.lines, status: cmd.ProcessState.ExitCode(), stderr: stderr.Bytes()}
	if r.status < 0 {
		// Killed by a signal: report it as the shell does.
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.status = 128 + int(ws.Signal())
		}
	}
	// Linux reports ru_maxrss in KiB. Go starts the child with vfork
	// semantics, sharing timeit's memory until exec, and Linux counts that
	// memory's high-water mark too, so no run reads below timeit's own RSS
	// of about 3 MiB.
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rssKiB = ru.Maxrss
	}
	return r, nil
}

func firstLines(text []byte, n int) string {
	if len(bytes.TrimSpace(text)) == 0 {
		return "(no stderr)"
	}
	lines := strings.SplitN(strings.TrimSpace(string(text)), "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, " | ")
}

// median returns the middle value, or the mean of the two middle values of
// an even count. It returns 0 for no values.
func median[T int64 | time.Duration](values []T) T {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

// summary holds the figures printed for one command.
type summary struct {
	median, min, max    time.Duration
	rssMedian, rssMax   int64 // KiB
	lines               int64 // median lines on stdout
	timeRatio, rssRatio float64
}

func summarize(c, base *command) summary {
	if len(c.walls) == 0 {
		return summary{}
	}
	s := summary{
		median:    median(c.walls),
		min:       slices.Min(c.walls),
		max:       slices.Max(c.walls),
		rssMedian: median(c.rss),
		rssMax:    slices.Max(c.rss),
		lines:     median(c.lines),
	}
	if b := median(base.walls); b > 0 {
		s.timeRatio = float64(s.median) / float64(b)
	}
	if b := median(base.rss); b > 0 {
		s.rssRatio = float64(s.rssMedian) / float64(b)
	}
	return s
}

func toMilliseconds(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

func milliseconds(d time.Duration) string {
	return strconv.FormatFloat(toMilliseconds(d), 'f', 1, 64)
}

func mebibytes(kib int64) string {
	return strconv.FormatFloat(float64(kib)/1024, 'f', 1, 64)
}

func ratio(r float64) string {
	if r == 0 {
		return "-"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}

func printText(w io.Writer, commands []*command, base *command) {
	fmt.Fprintf(w, "%d runs each, alternating; ratios are medians divided by those of %s\n", len(base.walls), base.name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "name\tmedian ms\tmin ms\tmax ms\ttime ratio\tRSS MiB\tmax RSS MiB\tRSS ratio\tstdout lines\t")
	for _, c := range commands {
		s := summarize(c, base)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", c.name, milliseconds(s.median), milliseconds(s.min), milliseconds(s.max),
			ratio(s.timeRatio), mebibytes(s.rssMedian), mebibytes(s.rssMax), ratio(s.rssRatio), s.lines)
	}
	tw.Flush()
	for _, c := range commands {
		fmt.Fprintf(w, "  %s: %s\n", c.name, c.text)
	}
}

// printMarkdown prints a Markdown table: a header, then one row per command.
func printMarkdown(w io.Writer, commands []*command, base *command) {
	fmt.Fprintf(w, "| command | median ms | min ms | max ms | × %s | peak RSS MiB (median, max) | × %s RSS | stdout lines |\n", base.name, base.name)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, c := range commands {
		s := summarize(c, base)
		fmt.Fprintf(w, "| %s: `%s` | %s | %s | %s | %s | %s, %s | %s | %d |\n", c.name, strings.ReplaceAll(c.text, "|", `\|`),
			milliseconds(s.median), milliseconds(s.min), milliseconds(s.max), ratio(s.timeRatio),
			mebibytes(s.rssMedian), mebibytes(s.rssMax), ratio(s.rssRatio), s.lines)
	}
}

// writeTSV writes one tab-separated line per command. The fields are the
// name, the number of runs, the median, min and max wall time in ms, the
// median and max peak RSS in KiB, the time and RSS ratios to the baseline,
// the median stdout lines and the number of failed runs.
func writeTSV(path string, commands []*command, base *command) error {
	var b strings.Builder
	for _, c := range commands {
		s := summarize(c, base)
		fmt.Fprintf(&b, "%s\t%d\t%.4f\t%.4f\t%.4f\t%d\t%d\t%.4f\t%.4f\t%d\t%d\n", c.name, len(c.walls),
			toMilliseconds(s.median), toMilliseconds(s.min), toMilliseconds(s.max), s.rssMedian, s.rssMax,
			s.timeRatio, s.rssRatio, s.lines, len(c.fails))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
