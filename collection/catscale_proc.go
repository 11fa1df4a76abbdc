package collection

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/procsql/procsql/procfile"
)

// fileProblems collects the lines of one file that were skipped and reports
// the first few to the tree, with a count of the rest, so one damaged file
// cannot bury the other findings.
type fileProblems struct {
	name  string
	shown []string
	more  int
}

// maxShownProblems is how many skipped lines of one file are reported one
// by one.
const maxShownProblems = 3

func (p *fileProblems) add(line int, format string, args ...any) {
	if len(p.shown) < maxShownProblems {
		p.shown = append(p.shown, fmt.Sprintf("%s line %d: %s", p.name, line, fmt.Sprintf(format, args...)))
		return
	}
	p.more++
}

func (p *fileProblems) report(t *Tree) {
	for _, s := range p.shown {
		t.AddProblem(s)
	}
	if p.more > 0 {
		t.AddProblem(fmt.Sprintf("%s: %d more lines skipped", p.name, p.more))
	}
}

// parsePID parses a pid as the kernel spells it, so "013" cannot stand for
// pid 13 a second time.
func parsePID(text string) (int, bool) {
	pid, err := strconv.Atoi(text)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != text {
		return 0, false
	}
	return pid, true
}

// pidList formats pids for a note, at most ten of them.
func pidList(pids []int) string {
	sort.Ints(pids)
	var b strings.Builder
	for i, pid := range pids {
		if i == 10 {
			fmt.Fprintf(&b, " and %d more", len(pids)-10)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(pid))
	}
	return b.String()
}

// statusChunk is the text of one /proc/<pid>/status inside process-details
// and the line it starts on.
type statusChunk struct {
	line int
	text string
}

// splitStatusFiles splits the output of `cat /proc/*/status` into one text
// per process. Every status file starts with its "Name:" line, and the
// kernel escapes newlines in the name, so a line that starts with "Name:"
// always starts a file. Lines before the first "Name:" are returned as
// stray line numbers.
func splitStatusFiles(data []byte) (chunks []statusChunk, stray []int) {
	text := string(data)
	start := -1 // offset in text of the current file, -1 before the first
	lineNumber := 0
	finish := func(end int) {
		if start < 0 {
			return
		}
		chunk := text[start:end]
		if !strings.HasSuffix(chunk, "\n") {
			chunk += "\n"
		}
		chunks[len(chunks)-1].text = chunk
	}
	for offset := 0; offset < len(text); {
		line, _, _ := strings.Cut(text[offset:], "\n")
		lineNumber++
		if strings.HasPrefix(line, "Name:") {
			finish(offset)
			chunks = append(chunks, statusChunk{line: lineNumber})
			start = offset
		} else if start < 0 && strings.TrimSpace(line) != "" {
			stray = append(stray, lineNumber)
		}
		offset += len(line) + 1
	}
	finish(len(text))
	return chunks, stray
}

// loadStatus rebuilds /proc/<pid>/status from process-details, which holds
// every status file one after another, unchanged.
func (s *catScaleSet) loadStatus() error {
	data, ok, err := s.read("process-details.txt")
	if err != nil || !ok {
		if !ok && err == nil {
			s.tree.AddLossy("processes.uid, euid, suid, gid, egid, sgid, rss_bytes, tracer_pid, cap_eff and seccomp come only from ps, or are NULL, because the collection has no process-details (the status files).")
		}
		return err
	}
	problems := &fileProblems{name: s.files["process-details.txt"]}
	chunks, stray := splitStatusFiles(data)
	for _, line := range stray {
		problems.add(line, "skipped a line before the first \"Name:\" line, where no status file starts")
	}
	texts := map[int]string{}
	duplicates := map[int]bool{}
	for _, c := range chunks {
		st, err := procfile.ParseStatus([]byte(c.text))
		if err != nil {
			problems.add(c.line, "skipped a status file that does not parse: %v", err)
			continue
		}
		value, _ := st.Value("Pid")
		pid, ok := parsePID(value)
		if !ok {
			problems.add(c.line, "skipped a status file whose Pid line is %q, not a process id", value)
			continue
		}
		if _, seen := texts[pid]; seen {
			duplicates[pid] = true
			continue
		}
		texts[pid] = c.text
	}
	for pid, text := range texts {
		if duplicates[pid] {
			continue
		}
		s.tree.AddFile(strconv.Itoa(pid)+"/status", []byte(text))
		s.statusPIDs[pid] = true
	}
	if len(duplicates) > 0 {
		pids := make([]int, 0, len(duplicates))
		for pid := range duplicates {
			pids = append(pids, pid)
		}
		s.tree.AddProblem(fmt.Sprintf("%s holds more than one status file for pid %s, so neither is used: a process name or argument may imitate a status file", problems.name, pidList(pids)))
	}
	problems.report(s.tree)
	return nil
}

