package queries

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/hunts.md from the hunt headers")

const cataloguePath = "../docs/hunts.md"

// validHunt is a complete hunt file that the error cases below alter.
const validHunt = `-- id: sample_hunt
-- title: Sample hunt
-- severity: medium
-- techniques: T1055, T1055.009
-- description: Finds a sample thing in /proc/<pid>/maps,
--   over two lines.
-- triage: Look at it.
-- false_positives: None known.

SELECT pid FROM processes WHERE pid = 1;
`

func TestParseValidHunt(t *testing.T) {
	h, err := Parse("hunts/sample_hunt.sql", []byte(validHunt))
	if err != nil {
		t.Fatal(err)
	}
	if h.ID != "sample_hunt" {
		t.Errorf("ID = %q, want sample_hunt", h.ID)
	}
	if h.Title != "Sample hunt" {
		t.Errorf("Title = %q", h.Title)
	}
	if h.Severity != "medium" {
		t.Errorf("Severity = %q", h.Severity)
	}
	if got := strings.Join(h.Techniques, " "); got != "T1055 T1055.009" {
		t.Errorf("Techniques = %q, want T1055 T1055.009", got)
	}
	if h.Description != "Finds a sample thing in /proc/<pid>/maps, over two lines." {
		t.Errorf("Description = %q, want the continuation joined with a space", h.Description)
	}
	if h.Triage != "Look at it." || h.FalsePositives != "None known." {
		t.Errorf("Triage = %q, FalsePositives = %q", h.Triage, h.FalsePositives)
	}
	if h.SQL != "SELECT pid FROM processes WHERE pid = 1" {
		t.Errorf("SQL = %q, want the statement without its semicolon", h.SQL)
	}
	if h.Source != "hunts/sample_hunt.sql" {
		t.Errorf("Source = %q", h.Source)
	}
}

