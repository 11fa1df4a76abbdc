package collection

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/procsql/procsql/source"
)

// Where UAC keeps its live response artifacts, relative to the collection
// root.
const (
	uacProcessDir = "live_response/process"
	uacNetworkDir = "live_response/network"
	uacSystemDir  = "live_response/system"
	uacHostRoot   = "[root]"
)

// uacImporter rebuilds a /proc tree from a UAC collection.
type uacImporter struct {
	fsys fs.FS
	root string // the directory of fsys that holds live_response
	tree *Tree
	log  uacLog
	pids map[int]bool // the processes found under live_response/process/proc

	// Findings that decide the lossy notes.
	cmdlineViaStrings bool
	environViaStrings bool
	fdListings        bool
	unsizedHashes     int
	exeHashList       bool
	zoneUnknown       bool
}

// loadUAC imports the UAC collection whose top directory is root in fsys.
// location names the collection in the source description.
func loadUAC(fsys fs.FS, root, location string) (*Tree, error) {
	u := &uacImporter{fsys: fsys, root: root, pids: map[int]bool{}}
	desc, err := u.describe(location)
	if err != nil {
		return nil, err
	}
	u.tree = NewTree(desc)
	if err := u.importProcesses(); err != nil {
		return nil, err
	}
	u.importLinks()
	u.importHashes()
	u.importNetwork()
	u.importSystem()
	u.importHostFiles()
	checked := verifyHashList(fsys, root, u.tree, uacUnlisted)
	u.tree.SetChecked(checked.list, checked.checked)
	if checked.list == "" {
		u.tree.AddLossy("The collection has no hash_list.sha256, .sha1 or .md5 (UAC ran without hashing), so nothing shows whether its files changed after collection.")
	}
	u.addLossyNotes()
	u.tree.Finish()
	return u.tree, nil
}

// uacUnlisted reports the files UAC writes after hashing the collection,
// which its hash lists never cover: its log and the lists themselves.
func uacUnlisted(name string) bool {
	return strings.HasPrefix(name, "uac.log") || strings.HasPrefix(name, "hash_list.")
}