// psStateNames are the names the kernel prints after the state letter in
// the State line of status.
var psStateNames = map[byte]string{
	'R': "running", 'S': "sleeping", 'D': "disk sleep", 'T': "stopped",
	't': "tracing stop", 'X': "dead", 'Z': "zombie", 'P': "parked", 'I': "idle",
}

// loadPS rebuilds a partial status for the processes that ps listed but
// process-details lacks, from the ps columns that are exact: PID, PPID, the
// state letter of STAT, and VSZ and RSS in KiB.
func (s *catScaleSet) loadPS() error {
	var suffix string
	for _, candidate := range []string{"processes-axwwSo.txt", "processes-auxSww.txt", "processes-auxww.txt", "processes-eF.txt", "processes-ef.txt", "processes-e.txt"} {
		if _, ok := s.files[candidate]; ok {
			suffix = candidate
			break
		}
	}
	if suffix == "" {
		return nil
	}
	data, _, err := s.read(suffix)
	if err != nil {
		return err
	}
	problems := &fileProblems{name: s.files[suffix]}
	rows := parsePS(data, problems)
	var added []int
	for _, row := range rows {
		if s.statusPIDs[row.pid] {
			continue
		}
		s.tree.AddFile(strconv.Itoa(row.pid)+"/status", []byte(row.status()))
		added = append(added, row.pid)
	}
	if len(added) > 0 {
		s.tree.AddLossy(fmt.Sprintf("The status of pid %s, which process-details lacks, is rebuilt from ps with only Pid, Tgid, PPid, State, VmSize and VmRSS, so their uid, cap_eff and other columns from status are NULL.", pidList(added)))
	}
	problems.report(s.tree)
	return nil
}

// psRow holds the exact columns of one ps line.
type psRow struct {
	pid, ppid int
	hasPPID   bool
	state     byte // 0 when ps printed no STAT column
	vszKiB    uint64
	rssKiB    uint64
	hasMemory bool
}

// status formats the row as the lines of /proc/<pid>/status it stands for.
// ps lists processes, not threads, so Tgid is the pid.
func (r psRow) status() string {
	var b strings.Builder
	if name, ok := psStateNames[r.state]; ok {
		fmt.Fprintf(&b, "State:\t%c (%s)\n", r.state, name)
	}
	fmt.Fprintf(&b, "Tgid:\t%d\nPid:\t%d\n", r.pid, r.pid)
	if r.hasPPID {
		fmt.Fprintf(&b, "PPid:\t%d\n", r.ppid)
	}
	// Kernel threads and zombies have no address space, so their status
	// has no Vm lines, and ps shows 0 for them.
	if r.hasMemory && r.vszKiB > 0 {
		fmt.Fprintf(&b, "VmSize:\t%8d kB\nVmRSS:\t%8d kB\n", r.vszKiB, r.rssKiB)
	}
	return b.String()
}

// parsePS parses the output of one of CatScale's ps commands by its header
// line. Every column but the last (the command) is one word.
func parsePS(data []byte, problems *fileProblems) []psRow {
	var rows []psRow
	column := map[string]int{}
	width := 0
	lineNumber := 0
	for line := range strings.Lines(string(data)) {
		lineNumber++
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if width == 0 {
			for i, name := range fields {
				column[name] = i
			}
			width = len(fields)
			if _, ok := column["PID"]; !ok {
				problems.add(lineNumber, "no PID column in the header %q, so the file is not read", strings.TrimSpace(line))
				return nil
			}
			continue
		}
		if len(fields) < width-1 {
			problems.add(lineNumber, "skipped a line with %d columns, want at least %d", len(fields), width-1)
			continue
		}
		row, err := psLine(fields, column)
		if err != nil {
			problems.add(lineNumber, "skipped: %v", err)
			continue
		}
		rows = append(rows, row)
	}
	return rows
}

