package hardening

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The checks in this file test that every row procsql returns is
// internally consistent. Values have the type and range of their column,
// and columns that come from one /proc file agree. A join matches rows of
// one process or socket. No row carries the marks of another process: the
// command name, file name and socket name of a churn child contain its pid.

// clockSlack is how far a start_time may lie after the moment procsql
// exited, read from the test's clock. It allows for rounding, because
// procsql computes start_time from btime in /proc/stat, in whole seconds,
// and the start ticks, in 1/100 s.
const clockSlack = 2 * time.Second

// report collects the problems that checks find, from any goroutine. It
// keeps the first 40 messages and counts the rest.
type report struct {
	mu       sync.Mutex
	messages []string
	total    int
}

func (r *report) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total++
	if len(r.messages) < 40 {
		r.messages = append(r.messages, fmt.Sprintf(format, args...))
	}
}

func (r *report) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

func (r *report) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	text := strings.Join(r.messages, "\n")
	if r.total > len(r.messages) {
		text += fmt.Sprintf("\n... and %d more", r.total-len(r.messages))
	}
	return text
}

// rowView reads the columns of one row and reports values of the wrong type
// as problems. Each accessor returns false for NULL.
type rowView struct {
	r      row
	where  string // "processes row 3 (pid 17)", for messages
	report *report
}

func (v rowView) fail(format string, args ...any) {
	v.report.add("%s: %s", v.where, fmt.Sprintf(format, args...))
}

// value returns the column's value and reports a column missing from the row.
func (v rowView) value(column string) (any, bool) {
	value, present := v.r[column]
	if !present {
		v.fail("column %s is missing from the output", column)
		return nil, false
	}
	return value, value != nil
}

func (v rowView) null(column string) bool {
	value, present := v.r[column]
	return present && value == nil
}

func (v rowView) int(column string) (int64, bool) {
	value, ok := v.value(column)
	if !ok {
		return 0, false
	}
	number, isNumber := value.(json.Number)
	if !isNumber {
		v.fail("%s = %#v, want an integer", column, value)
		return 0, false
	}
	n, err := strconv.ParseInt(string(number), 10, 64)
	if err != nil {
		v.fail("%s = %s, want a signed 64-bit integer", column, number)
		return 0, false
	}
	return n, true
}

func (v rowView) uint(column string) (uint64, bool) {
	value, ok := v.value(column)
	if !ok {
		return 0, false
	}
	number, isNumber := value.(json.Number)
	if !isNumber {
		v.fail("%s = %#v, want an unsigned integer", column, value)
		return 0, false
	}
	n, err := strconv.ParseUint(string(number), 10, 64)
	if err != nil {
		v.fail("%s = %s, want an unsigned 64-bit integer", column, number)
		return 0, false
	}
	return n, true
}

func (v rowView) text(column string) (string, bool) {
	value, ok := v.value(column)
	if !ok {
		return "", false
	}
	text, isText := value.(string)
	if !isText {
		v.fail("%s = %#v, want text", column, value)
		return "", false
	}
	return text, true
}

func (v rowView) flag(column string) (bool, bool) {
	value, ok := v.value(column)
	if !ok {
		return false, false
	}
	flag, isBool := value.(bool)
	if !isBool {
		v.fail("%s = %#v, want true or false", column, value)
		return false, false
	}
	return flag, true
}

func (v rowView) time(column string) (time.Time, bool) {
	text, ok := v.text(column)
	if !ok {
		return time.Time{}, false
	}
	parsed, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		v.fail("%s = %q, want an RFC 3339 time", column, text)
		return time.Time{}, false
	}
	return parsed, true
}

// notNull reports each of columns that is NULL or missing.
func (v rowView) notNull(columns ...string) {
	for _, column := range columns {
		value, present := v.r[column]
		switch {
		case !present:
			v.fail("column %s is missing from the output", column)
		case value == nil:
			v.fail("%s is NULL, want a value", column)
		}
	}
}

// rowChecker contains the expected values that the checks compare rows with.
type rowChecker struct {
	source     string    // "live" or "snapshot", as the system table names it
	churnExe   string    // executable of the churn children
	churnHash  string    // its SHA-256 in hex
	churnSize  int64     // its size in bytes
	workDir    string    // working directory of the churn children
	namespaces nsInodes  // namespaces of every process that the test starts
	testStart  time.Time // before the first churn child started
	report     *report

	// churnRows counts the processes rows of churn children, which shows
	// that the queries ran while children came and went.
	churnRows atomic.Int64
}

// nsInodes are the inodes of the namespaces the test runs in.
type nsInodes struct {
	pid, net, mnt uint64
}

// tableCheck is one query and the check of its rows. readEnd is when the
// procsql process that printed the rows exited.
type tableCheck struct {
	name  string
	query string
	check func(c *rowChecker, rows []row, readEnd time.Time)
}

// churnNamePattern matches the command name a churn child gives itself.
var churnNamePattern = regexp.MustCompile(`^churn-(\d+)$`)

// churnMarkPattern matches the pid in the names of a churn child's file and
// unix socket.
var churnMarkPattern = regexp.MustCompile(`/[fu]-(\d+)$`)

// markedPID returns the pid that a churn child's name, file path or socket
// path carries, or false for any other text.
func markedPID(pattern *regexp.Regexp, text string) (int64, bool) {
	m := pattern.FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	pid, err := strconv.ParseInt(m[1], 10, 64)
	return pid, err == nil
}

func (c *rowChecker) view(table string, index int, r row, key string) rowView {
	where := fmt.Sprintf("%s row %d", table, index)
	if value, ok := r[key]; ok {
		where += fmt.Sprintf(" (%s %v)", key, value)
	}
	return rowView{r: r, where: where, report: c.report}
}

