package tables_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/procsql/procsql/tables"
)

var update = flag.Bool("update", false, "rewrite the generated part of docs/tables.md")

const (
	referencePath  = "../docs/tables.md"
	generatedBegin = "<!-- BEGIN GENERATED: go test ./tables -run TestReferenceUpToDate -update -->\n"
	generatedEnd   = "<!-- END GENERATED -->\n"
)

// TestReferenceUpToDate fails when a table changed and docs/tables.md was not
// regenerated.
func TestReferenceUpToDate(t *testing.T) {
	data, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	begin := strings.Index(doc, generatedBegin)
	end := strings.Index(doc, generatedEnd)
	if begin < 0 || end < begin {
		t.Fatalf("%s lacks the generated-section markers", referencePath)
	}
	want := doc[:begin+len(generatedBegin)] + "\n" + tables.Reference() + doc[end:]
	if *update {
		if err := os.WriteFile(referencePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Errorf("%s is out of date: run go test ./tables -run TestReferenceUpToDate -update", referencePath)
	}
}
