package engine

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/procsql/procsql/source"
)

// The two hosts of testdata/hosts share pids 1 and 300, and the dropper's
// digest; reverseShellTree names no host, so its label is its location.
const (
	web1Tree         = "../testdata/hosts/web1/proc"
	web2Tree         = "../testdata/hosts/web2/proc"
	reverseShellTree = "../testdata/hunts/reverse_shell/positive"
)

// capturedSource is a source whose capture started at a chosen time, as a
// snapshot's does.
type capturedSource struct {
	source.Source
	at time.Time
}

func (s capturedSource) Describe() source.Description {
	d := s.Source.Describe()
	d.Kind = "snapshot"
	d.ReadTime = s.at
	return d
}

func openTree(t *testing.T, root string) *source.Dir {
	t.Helper()
	dir, err := source.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestHostLabels(t *testing.T) {
	morning := time.Date(2026, 12, 4, 9, 29, 22, 500_000_000, time.UTC)
	evening := time.Date(2026, 12, 4, 19, 29, 22, 0, time.UTC)
	cases := []struct {
		name  string
		srcs  []source.Source
		hosts []string
	}{
		{"distinct names", []source.Source{openTree(t, web1Tree), openTree(t, web2Tree)}, []string{"web1", "web2"}},
		{"shared name", []source.Source{
			capturedSource{openTree(t, web1Tree), evening},
			capturedSource{openTree(t, web2Tree), morning},
			capturedSource{openTree(t, web1Tree), morning},
		}, []string{"web1@2026-12-04T19:29:22Z", "web2", "web1@2026-12-04T09:29:22Z"}},
		{"shared name and second", []source.Source{
			capturedSource{openTree(t, web1Tree), morning},
			capturedSource{openTree(t, web1Tree), morning.Add(100 * time.Millisecond)},
		}, []string{"web1@2026-12-04T09:29:22Z#1", "web1@2026-12-04T09:29:22Z#2"}},
		{"no host name", []source.Source{openTree(t, reverseShellTree)}, []string{reverseShellTree}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eng, err := NewMulti(c.srcs)
			if err != nil {
				t.Fatal(err)
			}
			if got := eng.Hosts(); !slices.Equal(got, c.hosts) {
				t.Errorf("Hosts() = %q, want %q", got, c.hosts)
			}
		})
	}
}

func TestNewMultiRejectsNoSources(t *testing.T) {
	if _, err := NewMulti(nil); err == nil {
		t.Error("NewMulti(nil) succeeded, want an error that asks for a source")
	}
}

// hostQueries mix conditions on host and captured_at with conditions on the
// tables' own columns, so the scan gets conditions with the source's values
// put in, conditions it decides once per source, and conditions it cannot
// push at all.
var hostQueries = []string{
	"SELECT host, pid, name FROM processes WHERE host = 'web2' ORDER BY host, pid",
	"SELECT host, pid, name FROM processes WHERE host = 'web1' OR name = 'nginx' ORDER BY host, pid",
	"SELECT host, pid FROM processes WHERE host LIKE 'web%' AND pid = 300 ORDER BY host, pid",
	"SELECT host, pid FROM processes WHERE CONCAT(host, ':', pid) IN ('web1:300', 'web2:410') ORDER BY host, pid",
	"SELECT host, pid FROM processes WHERE host <> name AND captured_at > '2000-01-01' ORDER BY host, pid",
	"SELECT host, pid FROM processes WHERE captured_at < '2000-01-01' ORDER BY host, pid",
	"SELECT host, pid FROM processes WHERE host IS NULL ORDER BY host, pid",
	"SELECT host, pid FROM processes WHERE host = 'nowhere' ORDER BY host, pid",
	"SELECT p.host, p.pid, q.pid FROM processes p JOIN processes q ON q.pid = p.ppid AND q.host = p.host WHERE p.host <> 'web2' ORDER BY p.host, p.pid",
	"SELECT p.host, p.pid FROM processes p WHERE EXISTS (SELECT 1 FROM processes q WHERE q.host <> p.host AND q.exe_sha256 = p.exe_sha256) ORDER BY p.host, p.pid",
}

