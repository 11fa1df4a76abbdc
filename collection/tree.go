// Package collection opens the output of other triage collectors, UAC and
// CatScale, as a source.Source. Each importer turns the collector's text
// files back into the /proc layout that the tables read, so the tables parse
// a collection exactly as they parse the live /proc or a snapshot. What a
// collector did not keep reads as not collected (NULL), not as an error.
package collection

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/procsql/procsql/source"
)

// Tree is a /proc tree rebuilt from a collection. Importers fill it with
// Add* calls and then hand it out as a source.Source. Names are relative to
// the procfs root, as in source.Source: "123/cmdline", "123/fd/3",
// "net/tcp". Host files are relative to the host's root: "etc/passwd".
type Tree struct {
	files  map[string][]byte
	links  map[string]string
	stats  map[string]source.FileStat
	hashes map[string]source.Digest
	host   map[string][]byte
	// emptyDirs names directories that exist although no file under them
	// was collected, such as the fd directory of a process without
	// descriptors.
	emptyDirs map[string]bool
	dirs      map[string][]string // built by Finish from the names above
	hdirs     map[string][]string
	desc      source.Description
	// Lossy lists what the collector changed or dropped, one sentence
	// each, such as which columns went through strings(1).
	lossy []string
	// problems lists integrity findings, such as hash list mismatches, up
	// to maxProblems; dropped counts the findings beyond them.
	problems []string
	dropped  int
	// checkedList names the collector's hash list that the files were
	// checked against, and checkedFiles counts the files that matched it.
	checkedList  string
	checkedFiles int
}

// maxProblems bounds the integrity findings kept one by one, so a collection
// whose every file was altered still opens in bounded memory. The findings
// beyond it are counted in one last entry.
const maxProblems = 100

// NewTree returns an empty tree described by desc.
func NewTree(desc source.Description) *Tree {
	return &Tree{
		files:  map[string][]byte{},
		links:  map[string]string{},
		stats:  map[string]source.FileStat{},
		hashes: map[string]source.Digest{},
		host:   map[string][]byte{},

		emptyDirs: map[string]bool{},
		desc:      desc,
	}
}

// AddFile sets the content of a /proc file, such as "123/status".
func (t *Tree) AddFile(name string, data []byte) { t.files[name] = data }

// AddLink sets the target of a /proc symbolic link, such as "123/fd/3" to
// "socket:[4711]" or "123/exe" to "/usr/bin/sleep (deleted)".
func (t *Tree) AddLink(name, target string) { t.links[name] = target }

// AddStat sets what stat(2) through a magic link returned.
func (t *Tree) AddStat(name string, st source.FileStat) { t.stats[name] = st }

// AddHash sets the digest of the file behind a magic link, such as
// "123/exe".
func (t *Tree) AddHash(name string, d source.Digest) { t.hashes[name] = d }

// AddDir records a /proc directory that exists even when nothing under it
// was collected, such as "123/fd" of a process with no open descriptors.
func (t *Tree) AddDir(name string) { t.emptyDirs[name] = true }

// AddHostFile sets a host file outside /proc, such as "etc/hostname".
func (t *Tree) AddHostFile(name string, data []byte) { t.host[name] = data }

// AddLossy records one way in which the collector changed or dropped data.
func (t *Tree) AddLossy(note string) { t.lossy = append(t.lossy, note) }

// AddProblem records an integrity finding about the collection. Beyond
// maxProblems findings it only counts them.
func (t *Tree) AddProblem(problem string) {
	if len(t.problems) < maxProblems {
		t.problems = append(t.problems, problem)
		return
	}
	t.dropped++
}

// SetChecked records the hash list that the collection's files were checked
// against, such as "hash_list.sha256", and how many files matched it.
func (t *Tree) SetChecked(list string, files int) {
	t.checkedList, t.checkedFiles = list, files
}

// Checked returns the hash list that the files were checked against, ""
// when the collection has none, and how many files matched it.
func (t *Tree) Checked() (list string, files int) { return t.checkedList, t.checkedFiles }

// Lossy returns what the collector changed or dropped.
func (t *Tree) Lossy() []string { return slices.Clone(t.lossy) }

// Problems returns the integrity findings, such as files whose hash does
// not match the collector's own hash list. When more than maxProblems were
// found, the last entry counts the rest.
func (t *Tree) Problems() []string {
	out := slices.Clone(t.problems)
	if t.dropped > 0 {
		out = append(out, fmt.Sprintf("%d more problems not listed", t.dropped))
	}
	return out
}