// read returns an artifact's content, or false when the collection lacks
// it. A missing artifact was not collected, which is not an error; any
// other failure to read is recorded as a problem.
func (u *uacImporter) read(rel string) ([]byte, bool) {
	data, err := fs.ReadFile(u.fsys, path.Join(u.root, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		u.tree.AddProblem(fmt.Sprintf("%s could not be read, so its data is missing: %v", rel, err))
		return nil, false
	}
	return data, true
}

// describe builds the source description from uac.log, uname -a and the
// collection's name.
func (u *uacImporter) describe(location string) (source.Description, error) {
	if data, ok := u.readQuiet("uac.log"); ok {
		u.log = parseUACLog(data)
	}
	start, end := u.log.start, u.log.end
	if start.IsZero() {
		if _, at, ok := parseUACName(location); ok {
			start = at
		} else if _, at, ok := parseUACName(u.root); ok {
			start = at
		}
		u.zoneUnknown = true
	}
	arch := u.log.arch
	if arch == "" {
		if data, ok := u.readQuiet(uacSystemDir + "/uname_-a.txt"); ok {
			if un, ok := parseUnameA(string(data), ""); ok {
				arch = un.machine
			}
		}
	}
	collector := "UAC"
	if u.log.version != "" {
		collector += " " + u.log.version
	}
	return source.Description{
		Kind:         string(LayoutUAC),
		Location:     location,
		Architecture: arch,
		ByteOrder:    byteOrderOf(arch),
		ReadTime:     start,
		CaptureEnd:   end,
		Collector:    collector,
	}, nil
}

// readQuiet reads an artifact before the tree exists, when a failure
// cannot be recorded yet; describe only takes optional facts from it.
func (u *uacImporter) readQuiet(rel string) ([]byte, bool) {
	data, err := fs.ReadFile(u.fsys, path.Join(u.root, rel))
	return data, err == nil
}

// importProcesses adds the files of every process directory under
// live_response/process/proc. A directory counts as a process when its
// stat, status or comm is not empty. UAC runs each command for every pid it
// listed, so a process that exited meanwhile leaves empty files, and one
// that started later leaves a directory with only some artifacts.
func (u *uacImporter) importProcesses() error {
	procDir := path.Join(u.root, uacProcessDir, "proc")
	entries, err := fs.ReadDir(u.fsys, procDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", uacProcessDir+"/proc", err)
	}
	unix := &unixMerger{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid < 1 || !e.IsDir() || strconv.Itoa(pid) != e.Name() {
			continue
		}
		if u.importProcess(pid, unix) {
			u.pids[pid] = true
		}
	}
	if unix.header != "" {
		u.tree.AddFile("net/unix", unix.bytes())
	}
	return nil
}

// importProcess adds one process's files, and reports whether the
// directory held a process.
func (u *uacImporter) importProcess(pid int, unix *unixMerger) bool {
	dir := uacProcessDir + "/proc/" + strconv.Itoa(pid) + "/"
	files := map[string][]byte{}
	for _, name := range []string{"stat", "status", "comm", "maps", "cmdline", "environ", "fd", "net/unix"} {
		if data, ok := u.read(dir + name + ".txt"); ok {
			files[name] = data
		}
	}
	if len(files["stat"]) == 0 && len(files["status"]) == 0 && len(files["comm"]) == 0 {
		return false
	}
	prefix := strconv.Itoa(pid) + "/"
	for _, name := range []string{"stat", "status", "comm", "maps"} {
		if data, ok := files[name]; ok {
			u.tree.AddFile(prefix+name, data)
		}
	}
	if data, ok := files["cmdline"]; ok {
		out, converted := fromStringsOutput(data)
		u.cmdlineViaStrings = u.cmdlineViaStrings || converted
		u.tree.AddFile(prefix+"cmdline", out)
	}
	if data, ok := files["environ"]; ok {
		out, converted := fromStringsOutput(data)
		u.environViaStrings = u.environViaStrings || converted
		u.tree.AddFile(prefix+"environ", out)
	}
	if data, ok := files["net/unix"]; ok && len(data) > 0 {
		u.tree.AddFile(prefix+"net/unix", data)
		unix.add(data)
	}
	if data, ok := files["fd"]; ok && len(data) > 0 {
		// ls printed at least "total 0": the directory was listed,
		// even when it holds no descriptors.
		u.fdListings = true
		u.tree.AddDir(prefix + "fd")
		for _, link := range parseLsLinks(data) {
			if _, err := strconv.Atoi(link.name); err == nil {
				u.tree.AddLink(prefix+"fd/"+link.name, link.target)
			}
		}
	}
	return true
}

// uacProcLink matches the link names that ls -l /proc/[0-9]*/exe and
// ls -l /proc/[0-9]*/cwd print.
var uacProcLink = regexp.MustCompile(`^/proc/([0-9]+)/(exe|cwd|root)$`)

// uacProcHeading matches the heading of one process in ls -l /proc/[0-9]*.
var uacProcHeading = regexp.MustCompile(`^/proc/([0-9]+)$`)

// importLinks adds the exe, cwd and root links of the processes found,
// from running_processes_full_paths.txt (ls -l /proc/[0-9]*/exe) and
// ls_-l_proc_pid_cwd.txt, and fills gaps from ls_-l_proc.txt, which lists
// every process directory.
func (u *uacImporter) importLinks() {
	for _, file := range []string{"running_processes_full_paths.txt", "ls_-l_proc_pid_cwd.txt"} {
		data, ok := u.read(uacProcessDir + "/" + file)
		if !ok {
			continue
		}
		for _, link := range parseLsLinks(data) {
			m := uacProcLink.FindStringSubmatch(link.name)
			if m == nil {
				continue
			}
			u.addProcessLink(m[1], m[2], link.target)
		}
	}
	data, ok := u.read(uacProcessDir + "/ls_-l_proc.txt")
	if !ok {
		return
	}
	for _, link := range parseLsLinks(data) {
		m := uacProcHeading.FindStringSubmatch(link.dir)
		if m == nil || (link.name != "exe" && link.name != "cwd" && link.name != "root") {
			continue
		}
		name := m[1] + "/" + link.name
		if _, err := u.tree.ReadLink(name); err == nil {
			continue
		}
		u.addProcessLink(m[1], link.name, link.target)
	}
}

func (u *uacImporter) addProcessLink(pidText, file, target string) {
	pid, err := strconv.Atoi(pidText)
	if err != nil || !u.pids[pid] {
		return
	}
	u.tree.AddLink(pidText+"/"+file, target)
}

// importHashes adds the SHA-256 of each process's executable from
// hash_running_processes.sha256, which UAC writes with sha256sum on
// /proc/<pid>/exe. The list holds no sizes. A size is known when UAC also
// kept a copy of a file with the same digest, such as the recovered_exe of
// a process whose executable was deleted.
func (u *uacImporter) importHashes() {
	data, ok := u.read(uacProcessDir + "/hash_running_processes.sha256")
	if !ok {
		return
	}
	u.exeHashList = true
	entries, bad := parseHashList(data, 64)
	for _, line := range bad {
		u.tree.AddProblem(fmt.Sprintf("hash_running_processes.sha256: unreadable line %q", line))
	}
	sizes := u.recoveredSizes()
	for _, e := range entries {
		m := uacProcLink.FindStringSubmatch(e.name)
		if m == nil || m[2] != "exe" {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if !u.pids[pid] {
			// A process that UAC hashed but whose directory it did
			// not collect, such as its own short-lived helpers.
			continue
		}
		size, known := sizes[e.digest]
		if !known {
			u.unsizedHashes++
		}
		u.tree.AddHash(m[1]+"/exe", source.Digest{SHA256: e.digest, Size: size, SizeUnknown: !known})
	}
}

// recoveredSizes returns the sizes of the file copies UAC kept under
// live_response/process/proc (recovered_exe, fd/<n>/recovered_file), by
// SHA-256. A copy cut at dd's count limit has another digest than the
// file, so a size found here is exact.
func (u *uacImporter) recoveredSizes() map[string]int64 {
	sizes := map[string]int64{}
	procDir := path.Join(u.root, uacProcessDir, "proc")
	for pid := range u.pids {
		dir := path.Join(procDir, strconv.Itoa(pid))
		_ = fs.WalkDir(u.fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasPrefix(d.Name(), "recovered_") {
				return nil
			}
			sum, size, err := fileDigest(u.fsys, p, "sha256")
			if err == nil {
				sizes[sum] = size
			}
			return nil
		})
	}
	return sizes
}

// importNetwork adds net/tcp, tcp6, udp and udp6 from UAC's copies of
// /proc/net, which show the namespace UAC ran in.
func (u *uacImporter) importNetwork() {
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6", "packet"} {
		if data, ok := u.read(uacNetworkDir + "/proc_net_" + proto + ".txt"); ok {
			u.tree.AddFile("net/"+proto, data)
		}
	}
}

