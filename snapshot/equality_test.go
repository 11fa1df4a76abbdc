package snapshot_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/internal/livetest"
	"github.com/procsql/procsql/snapshot"
	"github.com/procsql/procsql/source"
	"github.com/procsql/procsql/tables"
)

// captureOutputEnv names the output file when the test binary runs as an
// unprivileged capturing child.
const captureOutputEnv = "PROCSQL_TEST_CAPTURE_OUTPUT"

func TestMain(m *testing.M) {
	if out := os.Getenv(captureOutputEnv); out != "" {
		os.Exit(captureAsChild(out))
	}
	if livetest.RunChild() {
		return
	}
	os.Exit(m.Run())
}

// captureAsChild captures the live /proc to out and returns the exit status.
func captureAsChild(out string) int {
	live, err := source.NewDir("/proc")
	if err == nil {
		_, err = snapshot.Capture(context.Background(), live, snapshot.Options{Output: out, Collector: "procsql test"})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "capture:", err)
		return 1
	}
	return 0
}

// changing lists the columns whose values change by nature between a
// capture and a later live read, and so are left out of the comparison.
var changing = map[string]map[string]bool{
	"system":    {"source": true, "location": true, "read_time": true, "capture_end": true, "collector": true},
	"processes": {"rss_bytes": true, "state": true},
	"threads":   {"utime_ticks": true, "stime_ticks": true},
	"maps":      {"rss_bytes": true, "pss_bytes": true, "swap_bytes": true},
	"meminfo":   {"value_bytes": true, "value": true},
}

