package queries_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/queries"
	"github.com/procsql/procsql/source"
)

// The tests in this file run every built-in hunt through the real engine on
// the fixture trees under testdata/hunts. Each hunt must report exactly the
// expected processes (or modules) of its positive tree, and nothing at all
// on the shared clean tree.

const huntsDir = "../testdata/hunts"

// positiveCases lists, per hunt, the column that identifies a hit and the
// values its positive tree must produce, sorted and without repeats. Every
// positive tree also holds near misses that the hunt must not report.
var positiveCases = map[string]struct {
	column string
	want   []string
}{
	"deleted_executable":              {"pid", []string{"4100"}},
	"deleted_library_mapped":          {"pid", []string{"4900", "4901"}},
	"deleted_log_still_open":          {"pid", []string{"6600", "6601"}},
	"executable_anonymous_memory":     {"pid", []string{"4800", "4801", "4802"}},
	"executable_in_temp_dir":          {"pid", []string{"4300", "4301", "4302", "4303", "4306"}},
	"fake_kernel_thread":              {"pid", []string{"5100", "5101", "5102", "5103"}},
	"hidden_module":                   {"name", []string{"diamorphine", "xt_stealth"}},
	"first_code_not_exe":              {"pid", []string{"6900", "6901", "6906"}},
	"history_disabled":                {"pid", []string{"4500", "4501", "4502", "4503"}},
	"interpreter_with_inline_code":    {"pid", []string{"5300", "5301", "5302", "5303", "5304", "5305", "5306"}},
	"interpreter_outbound_connection": {"pid", []string{"5600", "5601", "5602", "5603", "5608"}},
	"library_from_temp_path":          {"pid", []string{"6100", "6101", "6102", "6103"}},
	"ld_preload_environment":          {"pid", []string{"4400", "4401", "4403"}},
	"memfd_executable":                {"pid", []string{"4200", "4202"}},
	"hidden_process":                  {"pid", []string{"7200"}},
	"truncated_log_still_open":        {"pid", []string{"7400", "7403"}},
	"ld_so_preload_present":           {"path", []string{"/lib/.x/libx.so", "/lib/.x/liby.so", "/usr/lib/x86_64-linux-gnu/libprocesshider.so"}},
	"orphan_parent":                   {"pid", []string{"6400", "6406"}},
	"orphan_socket":                   {"inode", []string{"59002", "59003", "59004", "59006"}},
	"process_name_mismatch":           {"pid", []string{"6200", "6202", "6207", "6212"}},
	"reverse_shell":                   {"pid", []string{"5200", "5201"}},
	"root_empty_environment":          {"pid", []string{"6000", "6001"}},
	"rwx_memory":                      {"pid", []string{"4700", "4701"}},
	"secrets_in_environment":          {"pid", []string{"4600", "4601", "4602", "4603", "4604", "4606", "4607"}},
	"sensitive_file_with_connection":  {"pid", []string{"6700", "6701", "6702", "6703", "6712"}},
	"shared_deleted_exe_hash":         {"pid", []string{"6800", "6801", "6808"}},
	"sniffer_socket":                  {"pid", []string{"5800", "5801", "5802", "5803"}},
	"start_before_parent":             {"pid", []string{"6500", "6507"}},
	"tainted_module":                  {"name", []string{"acme_shim", "diamorphine", "forced_drv", "vboxguest"}},
	"traced_process":                  {"pid", []string{"5000"}},
	"uid_mismatch":                    {"pid", []string{"5500", "5501"}},
	"unusual_capabilities":            {"pid", []string{"6300", "6301"}},
	"unusual_listener":                {"pid", []string{"5700", "5701", "5702", "5703"}},
}

// huntsWithoutPID are the hunts about something other than processes, whose
// result has no pid column.
var huntsWithoutPID = []string{"hidden_module", "ld_so_preload_present", "orphan_socket", "tainted_module"}

func builtinHunts(t *testing.T) []queries.Hunt {
	t.Helper()
	hunts, err := queries.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return hunts
}

// runHunt runs h on the procfs tree at root.
func runHunt(t *testing.T, h queries.Hunt, root string) *engine.Result {
	t.Helper()
	src, err := source.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Query(eng.NewSession(context.Background()), h.SQL)
	if err != nil {
		t.Fatalf("hunt %s on %s: %v", h.ID, root, err)
	}
	return res
}

// columnValues returns the distinct values of the named column, sorted.
func columnValues(t *testing.T, res *engine.Result, column string) []string {
	t.Helper()
	index := slices.Index(res.Columns, column)
	if index < 0 {
		t.Fatalf("result has no %s column: %v", column, res.Columns)
	}
	seen := map[string]bool{}
	var values []string
	for _, row := range res.Rows {
		v := fmt.Sprint(row[index])
		if !seen[v] {
			seen[v] = true
			values = append(values, v)
		}
	}
	sort.Strings(values)
	return values
}