// Finish builds the directory listings from the names added so far. Call
// it once, after the last Add call and before the tree is read.
func (t *Tree) Finish() {
	t.dirs = listings(t.files, t.links, t.emptyDirs)
	t.hdirs = listings(t.host, nil, nil)
}

// listings returns, for every directory on the path of a name, the sorted
// names of its entries. Each name in dirs is a directory of its own, listed
// even when empty.
func listings(files map[string][]byte, links map[string]string, dirs map[string]bool) map[string][]string {
	sets := map[string]map[string]bool{}
	for dir := range dirs {
		if sets[dir] == nil {
			sets[dir] = map[string]bool{}
		}
	}
	add := func(name string) {
		for dir := path.Dir(name); ; name, dir = dir, path.Dir(dir) {
			if sets[dir] == nil {
				sets[dir] = map[string]bool{}
			}
			sets[dir][path.Base(name)] = true
			if dir == "." {
				return
			}
		}
	}
	for name := range files {
		add(name)
	}
	for name := range links {
		add(name)
	}
	for name := range dirs {
		add(name)
	}
	out := make(map[string][]string, len(sets))
	for dir, set := range sets {
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		sort.Strings(names)
		out[dir] = names
	}
	return out
}

func notCollected(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: source.ErrNotCollected}
}

// missing returns the error for a /proc name the tree lacks. Under a pid
// the collection does not hold, the process did not exist, as on a live
// host: the error is plain fs.ErrNotExist, so a lookup of that pid finds
// no process instead of a row of NULLs. Anything else was not collected.
func (t *Tree) missing(op, name string) error {
	first, _, _ := strings.Cut(name, "/")
	if _, err := strconv.Atoi(first); err == nil {
		if _, ok := t.dirs[first]; !ok {
			return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
	}
	return notCollected(op, name)
}

// ReadFile implements source.Source.
func (t *Tree) ReadFile(name string) ([]byte, error) {
	if data, ok := t.files[name]; ok {
		return data, nil
	}
	return nil, t.missing("read", name)
}

// ReadLink implements source.Source.
func (t *Tree) ReadLink(name string) (string, error) {
	if target, ok := t.links[name]; ok {
		return target, nil
	}
	return "", t.missing("readlink", name)
}

// ReadDir implements source.Source.
func (t *Tree) ReadDir(name string) ([]string, error) {
	if name == "" {
		name = "."
	}
	if names, ok := t.dirs[name]; ok {
		return slices.Clone(names), nil
	}
	return nil, t.missing("readdir", name)
}

// Stat implements source.Source.
func (t *Tree) Stat(name string) (source.FileStat, error) {
	if st, ok := t.stats[name]; ok {
		return st, nil
	}
	return source.FileStat{}, t.missing("stat", name)
}

// Hash implements source.Source.
func (t *Tree) Hash(name string) (source.Digest, error) {
	if d, ok := t.hashes[name]; ok {
		return d, nil
	}
	return source.Digest{}, t.missing("hash", name)
}

// ProbePIDs implements source.Source. A collection contains no lookups by
// number, so it returns ErrNotCollected: pid_probe is then empty with a
// warning instead of showing probes that never happened.
func (t *Tree) ProbePIDs(max int) ([]int, error) {
	return nil, notCollected("probe", strconv.Itoa(max))
}

// HostFile implements source.Source.
func (t *Tree) HostFile(name string) ([]byte, error) {
	if data, ok := t.host[name]; ok {
		return data, nil
	}
	return nil, notCollected("read", name)
}

// HostDir implements source.Source.
func (t *Tree) HostDir(name string) ([]string, error) {
	if names, ok := t.hdirs[name]; ok {
		return slices.Clone(names), nil
	}
	return nil, notCollected("readdir", name)
}

// Describe implements source.Source. The description carries the lossy
// notes and the integrity problems recorded so far.
func (t *Tree) Describe() source.Description {
	desc := t.desc
	desc.Lossy = t.Lossy()
	desc.Problems = t.Problems()
	return desc
}

// String names the tree for messages.
func (t *Tree) String() string {
	return fmt.Sprintf("%s collection %s", strings.ToUpper(t.desc.Kind), t.desc.Location)
}