// checkMark reports a churn mark in text that names a pid other than the
// row's.
func checkMark(v rowView, pattern *regexp.Regexp, column, text string, pid int64) {
	if marked, ok := markedPID(pattern, text); ok && marked != pid {
		v.fail("%s %q belongs to pid %d, but the row has pid %d", column, text, marked, pid)
	}
}

// validStates are the process and thread state letters of proc_pid_stat(5),
// from Linux 2.6 to 6.x.
const validStates = "RSDZTtXxKWPI"

func checkState(v rowView, column string) (string, bool) {
	state, ok := v.text(column)
	if ok && (len(state) != 1 || !strings.Contains(validStates, state)) {
		v.fail("%s = %q, want one of the letters %s", column, state, validStates)
	}
	return state, ok
}

func (c *rowChecker) checkStartTime(v rowView, column string, readEnd time.Time) (time.Time, bool) {
	start, ok := v.time(column)
	if ok && start.After(readEnd.Add(clockSlack)) {
		v.fail("%s = %s is after procsql exited at %s", column, start.Format(time.RFC3339Nano), readEnd.UTC().Format(time.RFC3339Nano))
	}
	return start, ok
}

func (c *rowChecker) checkNamespace(v rowView, column string, want uint64) {
	if inode, ok := v.uint(column); ok && inode != want {
		v.fail("%s = %d, want %d: every process of the test shares one namespace", column, inode, want)
	}
}

var capMaskPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

func checkProcesses(c *rowChecker, rows []row, readEnd time.Time) {
	seen := map[int64]bool{}
	for i, r := range rows {
		v := c.view("processes", i, r, "pid")
		// Only the columns from stat, which decides that the row exists,
		// are always set: a process that exits after its stat was read
		// keeps its row with NULL in the columns of its other files.
		v.notNull("pid", "ppid", "name", "state", "start_time", "threads", "nice", "kernel_thread")
		pid, _ := v.int("pid")
		if pid <= 0 {
			v.fail("pid = %d, want a positive pid", pid)
		}
		if seen[pid] {
			v.fail("pid %d appears in more than one row", pid)
		}
		seen[pid] = true
		if ppid, ok := v.int("ppid"); ok && (ppid < 0 || ppid == pid) {
			v.fail("ppid = %d, want 0 or another process's pid", ppid)
		}
		name, _ := v.text("name")
		if len(name) > 15 {
			v.fail("name %q is longer than the 15 bytes of a kernel command name", name)
		}
		checkMark(v, churnNamePattern, "name", name, pid)
		state, _ := checkState(v, "state")
		if state == "Z" && !v.null("vsize_bytes") {
			v.fail("vsize_bytes is set for a zombie, whose stat reports no address space")
		}
		if vsize, ok := v.uint("vsize_bytes"); ok && vsize == 0 {
			v.fail("vsize_bytes = 0, want NULL for no address space")
		}
		start, _ := c.checkStartTime(v, "start_time", readEnd)

		// Everything in the namespace runs as root, so every id column
		// is 0; a value shifted from another field of status shows here.
		for _, column := range []string{"uid", "euid", "suid", "gid", "egid", "sgid"} {
			if id, ok := v.uint(column); ok && id != 0 {
				v.fail("%s = %d, want 0 for a process of the test, which runs as root", column, id)
			}
		}
		if user, ok := v.text("user"); ok && user != "root" {
			v.fail("user = %q, want root for uid 0", user)
		}
		if threads, ok := v.int("threads"); ok && (threads < 0 || (state != "Z" && threads == 0)) {
			v.fail("threads = %d with state %q, want at least 1 for a live process", threads, state)
		}
		if nice, ok := v.int("nice"); ok && (nice < -20 || nice > 19) {
			v.fail("nice = %d, want -20 to 19", nice)
		}
		for _, column := range []string{"tty_nr", "session", "pgrp", "tracer_pid"} {
			if n, ok := v.int(column); ok && n < 0 {
				v.fail("%s = %d, want 0 or more", column, n)
			}
		}
		if rss, ok := v.int("rss_bytes"); ok && rss < 0 {
			v.fail("rss_bytes = %d, want 0 or more", rss)
		}
		if mask, ok := v.text("cap_eff"); ok && !capMaskPattern.MatchString(mask) {
			v.fail("cap_eff = %q, want 16 lower-case hex digits", mask)
		}
		if mode, ok := v.int("seccomp"); ok && (mode < 0 || mode > 2) {
			v.fail("seccomp = %d, want 0, 1 or 2", mode)
		}
		if kernel, ok := v.flag("kernel_thread"); ok && kernel {
			v.fail("kernel_thread = true, but a new PID namespace shows no kernel threads")
		}
		if deleted, ok := v.flag("exe_deleted"); ok && deleted {
			v.fail("exe_deleted = true, but no executable of the test is deleted")
		}
		c.checkNamespace(v, "pid_ns", c.namespaces.pid)
		c.checkNamespace(v, "net_ns", c.namespaces.net)
		c.checkNamespace(v, "mnt_ns", c.namespaces.mnt)
		argv := checkCommandLine(v)

		// A churn child shows its seq argument once it has run execve, and
		// its own name soon after.
		_, renamed := markedPID(churnNamePattern, name)
		if !renamed && !c.isChurnArgv(argv) {
			continue
		}
		c.churnRows.Add(1)
		if start.Before(c.testStart.Add(-clockSlack)) {
			v.fail("start_time %s of a churn child is before the test started at %s", start.Format(time.RFC3339Nano), c.testStart.UTC().Format(time.RFC3339Nano))
		}
		if exe, ok := v.text("exe"); ok && exe != c.churnExe {
			v.fail("exe = %q, want the churn child's executable %q", exe, c.churnExe)
		}
		if hash, ok := v.text("exe_sha256"); ok && hash != c.churnHash {
			v.fail("exe_sha256 = %s, want %s, the digest of %s", hash, c.churnHash, c.churnExe)
		}
		if size, ok := v.int("exe_size"); ok && size != c.churnSize {
			v.fail("exe_size = %d, want %d, the size of %s", size, c.churnSize, c.churnExe)
		}
		if cwd, ok := v.text("cwd"); ok && cwd != c.workDir {
			v.fail("cwd = %q, want the churn directory %q", cwd, c.workDir)
		}
		if root, ok := v.text("root"); ok && root != "/" {
			v.fail("root = %q, want /", root)
		}
		if len(argv) > 0 && (len(argv) != 2 || argv[0] != c.churnExe || !strings.HasPrefix(argv[1], "seq=")) {
			v.fail("argv = %q, want [%s seq=N]", argv, c.churnExe)
		}
	}
}

