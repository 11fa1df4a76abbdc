package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/output"
	"github.com/procsql/procsql/queries"
)

type huntOptions struct {
	list     bool
	severity string
	dir      string
}

func (a *app) huntCommand() *cobra.Command {
	opts := huntOptions{}
	cmd := &cobra.Command{
		Use:   "hunt [ID...]",
		Short: "Run saved hunting queries and report their hits",
		Long: `Run the hunt library: saved queries that each look for one sign of
compromise, such as a shell on a network connection, a deleted or in-memory
executable, or a tainted kernel module. With no ID every hunt runs, and with
IDs only those. The hunts read the sources chosen by --proc or --snapshot;
with several snapshots each hunt runs once over all of them.

Hits are grouped by hunt: a heading with the hunt's id, severity and title,
the rows (as a table, or as a CSV block with --format csv), and how to
triage them. Every built-in hunt's first column is host. A summary line
then counts the hits by severity, followed, when several hosts are loaded,
by one line per host with hits and a count of the hosts without. With
--format json or jsonl the summary goes to stderr, and stdout holds one
JSON object per hit with the fields hunt, host, severity, title, techniques
and row. Failed reads, such as EACCES on other users' processes when not
root, are counted once per host on stderr after all hunts.

docs/hunts.md describes every built-in hunt. --hunts DIR adds your own: one
file per hunt named <id>.sql, with the same header as the built-in ones.

Exit status: 0 when no hunt matched, 1 when at least one hunt matched, 2 on
an error (an unknown id, a malformed hunt file, a failed query), and 130 when
Ctrl-C stops the run. A hunt whose query fails does not stop the others.`,
		Example: `  procsql hunt
  procsql hunt --severity high
  procsql hunt reverse_shell memfd_executable
  procsql --snapshot host1.procsql --format jsonl hunt > hits.jsonl
  procsql --snapshot web1.procsql --snapshot web2.procsql hunt
  procsql --snapshot ./captures hunt --severity high
  procsql hunt --hunts ./my-hunts --list`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return huntFailure(a.runHunts(cmd.Context(), args, opts))
		},
	}
	// Errors in flags and in the root's checks (--format, --proc with
	// --snapshot) are failures of the hunt too, so they get exit status 2.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return huntFailure(err) })
	cmd.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		for p := c.Parent(); p != nil; p = p.Parent() {
			if p.PersistentPreRunE != nil {
				return huntFailure(p.PersistentPreRunE(c, args))
			}
		}
		return nil
	}
	flags := cmd.Flags()
	flags.BoolVar(&opts.list, "list", false, "list the selected hunts (id, severity, title) instead of running them")
	flags.StringVar(&opts.severity, "severity", "", "run only hunts at or above this `level`: "+strings.Join(queries.Severities, ", "))
	flags.StringVar(&opts.dir, "hunts", "", "also load the hunts in the .sql files of this `directory`")
	return cmd
}

// huntsMatchedError reports that at least one hunt returned rows. It is the
// result of a successful run, not a failure: main exits with ExitCode.
type huntsMatchedError struct {
	hunts int // hunts with at least one hit
	hits  int // rows over all hunts
}

func (e *huntsMatchedError) Error() string {
	return fmt.Sprintf("%s matched with %s", plural(e.hunts, "hunt"), plural(e.hits, "hit"))
}

// ExitCode returns the process exit status for a run with hits.
func (e *huntsMatchedError) ExitCode() int { return 1 }

// huntFailedError marks an error of procsql hunt, so main can exit with
// status 2 and keep status 1 for hits. Error and Unwrap return the wrapped
// error unchanged.
type huntFailedError struct{ err error }

func (e *huntFailedError) Error() string { return e.err.Error() }
func (e *huntFailedError) Unwrap() error { return e.err }

// ExitCode returns the process exit status for a failed run.
func (e *huntFailedError) ExitCode() int { return 2 }