func TestParseAcceptsCommentsAndQuotedSemicolons(t *testing.T) {
	body := strings.Replace(validHunt, "SELECT pid FROM processes WHERE pid = 1;\n",
		"-- leading comment; with a semicolon\nSELECT pid, 'a;b' AS x, `c;d` FROM processes /* ; */ WHERE name <> 'it''s;' # trailing;\n;\n-- after the end\n", 1)
	h, err := Parse("sample_hunt.sql", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h.SQL, "-- leading comment") || !strings.HasSuffix(h.SQL, "# trailing;") {
		t.Errorf("SQL = %q", h.SQL)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		file string
		body string
		want string
	}{
		{"unknown key", "sample_hunt.sql", strings.Replace(validHunt, "-- severity: medium", "-- sevrity: medium", 1),
			`hunt file sample_hunt.sql line 3: unknown key "sevrity": use one of id, title, severity, techniques, description, triage, false_positives`},
		{"missing key", "sample_hunt.sql", strings.Replace(validHunt, "-- triage: Look at it.\n", "", 1),
			`hunt file sample_hunt.sql line 8: header lacks the key "triage"`},
		{"empty value", "sample_hunt.sql", strings.Replace(validHunt, "-- title: Sample hunt", "-- title:", 1),
			`hunt file sample_hunt.sql line 2: key "title" has an empty value`},
		{"repeated key", "sample_hunt.sql", strings.Replace(validHunt, "-- triage: Look at it.", "-- triage: Look at it.\n-- title: Again", 1),
			`hunt file sample_hunt.sql line 8: key "title" repeats the one on line 2`},
		{"id differs from file", "other.sql", validHunt,
			`hunt file other.sql line 1: id "sample_hunt" differs from the file name`},
		{"id not snake case", "SampleHunt.sql", strings.Replace(validHunt, "-- id: sample_hunt", "-- id: SampleHunt", 1),
			`hunt file SampleHunt.sql line 1: invalid id "SampleHunt"`},
		{"invalid severity", "sample_hunt.sql", strings.Replace(validHunt, "-- severity: medium", "-- severity: severe", 1),
			`hunt file sample_hunt.sql line 3: invalid severity "severe": use one of info, low, medium, high, critical`},
		{"invalid technique", "sample_hunt.sql", strings.Replace(validHunt, "T1055, T1055.009", "T1055, T155.9", 1),
			`hunt file sample_hunt.sql line 4: invalid technique "T155.9"`},
		{"empty technique", "sample_hunt.sql", strings.Replace(validHunt, "T1055, T1055.009", "T1055,", 1),
			`hunt file sample_hunt.sql line 4: invalid technique ""`},
		{"continuation first", "sample_hunt.sql", "--   stray text\n" + validHunt,
			`hunt file sample_hunt.sql line 1: continuation line before any key`},
		{"malformed header line", "sample_hunt.sql", strings.Replace(validHunt, "-- triage: Look at it.", "-- triage Look at it.", 1),
			`hunt file sample_hunt.sql line 7: header line is not "-- key: value"`},
		{"control character", "sample_hunt.sql", strings.Replace(validHunt, "Sample hunt", "Sample\x1b[2J hunt", 1),
			`hunt file sample_hunt.sql line 2: key "title" contains the control character U+001B`},
		{"no SQL", "sample_hunt.sql", strings.Replace(validHunt, "SELECT pid FROM processes WHERE pid = 1;\n", "-- only a comment\n", 1),
			`hunt file sample_hunt.sql line 9: no SQL after the header`},
		{"two statements", "sample_hunt.sql", strings.Replace(validHunt, "WHERE pid = 1;\n", "WHERE pid = 1;\nSELECT 2;\n", 1),
			`hunt file sample_hunt.sql line 10: more than one statement`},
		{"not a SELECT", "sample_hunt.sql", strings.Replace(validHunt, "SELECT pid FROM processes WHERE pid = 1;", "\nDELETE FROM processes;", 1),
			`hunt file sample_hunt.sql line 11: the SQL starts with "DELETE"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.file, []byte(c.body))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError", err)
			}
		})
	}
}

func TestBuiltinHuntsParse(t *testing.T) {
	hunts, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(hunts) < 12 {
		t.Errorf("got %d built-in hunts, want at least 12", len(hunts))
	}
	for i, h := range hunts {
		if i > 0 && hunts[i-1].ID >= h.ID {
			t.Errorf("hunt %s follows %s: want sorted by id", h.ID, hunts[i-1].ID)
		}
		if h.Source != "queries/"+h.ID+".sql" {
			t.Errorf("hunt %s has Source %q", h.ID, h.Source)
		}
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sample_hunt.sql", validHunt)
	write("another.sql", strings.Replace(validHunt, "sample_hunt", "another", 1))
	write("README.md", "not a hunt")
	hunts, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(hunts) != 2 || hunts[0].ID != "another" || hunts[1].ID != "sample_hunt" {
		t.Fatalf("LoadDir = %+v, want another and sample_hunt", hunts)
	}
	if want := filepath.Join(dir, "another.sql"); hunts[0].Source != want {
		t.Errorf("Source = %q, want %q", hunts[0].Source, want)
	}

	write("broken.sql", strings.Replace(validHunt, "sample_hunt", "broken", 1)+"SELECT 2;\n")
	_, err = LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "hunt file "+filepath.Join(dir, "broken.sql")+" line 10: more than one statement") {
		t.Errorf("LoadDir error = %v, want the broken file and line named", err)
	}
}

func TestLoadDirErrors(t *testing.T) {
	if _, err := LoadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "has no .sql files") {
		t.Errorf("empty directory: error %v, want it to say there are no .sql files", err)
	}
	if _, err := LoadDir(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing directory: error %v, want one that matches os.ErrNotExist", err)
	}
}

func TestSeverityRank(t *testing.T) {
	if SeverityRank("critical") <= SeverityRank("high") || SeverityRank("info") != 0 {
		t.Errorf("ranks: info %d, high %d, critical %d", SeverityRank("info"), SeverityRank("high"), SeverityRank("critical"))
	}
	if SeverityRank("severe") != -1 {
		t.Errorf("SeverityRank(severe) = %d, want -1", SeverityRank("severe"))
	}
}

func TestCatalogueLinksTechniques(t *testing.T) {
	h, err := Parse("sample_hunt.sql", []byte(validHunt))
	if err != nil {
		t.Fatal(err)
	}
	doc := Catalogue([]Hunt{h})
	for _, want := range []string{
		"| [sample_hunt](#sample_hunt) | Sample hunt | medium | T1055, T1055.009 |",
		"[T1055.009](https://attack.mitre.org/techniques/T1055/009/)",
		"**Triage.** Look at it.",
		"Finds a sample thing in /proc/&lt;pid>/maps, over two lines.",
		"```sql\nSELECT pid FROM processes WHERE pid = 1\n```",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("catalogue lacks %q:\n%s", want, doc)
		}
	}
}

// TestCatalogueUpToDate fails when a hunt header changed and docs/hunts.md
// was not regenerated.
func TestCatalogueUpToDate(t *testing.T) {
	hunts, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	want := Catalogue(hunts)
	if *update {
		if err := os.WriteFile(cataloguePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(cataloguePath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date: run go test ./queries -run TestCatalogueUpToDate -update", cataloguePath)
	}
}

func TestParseByteOrderMarkAndLoadFile(t *testing.T) {
	header := "-- id: k3\n-- title: t\n-- severity: low\n-- techniques: T1055\n-- description: d\n-- triage: t\n-- false_positives: f\n\n"
	if _, err := Parse("k3.sql", []byte("\ufeff"+header+"SELECT 1")); err != nil {
		t.Errorf("file with a byte order mark: %v", err)
	}
	_, err := Parse("k3.sql", []byte(header+"SELECT LOAD_FILE('/etc/shadow') AS x"))
	if err == nil || !strings.Contains(err.Error(), "LOAD_FILE() is rejected") {
		t.Errorf("LOAD_FILE hunt: error %v, want a rejection", err)
	}
	_, err = Parse("K8.sql", []byte(strings.Replace(header, "k3", "k8", 1)+"SELECT 1"))
	if err == nil || strings.Contains(err.Error(), `set the id to "K8"`) {
		t.Errorf("upper-case file name: error %v, want advice to rename the file only", err)
	}
}