// isChurnArgv reports whether argv is that of a churn child.
func (c *rowChecker) isChurnArgv(argv []string) bool {
	return len(argv) == 2 && argv[0] == c.churnExe && strings.HasPrefix(argv[1], "seq=")
}

// argvOf returns the argv column of a row as strings, or nil.
func argvOf(r row) []string {
	list, _ := r["argv"].([]any)
	argv := make([]string, 0, len(list))
	for _, arg := range list {
		text, _ := arg.(string)
		argv = append(argv, text)
	}
	return argv
}

// checkCommandLine checks that cmdline, argv and cmdline_raw, which all come
// from /proc/<pid>/cmdline, agree, and returns argv.
func checkCommandLine(v rowView) []string {
	value, ok := v.value("argv")
	if !ok {
		return nil
	}
	list, isList := value.([]any)
	if !isList {
		v.fail("argv = %#v, want a JSON array", value)
		return nil
	}
	argv := make([]string, len(list))
	for i, arg := range list {
		text, isText := arg.(string)
		if !isText {
			v.fail("argv[%d] = %#v, want a string", i, arg)
		}
		argv[i] = text
	}
	if cmdline, ok := v.text("cmdline"); ok && cmdline != strings.Join(argv, " ") {
		v.fail("cmdline %q is not argv %q joined by spaces", cmdline, argv)
	}
	if raw, ok := v.text("cmdline_raw"); ok && len(argv) > 0 {
		joined := strings.Join(argv, "\x00")
		if raw != joined && raw != joined+"\x00" {
			v.fail("cmdline_raw %q is not argv %q joined by NUL", raw, argv)
		}
	}
	return argv
}

func checkThreads(c *rowChecker, rows []row, readEnd time.Time) {
	owner := map[int64]int64{}
	for i, r := range rows {
		v := c.view("threads", i, r, "tid")
		v.notNull("pid", "tid", "name", "state", "utime_ticks", "stime_ticks", "start_time")
		pid, _ := v.int("pid")
		tid, _ := v.int("tid")
		if pid <= 0 || tid <= 0 {
			v.fail("pid %d and tid %d, want positive ids", pid, tid)
		}
		if earlier, seen := owner[tid]; seen {
			v.fail("tid %d appears twice, in pid %d and pid %d", tid, earlier, pid)
		}
		owner[tid] = pid
		name, _ := v.text("name")
		if len(name) > 15 {
			v.fail("name %q is longer than the 15 bytes of a kernel command name", name)
		}
		checkMark(v, churnNamePattern, "name", name, pid)
		checkState(v, "state")
		c.checkStartTime(v, "start_time", readEnd)
	}
}

var fdTypes = []string{"file", "socket", "pipe", "anon_inode", "memfd", "device", "nsfs", "other"}

func checkFDs(c *rowChecker, rows []row, _ time.Time) {
	type descriptor struct{ pid, fd int64 }
	seen := map[descriptor]bool{}
	for i, r := range rows {
		v := c.view("fds", i, r, "pid")
		v.notNull("pid", "fd", "target", "type")
		pid, _ := v.int("pid")
		fd, _ := v.int("fd")
		if fd < 0 {
			v.fail("fd = %d, want 0 or more", fd)
		}
		if seen[descriptor{pid, fd}] {
			v.fail("fd %d of pid %d appears twice", fd, pid)
		}
		seen[descriptor{pid, fd}] = true
		checkDescriptor(v, pid)
	}
}

// checkDescriptor checks the columns of one fds row against its link text.
func checkDescriptor(v rowView, pid int64) {
	target, _ := v.text("target")
	kind, _ := v.text("type")
	if !slices.Contains(fdTypes, kind) {
		v.fail("type = %q, want one of %v", kind, fdTypes)
	}
	inode, hasInode := v.uint("inode")
	switch kind {
	case "socket", "pipe":
		if want := fmt.Sprintf("%s:[%d]", kind, inode); !hasInode || target != want {
			v.fail("type %s with target %q and inode %d, want target %q", kind, target, inode, want)
		}
		if !v.null("path") || !v.null("size_bytes") {
			v.fail("a %s has path %v and size_bytes %v, want both NULL", kind, v.r["path"], v.r["size_bytes"])
		}
	case "anon_inode":
		if !strings.HasPrefix(target, "anon_inode:") {
			v.fail("type anon_inode with target %q", target)
		}
	case "file", "device":
		if !strings.HasPrefix(target, "/") {
			v.fail("type %s with target %q, want an absolute path", kind, target)
		}
	}
	if path, ok := v.text("path"); ok {
		checkMark(v, churnMarkPattern, "path", path, pid)
	}
	if pos, ok := v.int("pos"); ok && pos < 0 {
		v.fail("pos = %d, want 0 or more", pos)
	}
	flags, hasFlags := v.text("flags")
	access, hasAccess := v.text("access")
	if hasFlags != hasAccess {
		v.fail("flags %v and access %v, want both set or both NULL", v.r["flags"], v.r["access"])
	}
	if hasFlags && hasAccess {
		mode, err := strconv.ParseUint(flags, 8, 32)
		want := map[uint64]string{0: "r", 1: "w", 2: "rw", 3: "rw"}[mode&3]
		if err != nil || !strings.HasPrefix(flags, "0") {
			v.fail("flags = %q, want an octal number with a leading 0", flags)
		} else if access != want {
			v.fail("access = %q with flags %s, want %q", access, flags, want)
		}
	}
}