// huntFailure wraps err as a huntFailedError. It leaves nil, hits and
// cancellation as they are: main reports Ctrl-C with its own status.
func huntFailure(err error) error {
	var matched *huntsMatchedError
	if err == nil || errors.As(err, &matched) || errors.Is(err, context.Canceled) {
		return err
	}
	return &huntFailedError{err: err}
}

func (a *app) runHunts(ctx context.Context, ids []string, opts huntOptions) error {
	hunts, err := loadHunts(opts.dir)
	if err != nil {
		return err
	}
	selected, err := selectHunts(hunts, ids, opts.severity)
	if err != nil {
		return err
	}
	if opts.list {
		return a.listHunts(selected)
	}
	eng, err := a.openEngine(ctx, opts.dir)
	if err != nil {
		return err
	}
	return a.huntAll(ctx, eng, selected)
}

// loadHunts returns the built-in hunts and those in dir, ordered by severity,
// most severe first, then by id. A hunt in dir may not reuse a built-in id.
func loadHunts(dir string) ([]queries.Hunt, error) {
	hunts, err := queries.Builtin()
	if err != nil {
		return nil, err
	}
	if dir != "" {
		user, err := queries.LoadDir(dir)
		if err != nil {
			return nil, err
		}
		builtin := map[string]bool{}
		for _, h := range hunts {
			builtin[h.ID] = true
		}
		for _, h := range user {
			if builtin[h.ID] {
				return nil, fmt.Errorf("hunt file %s: id %q is already a built-in hunt: rename the file and its id", h.Source, h.ID)
			}
		}
		hunts = append(hunts, user...)
	}
	sort.SliceStable(hunts, func(i, j int) bool {
		ri, rj := queries.SeverityRank(hunts[i].Severity), queries.SeverityRank(hunts[j].Severity)
		if ri != rj {
			return ri > rj
		}
		return hunts[i].ID < hunts[j].ID
	})
	return hunts, nil
}

// selectHunts keeps the hunts named in ids, or all when ids is empty, and of
// those the ones at or above minSeverity when it is set.
func selectHunts(hunts []queries.Hunt, ids []string, minSeverity string) ([]queries.Hunt, error) {
	minRank := 0
	if minSeverity != "" {
		minRank = queries.SeverityRank(minSeverity)
		if minRank < 0 {
			return nil, fmt.Errorf("invalid --severity %q: use one of %s", minSeverity, strings.Join(queries.Severities, ", "))
		}
	}
	byID := map[string]queries.Hunt{}
	for _, h := range hunts {
		byID[h.ID] = h
	}
	chosen := hunts
	if len(ids) > 0 {
		chosen = nil
		seen := map[string]bool{}
		for _, id := range ids {
			h, ok := byID[id]
			if !ok {
				return nil, fmt.Errorf("unknown hunt %q: use one of %s", id, strings.Join(sortedIDs(hunts), ", "))
			}
			if !seen[id] {
				seen[id] = true
				chosen = append(chosen, h)
			}
		}
	}
	var atLevel []queries.Hunt
	for _, h := range chosen {
		if queries.SeverityRank(h.Severity) >= minRank {
			atLevel = append(atLevel, h)
		}
	}
	if len(atLevel) == 0 {
		return nil, fmt.Errorf("no hunt left to run: none of the selected hunts has severity %s or higher", minSeverity)
	}
	return atLevel, nil
}

func sortedIDs(hunts []queries.Hunt) []string {
	ids := make([]string, len(hunts))
	for i, h := range hunts {
		ids[i] = h.ID
	}
	sort.Strings(ids)
	return ids
}

func (a *app) listHunts(hunts []queries.Hunt) error {
	res := output.Result{Columns: []string{"id", "severity", "title"}}
	for _, h := range hunts {
		res.Rows = append(res.Rows, []any{h.ID, h.Severity, h.Title})
	}
	if err := output.Write(a.stdout, a.format, res); err != nil {
		return fmt.Errorf("write hunt list: %w", err)
	}
	return nil
}

