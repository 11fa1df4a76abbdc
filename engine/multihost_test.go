package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/source"
)

// The trees of testdata/hosts: web1 and web2 both have pids 1 and 300, and
// the same dropper runs on both under different names and pids.
const (
	web1Tree = "../testdata/hosts/web1/proc"
	web2Tree = "../testdata/hosts/web2/proc"
)

// twoHosts returns an engine over web1 and web2, in that order, each read
// through a countingSource.
func twoHosts(t *testing.T) (*engine.Engine, *countingSource, *countingSource) {
	t.Helper()
	var counted []*countingSource
	var srcs []source.Source
	for _, root := range []string{web1Tree, web2Tree} {
		dir, err := source.NewDir(root)
		if err != nil {
			t.Fatal(err)
		}
		c := &countingSource{Source: dir, reads: map[string]int{}}
		counted = append(counted, c)
		srcs = append(srcs, c)
	}
	eng, err := engine.NewMulti(srcs)
	if err != nil {
		t.Fatal(err)
	}
	// Forget the host name reads of NewMulti, so the counts are those of
	// the statements.
	for _, c := range counted {
		c.reads = map[string]int{}
	}
	return eng, counted[0], counted[1]
}

func query(t *testing.T, eng *engine.Engine, q string) *engine.Result {
	t.Helper()
	res, err := eng.Query(eng.NewSession(context.Background()), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

func rowsText(res *engine.Result) string {
	var lines []string
	for _, row := range res.Rows {
		lines = append(lines, strings.TrimSuffix(fmt.Sprintln(row...), "\n"))
	}
	return strings.Join(lines, "\n")
}

// TestEveryTableEndsWithHostColumns checks the schema that hunts and
// exports rely on, on a single source too: every table read from a source
// ends with host and captured_at, both NOT NULL.
func TestEveryTableEndsWithHostColumns(t *testing.T) {
	dir, err := source.NewDir(web1Tree)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(dir)
	if err != nil {
		t.Fatal(err)
	}

	tables := query(t, eng, "SHOW TABLES")
	if len(tables.Rows) < 10 {
		t.Fatalf("SHOW TABLES lists %d tables, want every procsql table", len(tables.Rows))
	}
	for _, row := range tables.Rows {
		name := row[0].(string)
		if name == engine.HuntsTable {
			continue
		}
		desc := query(t, eng, "DESCRIBE `"+name+"`")
		n := len(desc.Rows)
		if n < 3 {
			t.Errorf("DESCRIBE %s has %d columns", name, n)
			continue
		}
		for i, want := range [][2]string{{"host", "longtext"}, {"captured_at", "datetime(6)"}} {
			col := desc.Rows[n-2+i]
			if col[0] != want[0] || col[1] != want[1] || col[2] != "NO" {
				t.Errorf("%s column %d from the end is %v, want %s %s NOT NULL", name, 2-i, col[:3], want[0], want[1])
			}
		}
	}

	sys := query(t, eng, "SELECT host, captured_at, read_time FROM `system`")
	if len(sys.Rows) != 1 {
		t.Fatalf("system has %d rows on one source, want 1", len(sys.Rows))
	}
	if sys.Rows[0][0] != "web1" {
		t.Errorf("host = %v, want web1, the tree's sys/kernel/hostname", sys.Rows[0][0])
	}
	at, ok := sys.Rows[0][1].(time.Time)
	if !ok || at.IsZero() || !at.Equal(sys.Rows[0][2].(time.Time)) {
		t.Errorf("captured_at = %v, want read_time %v, when the tree was opened", sys.Rows[0][1], sys.Rows[0][2])
	}
}

// TestRowsOfEachHost checks that a table holds the rows of both hosts, with
// pids that repeat across hosts kept apart by host.
func TestRowsOfEachHost(t *testing.T) {
	eng, _, _ := twoHosts(t)
	got := rowsText(query(t, eng, "SELECT host, pid, name FROM processes ORDER BY host, pid"))
	want := strings.Join([]string{
		"web1 1 systemd", "web1 300 kworker", "web1 301 nginx",
		"web2 1 systemd", "web2 300 nginx", "web2 410 sshd",
	}, "\n")
	if got != want {
		t.Errorf("processes of both hosts:\n%s\nwant:\n%s", got, want)
	}
	got = rowsText(query(t, eng, "SELECT host, name FROM processes WHERE pid = 300 ORDER BY host"))
	if want := "web1 kworker\nweb2 nginx"; got != want {
		t.Errorf("pid 300 on both hosts:\n%s\nwant:\n%s", got, want)
	}
}

// TestJoinWithinHost checks that a join on pid and host pairs each process
// with its parent on its own host only, and reads the parent through the
// index on pid and host.
func TestJoinWithinHost(t *testing.T) {
	eng, _, _ := twoHosts(t)
	q := "SELECT c.host, c.pid, p.name FROM processes c JOIN processes p ON p.pid = c.ppid AND p.host = c.host ORDER BY c.host, c.pid"
	got := rowsText(query(t, eng, q))
	want := "web1 300 systemd\nweb1 301 systemd\nweb2 300 systemd\nweb2 410 systemd"
	if got != want {
		t.Errorf("children with their parents:\n%s\nwant:\n%s", got, want)
	}
	plan := planOf(t, eng, q)
	if !strings.Contains(plan, "IndexedTableAccess(processes)") || !strings.Contains(plan, "index: [processes.pid,processes.host]") {
		t.Errorf("join on pid and host does not look up pid and host:\n%s", plan)
	}
	if strings.Contains(plan, "HashJoin") {
		t.Errorf("join on pid and host is a hash join:\n%s", plan)
	}
}

// TestCrossHostJoinOnDigest finds the dropper on both hosts by its digest.
func TestCrossHostJoinOnDigest(t *testing.T) {
	eng, _, _ := twoHosts(t)
	res := query(t, eng, `SELECT a.host, a.pid, a.name, b.host, b.pid, b.name
		FROM processes a JOIN processes b ON b.exe_sha256 = a.exe_sha256 AND b.host > a.host
		WHERE a.exe_deleted = 1
		ORDER BY a.host, a.pid`)
	if got, want := rowsText(res), "web1 300 kworker web2 410 sshd"; got != want {
		t.Errorf("deleted executables that run on two hosts:\n%s\nwant:\n%s", got, want)
	}
}

func TestSystemHasRowPerSource(t *testing.T) {
	eng, _, _ := twoHosts(t)
	res := query(t, eng, "SELECT host, hostname, source, location FROM `system` ORDER BY host")
	want := fmt.Sprintf("web1 web1 tree %s\nweb2 web2 tree %s", web1Tree, web2Tree)
	if got := rowsText(res); got != want {
		t.Errorf("system:\n%s\nwant:\n%s", got, want)
	}
}

// TestHostConditionSkipsOtherSources checks that a condition on host leaves
// the other host unread, and that EXPLAIN names the sources a scan reads.
func TestHostConditionSkipsOtherSources(t *testing.T) {
	eng, web1, web2 := twoHosts(t)
	q := "SELECT pid, name FROM processes WHERE host = 'web2'"
	plan := planOf(t, eng, q)
	if !strings.Contains(plan, "reads 1 of 2 sources: web2") {
		t.Errorf("plan of %s does not show that it reads web2 only:\n%s", q, plan)
	}
	if got := rowsText(query(t, eng, q+" ORDER BY pid")); got != "1 systemd\n300 nginx\n410 sshd" {
		t.Errorf("%s returned:\n%s", q, got)
	}
	if names := web1.names(); len(names) != 0 {
		t.Errorf("query of web2 read web1: %q", names)
	}
	if len(web2.names()) == 0 {
		t.Error("query of web2 read nothing of web2")
	}

	// A lookup of a pid on one host reads that process of that host only.
	web2.reads = map[string]int{}
	q = "SELECT name FROM processes WHERE pid = 410 AND host = 'web2'"
	if plan := planOf(t, eng, q); !strings.Contains(plan, "IndexedTableAccess(processes)") {
		t.Errorf("plan of %s does not look up the pid:\n%s", q, plan)
	}
	if got := rowsText(query(t, eng, q)); got != "sshd" {
		t.Errorf("%s returned %q, want sshd", q, got)
	}
	if names := web1.names(); len(names) != 0 {
		t.Errorf("lookup on web2 read web1: %q", names)
	}
	for _, name := range web2.names() {
		if strings.Contains(name, "300") || strings.HasPrefix(name, "readdir .") {
			t.Errorf("lookup of pid 410 on web2 read %q", name)
		}
	}
}

// TestWarningsNameTheirHost checks that with several sources each read
// failure names the host it happened on.
func TestWarningsNameTheirHost(t *testing.T) {
	eng, _, _ := twoHosts(t)
	res := query(t, eng, "SELECT host, pid, fd FROM fds")
	if len(res.Warnings) != 2 {
		t.Fatalf("warnings %q, want one per host about the missing fd directories", res.Warnings)
	}
	for i, host := range []string{"web1", "web2"} {
		if !strings.HasPrefix(res.Warnings[i], host+": 3 reads of fd failed (not found)") {
			t.Errorf("warning %d = %q, want one that starts with %q", i, res.Warnings[i], host+": 3 reads of fd failed")
		}
	}
}

// TestCapturedAtOfSnapshots checks that captured_at is each source's
// capture start, so a query can tell captures of one host apart.
func TestCapturedAtOfSnapshots(t *testing.T) {
	first := time.Date(2026, 12, 4, 19, 29, 22, 123456789, time.UTC)
	second := first.Add(time.Hour)
	var srcs []source.Source
	for _, at := range []time.Time{first, second} {
		dir, err := source.NewDir(web1Tree)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, snapshotAt{dir, at})
	}
	eng, err := engine.NewMulti(srcs)
	if err != nil {
		t.Fatal(err)
	}
	res := query(t, eng, "SELECT host, captured_at, COUNT(*) FROM processes GROUP BY host, captured_at ORDER BY captured_at")
	want := "web1@2026-12-04T19:29:22Z 2026-12-04 19:29:22.123456 +0000 UTC 3\nweb1@2026-12-04T20:29:22Z 2026-12-04 20:29:22.123456 +0000 UTC 3"
	if got := rowsText(res); got != want {
		t.Errorf("captures of web1:\n%s\nwant:\n%s", got, want)
	}
	if got := eng.Hosts(); !slices.Equal(got, []string{"web1@2026-12-04T19:29:22Z", "web1@2026-12-04T20:29:22Z"}) {
		t.Errorf("Hosts() = %q", got)
	}
}

// snapshotAt is a source that reports a capture start, as a snapshot does.
type snapshotAt struct {
	source.Source
	at time.Time
}

func (s snapshotAt) Describe() source.Description {
	d := s.Source.Describe()
	d.Kind = "snapshot"
	d.ReadTime = s.at
	return d
}