func checkEnviron(c *rowChecker, rows []row, _ time.Time) {
	type variable struct {
		pid  int64
		name string
	}
	seen := map[variable]bool{}
	for i, r := range rows {
		// Messages name the variable but never show its value.
		v := c.view("environ", i, r, "pid")
		v.notNull("pid", "name", "value", "value_raw")
		pid, _ := v.int("pid")
		name, _ := v.text("name")
		if seen[variable{pid, name}] {
			v.fail("variable %s of pid %d appears twice", name, pid)
		}
		seen[variable{pid, name}] = true
		value, _ := v.text("value")
		raw, rawIsText := v.r["value_raw"].(string)
		if rawIsText && !strings.Contains(value, `\x`) && raw != value {
			v.fail("value and value_raw of %s differ although the value is valid UTF-8", name)
		}
	}
}

var mapPermsPattern = regexp.MustCompile(`^[r-][w-][x-][ps]$`)
var devicePattern = regexp.MustCompile(`^[0-9a-f]+:[0-9a-f]+$`)

func checkMaps(c *rowChecker, rows []row, _ time.Time) {
	type span struct{ start, end uint64 }
	byPID := map[int64][]span{}
	for i, r := range rows {
		v := c.view("maps", i, r, "pid")
		v.notNull("pid", "start", "end", "perms", "offset", "device", "inode", "kind", "size_bytes", "deleted")
		pid, _ := v.int("pid")
		start, _ := v.uint("start")
		end, _ := v.uint("end")
		if start >= end {
			v.fail("start %#x is not below end %#x", start, end)
		}
		if size, ok := v.uint("size_bytes"); ok && size != end-start {
			v.fail("size_bytes = %d, want end - start = %d", size, end-start)
		}
		byPID[pid] = append(byPID[pid], span{start, end})
		if perms, ok := v.text("perms"); ok && !mapPermsPattern.MatchString(perms) {
			v.fail("perms = %q, want four letters such as r-xp", perms)
		}
		if device, ok := v.text("device"); ok && !devicePattern.MatchString(device) {
			v.fail("device = %q, want major:minor in hex", device)
		}
		kind, _ := v.text("kind")
		path, hasPath := v.text("path")
		inode, _ := v.uint("inode")
		pseudo, hasPseudo := v.text("pseudo")
		switch kind {
		case "anonymous":
			if hasPath || inode != 0 {
				v.fail("an anonymous mapping has path %q and inode %d, want NULL and 0", path, inode)
			}
		case "file":
			if !strings.HasPrefix(path, "/") || inode == 0 {
				v.fail("a file mapping has path %q and inode %d, want an absolute path and an inode", path, inode)
			}
		case "pseudo":
			if !hasPseudo || path != pseudo || !strings.HasPrefix(pseudo, "[") || !strings.HasSuffix(pseudo, "]") {
				v.fail("a pseudo mapping has path %q and pseudo %q, want one bracketed name in both", path, pseudo)
			}
		case "anon_named", "memfd":
		default:
			v.fail("kind = %q, want file, anonymous, pseudo, anon_named or memfd", kind)
		}
		if kind != "pseudo" && hasPseudo {
			v.fail("pseudo = %q on a %s mapping", pseudo, kind)
		}
		if compareSmapsWithMaps {
			checkSmapsFigures(v, end-start)
		}
	}
	for pid, spans := range byPID {
		sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
		for i := 1; i < len(spans); i++ {
			if spans[i].start < spans[i-1].end {
				c.report.add("maps of pid %d: mapping %#x-%#x overlaps %#x-%#x", pid, spans[i].start, spans[i].end, spans[i-1].start, spans[i-1].end)
			}
		}
	}
}

// compareSmapsWithMaps turns on checkSmapsFigures in checkMaps. procsql
// pairs an smaps entry with a maps line only when their addresses, offset,
// inode and permissions agree, so a row never carries the figures of its
// mapping's other size (TestMapsRSSWithinResizedMapping).
const compareSmapsWithMaps = true

// checkSmapsFigures checks that a mapping's smaps figures fit in its size.
func checkSmapsFigures(v rowView, size uint64) {
	rss, hasRSS := v.uint("rss_bytes")
	if hasRSS && rss > size {
		v.fail("rss_bytes %d exceeds the mapping's %d bytes", rss, size)
	}
	if pss, ok := v.uint("pss_bytes"); ok && hasRSS && pss > rss {
		v.fail("pss_bytes %d exceeds rss_bytes %d", pss, rss)
	}
	if swap, ok := v.uint("swap_bytes"); ok && swap > size {
		v.fail("swap_bytes %d exceeds the mapping's %d bytes", swap, size)
	}
}

// protocolFamily is the family of each protocol that the sockets table
// reads.
var protocolFamily = map[string]string{
	"tcp": "inet", "udp": "inet", "raw": "inet",
	"tcp6": "inet6", "udp6": "inet6", "raw6": "inet6",
	"unix": "unix", "packet": "packet",
}

// tcpStates are the state names of include/net/tcp_states.h.
var tcpStates = []string{"ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"}

var unixTypes = []string{"stream", "dgram", "seqpacket"}