// huntHit is one row of a hunt's result in JSON output. Host is the row's
// host column, and empty for a hunt without one.
type huntHit struct {
	Hunt       string          `json:"hunt"`
	Host       string          `json:"host,omitempty"`
	Severity   string          `json:"severity"`
	Title      string          `json:"title"`
	Techniques []string        `json:"techniques"`
	Row        json.RawMessage `json:"row"`
}

// huntTally is the outcome of a run of hunts.
type huntTally struct {
	ran, matched   int
	hitsBySeverity map[string]int
	hosts          []string // the engine's hosts, in load order
	byHost         map[string]*hostTally
	failures       []string // "<id>: <error>" for each hunt whose query failed
	warnings       *warningSet
}

// hostTally counts the hits of one host.
type hostTally struct {
	matched        int // hunts with a hit on the host
	hitsBySeverity map[string]int
}

// countHosts adds the rows of one hunt's result to the hits of their hosts,
// read from the result's host column. Rows of a hunt without that column
// count under the empty host.
func (t *huntTally) countHosts(severity string, res *engine.Result) {
	column := slices.Index(res.Columns, engine.HostColumn)
	seen := map[string]bool{}
	for _, row := range res.Rows {
		host := ""
		if column >= 0 {
			host = fmt.Sprint(row[column])
		}
		ht := t.byHost[host]
		if ht == nil {
			ht = &hostTally{hitsBySeverity: map[string]int{}}
			t.byHost[host] = ht
		}
		ht.hitsBySeverity[severity]++
		if !seen[host] {
			seen[host] = true
			ht.matched++
		}
	}
}

// huntAll runs each hunt in its own statement and prints the hits of each as
// soon as it finishes, except for --format json, which prints one array at
// the end. A failed query is recorded and the next hunt runs. On the live
// /proc the hunts share one read, so each file is read once for all of them
// and every hunt gets the same version of it. Snapshots and copied trees do
// not change, so there each hunt reads afresh: shared reads would keep
// every file that any hunt read in memory until the last hunt ends, for
// every loaded host at once.
func (a *app) huntAll(ctx context.Context, eng *engine.Engine, hunts []queries.Hunt) error {
	tally := huntTally{hitsBySeverity: map[string]int{}, hosts: eng.Hosts(), byHost: map[string]*hostTally{}, warnings: newWarningSet()}
	collected := []huntHit{}
	if eng.Live() {
		ctx = eng.ShareReads(ctx)
	}
	for _, h := range hunts {
		res, err := eng.Query(eng.NewSession(ctx), h.SQL)
		if errors.Is(err, context.Canceled) {
			return err
		}
		if err != nil {
			tally.failures = append(tally.failures, fmt.Sprintf("%s: %v", h.ID, err))
			continue
		}
		tally.ran++
		tally.warnings.add(res.Warnings)
		if len(res.Rows) == 0 {
			continue
		}
		tally.matched++
		tally.hitsBySeverity[h.Severity] += len(res.Rows)
		tally.countHosts(h.Severity, res)
		result := output.Result{Columns: res.Columns, Sources: res.Sources, Types: res.Types, Rows: res.Rows}
		group, err := a.writeHits(h, result)
		if err != nil {
			return err
		}
		collected = append(collected, group...)
	}
	if a.format == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(collected); err != nil {
			return fmt.Errorf("write hits: %w", err)
		}
	}
	return a.finishHunts(tally)
}

// writeHits prints one hunt's hits in the table, csv or jsonl format. For
// --format json it prints nothing and returns the hits instead.
func (a *app) writeHits(h queries.Hunt, res output.Result) ([]huntHit, error) {
	switch a.format {
	case "json":
		return jsonHits(h, res)
	case "jsonl":
		group, err := jsonHits(h, res)
		if err != nil {
			return nil, err
		}
		return nil, writeJSONLines(a.stdout, group)
	}
	return nil, a.writeHuntGroup(h, res)
}

