// Command synthsnap writes a synthetic procsql snapshot for benchmarks: a
// Debian 12 web and database server with the requested numbers of processes
// and sockets, with a few planted behaviours that the bundled hunts report.
//
//	go run ./bench/synthsnap -procs 10000 -sockets 20000 -seed 1 -o FILE
//
// It writes the host as a copied /proc tree in a temporary directory, with
// link targets stored as file text and the side files that source.Dir
// reads. Then it captures that tree with procsql's own snapshot package, so
// the file contains exactly what a capture of such a host records. The tree
// is deleted afterwards unless -keep-tree names a directory for it.
//
// The same seed gives the same rows in every table but system. Two files of one seed
// differ only where they describe the capture itself. In the manifest these
// are the capture's start and end, each process's read window, proc_root and
// command_line. The archive entries' times follow the capture start, and the
// system table's read_time, capture_end and location differ too. A copied
// tree names no machine, so system.architecture is NULL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/procsql/procsql/snapshot"
	"github.com/procsql/procsql/source"
)

// Bounds on the host size. The capture holds the whole host in memory, so
// these keep a mistyped flag from exhausting it.
//
// NOTE: at the default flags the peak RSS grew by about 115 MB per 1,000
// processes in runs of 2,500 to 20,000 processes, so the largest host needs
// an estimated 12 GB. Runs above 20,000 processes were not tried.
const (
	maxProcs   = 100_000
	maxSockets = 1_000_000
)

// config is the parsed command line.
type config struct {
	procs, sockets int
	seed           uint64
	output         string
	force          bool
	fdsPerProc     int
	mapsPerProc    int
	envPerProc     int
	cpus           int
	planted        int // copies of each planted behaviour, or -1 to choose by -procs
	tmpDir         string
	keepTree       string
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "synthsnap:", err)
		os.Exit(2)
	}
	if os.Getenv("GOGC") == "" {
		// The capture keeps every file it read until it has written the
		// archive. Collecting at 25% growth instead of 100% keeps the peak
		// near that live data (1.2 GB instead of 2 GB for 10,000
		// processes) for about 15% more run time.
		debug.SetGCPercent(25)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	rep, err := generate(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "synthsnap:", err)
		os.Exit(1)
	}
	fmt.Fprint(os.Stderr, rep.String())
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("synthsnap", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintln(out, "Usage: synthsnap -procs N -sockets N -seed N -o FILE [flags]")
		fmt.Fprintln(out, "Writes a synthetic procsql snapshot for benchmarks. Flags:")
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.procs, "procs", 1000, fmt.Sprintf("user-space processes, pid 1 included (at most %d); kernel threads come on top", maxProcs))
	fs.IntVar(&cfg.sockets, "sockets", 2000, fmt.Sprintf("rows of the sockets table: TCP, UDP, unix and packet sockets (at most %d)", maxSockets))
	fs.Uint64Var(&cfg.seed, "seed", 1, "generator seed: the same seed gives the same rows")
	fs.StringVar(&cfg.output, "o", "", "snapshot `file` to write (required)")
	fs.BoolVar(&cfg.force, "force", false, "overwrite the output file if it exists")
	fs.IntVar(&cfg.fdsPerProc, "fds-per-proc", 16, "mean open descriptors per process, sockets not counted; a JVM gets more than a shell, and programs with few kinds of files stay below it")
	fs.IntVar(&cfg.mapsPerProc, "maps-per-proc", 50, "mean memory mappings per process (20 to 2000); a JVM gets more than a shell")
	fs.IntVar(&cfg.envPerProc, "env-per-proc", 10, "environment variables of a service or job; login shells and their commands carry their whole login set of about 20")
	fs.IntVar(&cfg.cpus, "cpus", 8, "CPUs of the host: per-CPU kernel threads and nginx workers (1 to 256)")
	fs.IntVar(&cfg.planted, "planted", -1, "copies of each planted behaviour the bundled hunts report: -1 for one per 2500 processes (at least one), 0 for none")
	fs.StringVar(&cfg.tmpDir, "tmpdir", "", "`directory` for the temporary /proc tree (default /dev/shm when it is a tmpfs with room for the tree, else $TMPDIR or /tmp)")
	fs.StringVar(&cfg.keepTree, "keep-tree", "", "write the /proc tree to this new `directory` and keep it, to read with procsql --proc DIR/proc")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q: all options are flags, see -h", fs.Arg(0))
	}
	return cfg, cfg.validate()
}