// socketColumns are the columns that sockets and process_sockets share.
var socketColumns = []string{"family", "protocol", "local_address", "local_port", "remote_address", "remote_port", "state", "inode", "uid", "tx_queue", "rx_queue", "net_ns", "path", "type"}

// checkSocket checks the socket columns of one row. Inside the test's
// network namespace every address is a loopback or unspecified address
// and every socket belongs to root.
func (c *rowChecker) checkSocket(v rowView) {
	v.notNull("family", "protocol", "state", "inode")
	family, _ := v.text("family")
	protocol, _ := v.text("protocol")
	if want, known := protocolFamily[protocol]; !known || want != family {
		v.fail("protocol %q with family %q", protocol, family)
	}
	state, _ := v.text("state")
	c.checkNamespace(v, "net_ns", c.namespaces.net)
	switch family {
	case "inet", "inet6":
		v.notNull("local_address", "local_port", "remote_address", "remote_port")
		for _, column := range []string{"local_address", "remote_address"} {
			text, _ := v.text(column)
			addr, err := netip.ParseAddr(text)
			if err != nil || addr.Is4() != (family == "inet") {
				v.fail("%s = %q, want an IP address of family %s", column, text, family)
			} else if !addr.IsLoopback() && !addr.IsUnspecified() {
				v.fail("%s = %q, want a loopback or unspecified address inside the test's network namespace", column, text)
			}
		}
		if !v.null("path") || !v.null("type") {
			v.fail("an %s socket has path %v and type %v, want both NULL", family, v.r["path"], v.r["type"])
		}
		if (protocol == "tcp" || protocol == "tcp6") && !slices.Contains(tcpStates, state) {
			v.fail("state = %q, want a TCP state name", state)
		}
		if state == "LISTEN" {
			if port, _ := v.uint("remote_port"); port != 0 {
				v.fail("a listener has remote_port %d, want 0", port)
			}
		}
	case "unix":
		if kind, ok := v.text("type"); !ok || !slices.Contains(unixTypes, kind) {
			v.fail("type = %v, want one of %v", v.r["type"], unixTypes)
		}
		for _, column := range []string{"local_address", "local_port", "remote_address", "remote_port"} {
			if !v.null(column) {
				v.fail("a unix socket has %s = %v, want NULL", column, v.r[column])
			}
		}
		if path, ok := v.text("path"); ok && churnMarkPattern.MatchString(path) && !strings.HasPrefix(path, c.workDir+"/") {
			v.fail("path = %q, want it in the churn directory %s", path, c.workDir)
		}
	}
	uid, hasUID := v.uint("uid")
	switch {
	case state == "TIME_WAIT" && hasUID:
		v.fail("a TIME_WAIT socket has uid %d, want NULL", uid)
	case state != "TIME_WAIT" && family != "unix" && !hasUID:
		v.fail("uid is NULL on a %s socket in state %s", protocol, state)
	case hasUID && uid != 0:
		v.fail("uid = %d, want 0: every process of the test runs as root", uid)
	}
}

func checkSockets(c *rowChecker, rows []row, _ time.Time) {
	seen := map[uint64]bool{}
	for i, r := range rows {
		v := c.view("sockets", i, r, "inode")
		c.checkSocket(v)
		inode, _ := v.uint("inode")
		if inode != 0 && seen[inode] {
			v.fail("inode %d appears in more than one row", inode)
		}
		seen[inode] = true
	}
}

func checkProcessSockets(c *rowChecker, rows []row, _ time.Time) {
	type holder struct{ pid, fd int64 }
	seen := map[holder]bool{}
	for i, r := range rows {
		v := c.view("process_sockets", i, r, "inode")
		c.checkSocket(v)
		// name comes from the holder's stat, which is NULL when the
		// holder exits after its descriptors were read.
		pid, held := v.int("pid")
		fd, hasFD := v.int("fd")
		name, hasName := v.text("name")
		if held != hasFD || (hasName && !held) {
			v.fail("pid %v, fd %v and name %v, want pid and fd set or both NULL, and name only with them", v.r["pid"], v.r["fd"], v.r["name"])
		}
		if !held {
			continue
		}
		if seen[holder{pid, fd}] {
			v.fail("fd %d of pid %d holds two sockets", fd, pid)
		}
		seen[holder{pid, fd}] = true
		checkMark(v, churnNamePattern, "name", name, pid)
		if path, ok := v.text("path"); ok {
			checkMark(v, churnMarkPattern, "path", path, pid)
		}
	}
}

func checkPIDProbe(c *rowChecker, rows []row, _ time.Time) {
	seen := map[int64]bool{}
	for i, r := range rows {
		v := c.view("pid_probe", i, r, "pid")
		v.notNull("pid", "listed", "probed", "kind", "bound")
		pid, _ := v.int("pid")
		if seen[pid] {
			v.fail("pid %d appears twice", pid)
		}
		seen[pid] = true
		listed, _ := v.flag("listed")
		probed, _ := v.flag("probed")
		kind, _ := v.text("kind")
		tgid, hasTGID := v.int("tgid")
		switch kind {
		case "process":
			if !listed {
				v.fail("kind process but listed = false")
			}
		case "thread":
			if listed || !probed || (hasTGID && tgid == pid) {
				v.fail("kind thread with listed %v, probed %v and tgid %v, want an unlisted, probed id of another thread group", listed, probed, v.r["tgid"])
			}
		case "hidden":
			if listed || !probed || (hasTGID && tgid != pid) {
				v.fail("kind hidden with listed %v, probed %v and tgid %v, want an unlisted, probed thread group leader", listed, probed, v.r["tgid"])
			}
		case "vanished":
			if !listed || probed {
				v.fail("kind vanished with listed %v and probed %v, want listed and not probed", listed, probed)
			}
		default:
			v.fail("kind = %q, want process, thread, hidden or vanished", kind)
		}
		if bound, _ := v.int("bound"); bound < pid {
			v.fail("bound = %d is below the pid", bound)
		}
	}
}