// selectFor returns a statement that reads every compared column of t,
// narrowed to the given pids for per-process tables.
func selectFor(t tables.Table, pids []int) string {
	var cols []string
	for _, c := range t.Columns() {
		if !changing[t.Name()][c.Name] {
			cols = append(cols, "`"+c.Name+"`")
		}
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM `" + t.Name() + "`"
	if t.PerProcess() || t.Name() == "process_sockets" {
		var in []string
		for _, pid := range pids {
			in = append(in, strconv.Itoa(pid))
		}
		q += " WHERE pid IN (" + strings.Join(in, ", ") + ")"
	}
	return q
}

func render(t *testing.T, src source.Source, query string) []string {
	t.Helper()
	eng, err := engine.New(src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Query(eng.NewSession(context.Background()), query)
	if err != nil {
		t.Fatalf("query %q: %v", query, err)
	}
	out := make([]string, len(res.Rows))
	for i, row := range res.Rows {
		out[i] = fmt.Sprintf("%#v", row)
	}
	return out
}

func TestSnapshotMatchesLive(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}
	dir := t.TempDir()
	server := livetest.StartChild(t, "server", dir, []string{"arg with spaces", ""}, []string{"SNAP_TOKEN=x", "BYTES=\xff"})
	client := livetest.StartChild(t, "client", dir, []string{strconv.Itoa(server.Report.Port)}, nil)
	server.Next(t)

	// A third child runs from a copy of the test binary that is deleted
	// once it runs, as malware that removes its own file does.
	payload := filepath.Join(dir, "payload")
	original, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(payload, original, 0o755); err != nil {
		t.Fatal(err)
	}
	deleted := livetest.StartChildBinary(t, payload, "server", t.TempDir(), nil, nil)
	if err := os.Remove(payload); err != nil {
		t.Fatal(err)
	}

	// The test process itself keeps allocating while it queries, so only
	// the idle children are compared.
	pids := []int{server.Cmd.Process.Pid, client.Cmd.Process.Pid, deleted.Cmd.Process.Pid}

	live, err := source.NewDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "live.procsql")
	sum, err := snapshot.Capture(context.Background(), live, snapshot.Options{Output: out, Collector: "procsql test", CopyDeletedExe: true, MaxExeSize: snapshot.DefaultLimits.MaxEntrySize})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Processes != 4 {
		t.Errorf("captured %d processes, want 4 (the test and three children)", sum.Processes)
	}
	snap, err := snapshot.Open(context.Background(), out, snapshot.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// A fresh live source, so nothing read during the capture is reused.
	live, err = source.NewDir("/proc")
	if err != nil {
		t.Fatal(err)
	}

	for _, table := range tables.All() {
		t.Run(table.Name(), func(t *testing.T) {
			q := selectFor(table, pids)
			fromLive := render(t, live, q)
			fromSnapshot := render(t, snap, q)
			if len(fromLive) != len(fromSnapshot) {
				t.Errorf("live has %d rows, snapshot %d", len(fromLive), len(fromSnapshot))
			}
			shown := 0
			for i := range min(len(fromLive), len(fromSnapshot)) {
				if fromLive[i] != fromSnapshot[i] && shown < 3 {
					t.Errorf("row %d differs\nlive:     %s\nsnapshot: %s", i, fromLive[i], fromSnapshot[i])
					shown++
				}
			}
		})
	}

	t.Run("unprivileged capture", func(t *testing.T) {
		// setpriv runs a copy of the test binary as nobody; the build
		// directory of go test is not readable by other users.
		// t.TempDir's parent is private to root, so nobody needs its own.
		dir, err := os.MkdirTemp("", "procsql-nobody-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		binary := filepath.Join(dir, "capture.test")
		data, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(binary, data, 0o755); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "nobody.procsql")
		cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary)
		cmd.Env = []string{captureOutputEnv + "=" + out}
		if output, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("capture as nobody: %v\n%s", err, output)
		}
		snap, err := snapshot.Open(context.Background(), out, snapshot.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		eng, err := engine.New(snap)
		if err != nil {
			t.Fatal(err)
		}
		res, err := eng.Query(eng.NewSession(context.Background()), fmt.Sprintf("SELECT pid, name, exe, (SELECT COUNT(*) FROM environ e WHERE e.pid = p.pid) FROM processes p WHERE pid = %d", pids[0]))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 1 {
			t.Fatalf("server process rows = %v, want one", res.Rows)
		}
		row := res.Rows[0]
		if row[2] != nil || fmt.Sprint(row[3]) != "0" {
			t.Errorf("root-owned server seen by nobody: exe %v and %v environment rows, want NULL and 0", row[2], row[3])
		}
		if !strings.Contains(strings.Join(res.Warnings, "\n"), "EACCES") {
			t.Errorf("warnings %q do not report the EACCES recorded by the capture", res.Warnings)
		}
	})

	t.Run("deleted executable copy", func(t *testing.T) {
		want := sha256Hex(original)
		var found []snapshot.Executable
		for _, e := range snap.Manifest().Executables {
			if e.PID == deleted.Cmd.Process.Pid {
				found = append(found, e)
			}
		}
		if len(found) != 1 {
			t.Fatalf("executables for the deleted payload = %+v, want one", found)
		}
		if found[0].SHA256 != want || found[0].Size != int64(len(original)) || found[0].Truncated {
			t.Errorf("copy = %+v, want SHA-256 %s and %d bytes, not truncated", found[0], want, len(original))
		}
		got := render(t, snap, fmt.Sprintf("SELECT exe_deleted, exe_sha256 FROM processes WHERE pid = %d", deleted.Cmd.Process.Pid))
		if len(got) != 1 || got[0] != fmt.Sprintf("sql.Row{1, %q}", want) {
			t.Errorf("processes row = %q, want exe_deleted 1 and the payload's SHA-256", got)
		}
	})

	t.Run("system source", func(t *testing.T) {
		got := render(t, snap, "SELECT source, location, read_time = CAST('"+sum.Start.Format("2006-01-02 15:04:05.000000")+"' AS DATETIME(6)), capture_end >= read_time, collector FROM `system`")
		want := fmt.Sprintf("sql.Row{\"snapshot\", %q, true, true, \"procsql test\"}", out)
		if len(got) != 1 || got[0] != want {
			t.Errorf("system = %q, want %q", got, want)
		}
	})
}