// validate rejects values outside the supported ranges.
func (cfg config) validate() error {
	switch {
	case cfg.output == "":
		return errors.New("missing output file: pass -o FILE")
	case cfg.procs < 1 || cfg.procs > maxProcs:
		return fmt.Errorf("invalid -procs %d: give 1 to %d", cfg.procs, maxProcs)
	case cfg.sockets < 0 || cfg.sockets > maxSockets:
		return fmt.Errorf("invalid -sockets %d: give 0 to %d", cfg.sockets, maxSockets)
	case cfg.fdsPerProc < 0 || cfg.fdsPerProc > 1000:
		return fmt.Errorf("invalid -fds-per-proc %d: give 0 to 1000", cfg.fdsPerProc)
	case cfg.mapsPerProc < 20 || cfg.mapsPerProc > 2000:
		return fmt.Errorf("invalid -maps-per-proc %d: give 20 to 2000", cfg.mapsPerProc)
	case cfg.envPerProc < 0 || cfg.envPerProc > 500:
		return fmt.Errorf("invalid -env-per-proc %d: give 0 to 500", cfg.envPerProc)
	case cfg.cpus < 1 || cfg.cpus > 256:
		return fmt.Errorf("invalid -cpus %d: give 1 to 256", cfg.cpus)
	case cfg.planted < -1 || cfg.planted > 100:
		return fmt.Errorf("invalid -planted %d: give -1 to 100", cfg.planted)
	}
	return nil
}

// copies returns how many times each planted behaviour is planted.
func (cfg config) copies() int {
	if cfg.planted >= 0 {
		return cfg.planted
	}
	return max(1, cfg.procs/2500)
}

// report describes a finished run.
type report struct {
	cfg                      config
	userProcs, kernelThreads int
	hidden                   int
	stats                    treeStats
	treeDir                  string
	socketMix                string
	dropped                  int
	capture                  snapshot.Summary
	model, tree, snap, clean time.Duration
	total                    time.Duration
	peakRSSKiB               int64
	warnings                 []string
}

// generate builds the host, writes its tree, captures it into cfg.output
// and removes the tree.
func generate(ctx context.Context, cfg config) (*report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rep := &report{cfg: cfg}
	begin := time.Now()
	h, dropped, err := buildHost(cfg)
	if err != nil {
		return nil, err
	}
	rep.dropped = dropped
	rep.socketMix = socketCount(h)
	for _, p := range h.procs {
		switch {
		case p.kernel:
			rep.kernelThreads++
		case p.hidden:
			rep.hidden++
		default:
			rep.userProcs++
		}
	}
	rep.model = time.Since(begin)

	dir := cfg.keepTree
	if dir != "" {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create the tree directory: %w (-keep-tree needs a new directory)", err)
		}
	} else {
		dir, err = os.MkdirTemp(treeParent(cfg), "synthsnap-")
		if err != nil {
			return nil, fmt.Errorf("create the temporary tree: %w (set -tmpdir to a writable directory)", err)
		}
		defer func() {
			start := time.Now()
			if err := removeTree(dir); err != nil {
				fmt.Fprintf(os.Stderr, "synthsnap: remove the temporary tree: %v\n", err)
			}
			rep.clean = time.Since(start)
		}()
	}

	rep.treeDir = dir
	start := time.Now()
	rep.stats, err = writeTree(ctx, h, cfg, dir)
	if err != nil {
		return nil, fmt.Errorf("write the /proc tree in %s: %w", dir, err)
	}
	rep.tree = time.Since(start)

	start = time.Now()
	src, err := source.NewDir(filepath.Join(dir, "proc"))
	if err != nil {
		return nil, err
	}
	rep.capture, err = snapshot.Capture(ctx, src, snapshot.Options{Output: cfg.output, Force: cfg.force, Collector: collector(cfg)})
	if err != nil {
		return nil, fmt.Errorf("capture the tree: %w", err)
	}
	rep.snap = time.Since(start)
	if want := rep.userProcs + rep.kernelThreads; rep.capture.Processes != want {
		return nil, fmt.Errorf("the capture read %d processes, but the tree has %d listed", rep.capture.Processes, want)
	}
	rep.checkLimits()
	rep.total = time.Since(begin)
	var usage syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &usage) == nil {
		rep.peakRSSKiB = usage.Maxrss // kilobytes on Linux
	}
	return rep, nil
}

