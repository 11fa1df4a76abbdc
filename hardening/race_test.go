package hardening

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Shape of the churn in TestChurnKeepsRowsConsistent. The test logs the
// rate of children it reached.
const (
	churnDuration   = 15 * time.Second
	shortLivedChurn = 16 // spawners of children that run 20 to 120 ms
	longLivedChurn  = 8  // spawners of children that run 0.5 to 2 s
	queryWorkers    = 2
)

// huntSummaryPattern matches the summary line of procsql hunt, such as
// "hits: 2 high (1 hunt matched, 33 ran)" or "... 32 ran, 1 failed)".
var huntSummaryPattern = regexp.MustCompile(`^hits: .* \((\d+) hunts? matched, (\d+) ran(, (\d+) failed)?\)$`)

// readFailurePattern matches a warning about failed reads, as opposed to a
// note such as the one for a kernel without /proc/modules.
var readFailurePattern = regexp.MustCompile(`\d+ reads? of .+ failed \(`)

// stressRun counts what the concurrent procsql runs did.
type stressRun struct {
	queries, snapshots, hunts atomic.Int64
	rows                      atomic.Int64

	mu       sync.Mutex
	huntHits map[string]int       // hits per hunt id over all runs
	files    []string             // snapshot files written
	captured map[string]time.Time // when the capture of each file ended
}