// TestHostConditionsPushedGiveFilterResult runs hostQueries with and without
// the push conditions rule on three sources, and requires the same rows.
func TestHostConditionsPushedGiveFilterResult(t *testing.T) {
	run := func(pushdown bool) []string {
		eng, err := NewMulti([]source.Source{openTree(t, web1Tree), openTree(t, web2Tree), openTree(t, reverseShellTree)})
		if err != nil {
			t.Fatal(err)
		}
		if !pushdown {
			removePushConditionsRule(t, eng)
		}
		var out []string
		for _, q := range hostQueries {
			res, err := eng.Query(eng.NewSession(context.Background()), q)
			if err != nil {
				out = append(out, "error: "+err.Error())
				continue
			}
			out = append(out, fmt.Sprint(res.Rows))
		}
		return out
	}
	with, without := run(true), run(false)
	for i, q := range hostQueries {
		if with[i] != without[i] {
			t.Errorf("%s:\n pushed:     %s\n not pushed: %s", q, with[i], without[i])
		}
	}
	if with[0] != "[[web2 1 systemd] [web2 300 nginx] [web2 410 sshd]]" {
		t.Errorf("%s returned %s, want the three processes of web2", hostQueries[0], with[0])
	}
}

// TestBindSourceDecidesHostConditions checks what the scan of one source
// gets from pushed conditions: conditions on host and captured_at alone are
// decided, and the others read only the table's own columns.
func TestBindSourceDecidesHostConditions(t *testing.T) {
	eng, err := NewMulti([]source.Source{openTree(t, web1Tree), openTree(t, web2Tree)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := eng.NewSession(context.Background())
	procs := eng.sql.Analyzer.Catalog.DbProvider.(*provider).db.tables["processes"].(*table)
	field := func(name string) sql.Expression {
		i := procs.schema.IndexOfColName(name)
		return expression.NewGetField(i, procs.schema[i].Type, name, procs.schema[i].Nullable)
	}
	hostIs := expression.NewEquals(field(HostColumn), expression.NewLiteral("web2", types.LongText))
	nameIs := expression.NewEquals(field("name"), expression.NewLiteral("sshd", types.LongText))
	cases := []struct {
		name       string
		conditions []sql.Expression
		keep       [2]bool // for web1 and web2
		scan       int     // conditions left for the scan of a kept source
	}{
		{"host = web2", []sql.Expression{hostIs}, [2]bool{false, true}, 0},
		{"host = web2, name = sshd", []sql.Expression{hostIs, nameIs}, [2]bool{false, true}, 1},
		{"host = web2 OR name = sshd", []sql.Expression{expression.NewOr(hostIs, nameIs)}, [2]bool{true, true}, 1},
		{"captured_at IS NULL", []sql.Expression{expression.NewIsNull(field(CapturedAtColumn))}, [2]bool{false, false}, 0},
		{"NOT captured_at IS NULL", []sql.Expression{expression.NewNot(expression.NewIsNull(field(CapturedAtColumn)))}, [2]bool{true, true}, 0},
	}
	start := time.Now().UTC()
	for _, c := range cases {
		for i, want := range c.keep {
			src := procs.sources[i]
			bound, keep := bindSource(ctx, c.conditions, procs.inner, src, &start)
			if keep != want {
				t.Errorf("%s: keep %s = %v, want %v", c.name, src.host, keep, want)
				continue
			}
			if keep && len(bound) != c.scan {
				t.Errorf("%s: %d conditions left for the scan of %s, want %d: %v", c.name, len(bound), src.host, c.scan, bound)
			}
			for _, cond := range bound {
				sql.Inspect(cond, func(e sql.Expression) bool {
					if f, ok := e.(*expression.GetField); ok && f.Index() >= procs.inner {
						t.Errorf("%s: scan condition %s of %s reads column %s, which the scan does not fill", c.name, cond, src.host, f.Name())
					}
					return true
				})
			}
		}
	}
}