// importSystem adds the kernel files that the system and pid_probe tables
// read, the boot time, and the /sys/module listing.
func (u *uacImporter) importSystem() {
	if data, ok := u.read(uacSystemDir + "/sysctl_-a.txt"); ok {
		u.importSysctl(data)
	}
	if data, ok := u.read(uacSystemDir + "/cat_proc_sys_kernel_tainted.txt"); ok {
		u.addKernelFile("tainted", strings.TrimSpace(string(data)))
	}
	host := ""
	if data, ok := u.read(uacNetworkDir + "/hostname.txt"); ok {
		host = strings.TrimSpace(string(data))
	}
	if host == "" {
		host = u.log.hostname
	}
	if data, ok := u.read(uacSystemDir + "/uname_-a.txt"); ok {
		if un, ok := parseUnameA(string(data), u.tree.desc.Architecture); ok {
			u.addKernelFile("osrelease", un.release)
			u.addKernelFile("version", un.version)
			if host == "" {
				host = un.nodename
			}
		}
	}
	if host == "" {
		host, _, _ = parseUACName(u.tree.desc.Location)
	}
	u.addKernelFile("hostname", host)

	if data, ok := u.read(uacSystemDir + "/uptime_-s.txt"); ok {
		zone := u.log.zone
		if zone == nil {
			zone = time.UTC
			u.zoneUnknown = true
		}
		if boot, ok := parseUptimeSince(string(data), zone); ok {
			// Only the btime line: the tables read nothing else from
			// /proc/stat.
			u.tree.AddFile("stat", []byte("btime "+strconv.FormatInt(boot.Unix(), 10)+"\n"))
		}
	}

	// NOTE: ls_-la_sys_module.txt names the /sys/module entries but gives
	// none of their attributes, so sys_modules stays not collected rather
	// than listing rows whose every column is NULL.
}