func TestChurnKeepsRowsConsistent(t *testing.T) {
	if !enterNamespaces(t) {
		return
	}
	binary := procsqlBinary(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	hash, size := fileDigest(t, self)
	workDir := t.TempDir()
	snapshotDir := t.TempDir()
	problems := &report{}
	checker := &rowChecker{
		source: "live", churnExe: self, churnHash: hash, churnSize: size,
		workDir: workDir, namespaces: ownNamespaces(t), testStart: time.Now(), report: problems,
	}

	listed := mustRunProcsql(t, binary, runOptions{}, "--format", "jsonl", "hunt", "--list")
	huntList, err := decodeRows(listed.stdout)
	if err != nil || listed.status != 0 || len(huntList) == 0 {
		t.Fatalf("procsql hunt --list: status %d, %d hunts, %v; stderr:\n%s", listed.status, len(huntList), err, listed.stderr)
	}

	deadline := time.Now().Add(churnDuration)
	spawner := startChurn(self, workDir, shortLivedChurn, longLivedChurn, deadline)
	stats := &stressRun{huntHits: map[string]int{}, captured: map[string]time.Time{}}
	// Queries start once every spawner has started a child.
	for spawner.started.Load() < shortLivedChurn+longLivedChurn && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var workers sync.WaitGroup
	for worker := range queryWorkers {
		workers.Go(func() {
			// Each worker starts at its own part of the cycle, so the
			// workers run different queries at any moment.
			for i := worker * len(stressCycle) / queryWorkers; time.Now().Before(deadline); i++ {
				query := stressQuery(i, spawner.recentPIDs())
				stats.rows.Add(int64(runCheckedQuery(binary, checker, query, nil, time.Time{})))
				stats.queries.Add(1)
			}
		})
	}
	workers.Go(func() {
		for i := 0; time.Now().Before(deadline); i++ {
			captureSnapshot(binary, filepath.Join(snapshotDir, fmt.Sprintf("churn-%d.procsql", i)), stats, problems)
		}
	})
	workers.Go(func() {
		for time.Now().Before(deadline) {
			runAllHunts(binary, len(huntList), stats, problems)
		}
	})
	workers.Wait()
	spawner.wait()

	started, killed := spawner.started.Load(), spawner.killed.Load()
	t.Logf("churn: %d children in %v (%.0f a second), %d of them killed", started, churnDuration, float64(started)/churnDuration.Seconds(), killed)
	t.Logf("procsql runs during the churn: %d queries with %d rows, %d of them of churn children; %d snapshots; %d hunt runs",
		stats.queries.Load(), stats.rows.Load(), checker.churnRows.Load(), stats.snapshots.Load(), stats.hunts.Load())
	t.Logf("hunt hits over all runs: %v", stats.huntHits)
	if len(spawner.failures) > 0 {
		t.Errorf("churn children failed:\n%s", strings.Join(spawner.failures, "\n"))
	}
	if checker.churnRows.Load() == 0 {
		t.Errorf("no query returned a churn child, so the queries did not race with the churn")
	}
	if stats.snapshots.Load() == 0 || stats.hunts.Load() == 0 {
		t.Errorf("%d snapshots and %d hunt runs finished during the churn, want at least one of each", stats.snapshots.Load(), stats.hunts.Load())
	}

	// The snapshots taken during the churn must verify, and every check
	// must hold on them as it does on the live /proc. Checking the first
	// and the last keeps the test short.
	files := stats.files
	if len(files) > 2 {
		files = []string{files[0], files[len(files)-1]}
	}
	for _, file := range files {
		verify := mustRunProcsql(t, binary, runOptions{}, "snapshot", "verify", file)
		if verify.status != 0 || !strings.Contains(verify.stdout, ": intact\n") {
			t.Errorf("procsql snapshot verify %s: status %d, want 0 and \"intact\"; stdout:\n%s\nstderr:\n%s", file, verify.status, verify.stdout, verify.stderr)
		}
		offline := &rowChecker{
			source: "snapshot", churnExe: self, churnHash: hash, churnSize: size,
			workDir: workDir, namespaces: checker.namespaces, testStart: checker.testStart, report: problems,
		}
		for _, query := range append(append([]tableCheck{}, tableChecks...), joinChecks...) {
			runCheckedQuery(binary, offline, query, []string{"--snapshot", file}, stats.captured[file])
		}
	}
	if problems.count() > 0 {
		t.Errorf("%d problems:\n%s", problems.count(), problems)
	}
}

// lookupChecks read the per-process tables by pid. stressQuery puts the
// pids of the children started last into each query's %s.
var lookupChecks = []tableCheck{
	{"processes by pid", "SELECT * FROM processes WHERE pid IN (%s)", checkProcesses},
	{"fds by pid", "SELECT * FROM fds WHERE pid IN (%s)", checkFDs},
	{"maps by pid", "SELECT * FROM maps WHERE pid IN (%s)", checkMaps},
	{"threads by pid", "SELECT * FROM threads WHERE pid IN (%s)", checkThreads},
	{"environ by pid", "SELECT * FROM environ WHERE pid IN (%s)", checkEnviron},
	{"process_sockets by pid", "SELECT * FROM process_sockets WHERE pid IN (%s)", checkProcessSockets},
	{"sockets by inode", "SELECT DISTINCT s.* FROM fds f JOIN sockets s ON s.inode = f.inode WHERE f.pid IN (%s)", checkSockets},
}

// perProcessChecks is the number of tableChecks, from the start, that read
// processes or sockets; the rest read host files that the churn leaves alone.
const perProcessChecks = 7

// stressCycle is the order in which the query workers run the checks: the
// whole-table queries of processes and sockets, the joins, the lookups by
// pid and then the host tables.
var stressCycle = slices.Concat(tableChecks[:perProcessChecks], joinChecks, lookupChecks, tableChecks[perProcessChecks:])

// stressQuery returns the i-th query of stressCycle, with recent, the pids of
// children that were running a moment ago, in a lookup.
func stressQuery(i int, recent []int) tableCheck {
	query := stressCycle[i%len(stressCycle)]
	if !strings.Contains(query.query, "%s") {
		return query
	}
	pids := []string{"1"} // the test itself, which stays
	for _, pid := range recent {
		pids = append(pids, strconv.Itoa(pid))
	}
	query.query = fmt.Sprintf(query.query, strings.Join(pids, ", "))
	return query
}

// runCheckedQuery runs one query with --format jsonl, requires exit status
// 0 and no output on stderr but warnings that are not read failures, checks
// the rows and returns their number. readEnd bounds the times in the rows,
// and the zero time stands for the moment procsql exited.
func runCheckedQuery(binary string, checker *rowChecker, query tableCheck, sourceArgs []string, readEnd time.Time) int {
	args := append(append([]string{}, sourceArgs...), "--format", "jsonl", "query", query.query)
	run, err := runProcsql(binary, runOptions{}, args...)
	if err != nil {
		checker.report.add("%s: %v", query.name, err)
		return 0
	}
	for _, problem := range crashProblems(run) {
		checker.report.add("%s: %s", query.name, problem)
	}
	if run.status != 0 {
		checker.report.add("%s: procsql query exited with status %d, want 0; stderr:\n%s", query.name, run.status, firstLines(run.stderr, 10))
	}
	for _, line := range strings.Split(strings.TrimSuffix(run.stderr, "\n"), "\n") {
		switch {
		case line == "":
		case !strings.HasPrefix(line, "warning: "):
			checker.report.add("%s: stderr line %q is not a warning", query.name, line)
		case readFailurePattern.MatchString(line):
			// As root no read fails but for an exited process, which the
			// documentation says is skipped without a warning.
			checker.report.add("%s: %s", query.name, line)
		}
	}
	rows, err := decodeRows(run.stdout)
	if err != nil {
		checker.report.add("%s: %v", query.name, err)
	}
	if readEnd.IsZero() {
		readEnd = run.end
	}
	query.check(checker, rows, readEnd)
	return len(rows)
}

// captureSnapshot runs procsql snapshot -o file and records the file.
func captureSnapshot(binary, file string, stats *stressRun, problems *report) {
	run, err := runProcsql(binary, runOptions{}, "snapshot", "-o", file)
	if err != nil {
		problems.add("snapshot: %v", err)
		return
	}
	for _, problem := range crashProblems(run) {
		problems.add("snapshot: %s", problem)
	}
	if run.status != 0 || run.stdout != "" || !strings.HasPrefix(run.stderr, "wrote "+file+" (") {
		problems.add("procsql snapshot -o %s: status %d, want 0 with a summary on stderr; stdout:\n%s\nstderr:\n%s", file, run.status, run.stdout, firstLines(run.stderr, 10))
		return
	}
	stats.snapshots.Add(1)
	stats.mu.Lock()
	stats.files = append(stats.files, file)
	stats.captured[file] = run.end
	stats.mu.Unlock()
}

// runAllHunts runs every hunt once with --format jsonl and checks the exit
// status (0 or 1), that each line of stdout is a hit, and that the summary
// on stderr counts every hunt as run and none as failed.
func runAllHunts(binary string, hunts int, stats *stressRun, problems *report) {
	run, err := runProcsql(binary, runOptions{}, "--format", "jsonl", "hunt")
	if err != nil {
		problems.add("hunt: %v", err)
		return
	}
	stats.hunts.Add(1)
	for _, problem := range crashProblems(run) {
		problems.add("hunt: %s", problem)
	}
	if run.status != 0 && run.status != 1 {
		problems.add("procsql hunt exited with status %d, want 0 (no hits) or 1 (hits); stderr:\n%s", run.status, firstLines(run.stderr, 10))
	}
	hits, err := decodeRows(run.stdout)
	if err != nil {
		problems.add("hunt: %v", err)
	}
	if (len(hits) > 0) != (run.status == 1) {
		problems.add("procsql hunt printed %d hits with exit status %d, want status 1 exactly when there are hits", len(hits), run.status)
	}
	stats.mu.Lock()
	for _, hit := range hits {
		id, _ := hit["hunt"].(string)
		if _, isRow := hit["row"].(map[string]any); id == "" || !isRow {
			problems.add("hunt printed %v, want an object with hunt and row", hit)
			continue
		}
		stats.huntHits[id]++
	}
	stats.mu.Unlock()

	summaries := 0
	for _, line := range strings.Split(strings.TrimSuffix(run.stderr, "\n"), "\n") {
		m := huntSummaryPattern.FindStringSubmatch(line)
		switch {
		case m != nil:
			summaries++
			if ran, _ := strconv.Atoi(m[2]); ran != hunts || m[3] != "" {
				problems.add("hunt summary %q, want all %d hunts run and none failed", line, hunts)
			}
		case readFailurePattern.MatchString(line):
			problems.add("hunt: %s", line)
		case !strings.HasPrefix(line, "warning: "):
			problems.add("hunt: stderr line %q is neither the summary nor a warning", line)
		}
	}
	if summaries != 1 {
		problems.add("hunt printed %d summary lines on stderr, want 1:\n%s", summaries, run.stderr)
	}
}

// fileDigest returns the SHA-256 in hex and the size of a file.
func fileDigest(t *testing.T, path string) (string, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), size
}

// ownNamespaces reads the inodes of the test's PID, network and mount
// namespaces from its ns links.
func ownNamespaces(t *testing.T) nsInodes {
	t.Helper()
	read := func(kind string) uint64 {
		link, err := os.Readlink("/proc/self/ns/" + kind)
		if err != nil {
			t.Fatal(err)
		}
		inode, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(link, kind+":["), "]"), 10, 64)
		if err != nil {
			t.Fatalf("ns link %q: %v", link, err)
		}
		return inode
	}
	return nsInodes{pid: read("pid"), net: read("net"), mnt: read("mnt")}
}