// psLine reads the exact columns of one ps line. A column may be missing
// when it is the last one and empty, as COMMAND can be.
func psLine(fields []string, column map[string]int) (psRow, error) {
	field := func(name string) (string, bool) {
		i, ok := column[name]
		if !ok || i >= len(fields) {
			return "", false
		}
		return fields[i], true
	}
	var row psRow
	pidText, _ := field("PID")
	pid, ok := parsePID(pidText)
	if !ok {
		return row, fmt.Errorf("PID %q is not a process id", pidText)
	}
	row.pid = pid
	if text, found := field("PPID"); found {
		ppid, err := strconv.Atoi(text)
		if err != nil || ppid < 0 {
			return row, fmt.Errorf("PPID %q is not a process id", text)
		}
		row.ppid, row.hasPPID = ppid, true
	}
	if text, found := field("STAT"); found && text != "" {
		row.state = text[0]
	}
	vszText, hasVSZ := field("VSZ")
	rssText, hasRSS := field("RSS")
	if hasVSZ && hasRSS {
		vsz, err1 := strconv.ParseUint(vszText, 10, 64)
		rss, err2 := strconv.ParseUint(rssText, 10, 64)
		if err1 != nil || err2 != nil {
			return row, fmt.Errorf("VSZ %q or RSS %q is not a number of KiB", vszText, rssText)
		}
		row.vszKiB, row.rssKiB, row.hasMemory = vsz, rss, true
	}
	return row, nil
}

// headHeader matches the line GNU head prints before each file when given
// several: "==> /proc/123/cmdline <==".
var headHeader = regexp.MustCompile(`\A==> /proc/([0-9]+)/(cmdline|environ) <==\n`)

// headEntry is one file in the output of head.
type headEntry struct {
	pid     int
	line    int // the line of its header
	content []byte
}

// parseHeadOutput splits the output of `xargs head` over /proc/<pid>/<kind>
// files. GNU head writes "==> NAME <==\n" before each file and "\n" before
// every header but its first, so the text between two headers is the file
// plus that one newline. Headers are searched anywhere, not only at line
// starts, because a file such as cmdline ends without a newline, and a new
// head started by xargs writes its first header without one.
//
// NOTE: when xargs starts a new head between two files, the newline that
// ends the earlier file is taken as head's separator and lost. A head given
// a single file prints no header, so that file's text joins the file before
// it. Both need thousands of processes.
func parseHeadOutput(data []byte, kind string, problems *fileProblems) []headEntry {
	type header struct {
		start, end, pid, line int
	}
	var headers []header
	lineNumber := 1
	counted := 0
	text := string(data)
	for pos := 0; ; {
		i := strings.Index(text[pos:], "==> /proc/")
		if i < 0 {
			break
		}
		start := pos + i
		m := headHeader.FindStringSubmatchIndex(text[start:])
		if m == nil {
			pos = start + 1
			continue
		}
		lineNumber += strings.Count(text[counted:start], "\n")
		counted = start
		pidText := text[start+m[2] : start+m[3]]
		pid, ok := parsePID(pidText)
		file := text[start+m[4] : start+m[5]]
		pos = start + m[1]
		if !ok || file != kind {
			problems.add(lineNumber, "skipped the header of /proc/%s/%s in a file of %s", pidText, file, kind)
			continue
		}
		headers = append(headers, header{start: start, end: start + m[1], pid: pid, line: lineNumber})
	}

	if len(headers) == 0 {
		if strings.TrimSpace(text) != "" {
			problems.add(1, "no \"==> /proc/<pid>/%s <==\" header, so the file is not read", kind)
		}
		return nil
	}
	if headers[0].start > 0 && strings.TrimSpace(text[:headers[0].start]) != "" {
		problems.add(1, "skipped the text before the first header, which belongs to no process")
	}
	entries := make([]headEntry, 0, len(headers))
	for i, h := range headers {
		end := len(text)
		if i+1 < len(headers) {
			end = headers[i+1].start
			if end > h.end && text[end-1] == '\n' {
				end--
			}
		}
		entries = append(entries, headEntry{pid: h.pid, line: h.line, content: []byte(text[h.end:end])})
	}
	return entries
}

// headLineLimit is how many lines GNU head copies of each file by default.
const headLineLimit = 10