// finishHunts prints the summary line and the merged read warnings, and
// returns the outcome that sets the exit status: the failed hunts, the
// hits, or nil.
func (a *app) finishHunts(tally huntTally) error {
	summaryOut := a.stdout
	if a.format == "json" || a.format == "jsonl" {
		// stdout holds only JSON.
		summaryOut = a.stderr
	}
	summary := summaryLine(tally.hitsBySeverity, tally.matched, tally.ran, len(tally.failures))
	if len(tally.hosts) > 1 {
		summary += "\n" + strings.Join(hostLines(tally), "\n")
	}
	if _, err := fmt.Fprintln(summaryOut, summary); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	if lines := tally.warnings.lines(); len(lines) > 0 {
		fmt.Fprintf(a.stderr, "warning: %s\n", strings.Join(lines, "; "))
	}

	if len(tally.failures) > 0 {
		return fmt.Errorf("%s failed: %s", plural(len(tally.failures), "hunt"), strings.Join(tally.failures, "; "))
	}
	if tally.matched == 0 {
		return nil
	}
	total := 0
	for _, n := range tally.hitsBySeverity {
		total += n
	}
	return &huntsMatchedError{hunts: tally.matched, hits: total}
}

// writeHuntGroup prints one hunt's hits for the table and csv formats: a
// heading, the rows, and the triage text.
func (a *app) writeHuntGroup(h queries.Hunt, res output.Result) error {
	if _, err := fmt.Fprintf(a.stdout, "== %s [%s] %s\n", h.ID, h.Severity, h.Title); err != nil {
		return fmt.Errorf("write hits of %s: %w", h.ID, err)
	}
	if err := output.Write(a.stdout, a.format, res); err != nil {
		return fmt.Errorf("write hits of %s: %w", h.ID, err)
	}
	if _, err := fmt.Fprintf(a.stdout, "%s\n\n", wrapText("triage: "+h.Triage, 78, "  ")); err != nil {
		return fmt.Errorf("write hits of %s: %w", h.ID, err)
	}
	return nil
}

// jsonHits converts a hunt's rows into hit objects. The rows are encoded by
// package output, so values are written as procsql query writes them.
func jsonHits(h queries.Hunt, res output.Result) ([]huntHit, error) {
	var buf bytes.Buffer
	if err := output.Write(&buf, "jsonl", res); err != nil {
		return nil, fmt.Errorf("encode hits of %s: %w", h.ID, err)
	}
	column := slices.Index(res.Columns, engine.HostColumn)
	var group []huntHit
	for i, line := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
		hit := huntHit{Hunt: h.ID, Severity: h.Severity, Title: h.Title, Techniques: h.Techniques, Row: json.RawMessage(line)}
		if column >= 0 && i < len(res.Rows) {
			hit.Host = fmt.Sprint(res.Rows[i][column])
		}
		group = append(group, hit)
	}
	return group, nil
}

func writeJSONLines(w io.Writer, hits []huntHit) error {
	for _, hit := range hits {
		line, err := json.Marshal(hit)
		if err != nil {
			return fmt.Errorf("encode hit of %s: %w", hit.Hunt, err)
		}
		if _, err := fmt.Fprintf(w, "%s\n", line); err != nil {
			return fmt.Errorf("write hits: %w", err)
		}
	}
	return nil
}

// hostLines counts the hits of each host, in load order, as in
// "  web1: 2 high, 1 medium (2 hunts matched)", and then the hosts without
// hits. Hits of a hunt without a host column come last.
func hostLines(tally huntTally) []string {
	var lines []string
	quiet := 0
	for _, host := range append(slices.Clone(tally.hosts), "") {
		ht := tally.byHost[host]
		switch {
		case ht == nil && host != "":
			quiet++
			continue
		case ht == nil:
			continue
		case host == "":
			host = "rows without a host column"
		}
		lines = append(lines, fmt.Sprintf("  %s: %s (%s matched)", host, severityCounts(ht.hitsBySeverity), plural(ht.matched, "hunt")))
	}
	if quiet > 0 {
		lines = append(lines, fmt.Sprintf("  no hits on %s of %d", plural(quiet, "host"), len(tally.hosts)))
	}
	return lines
}