func TestHuntsFindPositiveCases(t *testing.T) {
	for _, h := range builtinHunts(t) {
		t.Run(h.ID, func(t *testing.T) {
			c, ok := positiveCases[h.ID]
			if !ok {
				t.Fatalf("no positive case for hunt %s: add a tree under %s/%s/positive and an entry in positiveCases", h.ID, huntsDir, h.ID)
			}
			res := runHunt(t, h, filepath.Join(huntsDir, h.ID, "positive"))
			if got := columnValues(t, res, c.column); !slices.Equal(got, c.want) {
				t.Errorf("hunt %s reports %s %v, want %v", h.ID, c.column, got, c.want)
			}
			if len(res.Warnings) > 0 {
				t.Errorf("hunt %s warns %q on its positive tree, want a complete tree and no warnings", h.ID, res.Warnings)
			}
		})
	}
}

func TestHuntsQuietOnCleanTree(t *testing.T) {
	clean := filepath.Join(huntsDir, "clean")
	for _, h := range builtinHunts(t) {
		t.Run(h.ID, func(t *testing.T) {
			res := runHunt(t, h, clean)
			for _, row := range res.Rows {
				t.Errorf("hunt %s reports a hit on the clean tree: %v", h.ID, row)
			}
			if len(res.Warnings) > 0 {
				t.Errorf("hunt %s warns %q on the clean tree, want none", h.ID, res.Warnings)
			}
		})
	}
}

func TestHuntsHavePIDColumn(t *testing.T) {
	for _, h := range builtinHunts(t) {
		res := runHunt(t, h, filepath.Join(huntsDir, "clean"))
		hasPID := slices.Contains(res.Columns, "pid")
		if want := !slices.Contains(huntsWithoutPID, h.ID); hasPID != want {
			t.Errorf("hunt %s: pid column present = %v, want %v (columns %v)", h.ID, hasPID, want, res.Columns)
		}
	}
}

// TestHuntFixtureDirectories keeps testdata/hunts and the hunts in step: a
// directory for a removed or renamed hunt fails here.
func TestHuntFixtureDirectories(t *testing.T) {
	ids := map[string]bool{}
	for _, h := range builtinHunts(t) {
		ids[h.ID] = true
	}
	entries, err := os.ReadDir(huntsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		// clean is the shared clean tree. etc holds the /etc/passwd that
		// names its users and sys the /sys/module that sys_modules reads,
		// because both lie beside a real /proc.
		if !e.IsDir() || e.Name() == "clean" || e.Name() == "etc" || e.Name() == "sys" {
			continue
		}
		if !ids[e.Name()] {
			t.Errorf("%s/%s is not the id of a built-in hunt", huntsDir, e.Name())
		}
	}
	for id := range positiveCases {
		if !ids[id] {
			t.Errorf("positiveCases names %s, which is not a built-in hunt", id)
		}
	}
}

// TestSecretsHuntRedactsValues checks what the secrets hunt shows of each
// value: never the value itself, and no prefix of a short one.
func TestSecretsHuntRedactsValues(t *testing.T) {
	var hunt queries.Hunt
	for _, h := range builtinHunts(t) {
		if h.ID == "secrets_in_environment" {
			hunt = h
		}
	}
	res := runHunt(t, hunt, filepath.Join(huntsDir, "secrets_in_environment", "positive"))
	var got []string
	for _, row := range res.Rows {
		parts := make([]string, 0, 4)
		for _, column := range []string{"pid", "variable", "redacted_value", "value_length", "matched_by"} {
			parts = append(parts, fmt.Sprint(row[slices.Index(res.Columns, column)]))
		}
		got = append(got, strings.Join(parts, " | "))
	}
	want := []string{
		"4600 | AWS_ACCESS_KEY_ID | AKIA**** | 20 | value",
		"4600 | AWS_SECRET_ACCESS_KEY | wJal**** | 40 | name",
		"4601 | GITHUB_TOKEN | ghp_**** | 40 | name",
		"4602 | DATABASE_URL | post**** | 58 | value",
		"4603 | DB_PASSWORD | **** | 7 | name",
		"4604 | deploy_key | ----**** | 82 | value",
		"4606 | DB_PASS | P@ss**** | 16 | name",
		"4607 | REDIS_URL | redi**** | 35 | value",
	}
	if !slices.Equal(got, want) {
		t.Errorf("secrets hunt rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, row := range res.Rows {
		for _, v := range row {
			if s := fmt.Sprint(v); strings.Contains(s, "hunter2") || strings.Contains(s, "EXAMPLEKEY") || strings.Contains(s, "s3cr3t") || strings.Contains(s, "S3cretRedisPw99") || strings.Contains(s, "w0rdValue") {
				t.Errorf("secrets hunt shows a secret value: %q", s)
			}
		}
	}
}

// namedHost is a tree whose sys/kernel/hostname holds name, so that many
// fixture trees load side by side with labels that name their tree.
type namedHost struct {
	source.Source
	name string
}

func (h namedHost) ReadFile(name string) ([]byte, error) {
	if name == "sys/kernel/hostname" {
		return []byte(h.name + "\n"), nil
	}
	return h.Source.ReadFile(name)
}

// fixtureHosts returns every positive tree, named after its hunt, and the
// clean tree, named clean. Many of them have pids 1 and 2, each with other
// processes behind them.
func fixtureHosts(t *testing.T) []namedHost {
	t.Helper()
	var hosts []namedHost
	for _, h := range builtinHunts(t) {
		dir, err := source.NewDir(filepath.Join(huntsDir, h.ID, "positive"))
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, namedHost{dir, h.ID})
	}
	dir, err := source.NewDir(filepath.Join(huntsDir, "clean"))
	if err != nil {
		t.Fatal(err)
	}
	return append(hosts, namedHost{dir, "clean"})
}