func checkSystem(c *rowChecker, rows []row, readEnd time.Time) {
	if len(rows) != 1 {
		c.report.add("system has %d rows, want 1", len(rows))
		return
	}
	v := c.view("system", 0, rows[0], "source")
	v.notNull("hostname", "kernel_release", "boot_time", "pid_max", "source", "location", "read_time")
	if source, _ := v.text("source"); source != c.source {
		v.fail("source = %q, want %q", source, c.source)
	}
	boot, _ := v.time("boot_time")
	read, _ := v.time("read_time")
	if !boot.Before(read) || read.After(readEnd.Add(clockSlack)) {
		v.fail("boot_time %s, read_time %s and end of the run %s are out of order", boot, read, readEnd.UTC())
	}
}

func checkMeminfo(c *rowChecker, rows []row, _ time.Time) {
	seen := map[string]bool{}
	for i, r := range rows {
		v := c.view("meminfo", i, r, "name")
		v.notNull("name", "value")
		name, _ := v.text("name")
		if seen[name] {
			v.fail("field %s appears twice", name)
		}
		seen[name] = true
		value, _ := v.uint("value")
		if bytes, ok := v.uint("value_bytes"); ok && bytes != value*1024 {
			v.fail("value_bytes = %d, want value %d kB times 1024", bytes, value)
		}
	}
	if !seen["MemTotal"] {
		c.report.add("meminfo has no MemTotal row")
	}
}

// checkDecoded accepts any rows that decoded. It is the check of the small
// host tables (modules, sys_modules, ld_so_preload, hunts), whose content
// the namespaces do not control.
func checkDecoded(*rowChecker, []row, time.Time) {}

// tableChecks are the whole-table queries, one per table that the engine
// reads from /proc or the host, plus the hunts table.
var tableChecks = []tableCheck{
	{"processes", "SELECT * FROM processes", checkProcesses},
	{"threads", "SELECT * FROM threads", checkThreads},
	{"fds", "SELECT * FROM fds", checkFDs},
	{"environ", "SELECT * FROM environ", checkEnviron},
	{"maps", "SELECT * FROM maps", checkMaps},
	{"sockets", "SELECT * FROM sockets", checkSockets},
	{"process_sockets", "SELECT * FROM process_sockets", checkProcessSockets},
	{"pid_probe", "SELECT * FROM pid_probe", checkPIDProbe},
	{"system", "SELECT * FROM `system`", checkSystem},
	{"meminfo", "SELECT * FROM meminfo", checkMeminfo},
	{"modules", "SELECT * FROM modules", checkDecoded},
	{"sys_modules", "SELECT * FROM sys_modules", checkDecoded},
	{"ld_so_preload", "SELECT * FROM ld_so_preload", checkDecoded},
	{"hunts", "SELECT * FROM hunts", checkDecoded},
}

// joinChecks join the tables on pid and inode. A join reads every file once
// per statement, so the joined rows must describe one process or socket.
var joinChecks = []tableCheck{
	{"processes-fds", "SELECT p.pid, p.name, f.pid AS fd_pid, f.fd, f.type, f.path FROM processes p JOIN fds f ON f.pid = p.pid", checkProcessFDJoin},
	{"fds-sockets", "SELECT f.pid, f.fd, f.target, f.inode AS fd_inode, s.inode AS socket_inode, s.family, s.path FROM fds f JOIN sockets s ON s.inode = f.inode", checkFDSocketJoin},
	{"process_sockets-sockets", "SELECT ps.pid, ps.inode, " + prefixedColumns("ps", "held_") + ", " + prefixedColumns("s", "socket_") + " FROM process_sockets ps LEFT JOIN sockets s ON s.inode = ps.inode WHERE ps.inode <> 0", checkProcessSocketJoin},
	{"process_sockets-fds", "SELECT ps.pid, ps.fd, ps.inode, ps.name, f.inode AS fd_inode, f.type AS fd_type, p.name AS process_name FROM process_sockets ps JOIN fds f ON f.pid = ps.pid AND f.fd = ps.fd JOIN processes p ON p.pid = ps.pid", checkHolderJoin},
	{"processes-threads", "SELECT p.pid, p.start_time, t.tid, t.name AS thread_name, t.start_time AS thread_start FROM processes p JOIN threads t ON t.pid = p.pid", checkThreadJoin},
	{"processes-environ", "SELECT p.pid, p.argv, e.name, e.value FROM processes p JOIN environ e ON e.pid = p.pid", checkEnvironJoin},
	{"processes-maps", "SELECT p.pid, p.argv, p.exe, m.path FROM processes p JOIN maps m ON m.pid = p.pid WHERE m.kind = 'file' AND m.perms LIKE '__x_'", checkExecutableMapped},
	{"fds per process", "SELECT p.pid, p.name, COUNT(*) AS open_fds FROM processes p JOIN fds f ON f.pid = p.pid GROUP BY p.pid, p.name", checkFDCounts},
}

// prefixedColumns lists the socket columns of table alias as name AS
// prefix+name.
func prefixedColumns(alias, prefix string) string {
	parts := make([]string, len(socketColumns))
	for i, column := range socketColumns {
		parts[i] = fmt.Sprintf("%s.%s AS %s%s", alias, column, prefix, column)
	}
	return strings.Join(parts, ", ")
}

