package procfile

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// parseAll runs every parser of this package on data. Only a panic fails.
func parseAll(data []byte) {
	_, _ = ParseStat(data)
	_, _ = ParseStatus(data)
	ParseCmdline(data)
	ParseEnviron(data)
	_, _ = ParseMaps(data)
	_, _ = ParseMapsLine(data)
	_, _ = ParseSmaps(data)
	ParseFDTarget(string(data))
	_, _ = ParseFDInfo(data)
	_, _, _ = ParseNamespaceLink(string(data))
	_, _ = ParseMeminfo(data)
	_, _ = ParseBootTime(data)
	ParsePasswd(data)
	ParseGroup(data)
	SplitDeleted(string(data))
	MapPathKind(string(data))
	MemfdName(string(data))
}

// maxMutatedFixture skips large generated files, such as a 120,000-row tcp
// table, which would make the test slow without adding shapes.
const maxMutatedFixture = 64 << 10

// TestParsersSurviveMutatedFixtures feeds every fixture, cut short and with
// bytes replaced by ones that are significant to the parsers, to every
// parser. The seed is fixed so a failure repeats.
func TestParsersSurviveMutatedFixtures(t *testing.T) {
	var fixtures [][]byte
	for _, root := range []string{casesDir, "testdata"} {
		err := filepath.WalkDir(root, func(path string, entry os.DirEntry, err error) error {
			if err != nil || entry.IsDir() {
				return err
			}
			if info, err := entry.Info(); err != nil || info.Size() > maxMutatedFixture {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fixtures = append(fixtures, data)
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
	}
	if len(fixtures) == 0 {
		t.Fatal("no fixtures found")
	}

	const significant = "\x00\n\t ():[]-=/#+kB0f9"
	random := rand.New(rand.NewPCG(7, 11))
	for _, fixture := range fixtures {
		parseAll(fixture)
		for range 200 {
			data := append([]byte(nil), fixture[:random.IntN(len(fixture)+1)]...)
			for range random.IntN(4) {
				if len(data) == 0 {
					break
				}
				data[random.IntN(len(data))] = significant[random.IntN(len(significant))]
			}
			parseAll(data)
		}
	}
}