// readsMore lists the hunts that read more on many hosts than on each alone,
// and so may warn about more failed reads. Each joins a second table that
// it reads only once the first table has rows, and then it reads the second
// table on every host. orphan_parent reads all processes once some host has
// pid 1, as every real host has. hidden_module reads the modules of all
// hosts once some host has entries in /sys/module.
var readsMore = map[string]bool{"orphan_parent": true, "hidden_module": true}

// TestManyHostHuntsMatchSingleHost loads every fixture tree at once and
// runs each hunt once. Its rows for each host must be exactly the rows it
// returns on that host alone, in the same order. Its warnings must be those
// of each host, named by host. A hunt that joined two tables on pid without
// host would pair processes of different hosts here.
func TestManyHostHuntsMatchSingleHost(t *testing.T) {
	hosts := fixtureHosts(t)
	srcs := make([]source.Source, len(hosts))
	for i, h := range hosts {
		srcs[i] = h
	}
	all, err := engine.NewMulti(srcs)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range builtinHunts(t) {
		t.Run(h.ID, func(t *testing.T) {
			res, err := all.Query(all.NewSession(context.Background()), h.SQL)
			if err != nil {
				t.Fatalf("hunt %s on %d hosts: %v", h.ID, len(hosts), err)
			}
			if len(res.Columns) == 0 || res.Columns[0] != "host" {
				t.Fatalf("hunt %s: first column is not host: %v", h.ID, res.Columns)
			}
			byHost := map[string][]string{}
			for _, row := range res.Rows {
				host := fmt.Sprint(row[0])
				byHost[host] = append(byHost[host], fmt.Sprint(row))
			}
			var wantWarnings []string
			total := 0
			for _, host := range hosts {
				alone, err := engine.New(host)
				if err != nil {
					t.Fatal(err)
				}
				single, err := alone.Query(alone.NewSession(context.Background()), h.SQL)
				if err != nil {
					t.Fatalf("hunt %s on %s alone: %v", h.ID, host.name, err)
				}
				var want []string
				for _, row := range single.Rows {
					want = append(want, fmt.Sprint(row))
				}
				total += len(want)
				if got := byHost[host.name]; !slices.Equal(got, want) {
					t.Errorf("hunt %s, host %s: on all hosts\n%s\nalone\n%s", h.ID, host.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				for _, w := range single.Warnings {
					wantWarnings = append(wantWarnings, host.name+": "+w)
				}
			}
			if len(res.Rows) != total {
				t.Errorf("hunt %s returned %d rows on all hosts, want %d, the sum over the hosts alone", h.ID, len(res.Rows), total)
			}
			// The order of notes follows the order of reads, which the
			// plan may change.
			got := slices.Sorted(slices.Values(res.Warnings))
			slices.Sort(wantWarnings)
			if readsMore[h.ID] {
				for _, w := range wantWarnings {
					if !slices.Contains(got, w) {
						t.Errorf("hunt %s on all hosts lacks the warning %q", h.ID, w)
					}
				}
			} else if !slices.Equal(got, wantWarnings) {
				t.Errorf("hunt %s warnings on all hosts:\n%s\nwant:\n%s", h.ID, strings.Join(got, "\n"), strings.Join(wantWarnings, "\n"))
			}
		})
	}
}