// importSysctl adds the kernel.* values of sysctl -a as sys/kernel files,
// such as kernel.pid_max as sys/kernel/pid_max.
func (u *uacImporter) importSysctl(data []byte) {
	for _, line := range strings.Split(string(data), "\n") {
		key, value, ok := strings.Cut(line, " = ")
		if !ok || !strings.HasPrefix(key, "kernel.") || strings.Contains(key, "/") {
			continue
		}
		u.addKernelFile(strings.ReplaceAll(strings.TrimPrefix(key, "kernel."), ".", "/"), value)
	}
}

// addKernelFile sets sys/kernel/<name> unless an earlier source set it or
// the value is empty.
func (u *uacImporter) addKernelFile(name, value string) {
	full := "sys/kernel/" + name
	if value == "" {
		return
	}
	if _, err := u.tree.ReadFile(full); err == nil {
		return
	}
	u.tree.AddFile(full, []byte(value+"\n"))
}

// uacHostFiles are the files under [root], UAC's copy of the host's file
// system, that procsql's tables read.
var uacHostFiles = []string{"etc/passwd", "etc/group", "etc/ld.so.preload"}

func (u *uacImporter) importHostFiles() {
	for _, name := range uacHostFiles {
		if data, ok := u.read(uacHostRoot + "/" + name); ok {
			u.tree.AddHostFile(name, data)
		}
	}
}

// addLossyNotes records how the collection differs from the /proc files
// it was made from.
func (u *uacImporter) addLossyNotes() {
	if u.cmdlineViaStrings {
		u.tree.AddLossy("processes.cmdline, argv and cmdline_raw come from UAC's strings(1) copy of cmdline: arguments shorter than 4 characters are missing, and an argument is split where it held a newline, another control character or a non-ASCII byte")
	}
	if u.environViaStrings {
		u.tree.AddLossy("environ (name, value, value_raw) comes from UAC's strings(1) copy of environ: variables shorter than 4 characters are missing, and a variable is split where it held a newline, another control character or a non-ASCII byte")
	}
	if u.fdListings {
		u.tree.AddLossy("fds come from ls -la of each fd directory: only the link targets are kept, so size_bytes, pos, flags and access are NULL and deleted follows the \" (deleted)\" marker")
	}
	if u.unsizedHashes > 0 {
		u.tree.AddLossy(fmt.Sprintf("processes.exe_size is NULL for %d processes: UAC's hash list records no sizes, and it kept no copy of those executables", u.unsizedHashes))
	}
	if !u.exeHashList && len(u.pids) > 0 {
		u.tree.AddLossy("processes.exe_sha256 and exe_size are NULL: the collection has no hash_running_processes.sha256 (UAC hashes with md5 and sha1 unless sha256 is configured)")
	}
	if _, err := u.tree.ReadFile("net/tcp"); err == nil {
		u.tree.AddLossy("sockets: the tcp, tcp6, udp and udp6 rows are those of the network namespace UAC ran in, the unix rows merge every process's net/unix, and net_ns is NULL, because UAC records no namespace links")
	}
	if _, err := u.tree.ReadFile("stat"); err == nil {
		u.tree.AddLossy("system.boot_time and processes.start_time rest on uptime -s, a boot time to the second that can differ from the kernel's btime by one second")
	}
	if u.zoneUnknown {
		u.tree.AddLossy("read_time and boot_time are the collecting host's local time read as UTC: uac.log, which gives the offset, is missing")
	}
}

// unixMerger builds one net/unix from the copies of several processes,
// keeping each socket once. A record is a line that starts with the
// kernel's socket address ("0000000044ea4fcf: ") and any lines after it
// that do not, which continue a path holding a newline.
type unixMerger struct {
	header  string
	records []string
	seen    map[string]bool
}

var unixRecordStart = regexp.MustCompile(`^[0-9a-fA-F]{8,16}: `)

func (m *unixMerger) add(data []byte) {
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) == 0 {
		return
	}
	if m.header == "" {
		m.header = lines[0]
	}
	var records []string
	for _, line := range lines[1:] {
		if unixRecordStart.MatchString(line) || len(records) == 0 {
			records = append(records, line)
			continue
		}
		records[len(records)-1] += "\n" + line
	}
	for _, r := range records {
		if !m.seen[r] {
			m.seen[r] = true
			m.records = append(m.records, r)
		}
	}
}

func (m *unixMerger) bytes() []byte {
	var b strings.Builder
	b.WriteString(m.header)
	b.WriteByte('\n')
	for _, r := range m.records {
		b.WriteString(r)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