// treeParent returns the directory for the temporary tree: -tmpdir, or
// /dev/shm when it is a tmpfs with three times the tree's estimated size
// free, or "" for os.TempDir. A tree of 10,000 processes contains nearly a
// million small files, and a tmpfs writes and removes them many times
// faster than a disk.
func treeParent(cfg config) string {
	if cfg.tmpDir != "" {
		return cfg.tmpDir
	}
	var st syscall.Statfs_t
	const tmpfsMagic = 0x01021994
	if syscall.Statfs("/dev/shm", &st) != nil || st.Type != tmpfsMagic {
		return ""
	}
	// About 900 bytes of maps and smaps per mapping, 300 of link text and
	// fdinfo per descriptor, 8 KiB of other files per process and 200
	// bytes per socket.
	estimate := uint64(cfg.procs)*(uint64(cfg.mapsPerProc)*900+uint64(cfg.fdsPerProc)*300+8192) + uint64(cfg.sockets)*200
	if st.Bavail*uint64(st.Bsize) < 3*estimate || syscall.Access("/dev/shm", 2) != nil {
		return ""
	}
	return "/dev/shm"
}

// checkLimits warns when procsql would reject the file when it opens it:
// too many entries, or more uncompressed bytes than 200 times the file.
func (rep *report) checkLimits() {
	limits := snapshot.DefaultLimits
	if entries := rep.capture.Files + 2; entries > limits.MaxEntries {
		rep.warnings = append(rep.warnings, fmt.Sprintf("the file has %d entries, more than the %d that procsql opens: lower -procs, -fds-per-proc or -maps-per-proc", entries, limits.MaxEntries))
	}
	// NOTE: the manifest adds to the loaded bytes too, so a file near this
	// ratio can still be rejected.
	if bound := max(rep.capture.FileSize*200, 64<<20); rep.capture.Bytes > bound {
		rep.warnings = append(rep.warnings, fmt.Sprintf("the file expands to %d bytes, more than 200 times its size, which procsql rejects as a decompression bomb", rep.capture.Bytes))
	}
}

// collector names the generator in the manifest, so a synthetic snapshot
// is never taken for a capture of a real host.
func collector(cfg config) string {
	version := "dev"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = info.Main.Version
	}
	return fmt.Sprintf("procsql %s synthsnap seed %d", version, cfg.seed)
}

func (rep *report) String() string {
	var b strings.Builder
	c := rep.capture
	fmt.Fprintf(&b, "wrote %s (%d bytes)\n", c.Output, c.FileSize)

	fmt.Fprintf(&b, "processes: %d user-space and %d kernel threads listed, %d hidden; %d threads in all\n", rep.userProcs, rep.kernelThreads, rep.hidden, rep.stats.threads)
	fmt.Fprintf(&b, "sockets: %d (%s)", rep.cfg.sockets, rep.socketMix)
	if rep.dropped > 0 {
		fmt.Fprintf(&b, "; %d more that processes hold are left out of /proc/net, like netlink sockets", rep.dropped)
	}
	b.WriteByte('\n')

	perProc := func(n int) float64 { return float64(n) / float64(max(rep.userProcs, 1)) }
	fmt.Fprintf(&b, "per user-space process: %.1f descriptors, %.1f mappings, %.1f environment variables\n", perProc(rep.stats.descriptors), perProc(rep.stats.mappings), perProc(rep.stats.envVars))
	fmt.Fprintf(&b, "planted: %d copies of %d behaviours, plus the once-only ones\n", rep.cfg.copies(), len(plants))

	fmt.Fprintf(&b, "capture: %d files stored, %d bytes read", c.Files, c.Bytes)
	if len(c.Errors) > 0 {
		var names []string
		for name := range c.Errors {
			names = append(names, name)
		}
		sort.Strings(names)
		var parts []string
		for _, name := range names {
			parts = append(parts, fmt.Sprintf("%s %d", name, c.Errors[name]))
		}
		fmt.Fprintf(&b, "; failed reads recorded: %s", strings.Join(parts, ", "))
	}
	b.WriteByte('\n')

	fmt.Fprintf(&b, "tree: %d files, %d MiB in %s\n", rep.stats.files, rep.stats.bytes>>20, rep.treeDir)
	fmt.Fprintf(&b, "time: model %s, tree %s, capture %s, removing the tree %s; total %s; peak RSS %d MiB\n",
		rep.model.Round(time.Millisecond), rep.tree.Round(time.Millisecond), rep.snap.Round(time.Millisecond),
		rep.clean.Round(time.Millisecond), (rep.total + rep.clean).Round(time.Millisecond), rep.peakRSSKiB/1024)
	for _, w := range rep.warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}
