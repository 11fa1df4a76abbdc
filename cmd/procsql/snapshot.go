package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/procsql/procsql/snapshot"
	"github.com/procsql/procsql/source"
)

// version returns procsql's module version, or "dev" for a build from a
// work tree.
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

type snapshotOptions struct {
	output         string
	force          bool
	copyDeletedExe bool
	maxExeSize     int64
}

func (a *app) snapshotCommand() *cobra.Command {
	opts := snapshotOptions{}
	cmd := &cobra.Command{
		Use:   "snapshot -o <file>",
		Short: "Capture /proc into one file to query later",
		Long: `Capture everything procsql's tables read from /proc into one file: the raw
bytes of each file, link targets, directory listings, executable hashes, and
every failed read with its errno. Query it later, on any machine, with
--snapshot FILE; the tables return what they returned at capture time.

The file is a zstd-compressed tar archive (tar --zstd -tf FILE lists it)
with a manifest that holds the SHA-256 of every entry. It is written
unnamed and gets its name only when complete, so an interrupted capture
leaves no file behind.`,
		Example: `  procsql snapshot -o host1.procsql
  procsql snapshot -o host1.procsql --copy-deleted-exe
  procsql --snapshot host1.procsql query "SELECT * FROM processes"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.snapshotPath != "" {
				return fmt.Errorf("snapshot reads the live /proc: drop --snapshot, or use --proc to name another procfs root")
			}
			return a.runSnapshot(cmd, opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&opts.output, "output", "o", "", "snapshot `file` to write (required)")
	flags.BoolVar(&opts.force, "force", false, "overwrite the output file if it exists")
	flags.BoolVar(&opts.copyDeletedExe, "copy-deleted-exe", false, "also store the bytes of deleted and memfd executables")
	flags.Int64Var(&opts.maxExeSize, "max-exe-size", 64<<20, "largest executable copy in `bytes`; longer ones are cut and marked truncated")
	return cmd
}

func (a *app) runSnapshot(cmd *cobra.Command, opts snapshotOptions) error {
	if opts.output == "" {
		return fmt.Errorf("missing output file: pass -o FILE")
	}
	if opts.maxExeSize <= 0 || opts.maxExeSize > snapshot.DefaultLimits.MaxEntrySize {
		return fmt.Errorf("invalid --max-exe-size %d: give 1 to %d bytes, the largest entry a snapshot can hold", opts.maxExeSize, snapshot.DefaultLimits.MaxEntrySize)
	}
	live, err := source.NewDir(a.procRoot)
	if err != nil {
		return err
	}
	capture := snapshot.Options{
		Output:         opts.output,
		Force:          opts.force,
		Collector:      "procsql " + version(),
		CopyDeletedExe: opts.copyDeletedExe,
		MaxExeSize:     opts.maxExeSize,
	}
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		capture.Progress = func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(a.stderr),
					progressbar.OptionSetDescription("reading processes"), progressbar.OptionClearOnFinish())
			}
			bar.Set(done)
		}
	}
	sum, err := snapshot.Capture(cmd.Context(), live, capture)
	if err != nil {
		return err
	}
	fmt.Fprint(a.stderr, formatSummary(sum))
	return nil
}

func formatSummary(sum snapshot.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrote %s (%d bytes)\n", sum.Output, sum.FileSize)
	fmt.Fprintf(&b, "processes: %d, files: %d, bytes read: %d\n", sum.Processes, sum.Files, sum.Bytes)
	fmt.Fprintf(&b, "capture window: %s to %s (%s)\n", sum.Start.Format("2006-01-02T15:04:05.000Z"), sum.End.Format("2006-01-02T15:04:05.000Z"), sum.End.Sub(sum.Start).Round(1e6))
	if len(sum.Errors) > 0 {
		names := make([]string, 0, len(sum.Errors))
		for errno := range sum.Errors {
			names = append(names, errno)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, errno := range names {
			parts[i] = fmt.Sprintf("%s %d", errno, sum.Errors[errno])
		}
		fmt.Fprintf(&b, "failed reads, recorded as evidence: %s\n", strings.Join(parts, ", "))
	}
	return b.String()
}
