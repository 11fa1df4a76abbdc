package collection

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

// hashLine is one line of a sha256sum-style list: a hex digest and a name.
type hashLine struct {
	digest string
	name   string
}

// hashListLine matches "<hex>  <name>" and "<hex> *<name>", the text and
// binary modes of md5sum, sha1sum and sha256sum. A leading backslash marks
// a name that GNU coreutils escaped because it holds a backslash or a
// newline.
var hashListLine = regexp.MustCompile(`^(\\?)([0-9a-fA-F]+) [ *](.+)$`)

// parseHashList returns the entries of a hash list whose digests have
// hexLen hex digits, and the lines it could not read.
func parseHashList(data []byte, hexLen int) (entries []hashLine, bad []string) {
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		m := hashListLine.FindStringSubmatch(line)
		if m == nil || len(m[2]) != hexLen {
			bad = append(bad, line)
			continue
		}
		name := m[3]
		if m[1] == `\` {
			name = unescapeHashName(name)
		}
		entries = append(entries, hashLine{digest: strings.ToLower(m[2]), name: name})
	}
	return entries, bad
}

// unescapeHashName undoes the escaping of GNU coreutils: \\ for a
// backslash, \n for a newline and \r for a carriage return.
func unescapeHashName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] != '\\' || i+1 == len(name) {
			b.WriteByte(name[i])
			continue
		}
		i++
		switch name[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(name[i])
		}
	}
	return b.String()
}

// hashListFile is a collector's list of file digests and the algorithm
// its digests use.
type hashListFile struct {
	name   string // the list's name relative to the collection root
	algo   string // "md5", "sha1" or "sha256"
	hexLen int
}

// uacHashLists are UAC's hash lists, strongest first.
var uacHashLists = []hashListFile{
	{"hash_list.sha256", "sha256", 64},
	{"hash_list.sha1", "sha1", 40},
	{"hash_list.md5", "md5", 32},
}

// verifyResult sums up a hash list check.
type verifyResult struct {
	list    string // the list checked, such as "hash_list.sha256"; "" when there is none
	checked int    // files whose digest matched
}

// verifyHashList checks the files under root against the strongest hash
// list the collection holds, and records on t each listed file that is
// missing or does not match, each unreadable list line, and each file that
// the list leaves out. unlisted reports the names, relative to root, that a
// collector writes after hashing and so never lists.
func verifyHashList(fsys fs.FS, root string, t *Tree, unlisted func(string) bool) verifyResult {
	list, data, ok := readStrongestList(fsys, root, t)
	if !ok {
		return verifyResult{}
	}
	result := verifyResult{list: list.name}
	entries, bad := parseHashList(data, list.hexLen)
	for _, line := range bad {
		t.AddProblem(fmt.Sprintf("%s: unreadable line %q", list.name, line))
	}

	listed := map[string]bool{}
	for _, e := range entries {
		name := path.Clean(strings.TrimPrefix(e.name, "./"))
		if !fs.ValidPath(name) {
			t.AddProblem(fmt.Sprintf("%s lists %q, a path outside the collection", list.name, e.name))
			continue
		}
		listed[name] = true
		got, _, err := fileDigest(fsys, path.Join(root, name), list.algo)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			t.AddProblem(fmt.Sprintf("%s lists %s, which the collection lacks", list.name, name))
		case err != nil:
			t.AddProblem(fmt.Sprintf("%s lists %s, which could not be read: %v", list.name, name, err))
		case got != e.digest:
			t.AddProblem(fmt.Sprintf("%s does not match its %s in %s (listed %s, found %s)", name, strings.ToUpper(list.algo), list.name, e.digest, got))
		default:
			result.checked++
		}
	}

	extra, err := unlistedFiles(fsys, root, func(name string) bool { return listed[name] || unlisted(name) })
	if err != nil {
		t.AddProblem(fmt.Sprintf("files missing from %s could not all be found: %v", list.name, err))
	}
	for _, name := range extra {
		t.AddProblem(fmt.Sprintf("%s is in the collection but not in %s", name, list.name))
	}
	return result
}

// readStrongestList returns the strongest hash list under root. A list
// that exists but cannot be read is recorded on t as a problem, and ok is
// then false, as when there is no list.
func readStrongestList(fsys fs.FS, root string, t *Tree) (list hashListFile, data []byte, ok bool) {
	for _, candidate := range uacHashLists {
		content, err := fs.ReadFile(fsys, path.Join(root, candidate.name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.AddProblem(fmt.Sprintf("%s could not be read, so no file was checked: %v", candidate.name, err))
			return hashListFile{}, nil, false
		}
		return candidate, content, true
	}
	return hashListFile{}, nil, false
}

// unlistedFiles returns, sorted, the files under root, relative to it, for
// which covered returns false.
func unlistedFiles(fsys fs.FS, root string, covered func(string) bool) ([]string, error) {
	var extra []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel := strings.TrimPrefix(p, root+"/")
		if root == "." {
			rel = p
		}
		if !covered(rel) {
			extra = append(extra, rel)
		}
		return nil
	})
	sort.Strings(extra)
	if err != nil {
		return extra, fmt.Errorf("list the collection's files: %w", err)
	}
	return extra, nil
}