// severityCounts lists hit counts by severity, most severe first, as in
// "2 high, 1 medium", or "none".
func severityCounts(hitsBySeverity map[string]int) string {
	var counts []string
	for i := len(queries.Severities) - 1; i >= 0; i-- {
		if n := hitsBySeverity[queries.Severities[i]]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, queries.Severities[i]))
		}
	}
	if len(counts) == 0 {
		return "none"
	}
	return strings.Join(counts, ", ")
}

// summaryLine counts hits by severity, most severe first, as in
// "hits: 2 high, 1 medium (3 hunts matched, 27 ran)".
func summaryLine(hitsBySeverity map[string]int, matched, ran, failed int) string {
	tail := fmt.Sprintf("%s matched, %d ran", plural(matched, "hunt"), ran)
	if failed > 0 {
		tail += fmt.Sprintf(", %d failed", failed)
	}
	return fmt.Sprintf("hits: %s (%s)", severityCounts(hitsBySeverity), tail)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// wrapText breaks text into lines of at most width characters at spaces,
// starting every line after the first with indent. A word longer than
// width stays whole.
func wrapText(text string, width int, indent string) string {
	var b strings.Builder
	lineLen := 0
	for i, word := range strings.Fields(text) {
		switch {
		case i == 0:
		case lineLen+1+len(word) > width:
			b.WriteString("\n" + indent)
			lineLen = len(indent)
		default:
			b.WriteByte(' ')
			lineLen++
		}
		b.WriteString(word)
		lineLen += len(word)
	}
	return b.String()
}

// readFailure matches the read-failure warnings of package tables, such as
// "3 reads of environ failed (EACCES), so the values from it are NULL or
// missing", with the "web1: " that names the host when several are loaded.
var readFailure = regexp.MustCompile(`^(.*?: )?(\d+) reads? of (.+)$`)

// warningSet merges the warnings of all hunts into one list. Hunts that read
// the same file of the same processes report the same failure, so a read
// failure is counted once per host, with the largest count that any hunt
// saw.
//
// NOTE: this relies on the wording of tables.Reader.Warnings; a warning in
// another form is kept once, as it is.
type warningSet struct {
	counts map[failureText]int // read failures -> count
	other  map[string]bool
}

// failureText is a read-failure warning without its count.
type failureText struct {
	host string // "web1: ", or "" for a single source
	rest string // the text after "N reads of "
}

func newWarningSet() *warningSet {
	return &warningSet{counts: map[failureText]int{}, other: map[string]bool{}}
}

func (s *warningSet) add(warnings []string) {
	for _, w := range warnings {
		m := readFailure.FindStringSubmatch(w)
		if m == nil {
			s.other[w] = true
			continue
		}
		n, err := strconv.Atoi(m[2])
		if err != nil {
			s.other[w] = true
			continue
		}
		key := failureText{host: m[1], rest: m[3]}
		s.counts[key] = max(s.counts[key], n)
	}
}

// lines returns the merged warnings: read failures first, sorted by host
// and file, then the other warnings, sorted.
func (s *warningSet) lines() []string {
	keys := make([]failureText, 0, len(s.counts))
	for key := range s.counts {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].host != keys[j].host {
			return keys[i].host < keys[j].host
		}
		return keys[i].rest < keys[j].rest
	})
	failures := make([]string, len(keys))
	for i, key := range keys {
		reads := "reads"
		if s.counts[key] == 1 {
			reads = "read"
		}
		failures[i] = fmt.Sprintf("%s%d %s of %s", key.host, s.counts[key], reads, key.rest)
	}
	var other []string
	for w := range s.other {
		other = append(other, w)
	}
	sort.Strings(other)
	return append(failures, other...)
}