func checkProcessFDJoin(c *rowChecker, rows []row, _ time.Time) {
	for i, r := range rows {
		v := c.view("processes-fds", i, r, "pid")
		pid, _ := v.int("pid")
		if fdPID, _ := v.int("fd_pid"); fdPID != pid {
			v.fail("joined an fds row of pid %d", fdPID)
		}
		name, _ := v.text("name")
		checkMark(v, churnNamePattern, "name", name, pid)
		if path, ok := v.text("path"); ok {
			checkMark(v, churnMarkPattern, "path", path, pid)
		}
	}
}

func checkFDSocketJoin(c *rowChecker, rows []row, _ time.Time) {
	for i, r := range rows {
		v := c.view("fds-sockets", i, r, "pid")
		pid, _ := v.int("pid")
		fdInode, _ := v.uint("fd_inode")
		socketInode, _ := v.uint("socket_inode")
		if fdInode != socketInode {
			v.fail("fd inode %d joined socket inode %d", fdInode, socketInode)
		}
		if target, _ := v.text("target"); target != fmt.Sprintf("socket:[%d]", socketInode) {
			v.fail("target %q joined socket inode %d", target, socketInode)
		}
		if path, ok := v.text("path"); ok {
			checkMark(v, churnMarkPattern, "path", path, pid)
		}
	}
}

// checkProcessSocketJoin checks that each process_sockets row equals the
// sockets row with its inode, read in the same statement. The query leaves
// out inode 0, which every TIME_WAIT row has, so the join stays linear.
func checkProcessSocketJoin(c *rowChecker, rows []row, _ time.Time) {
	for i, r := range rows {
		v := c.view("process_sockets-sockets", i, r, "inode")
		if v.null("socket_inode") {
			v.fail("no sockets row has the inode of this process_sockets row")
			continue
		}
		for _, column := range socketColumns {
			held, socket := r["held_"+column], r["socket_"+column]
			if fmt.Sprint(held) != fmt.Sprint(socket) {
				v.fail("%s = %v in process_sockets but %v in sockets", column, held, socket)
			}
		}
	}
}

func checkHolderJoin(c *rowChecker, rows []row, _ time.Time) {
	for i, r := range rows {
		v := c.view("process_sockets-fds", i, r, "pid")
		inode, _ := v.uint("inode")
		if fdInode, _ := v.uint("fd_inode"); fdInode != inode {
			v.fail("fd %v holds inode %d in fds but %d in process_sockets", r["fd"], fdInode, inode)
		}
		if kind, _ := v.text("fd_type"); kind != "socket" {
			v.fail("fd %v has type %q in fds, want socket", r["fd"], kind)
		}
		name, _ := v.text("name")
		if processName, _ := v.text("process_name"); processName != name {
			v.fail("holder name %q differs from processes.name %q, which come from the same stat", name, processName)
		}
	}
}

func checkThreadJoin(c *rowChecker, rows []row, _ time.Time) {
	for i, r := range rows {
		v := c.view("processes-threads", i, r, "tid")
		pid, _ := v.int("pid")
		name, _ := v.text("thread_name")
		checkMark(v, churnNamePattern, "thread_name", name, pid)
		start, ok := v.time("start_time")
		threadStart, threadOK := v.time("thread_start")
		if ok && threadOK && threadStart.Before(start) {
			v.fail("thread started at %s, before its process at %s", threadStart.Format(time.RFC3339Nano), start.Format(time.RFC3339Nano))
		}
	}
}

// checkEnvironJoin checks that a churn child's environment holds only the
// variables the spawner set, with the sequence number of its argv. Rows of
// other processes are left out, and no message shows a value of theirs.
func checkEnvironJoin(c *rowChecker, rows []row, _ time.Time) {
	for i, r := range rows {
		argv := argvOf(r)
		if !c.isChurnArgv(argv) {
			continue
		}
		v := c.view("processes-environ", i, r, "pid")
		name, _ := v.text("name")
		value, _ := v.text("value")
		switch name {
		case churnLifetimeEnv:
		case childRoleEnv:
			if value != churnRole {
				v.fail("%s = %q, want %q", name, value, churnRole)
			}
		case churnSeqEnv:
			if argv[1] != "seq="+value {
				v.fail("%s = %q but argv is %q: environ and cmdline of two processes", name, value, argv)
			}
		default:
			v.fail("variable %s, which the spawner did not set", name)
		}
	}
}

// checkExecutableMapped checks that each churn child maps its own
// executable, as the exe link names it, with execute permission.
func checkExecutableMapped(c *rowChecker, rows []row, _ time.Time) {
	exe := map[int64]string{}
	mapped := map[int64]bool{}
	for i, r := range rows {
		if !c.isChurnArgv(argvOf(r)) {
			continue
		}
		v := c.view("processes-maps", i, r, "pid")
		pid, _ := v.int("pid")
		path, _ := v.text("path")
		if text, ok := v.text("exe"); ok {
			exe[pid] = text
			mapped[pid] = mapped[pid] || path == text
		}
	}
	for pid, path := range exe {
		if !mapped[pid] {
			c.report.add("processes-maps: churn child %d has exe %q but no executable mapping of it", pid, path)
		}
	}
}

func checkFDCounts(c *rowChecker, rows []row, _ time.Time) {
	for i, r := range rows {
		v := c.view("fds per process", i, r, "pid")
		if n, _ := v.int("open_fds"); n < 1 {
			v.fail("open_fds = %d, want at least 1 for a joined process", n)
		}
		name, _ := v.text("name")
		pid, _ := v.int("pid")
		checkMark(v, churnNamePattern, "name", name, pid)
	}
}

