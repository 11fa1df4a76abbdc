package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/procsql/procsql/export"
)

type exportOptions struct {
	format string
	dir    string
	tables string
	force  bool
	host   string
	hunts  string
}

func (a *app) exportCommand() *cobra.Command {
	opts := exportOptions{}
	cmd := &cobra.Command{
		Use:   "export --out DIR",
		Short: "Write the tables to Parquet, JSON lines or CSV files, or a Timesketch timeline",
		Long: `Write every table, or those of --tables, to one file per table in DIR
(DIR/<table>.parquet, .jsonl or .csv), for DuckDB, Spark, Trino, ClickHouse
and other engines that query the files of many hosts together. The files
have the SQL table's columns with the same names and types, and every row
also carries host (the host name of the system table, or --host) and
captured_at (when the source was read, in UTC).

--format timesketch writes one DIR/timeline.jsonl for Timesketch instead:
an event for each process start and for each hit of the bundled hunts.

The source is the one of --proc or --snapshot. On a --proc source all
tables are read through one cache, so they agree with each other, at the
cost of keeping what was read in memory until the export ends. Files are
written under temporary names and named only when all are complete, and an
existing file is an error unless --force. docs/export.md describes the
column types of each format.`,
		Example: `  procsql export --out exports/$(hostname)
  procsql --snapshot host1.procsql export --format jsonl --out exports/host1 --tables processes,fds
  procsql --proc /mnt/case7/proc export --host web-07 --out exports/web-07
  procsql export --format timesketch --out timeline/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runExport(cmd.Context(), opts)
		},
	}
	flags := cmd.Flags()
	// This --format replaces the global one, whose values are for printed
	// results.
	flags.StringVar(&opts.format, "format", export.Parquet, "file `format`: "+strings.Join(export.Formats, ", "))
	flags.StringVar(&opts.dir, "out", "", "output `directory`, created when missing (required)")
	flags.StringVar(&opts.tables, "tables", "", "comma-separated `tables` to write (default every table)")
	flags.BoolVar(&opts.force, "force", false, "replace existing files in the output directory")
	flags.StringVar(&opts.host, "host", "", "host `name` for the host column, in place of the one the source reports (required when it reports none)")
	flags.StringVar(&opts.hunts, "hunts", "", "also load the hunts in the .sql files of this `directory` (hunts table and timeline)")
	return cmd
}

func (a *app) runExport(ctx context.Context, opts exportOptions) error {
	if err := export.CheckFormat(opts.format); err != nil {
		return err
	}
	if opts.dir == "" {
		return fmt.Errorf("missing output directory: pass --out DIR")
	}

	var tables []string
	for _, name := range strings.Split(opts.tables, ",") {
		if name = strings.TrimSpace(name); name != "" {
			tables = append(tables, name)
		}
	}

	hunts, err := loadHunts(opts.hunts)
	if err != nil {
		return err
	}
	eng, err := a.openEngine(ctx, opts.hunts)
	if err != nil {
		return err
	}
	if a.snapshotPath == "" {
		// A snapshot is one capture already, and caching it would hold
		// its decompressed files in memory for nothing.
		ctx = eng.ShareReads(ctx)
	}

	start := time.Now()
	report, err := export.Run(ctx, eng, export.Options{
		Format: opts.format,
		Dir:    opts.dir,
		Tables: tables,
		Force:  opts.force,
		Host:   opts.host,
		Hunts:  hunts,
	})
	if err != nil {
		return err
	}
	return a.printExportReport(report, time.Since(start))
}

// printExportReport prints one line per file (path, rows, bytes), a
// summary, and the warnings on stderr.
func (a *app) printExportReport(report *export.Report, elapsed time.Duration) error {
	var total int64
	for _, f := range report.Files {
		total += f.Bytes
		if _, err := fmt.Fprintf(a.stdout, "%s\t%d rows\t%d bytes\n", f.Path, f.Rows, f.Bytes); err != nil {
			return fmt.Errorf("write summary: %w", err)
		}
	}

	summary := fmt.Sprintf("exported %d files, %d bytes", len(report.Files), total)
	if report.Host != "" {
		// With several sources the rows name their hosts themselves.
		summary += fmt.Sprintf(", of host %s captured at %s", report.Host, report.CapturedAt.Format(time.RFC3339Nano))
	}
	if _, err := fmt.Fprintf(a.stdout, "%s in %.2f s\n", summary, elapsed.Seconds()); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	if len(report.Warnings) > 0 {
		fmt.Fprintf(a.stderr, "warning: %s\n", strings.Join(report.Warnings, "; "))
	}
	return nil
}