// loadHeadFiles adds the cmdline or environ files of every process from the
// output of `xargs head`.
func (s *catScaleSet) loadHeadFiles(suffix, kind, columns string) error {
	data, ok, err := s.read(suffix)
	if err != nil {
		return err
	}
	if !ok {
		s.tree.AddLossy(fmt.Sprintf("%s are NULL because the collection has no %s.", columns, strings.TrimSuffix(suffix, ".txt")))
		return nil
	}
	problems := &fileProblems{name: s.files[suffix]}
	entries := parseHeadOutput(data, kind, problems)
	seen := map[int]int{} // pid → index in entries, -1 once repeated
	for i, e := range entries {
		if _, dup := seen[e.pid]; dup {
			seen[e.pid] = -1
			continue
		}
		seen[e.pid] = i
	}
	var repeated, cut []int
	for pid, i := range seen {
		if i < 0 {
			repeated = append(repeated, pid)
			continue
		}
		content := entries[i].content
		s.tree.AddFile(strconv.Itoa(pid)+"/"+kind, content)
		if strings.Count(string(content), "\n") >= headLineLimit {
			cut = append(cut, pid)
		}
	}
	if len(repeated) > 0 {
		s.tree.AddProblem(fmt.Sprintf("%s has more than one %s for pid %s, so none is used: an argument or variable may imitate head's \"==> /proc/<pid>/%s <==\" header", problems.name, kind, pidList(repeated), kind))
	}
	if len(cut) > 0 {
		s.tree.AddLossy(fmt.Sprintf("%s of pid %s may be cut: CatScale copied each %s with head, which keeps the first %d lines, and these have %d or more newlines.", columns, pidList(cut), kind, headLineLimit, headLineLimit))
	}
	problems.report(s.tree)
	return nil
}

func (s *catScaleSet) loadCmdline() error {
	return s.loadHeadFiles("process-cmdline.txt", "cmdline", "processes.cmdline, cmdline_raw and argv")
}

func (s *catScaleSet) loadEnviron() error {
	return s.loadHeadFiles("process-environment.txt", "environ", "The environ table rows")
}

// catScaleLinkName matches the /proc links that CatScale lists with ls -l.
var catScaleLinkName = regexp.MustCompile(`^/proc/([0-9]+)/(exe|fd/[0-9]+|map_files/[0-9a-f]+-[0-9a-f]+)$`)

// loadLinks adds the links of kind ("exe", "fd" or "map_files") listed in
// the ls -l output with suffix. `find ... | xargs ls -l` lists each link by
// its full path and then, for the fd and map_files directories that find
// also passed, each entry again under its directory heading. The first
// listing of a link wins; a later one with another target is reported.
func (s *catScaleSet) loadLinks(suffix, kind string) (int, bool, error) {
	data, ok, err := s.read(suffix)
	if err != nil || !ok {
		return 0, ok, err
	}
	name := s.files[suffix]
	added := 0
	conflicts := map[string]bool{}
	for _, l := range parseLsLinks(data) {
		full := l.name
		if !path.IsAbs(full) {
			full = l.dir + "/" + l.name
		}
		m := catScaleLinkName.FindStringSubmatch(full)
		if m == nil || strings.SplitN(m[2], "/", 2)[0] != kind {
			continue
		}
		pid, ok := parsePID(m[1])
		if !ok {
			continue
		}
		link := strconv.Itoa(pid) + "/" + m[2]
		if target, err := s.tree.ReadLink(link); err == nil {
			if target != l.target {
				conflicts[link] = true
			}
			continue
		}
		s.tree.AddLink(link, l.target)
		added++
	}
	if len(conflicts) > 0 {
		links := make([]string, 0, len(conflicts))
		for link := range conflicts {
			links = append(links, link)
		}
		sort.Strings(links)
		s.tree.AddProblem(fmt.Sprintf("%s lists %s twice with different targets, as when a descriptor is reused between ls's two listings; the first target is kept", name, strings.Join(links, ", ")))
	}
	return added, true, nil
}

func (s *catScaleSet) loadExeLinks() error {
	_, ok, err := s.loadLinks("process-exe-links.txt", "exe")
	if err == nil && !ok {
		s.tree.AddLossy("processes.exe and exe_deleted are NULL because the collection has no process-exe-links.")
	}
	return err
}

func (s *catScaleSet) loadFDLinks() error {
	_, ok, err := s.loadLinks("process-fd-links.txt", "fd")
	if err == nil && !ok {
		s.tree.AddLossy("The fds table holds only the socket descriptors named in ss's process column because the collection has no process-fd-links.")
	}
	return err
}

func (s *catScaleSet) loadMapFiles() error {
	_, _, err := s.loadLinks("process-map_files-links.txt", "map_files")
	return err
}

// lsofDirEntry matches the columns after PID (and TID, when lsof prints
// it) of a process's cwd or rtd line: an optional PPID (lsof -R), USER, FD,
// TYPE DIR, DEVICE, SIZE/OFF, NODE and, after one space, NAME.
var lsofDirEntry = regexp.MustCompile(`^\s+(?:[0-9]+\s+)?\S+\s+(cwd|rtd)\s+DIR\s+\S+\s+\S+\s+\S+ (.*)$`)

// lsofDir is the cwd or root directory of one process in lsof's output.
type lsofDir struct {
	pid  int
	link string // "cwd" or "root"
	path string
}