// TestRowChecksCatchInconsistentRows feeds the checks rows that mix two
// processes or contradict themselves, so a check that can never fail shows
// up here.
func TestRowChecksCatchInconsistentRows(t *testing.T) {
	exe := "/tmp/hardening.test"
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	process := `"pid":42,"ppid":1,"name":"churn-42","state":"S","exe":"/tmp/hardening.test","exe_deleted":false,` +
		`"exe_sha256":"ab","exe_size":10,"cmdline":"/tmp/hardening.test seq=7","cmdline_raw":"/tmp/hardening.test\u0000seq=7\u0000",` +
		`"argv":["/tmp/hardening.test","seq=7"],"cmdline_truncated":false,"cwd":"/work","root":"/","uid":0,"euid":0,"suid":0,` +
		`"gid":0,"egid":0,"sgid":0,"user":"root","start_time":"2026-01-02T03:04:00Z","threads":4,"nice":0,"rss_bytes":4096,` +
		`"vsize_bytes":8192,"tty_nr":0,"session":0,"pgrp":0,"tracer_pid":0,"cap_eff":"000001ffffffffff","seccomp":0,` +
		`"cgroup":"0::/","pid_ns":1,"net_ns":2,"mnt_ns":3,"kernel_thread":false`
	fd := `"pid":42,"fd":3,"target":"socket:[77]","type":"socket","path":null,"deleted":false,"inode":77,"size_bytes":null,"pos":0,"flags":"02","access":"rw"`
	mapping := `"pid":42,"start":4096,"end":8192,"perms":"r-xp","offset":0,"device":"fd:01","inode":9,"path":"/usr/lib/x.so","deleted":false,` +
		`"kind":"file","pseudo":null,"size_bytes":4096,"rss_bytes":4096,"pss_bytes":4096,"swap_bytes":0`
	socket := `"family":"inet","protocol":"tcp","local_address":"127.0.0.1","local_port":80,"remote_address":"0.0.0.0","remote_port":0,` +
		`"state":"LISTEN","inode":77,"uid":0,"tx_queue":0,"rx_queue":0,"net_ns":2,"path":null,"type":null`
	replace := func(text, old, new string) string {
		if !strings.Contains(text, old) {
			t.Fatalf("fixture lacks %q", old)
		}
		return strings.Replace(text, old, new, 1)
	}
	cases := []struct {
		name  string
		check func(*rowChecker, []row, time.Time)
		rows  string
		want  string // "" when the rows are consistent
	}{
		{"consistent process", checkProcesses, "{" + process + "}", ""},
		{"name of another pid", checkProcesses, "{" + replace(process, `"name":"churn-42"`, `"name":"churn-41"`) + "}", "belongs to pid 41"},
		{"zombie with address space", checkProcesses, "{" + replace(process, `"state":"S"`, `"state":"Z"`) + "}", "vsize_bytes is set for a zombie"},
		{"cmdline of other argv", checkProcesses, "{" + replace(process, `seq=7"]`, `seq=8"]`) + "}", "is not argv"},
		{"uid shifted from gid", checkProcesses, "{" + replace(process, `"uid":0`, `"uid":1000`) + "}", "uid = 1000"},
		{"start after the read", checkProcesses, "{" + replace(process, `03:04:00Z`, `03:05:00Z`) + "}", "is after procsql exited"},
		{"consistent descriptor", checkFDs, "{" + fd + "}", ""},
		{"socket inode of another target", checkFDs, "{" + replace(fd, `"inode":77`, `"inode":78`) + "}", `want target "socket:[78]"`},
		{"descriptor listed twice", checkFDs, "{" + fd + "}\n{" + fd + "}", "appears twice"},
		{"access against flags", checkFDs, "{" + replace(fd, `"access":"rw"`, `"access":"w"`) + "}", `want "rw"`},
		{"consistent mapping", checkMaps, "{" + mapping + "}", ""},
		{"size against addresses", checkMaps, "{" + replace(mapping, `"size_bytes":4096`, `"size_bytes":4097`) + "}", "want end - start"},
		{"resident beyond the mapping", func(c *rowChecker, rows []row, _ time.Time) {
			checkSmapsFigures(c.view("maps", 0, rows[0], "pid"), 4096)
		}, "{" + replace(mapping, `"rss_bytes":4096`, `"rss_bytes":8192`) + "}", "rss_bytes 8192 exceeds"},
		{"overlapping mappings", checkMaps, "{" + mapping + "}\n{" + replace(replace(mapping, `"start":4096`, `"start":6144`), `"size_bytes":4096`, `"size_bytes":2048`) + "}", "overlaps"},
		{"consistent socket", checkSockets, "{" + socket + "}", ""},
		{"family of another protocol", checkSockets, "{" + replace(socket, `"family":"inet"`, `"family":"inet6"`) + "}", `protocol "tcp" with family "inet6"`},
		{"address outside the namespace", checkSockets, "{" + replace(socket, `"127.0.0.1"`, `"192.0.2.1"`) + "}", "want a loopback"},
		{"holder of another socket", checkProcessSocketJoin, `{"pid":42,"inode":77,"held_state":"LISTEN","socket_state":"ESTABLISHED","socket_inode":77}`, "in process_sockets but"},
		{"environ of another process", checkEnvironJoin, `{"pid":42,"argv":["/tmp/hardening.test","seq=7"],"name":"CHURN_SEQ","value":"8"}`, "environ and cmdline of two processes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, err := decodeRows(c.rows)
			if err != nil {
				t.Fatal(err)
			}
			problems := &report{}
			checker := &rowChecker{source: "live", churnExe: exe, churnHash: "ab", churnSize: 10, workDir: "/work",
				namespaces: nsInodes{pid: 1, net: 2, mnt: 3}, testStart: now.Add(-time.Minute), report: problems}
			c.check(checker, rows, now)
			switch {
			case c.want == "" && problems.count() > 0:
				t.Errorf("consistent rows reported as problems:\n%s", problems)
			case c.want != "" && !strings.Contains(problems.String(), c.want):
				t.Errorf("problems %q, want one that contains %q", problems.String(), c.want)
			}
		})
	}
}
