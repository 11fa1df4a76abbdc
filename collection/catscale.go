package collection

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/procsql/procsql/source"
)

// CatScale (WithSecureLabs/LinuxCatScale) writes each artifact to
// catscale_out/<folder>/<prefix>-<suffix>, where the prefix is
// "<hostname -s>-<yyyymmdd>-<hhmm>" unless its -f option replaced it. The
// per-process files are the outputs of one shell pipeline each, such as
// `find /proc/[0-9]*/cmdline | xargs head`, so each was written at its own
// moment and none keeps /proc/<pid>/stat, maps, cwd or fdinfo.

// catScaleOutput names the files that loadCatScale reads, by folder and
// suffix. Their order is the order of the fallbacks in CatScale's script.
var catScaleOutput = []struct{ folder, suffix string }{
	{"Process_and_Network", "process-details.txt"},
	{"Process_and_Network", "processes-axwwSo.txt"},
	{"Process_and_Network", "processes-auxSww.txt"},
	{"Process_and_Network", "processes-auxww.txt"},
	{"Process_and_Network", "processes-eF.txt"},
	{"Process_and_Network", "processes-ef.txt"},
	{"Process_and_Network", "processes-e.txt"},
	{"Process_and_Network", "process-cmdline.txt"},
	{"Process_and_Network", "process-environment.txt"},
	{"Process_and_Network", "process-exe-links.txt"},
	{"Process_and_Network", "process-fd-links.txt"},
	{"Process_and_Network", "process-map_files-links.txt"},
	{"Process_and_Network", "processhashes.txt"},
	{"Process_and_Network", "process-map_files-link-hashes.txt"},
	{"Process_and_Network", "lsof-list-open-files.txt"},
	{"Process_and_Network", "ss-anepo.txt"},
	{"Process_and_Network", "netstat-pvWanoee.txt"},
	{"Process_and_Network", "netstat-pvTanoee.txt"},
	{"Process_and_Network", "netstat-antup.txt"},
	{"Process_and_Network", "netstat-an.txt"},
	{"System_Info", "host-date-timezone.txt"},
	{"System_Info", "release.txt"},
	{"System_Info", "meminfo.txt"},
	{"System_Info", "procmod.txt"},
	{".", "console-error-log.txt"},
}

// catScaleSet is one CatScale collection: where its files are and what the
// import found in them so far.
type catScaleSet struct {
	fsys   fs.FS
	prefix string            // the OUTFILE part of every file name
	files  map[string]string // suffix → path in fsys of each file found
	tree   *Tree

	// pids that have a status rebuilt from process-details, which is
	// exact and wins over the partial one rebuilt from ps.
	statusPIDs map[int]bool
	// cwdKnown is set when lsof gave at least one cwd link.
	cwdKnown bool
	// earlyProblems are findings made before the tree existed.
	earlyProblems []string
}

