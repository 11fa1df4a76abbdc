package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/output"
)

// app holds the streams and global flag values that every command uses.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	procRoot      string
	snapshotPaths []string // every --snapshot, in order
	// snapshotPath is the first --snapshot, set before any command runs,
	// for the checks that need to know only whether one was given.
	snapshotPath string
	format       string
	cpuProfile   string
	profileFile  *os.File
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr}
}

// run parses args and runs the selected command.
func (a *app) run(ctx context.Context, args []string) error {
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	defer a.stopCPUProfile()
	return root.ExecuteContext(ctx)
}

// tuneGC lets the short commands that read /proc once and exit collect
// garbage less often: most of what they allocate stays live until the
// result is printed, and with the default GOGC=100 a scan of 1,000
// processes spent a fifth of its time in the collector. A soft memory limit
// keeps the heap from growing past 2 GiB when a result is large. A lower
// one made the collector run without pause once the live data neared it. The
// server and the snapshot capture keep the defaults, as does any run that
// sets GOGC or GOMEMLIMIT itself. Commands on a snapshot are tuned too: an
// open snapshot keeps only the segments in use and a bounded cache live.
func tuneGC(command string) {
	switch command {
	case "query", "hunt", "shell", "export", "procsql":
	default:
		return
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(2 << 30)
	}
}

// startCPUProfile starts the profile that --cpuprofile requests.
func (a *app) startCPUProfile() error {
	f, err := os.Create(a.cpuProfile)
	if err != nil {
		return fmt.Errorf("create CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("start CPU profile %s: %w", a.cpuProfile, err)
	}
	a.profileFile = f
	return nil
}

func (a *app) stopCPUProfile() {
	if a.profileFile == nil {
		return
	}
	pprof.StopCPUProfile()
	a.profileFile.Close()
	a.profileFile = nil
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "procsql",
		Short: "Query a Linux host's /proc with SQL",
		Long: `procsql turns /proc into SQL tables: processes, threads, fds, environ, maps,
modules, sys_modules, sockets, process_sockets, pid_probe, ld_so_preload,
system and meminfo, with the hunts table and a view per hunt (hunt_<id>).
Rows are read when a query runs, and each query reads every /proc file
once, so a join sees one version of each process.

With no command, procsql opens the interactive shell.`,
		Example: `  procsql query "SELECT pid, name, exe FROM processes WHERE exe_deleted = 1"
  procsql --format json query "SELECT * FROM sockets WHERE state = 'LISTEN'"
  procsql --proc /host/proc shell`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runShell(cmd.Context())
		},
	}
	flags := root.PersistentFlags()
	flags.StringVar(&a.procRoot, "proc", "/proc", "procfs root `directory` to read: /proc, another procfs mount such as /host/proc, or a copied tree")
	flags.StringArrayVar(&a.snapshotPaths, "snapshot", nil, "query a snapshot `file` made by procsql snapshot, or a UAC or CatScale collection (archive or directory), instead of the live /proc; repeat it, or name a directory of such files, to query several hosts as one")
	flags.StringVar(&a.format, "format", "", "output `format`: "+strings.Join(output.Formats, ", ")+" (default table on a terminal, csv otherwise)")
	flags.StringVar(&a.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to `file`, for go tool pprof")
	flags.MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if len(a.snapshotPaths) > 0 {
			a.snapshotPath = a.snapshotPaths[0]
		}
		tuneGC(cmd.Name())
		if a.cpuProfile != "" {
			if err := a.startCPUProfile(); err != nil {
				return err
			}
		}
		if a.snapshotPath != "" && cmd.Flags().Changed("proc") {
			return fmt.Errorf("--proc and --snapshot name two sources: give one")
		}
		if a.format != "" {
			return output.CheckFormat(a.format)
		}
		a.format = "csv"
		if f, ok := a.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			a.format = "table"
		}
		return nil
	}
	root.AddCommand(a.queryCommand(), a.shellCommand(), a.snapshotCommand(), a.huntCommand(), a.serveCommand(), a.exportCommand())
	return root
}

// openEngine opens the sources named by the global flags (see openSources),
// with the hunts table and a view per hunt for the built-in hunts and those
// in huntsDir.
func (a *app) openEngine(ctx context.Context, huntsDir string) (*engine.Engine, error) {
	hunts, err := loadHunts(huntsDir)
	if err != nil {
		return nil, err
	}
	srcs, err := a.openSources(ctx)
	if err != nil {
		return nil, err
	}
	return engine.NewMulti(srcs, engine.WithHunts(hunts))
}

// writeResult prints a result and then, on stderr, one line about the reads
// that failed and left columns NULL.
func (a *app) writeResult(res *engine.Result, format string) error {
	if res.OK {
		// SET and SELECT ... INTO @var produce no result set to print.
		a.writeWarnings(res)
		return nil
	}
	if err := output.Write(a.stdout, format, output.Result{Columns: res.Columns, Sources: res.Sources, Types: res.Types, Rows: res.Rows}); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	a.writeWarnings(res)
	return nil
}

func (a *app) writeWarnings(res *engine.Result) {
	if len(res.Warnings) > 0 {
		fmt.Fprintf(a.stderr, "warning: %s\n", strings.Join(res.Warnings, "; "))
	}
}
