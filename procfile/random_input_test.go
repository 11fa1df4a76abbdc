package procfile

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
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

// degenerateInputs returns inputs made of many of the shortest lines or
// entries that the parsers read, which need the most memory per input byte.
func degenerateInputs() map[string][]byte {
	repeat := func(text string, bytes int) []byte {
		return []byte(strings.Repeat(text, bytes/len(text)))
	}
	var keys, passwd strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&keys, "%x:\n", i)
		fmt.Fprintf(&passwd, "u:x:%d:\n", i)
	}
	const size = 200 << 10
	return map[string][]byte{
		"newlines":              repeat("\n", size),
		"empty keys":            repeat("a:\n", size),
		"distinct keys":         []byte(keys.String()),
		"distinct IDs":          []byte(passwd.String()),
		"NULs":                  repeat("\x00", size),
		"empty variables":       repeat("=\x00", size),
		"shortest maps lines":   repeat(shortestMapsLine+"\n", size),
		"smaps headers":         repeat(shortestMapsLine+"\n", size),
		"smaps counters":        repeat(shortestMapsLine+"\nRss: 0 kB\n", size),
		"shortest tcp rows":     repeat(shortestIPSocketLine+"\n", size),
		"shortest packet rows":  repeat(shortestPacketLine+"\n", size),
		"shortest unix rows":    repeat(shortestUnixLine+"\n", size),
		"shortest modules":      repeat(shortestModuleLine+"\n", size),
		"shortest meminfo":      repeat(shortestMeminfoLine+"\n", size),
		"module users":          []byte("m 0 0 " + strings.Repeat("a,", size/2) + " Live 0x0\n"),
		"unix path of newlines": append([]byte(shortestUnixLine+" /p"), repeat("\n", size)...),
	}
}

// TestParsersAllocationBound runs every parser on degenerate inputs and
// checks the allocation bound that the fuzz targets check.
func TestParsersAllocationBound(t *testing.T) {
	for name, data := range degenerateInputs() {
		t.Run(name, func(t *testing.T) {
			for parser, parse := range map[string]func(){
				"ParseStat":      func() { _, _ = ParseStat(data) },
				"ParseStatus":    func() { _, _ = ParseStatus(data) },
				"ParseCmdline":   func() { ParseCmdline(data) },
				"ParseEnviron":   func() { ParseEnviron(data) },
				"ParseMaps":      func() { _, _ = ParseMaps(data) },
				"ParseSmaps":     func() { _, _ = ParseSmaps(data) },
				"ParseFDInfo":    func() { _, _ = ParseFDInfo(data) },
				"ParseNetIP":     func() { _, _ = ParseNetIP(data, binary.LittleEndian) },
				"ParseNetPacket": func() { _, _ = ParseNetPacket(data) },
				"ParseNetUnix":   func() { _, _ = ParseNetUnix(data) },
				"ParseModules":   func() { _, _ = ParseModules(data) },
				"ParseMeminfo":   func() { _, _ = ParseMeminfo(data) },
				"ParseBootTime":  func() { _, _ = ParseBootTime(data) },
				"ParsePasswd":    func() { ParsePasswd(data) },
			} {
				t.Run(parser, func(t *testing.T) { checkAllocations(t, len(data), parse) })
			}
		})
	}
}

// The shortest* constants cap the capacity of row slices, so each must be a
// line that its parser accepts as one row.
func TestShortestLinesParse(t *testing.T) {
	rowCount := map[string]func() (int, error){
		"shortestMapsLine": func() (int, error) {
			rows, err := ParseMaps([]byte(shortestMapsLine))
			return len(rows), err
		},
		"shortestIPSocketLine": func() (int, error) {
			rows, err := ParseNetIP([]byte(shortestIPSocketLine), nil)
			return len(rows), err
		},
		"shortestPacketLine": func() (int, error) {
			rows, err := ParseNetPacket([]byte(shortestPacketLine))
			return len(rows), err
		},
		"shortestUnixLine": func() (int, error) {
			rows, err := ParseNetUnix([]byte(shortestUnixLine))
			return len(rows), err
		},
		"shortestModuleLine": func() (int, error) {
			rows, err := ParseModules([]byte(shortestModuleLine))
			return len(rows), err
		},
		"shortestMeminfoLine": func() (int, error) {
			rows, err := ParseMeminfo([]byte(shortestMeminfoLine))
			return len(rows), err
		},
		"shortestStatusLine": func() (int, error) {
			s, err := ParseStatus([]byte(shortestStatusLine))
			return len(s.Keys()), err
		},
	}
	for name, parse := range rowCount {
		rows, err := parse()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if rows != 1 {
			t.Errorf("%s: %d rows, want 1", name, rows)
		}
	}
}
