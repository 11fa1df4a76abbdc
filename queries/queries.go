// Package queries holds procsql's hunt library: saved SQL queries that each
// look for one sign of compromise, with the text an analyst needs to judge a
// hit. Each hunt is one .sql file that starts with a header of "-- key: value"
// lines and then holds one SELECT statement.
package queries

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

//go:embed *.sql
var builtinFiles embed.FS

// Hunt is one saved hunting query and the text that explains its hits.
type Hunt struct {
	ID             string // snake_case name, equal to the file name without .sql
	Title          string
	Severity       string // one of Severities
	Description    string // the sign of compromise the hunt finds, and its relevance
	Triage         string // how to judge a hit
	FalsePositives string // known benign causes of a hit
	SQL            string // one SELECT statement
	Source         string // the file the hunt was read from
	Techniques     []string
}

// Severities lists the accepted severity levels, lowest first.
var Severities = []string{"info", "low", "medium", "high", "critical"}

// SeverityRank returns the position of level in Severities, so a higher rank
// is more severe, or -1 when level is not a severity.
func SeverityRank(level string) int {
	for i, s := range Severities {
		if s == level {
			return i
		}
	}
	return -1
}

// headerKeys lists the keys of a hunt header in the order the catalogue
// shows them. Every key is required.
var headerKeys = []string{"id", "title", "severity", "techniques", "description", "triage", "false_positives"}

var (
	idPattern        = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	techniquePattern = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	keyPattern       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
)

// Builtin returns the hunts embedded in procsql, sorted by id.
func Builtin() ([]Hunt, error) {
	names, err := fs.Glob(builtinFiles, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list built-in hunts: %w", err)
	}
	sort.Strings(names)
	hunts := make([]Hunt, 0, len(names))
	for _, name := range names {
		data, err := builtinFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read built-in hunt %s: %w", name, err)
		}
		h, err := Parse(path.Join("queries", name), data)
		if err != nil {
			return nil, err
		}
		hunts = append(hunts, h)
	}
	return hunts, nil
}

// LoadDir reads the hunts of the .sql files in dir, sorted by id. Other files
// and subdirectories are ignored. A directory without any .sql file is an
// error, because it is most likely the wrong directory.
func LoadDir(dir string) ([]Hunt, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read hunt directory: %w", err)
	}
	var hunts []Hunt
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read hunt file: %w", err)
		}
		h, err := Parse(file, data)
		if err != nil {
			return nil, err
		}
		hunts = append(hunts, h)
	}
	if len(hunts) == 0 {
		return nil, fmt.Errorf("hunt directory %s has no .sql files: each hunt is one file named <id>.sql", dir)
	}
	sort.Slice(hunts, func(i, j int) bool { return hunts[i].ID < hunts[j].ID })
	return hunts, nil
}

// ParseError is a problem in a hunt file. Line is 1-based.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("hunt file %s line %d: %s", e.File, e.Line, e.Msg)
}