// parseLsofDirs returns the cwd and rtd entries of processes in the output
// of lsof. lsof aligns PID and TID to the right edge of their headings, and
// COMMAND and TASKCMD may hold spaces, so the PID is read where its heading
// ends. Lines of threads, which have a TID, repeat their process's
// directories and are skipped.
func parseLsofDirs(data []byte, problems *fileProblems) []lsofDir {
	var dirs []lsofDir
	pidEnd, tidEnd := -1, -1
	lineNumber := 0
	for line := range strings.Lines(string(data)) {
		lineNumber++
		line = strings.TrimSuffix(line, "\n")
		if pidEnd < 0 {
			pidEnd, tidEnd = lsofColumns(line)
			if pidEnd < 0 && strings.TrimSpace(line) != "" {
				problems.add(lineNumber, "no COMMAND ... PID header, so the file is not read")
				return nil
			}
			continue
		}
		if len(line) <= pidEnd || line[pidEnd] != ' ' {
			continue
		}
		start := pidEnd
		for start > 0 && line[start-1] >= '0' && line[start-1] <= '9' {
			start--
		}
		pid, ok := parsePID(line[start:pidEnd])
		if !ok || start == 0 || line[start-1] != ' ' {
			continue
		}
		rest := line[pidEnd:]
		if tidEnd > 0 {
			if len(line) <= tidEnd || strings.TrimSpace(line[pidEnd:tidEnd]) != "" {
				continue
			}
			rest = line[tidEnd:]
		}
		m := lsofDirEntry.FindStringSubmatch(rest)
		if m == nil {
			continue
		}
		link := "cwd"
		if m[1] == "rtd" {
			link = "root"
		}
		dirs = append(dirs, lsofDir{pid: pid, link: link, path: m[2]})
	}
	return dirs
}

// lsofColumns returns where the PID and TID headings end in lsof's header
// line, or -1 when the line is not that header or has no TID heading.
func lsofColumns(header string) (pidEnd, tidEnd int) {
	fields := strings.Fields(header)
	if len(fields) < 2 || fields[0] != "COMMAND" {
		return -1, -1
	}
	pidEnd, tidEnd = -1, -1
	for pos := 0; pos < len(header); {
		for pos < len(header) && header[pos] == ' ' {
			pos++
		}
		end := pos
		for end < len(header) && header[end] != ' ' {
			end++
		}
		switch header[pos:end] {
		case "PID":
			pidEnd = end
		case "TID":
			tidEnd = end
		}
		pos = end
	}
	return pidEnd, tidEnd
}

// loadLsof adds the cwd and root links that lsof listed. CatScale's lsof
// call names a gvfs mount with -e, and lsof 4.95 rejects it when that path
// is not mounted, so the file is often empty.
func (s *catScaleSet) loadLsof() error {
	data, ok, err := s.read("lsof-list-open-files.txt")
	if err != nil || !ok {
		return err
	}
	problems := &fileProblems{name: s.files["lsof-list-open-files.txt"]}
	for _, d := range parseLsofDirs(data, problems) {
		name := strconv.Itoa(d.pid) + "/" + d.link
		if _, err := s.tree.ReadLink(name); err == nil {
			continue
		}
		s.tree.AddLink(name, d.path)
		if d.link == "cwd" {
			s.cwdKnown = true
		}
	}
	if s.cwdKnown {
		s.tree.AddLossy("processes.cwd and root come from lsof, which writes some characters of path names as escapes such as \\n, so such a path differs from the kernel's link text.")
	}
	problems.report(s.tree)
	return nil
}

// sha1Line matches a line of sha1sum output for a /proc link. sha1sum
// starts the line with a backslash when it escaped the name.
var sha1Line = regexp.MustCompile(`^\\?[0-9a-f]{40} [ *]/proc/[0-9]+/`)

// loadHashes notes the digests CatScale took, which the tables cannot use.
func (s *catScaleSet) loadHashes() error {
	for _, h := range []struct{ suffix, note string }{
		{"processhashes.txt", "CatScale took SHA-1 digests of %d executables (processhashes) without their sizes, so processes.exe_sha256 and exe_size are NULL."},
		{"process-map_files-link-hashes.txt", "CatScale took SHA-1 digests of %d mapped files (process-map_files-link-hashes), which no column holds."},
	} {
		data, ok, err := s.read(h.suffix)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		count := 0
		for line := range strings.Lines(string(data)) {
			if sha1Line.MatchString(line) {
				count++
			}
		}
		// TODO: hand these SHA-1 digests to the tree once source.Digest
		// can carry SHA-1; exe_sha256 must not hold them.
		s.tree.AddLossy(fmt.Sprintf(h.note, count))
	}
	return nil
}