// loadCatScale rebuilds the /proc tree of a CatScale collection.
// root is the directory inside fsys that holds catscale_out.
//
// Every value comes from a file CatScale wrote, converted to the text the
// kernel prints. What CatScale did not keep stays not collected, and the
// tree's Lossy notes name the columns that it leaves NULL. A missing file only
// adds such a note. A line that does not parse is skipped with a note in
// Problems, because the other lines of a file stay valid. loadCatScale
// fails when root holds no CatScale output, or holds the files of two
// collections.
func loadCatScale(fsys fs.FS, root string) (*Tree, error) {
	if !fs.ValidPath(root) {
		return nil, fmt.Errorf("invalid collection root %q: give a slash-separated path inside the archive, such as \".\"", root)
	}
	out := path.Join(root, "catscale_out")
	set, err := findCatScaleFiles(fsys, out)
	if err != nil {
		return nil, err
	}

	desc, notes, err := set.describe()
	if err != nil {
		return nil, err
	}
	set.tree = NewTree(desc)
	for _, note := range notes {
		set.tree.AddLossy(note)
	}

	steps := []func() error{
		set.loadStatus,
		set.loadPS,
		set.loadCmdline,
		set.loadEnviron,
		set.loadExeLinks,
		set.loadFDLinks,
		set.loadMapFiles,
		set.loadLsof,
		set.loadSockets,
		set.loadHashes,
		set.loadSystemInfo,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	set.addFixedLossy()
	set.tree.Finish()
	return set.tree, nil
}

// findCatScaleFiles lists the files of the collection under out and checks
// that they share one prefix.
func findCatScaleFiles(fsys fs.FS, out string) (*catScaleSet, error) {
	info, err := fs.Stat(fsys, out)
	if err != nil || !info.IsDir() {
		return nil, fmt.Errorf("catscale_out directory not found at %s: give the directory or archive that contains CatScale's catscale_out", out)
	}
	set := &catScaleSet{fsys: fsys, files: map[string]string{}, statusPIDs: map[int]bool{}}
	prefixes := map[string]string{} // prefix → the first file that has it
	folders := map[string]bool{}
	for _, want := range catScaleOutput {
		folders[want.folder] = true
	}
	for folder := range folders {
		dir := path.Join(out, folder)
		entries, err := fs.ReadDir(fsys, dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			suffix, prefix, ok := matchCatScaleName(folder, e.Name())
			if !ok {
				continue
			}
			name := path.Join(dir, e.Name())
			if first, seen := set.files[suffix]; seen {
				return nil, fmt.Errorf("two CatScale outputs of the same kind, %s and %s: import one collection at a time", first, name)
			}
			set.files[suffix] = name
			if _, seen := prefixes[prefix]; !seen {
				prefixes[prefix] = name
			}
		}
	}
	if len(set.files) == 0 {
		return nil, fmt.Errorf("%s contains none of the files procsql reads, such as Process_and_Network/<host>-<date>-<time>-process-details.txt: the collection was made without CatScale's process functions", out)
	}
	if len(prefixes) > 1 {
		names := make([]string, 0, len(prefixes))
		for _, name := range prefixes {
			names = append(names, name)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("files of more than one CatScale collection under %s (%s): import one collection at a time", out, strings.Join(names, ", "))
	}
	for prefix := range prefixes {
		set.prefix = prefix
	}
	return set, nil
}

// matchCatScaleName returns the suffix and prefix of a CatScale output file
// name in folder, choosing the longest known suffix.
func matchCatScaleName(folder, name string) (suffix, prefix string, ok bool) {
	for _, want := range catScaleOutput {
		if want.folder != folder || len(want.suffix) <= len(suffix) {
			continue
		}
		if p, found := strings.CutSuffix(name, "-"+want.suffix); found && p != "" {
			suffix, prefix, ok = want.suffix, p, true
		}
	}
	return suffix, prefix, ok
}

// read returns the content of the file with suffix, or false when the
// collection lacks it.
func (s *catScaleSet) read(suffix string) ([]byte, bool, error) {
	name, ok := s.files[suffix]
	if !ok {
		return nil, false, nil
	}
	data, err := fs.ReadFile(s.fsys, name)
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", name, err)
	}
	return data, true, nil
}

// describe builds the tree's description from the Date line CatScale writes
// at its start, and returns notes about what the description lacks.
func (s *catScaleSet) describe() (source.Description, []string, error) {
	desc := source.Description{
		Kind:      "catscale",
		Collector: "CatScale",
		// The importer writes the net/ files itself, in this order.
		ByteOrder: binary.LittleEndian,
	}
	var notes []string
	start, note, err := s.startTime()
	if err != nil {
		return desc, nil, err
	}
	desc.ReadTime = start
	if note != "" {
		notes = append(notes, note)
	}
	notes = append(notes,
		"system.capture_end is NULL because CatScale records when it started but not when it finished.",
		"system.architecture is NULL because CatScale records no uname -m.")
	return desc, notes, nil
}

// addFixedLossy records what CatScale never collects, whatever its files
// hold.
func (s *catScaleSet) addFixedLossy() {
	t := s.tree
	t.AddLossy("CatScale keeps no /proc/<pid>/stat, so processes.start_time, nice, vsize_bytes, tty_nr, session and pgrp are NULL, and processes.name, ppid, state, threads and kernel_thread and process_sockets.name come from the status file instead.")
	t.AddLossy("CatScale keeps no /proc/<pid>/maps, and its map_files listing has no permissions, offsets, devices or inodes, so the maps table is empty, and the map_files links are kept under <pid>/map_files only.")
	t.AddLossy("CatScale keeps no fdinfo and no stat(2) of open files, so fds.pos, flags, access and size_bytes are NULL, and fds.deleted and processes.exe_deleted rest on the kernel's \" (deleted)\" marker alone.")
	t.AddLossy("CatScale keeps no cgroup, namespace links or task directories, so processes.cgroup, pid_ns, net_ns and mnt_ns and sockets.net_ns are NULL and the threads table is empty.")
	t.AddLossy("Each CatScale file was written by its own command at its own moment, so a process that started or ended during the collection, such as CatScale's own helpers, has only some of its files.")
	if !s.cwdKnown {
		t.AddLossy("processes.cwd and root are NULL because CatScale lists no cwd or root links and its lsof output holds none.")
	}
}