// Parse reads one hunt file. name is the file's path; its base name without
// .sql must equal the id in the header. Errors are *ParseError values that
// name the file and line.
func Parse(name string, data []byte) (Hunt, error) {
	fail := func(line int, format string, args ...any) (Hunt, error) {
		return Hunt{}, &ParseError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	// Editors on some systems start UTF-8 files with a byte order mark.
	text := strings.TrimPrefix(string(data), "\ufeff")
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	hdr, err := readHeader(lines)
	if err != nil {
		err.File = name
		return Hunt{}, err
	}
	afterHeader := hdr.end + 1 // the line number where a missing key would go

	for _, key := range headerKeys {
		if _, ok := hdr.line[key]; !ok {
			return fail(afterHeader, "header lacks the key %q: add a line \"-- %s: ...\" before the SQL", key, key)
		}
		if hdr.values[key] == "" {
			return fail(hdr.line[key], "key %q has an empty value", key)
		}
		if r, ok := controlCharacter(hdr.values[key]); ok {
			return fail(hdr.line[key], "key %q contains the control character %U: remove it", key, r)
		}
	}

	h := Hunt{
		ID:             hdr.values["id"],
		Title:          hdr.values["title"],
		Severity:       hdr.values["severity"],
		Description:    hdr.values["description"],
		Triage:         hdr.values["triage"],
		FalsePositives: hdr.values["false_positives"],
		Source:         name,
	}
	fileID := strings.TrimSuffix(filepath.Base(name), ".sql")
	if !idPattern.MatchString(h.ID) {
		return fail(hdr.line["id"], "invalid id %q: use snake_case, lower-case letters and digits joined by _", h.ID)
	}
	if h.ID != fileID {
		if idPattern.MatchString(fileID) {
			return fail(hdr.line["id"], "id %q differs from the file name: name the file %s.sql or set the id to %q", h.ID, h.ID, fileID)
		}
		return fail(hdr.line["id"], "id %q differs from the file name: name the file %s.sql", h.ID, h.ID)
	}
	if SeverityRank(h.Severity) < 0 {
		return fail(hdr.line["severity"], "invalid severity %q: use one of %s", h.Severity, strings.Join(Severities, ", "))
	}
	for _, t := range strings.Split(hdr.values["techniques"], ",") {
		t = strings.TrimSpace(t)
		if !techniquePattern.MatchString(t) {
			return fail(hdr.line["techniques"], "invalid technique %q: use MITRE ATT&CK ids such as T1055 or T1055.009, separated by commas", t)
		}
		h.Techniques = append(h.Techniques, t)
	}

	sql, err := statement(lines, hdr.end)
	if err != nil {
		err.File = name
		return Hunt{}, err
	}
	if sql == "" {
		return fail(afterHeader, "no SQL after the header: add one SELECT statement")
	}
	// procsql rejects LOAD_FILE when a statement runs; saying so at load
	// time names the file and line instead.
	if strings.Contains(strings.ToLower(sql), "load_file(") {
		return fail(hdr.end+1, "LOAD_FILE() is rejected: a hunt reads only procsql's tables")
	}
	h.SQL = sql
	return h, nil
}

// header is the block of "-- key: value" lines at the start of a hunt file.
type header struct {
	values map[string]string // continuation lines joined with single spaces
	line   map[string]int    // 1-based line number of each key
	end    int               // index of the first line after the header
}

// readHeader reads the comment lines at the start of lines. A line "--"
// followed by two or more spaces or a tab continues the previous key, and a
// line that is only "--" is skipped. The returned error lacks the file name.
func readHeader(lines []string) (header, *ParseError) {
	hdr := header{values: map[string]string{}, line: map[string]int{}}
	fail := func(line int, format string, args ...any) (header, *ParseError) {
		return header{}, &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	current := ""
	for ; hdr.end < len(lines); hdr.end++ {
		lineNo := hdr.end + 1
		rest, isComment := strings.CutPrefix(lines[hdr.end], "--")
		if !isComment {
			break
		}
		if strings.TrimSpace(rest) == "" {
			continue
		}
		if strings.HasPrefix(rest, "  ") || strings.HasPrefix(rest, "\t") {
			if current == "" {
				return fail(lineNo, "continuation line before any key: start the header with \"-- id: <id>\"")
			}
			hdr.values[current] += " " + strings.TrimSpace(rest)
			continue
		}
		key, value, found := strings.Cut(strings.TrimPrefix(rest, " "), ":")
		key = strings.TrimSpace(key)
		if !found || !keyPattern.MatchString(key) {
			return fail(lineNo, "header line is not \"-- key: value\" and not a continuation indented by two or more spaces after \"--\": put a blank line between the header and any SQL comment")
		}
		if !isHeaderKey(key) {
			return fail(lineNo, "unknown key %q: use one of %s", key, strings.Join(headerKeys, ", "))
		}
		if first, dup := hdr.line[key]; dup {
			return fail(lineNo, "key %q repeats the one on line %d", key, first)
		}
		hdr.values[key] = strings.TrimSpace(value)
		hdr.line[key] = lineNo
		current = key
	}
	return hdr, nil
}

func isHeaderKey(key string) bool {
	for _, k := range headerKeys {
		if k == key {
			return true
		}
	}
	return false
}

// controlCharacter returns the first control character in s. Header values
// are printed on terminals, where such a character could move the cursor or
// hide text.
func controlCharacter(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) {
			return r, true
		}
	}
	return 0, false
}
