package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/procsql/procsql/collection"
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

The file is a zstd-compressed tar archive (tar --zstd -tf FILE lists it),
with SHA-256 digests of every file read; procsql snapshot verify FILE
checks them all. It is written
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
	cmd.AddCommand(a.verifyCommand())
	return cmd
}

func (a *app) verifyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "verify <file>",
		Short: "Check every digest of a snapshot file or UAC collection",
		Long: `Check a snapshot file completely: the manifest against its digest, every
compressed segment, every tar header, and the SHA-256 of every captured
file and executable copy. Opening a snapshot for a query checks the
manifest and the segments only; run verify when the file has travelled, to
record that it is intact. It prints the file's SHA-256 for your notes and
exits 1 on the first fault, naming it.

Given a UAC collection (archive or directory), it checks every file against
the collection's own hash list (hash_list.sha256, or .sha1 or .md5 when that
is the strongest there), prints every missing, altered or unlisted file,
and exits 1 when there is one.`,
		Example: `  procsql snapshot verify host1.procsql
  procsql snapshot verify uac-host1-linux-20260101120000.tar.gz`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runVerify(cmd, args[0])
		},
	}
}

func (a *app) runVerify(cmd *cobra.Command, path string) error {
	isCollection, err := collection.IsCollection(path)
	if err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	if isCollection {
		return a.runVerifyCollection(path)
	}
	snap, err := snapshot.Open(cmd.Context(), path, snapshot.Limits{})
	if err != nil {
		return err
	}
	defer snap.Close()
	sum, err := snap.Verify(cmd.Context())
	if err != nil {
		return err
	}
	digest, err := fileSHA256(path)
	if err != nil {
		return err
	}
	m := snap.Manifest()
	fmt.Fprintf(a.stdout, "%s: intact\n", path)
	fmt.Fprintf(a.stdout, "sha256: %s\n", digest)
	fmt.Fprintf(a.stdout, "host: %s, kernel %s\n", m.Host.Hostname, m.Host.KernelRelease)
	fmt.Fprintf(a.stdout, "captured: %s to %s by %s\n", m.Capture.Start.Format(time.RFC3339Nano), m.Capture.End.Format(time.RFC3339Nano), m.Capture.Collector)
	fmt.Fprintf(a.stdout, "processes: %d, segments: %d, files: %d (%d bytes)\n", len(m.Procs), sum.Segments, sum.Files, sum.Bytes)
	return nil
}

// runVerifyCollection checks a UAC collection against its own hash list:
// every listed file must be there with its digest, and every file must be
// listed. It prints each problem and fails when there is one.
func (a *app) runVerifyCollection(path string) error {
	tree, err := collection.Open(path)
	if err != nil {
		return err
	}
	desc := tree.Describe()
	list, files := tree.Checked()
	if len(desc.Problems) > 0 {
		for _, problem := range desc.Problems {
			fmt.Fprintf(a.stdout, "problem: %s\n", problem)
		}
		return fmt.Errorf("%s failed its integrity check: the problems are listed above", path)
	}
	if list == "" {
		return fmt.Errorf("cannot verify %s: the %s collection contains no hash list of its files (UAC writes hash_list.md5, .sha1 or .sha256)", path, desc.Collector)
	}
	fmt.Fprintf(a.stdout, "%s: intact\n", path)
	if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
		digest, err := fileSHA256(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "sha256: %s\n", digest)
	}
	host, _ := tree.ReadFile("sys/kernel/hostname")
	fmt.Fprintf(a.stdout, "host: %s\n", strings.TrimSpace(string(host)))
	fmt.Fprintf(a.stdout, "captured: %s to %s by %s\n", desc.ReadTime.Format(time.RFC3339), desc.CaptureEnd.Format(time.RFC3339), desc.Collector)
	fmt.Fprintf(a.stdout, "files: %d match %s\n", files, list)
	return nil
}

// fileSHA256 returns the SHA-256 of the file at path as lower-case hex.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
