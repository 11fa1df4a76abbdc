package tables_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/procsql/procsql/procfile"
	"github.com/procsql/procsql/source"
	"github.com/procsql/procsql/tables"
)

// Shape of the copied /proc tree that BenchmarkTableScan builds.
const (
	benchUserProcesses     = 500 // user processes with pids 1000, 1010 and so on, the last one left out of listing.txt
	benchKernelThreads     = 100 // kernel threads, pids 2 to 101
	benchThreadsPerProcess = 4   // tasks of each user process, tids pid to pid+3
	benchModules           = 150 // loadable modules, with a /sys/module entry each
	benchBuiltinModules    = 60  // /sys/module entries of built-in code, which have no refcnt
	benchTimeWaitRows      = 200 // TIME_WAIT rows of the host's net/tcp, held by no process
	benchContainerEvery    = 25  // every 25th user process runs in a second network namespace
)

// Namespace inodes of the tree. Processes in the container namespace read
// their sockets from that namespace's own net/ files.
const (
	benchHostNetNS      = 4026531840
	benchContainerNetNS = 4026532481
	benchPIDNS          = 4026531836
	benchMntNS          = 4026531841
)

// benchExeDigest is the invented SHA-256 that exe.sha256 records for the
// executable of every user process.
const benchExeDigest = "5b0c9d3e1f4a6b8c7d2e0f1a3b5c7d9e8f6a4b2c0d1e3f5a7b9c8d6e4f2a0b1c"

// benchTree is a synthetic copied /proc tree under root/proc, with the host
// files that the tables read (etc/, sys/module/) under root.
type benchTree struct {
	tb   testing.TB
	root string
	dirs map[string]bool

	// Row counts that a full scan of each table returns.
	rows map[string]int
	// lookupPID is a listed user process, and lookupInode a TCP socket that
	// it holds.
	lookupPID   int
	lookupInode uint64
	// netFiles collects the socket rows of each network namespace.
	netFiles map[uint64]map[string]*bytes.Buffer
	// netDirPID is the lowest pid in each network namespace. The sockets
	// table reads a namespace's net/ files through that process.
	netDirPID map[uint64]int
}

// benchTemplates are the fixture files that the tree's files are made from.
type benchTemplates struct {
	userStat, kernelStat          []byte
	userStatus, kernelStatus      []byte
	cmdline, environ, maps, smaps []byte
	fdinfoEpoll                   []byte
	procStat, meminfo, modules    []byte
	passwd                        []byte
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.FromSlash(name))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return data
}

func loadBenchTemplates(tb testing.TB) benchTemplates {
	tb.Helper()
	counters := readFixture(tb, "../testdata/bench/smaps_counters")
	maps := readFixture(tb, "../testdata/bench/maps")
	var smaps bytes.Buffer
	for header := range bytes.Lines(maps) {
		smaps.Write(header)
		smaps.Write(counters)
	}
	return benchTemplates{
		userStat:     readFixture(tb, "../testdata/hunts/clean/1000/stat"),
		kernelStat:   readFixture(tb, "../testdata/hunts/clean/2/stat"),
		userStatus:   readFixture(tb, "../testdata/cases/19-status-field-set-varies/status.new_fields"),
		kernelStatus: readFixture(tb, "../testdata/hunts/clean/2/status"),
		cmdline:      readFixture(tb, "../testdata/bench/cmdline"),
		environ:      readFixture(tb, "../testdata/bench/environ"),
		maps:         maps,
		smaps:        smaps.Bytes(),
		fdinfoEpoll:  readFixture(tb, "../procfile/testdata/fdinfo_epoll"),
		procStat:     readFixture(tb, "../testdata/hunts/clean/stat"),
		meminfo:      readFixture(tb, "../procfile/testdata/meminfo"),
		modules:      readFixture(tb, "../testdata/cases/27-modules-taint-flags/modules"),
		passwd:       readFixture(tb, "../testdata/hunts/etc/passwd"),
	}
}

func (tree *benchTree) write(name string, data []byte) {
	path := filepath.Join(tree.root, filepath.FromSlash(name))
	dir := filepath.Dir(path)
	if !tree.dirs[dir] {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tree.tb.Fatal(err)
		}
		tree.dirs[dir] = true
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tree.tb.Fatal(err)
	}
}

func (tree *benchTree) writeString(name, text string) {
	tree.write(name, []byte(text))
}

func (tree *benchTree) mkdir(name string) {
	path := filepath.Join(tree.root, filepath.FromSlash(name))
	if err := os.MkdirAll(path, 0o755); err != nil {
		tree.tb.Fatal(err)
	}
	tree.dirs[path] = true
}

// addSocketRow appends a row to the net/<file> of a namespace, whose header
// writeNetFiles adds.
func (tree *benchTree) addSocketRow(netNS uint64, file, row string) {
	files := tree.netFiles[netNS]
	if files == nil {
		files = map[string]*bytes.Buffer{}
		tree.netFiles[netNS] = files
	}
	if files[file] == nil {
		files[file] = &bytes.Buffer{}
	}
	files[file].WriteString(row)
	files[file].WriteByte('\n')
	tree.rows["sockets"]++
}

// rewriteStat returns a stat template with new pid, comm, ppid and thread
// count. The process leads its own process group and session.
func rewriteStat(tb testing.TB, template []byte, pid int, comm string, ppid, threads int) []byte {
	closing := bytes.LastIndexByte(template, ')')
	if closing < 0 {
		tb.Fatalf("stat template %q has no \")\"", template)
	}
	// fields[0] is field 3 of proc_pid_stat(5), the state.
	fields := strings.Fields(string(template[closing+1:]))
	fields[4-3] = strconv.Itoa(ppid)
	fields[5-3] = strconv.Itoa(pid)
	fields[6-3] = strconv.Itoa(pid)
	fields[20-3] = strconv.Itoa(threads)
	return fmt.Appendf(nil, "%d (%s) %s\n", pid, comm, strings.Join(fields, " "))
}

// rewriteStatus returns a status template with the values of the given
// keys replaced.
func rewriteStatus(template []byte, values map[string]string) []byte {
	var out bytes.Buffer
	for line := range bytes.Lines(template) {
		key, _, _ := bytes.Cut(line, []byte(":"))
		if value, ok := values[string(key)]; ok {
			fmt.Fprintf(&out, "%s:\t%s\n", key, value)
			continue
		}
		out.Write(line)
	}
	return out.Bytes()
}

// hostWord returns an IPv4 address as the 32-bit word that a little-endian
// host prints in /proc/net/tcp and udp.
func hostWord(addr string) uint32 {
	raw := netip.MustParseAddr(addr).As4()
	return uint32(raw[0]) | uint32(raw[1])<<8 | uint32(raw[2])<<16 | uint32(raw[3])<<24
}

// tcpRow formats a /proc/net/tcp row in the layout of
// testdata/cases/23-net-tcp-duplicates-and-size/tcp, including its padding
// to 149 bytes.
func tcpRow(sl int, local uint32, localPort int, remote uint32, remotePort int, state string, uid int, inode uint64) string {
	row := fmt.Sprintf("%4d: %08X:%04X %08X:%04X %s 00000000:00000000 00:00000000 00000000 %5d %8d %d 1 0000000000000000 20 4 30 10 -1",
		sl, local, localPort, remote, remotePort, state, uid, 0, inode)
	return row + strings.Repeat(" ", max(0, 149-len(row)))
}

// writeKernelThread writes the files of a kernel thread: no command line,
// environment, mappings or descriptors, and an exe link that fails with
// ENOENT.
func (tree *benchTree) writeKernelThread(tpl benchTemplates, pid int) {
	dir := strconv.Itoa(pid) + "/"
	comm := fmt.Sprintf("kworker/%d:%d", pid%2, pid)
	ppid := 2
	if pid == 2 {
		comm, ppid = "kthreadd", 0
	}
	stat := rewriteStat(tree.tb, tpl.kernelStat, pid, comm, ppid, 1)
	tree.write(dir+"stat", stat)
	tree.write(dir+"task/"+strconv.Itoa(pid)+"/stat", stat)
	tree.write(dir+"status", rewriteStatus(tpl.kernelStatus, map[string]string{
		"Name": comm, "Tgid": strconv.Itoa(pid), "Pid": strconv.Itoa(pid), "PPid": strconv.Itoa(ppid),
		"NStgid": strconv.Itoa(pid), "NSpid": strconv.Itoa(pid), "NSpgid": strconv.Itoa(pid), "NSsid": strconv.Itoa(pid),
	}))
	for _, name := range []string{"cmdline", "environ", "maps", "smaps"} {
		tree.write(dir+name, nil)
	}
	tree.writeString(dir+"exe.error", "ENOENT\n")
	tree.writeString(dir+"cwd", "/")
	tree.writeString(dir+"root", "/")
	tree.writeString(dir+"cgroup", "0::/\n")
	tree.writeNamespaces(dir, pid, benchHostNetNS)
	tree.mkdir(dir + "fd")
	tree.mkdir(dir + "fdinfo")
	tree.rows["processes"]++
	tree.rows["threads"]++
}

func (tree *benchTree) writeNamespaces(dir string, pid int, netNS uint64) {
	tree.writeString(dir+"ns/net", fmt.Sprintf("net:[%d]", netNS))
	tree.writeString(dir+"ns/pid", fmt.Sprintf("pid:[%d]", benchPIDNS))
	tree.writeString(dir+"ns/mnt", fmt.Sprintf("mnt:[%d]", benchMntNS))
	if _, seen := tree.netDirPID[netNS]; !seen {
		tree.netDirPID[netNS] = pid
	}
}

// fdEntry is one descriptor of a user process: the link text, the fdinfo
// flags, and for a file the link count and size that a copy records.
type fdEntry struct {
	link  string
	flags string
	inode uint64
	nlink string
	size  int64
	epoll bool
}

// writeUserProcess writes a Java service with benchThreadsPerProcess tasks
// and 20 descriptors, and adds its sockets to its namespace's net/ files.
// The descriptors are the standard streams, an epoll and an eventfd, a TCP
// listener, three TCP connections to a database, two unix sockets, a UDP
// socket, a log file, a deleted upload, a memfd, /dev/urandom and four jar
// files.
func (tree *benchTree) writeUserProcess(tpl benchTemplates, index int) {
	pid := 1000 + 10*index
	dir := strconv.Itoa(pid) + "/"
	netNS := uint64(benchHostNetNS)
	if index%benchContainerEvery == benchContainerEvery-1 {
		netNS = benchContainerNetNS
	}

	tree.write(dir+"stat", rewriteStat(tree.tb, tpl.userStat, pid, "java", 1, benchThreadsPerProcess))
	for task := range benchThreadsPerProcess {
		tid := pid + task
		comm := "java"
		if task > 0 {
			comm = fmt.Sprintf("worker-%d", task)
		}
		tree.write(dir+"task/"+strconv.Itoa(tid)+"/stat", rewriteStat(tree.tb, tpl.userStat, tid, comm, 1, benchThreadsPerProcess))
	}
	tree.write(dir+"status", rewriteStatus(tpl.userStatus, map[string]string{
		"Name": "java", "Tgid": strconv.Itoa(pid), "Pid": strconv.Itoa(pid), "PPid": "1",
		"NStgid": strconv.Itoa(pid), "NSpid": strconv.Itoa(pid), "NSpgid": strconv.Itoa(pid), "NSsid": strconv.Itoa(pid),
		"Uid": "1000\t1000\t1000\t1000", "Gid": "1000\t1000\t1000\t1000",
		"Threads": strconv.Itoa(benchThreadsPerProcess),
	}))
	tree.write(dir+"cmdline", tpl.cmdline)
	tree.write(dir+"environ", tpl.environ)
	tree.write(dir+"maps", tpl.maps)
	tree.write(dir+"smaps", tpl.smaps)
	tree.writeString(dir+"exe", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java")
	tree.writeString(dir+"exe.nlink", "1\n")
	tree.writeString(dir+"exe.sha256", benchExeDigest+" 14432\n")
	tree.writeString(dir+"cwd", "/opt/inventory-service")
	tree.writeString(dir+"root", "/")
	tree.writeString(dir+"cgroup", "0::/system.slice/inventory-service.service\n")
	tree.writeNamespaces(dir, pid, netNS)

	// Inodes of this process's pipes and sockets: 100000 + 20*index + fd.
	inode := func(fd int) uint64 { return uint64(100000 + 20*index + fd) }
	server := hostWord("192.0.2.10")
	database := hostWord("198.51.100.7")
	fds := []fdEntry{
		0:  {link: "/dev/null", flags: "0100000"},
		1:  {link: fmt.Sprintf("pipe:[%d]", inode(1)), flags: "01", inode: inode(1)},
		2:  {link: fmt.Sprintf("pipe:[%d]", inode(2)), flags: "01", inode: inode(2)},
		3:  {link: "anon_inode:[eventpoll]", epoll: true},
		4:  {link: "anon_inode:[eventfd]", flags: "02004002", inode: 1057},
		12: {link: fmt.Sprintf("/var/log/inventory-service/app-%d.log", index), flags: "02102001", nlink: "1", size: 1 << 20},
		13: {link: fmt.Sprintf("/tmp/upload-%d.part (deleted)", pid), flags: "02100002", nlink: "0", size: 65536},
		14: {link: "/memfd:jit-cache (deleted)", flags: "02100002", nlink: "0", size: 2 << 20},
		15: {link: "/dev/urandom", flags: "02100000"},
	}
	fds = append(fds, make([]fdEntry, 20-len(fds))...)
	for fd := 5; fd <= 11; fd++ {
		fds[fd] = fdEntry{link: fmt.Sprintf("socket:[%d]", inode(fd)), flags: "02000002", inode: inode(fd)}
	}
	for fd, jar := range []string{"inventory-service-4.2.1", "spring-core-6.1.6", "jackson-databind-2.17.0", "postgresql-42.7.3"} {
		fds[16+fd] = fdEntry{link: "/opt/inventory-service/lib/" + jar + ".jar", flags: "02100000", nlink: "1", size: 1800000}
	}

	tree.addSocketRow(netNS, "tcp", tcpRow(4*index, 0, 10000+index, 0, 0, "0A", 1000, inode(5)))
	for fd := 6; fd <= 8; fd++ {
		tree.addSocketRow(netNS, "tcp", tcpRow(4*index+fd-5, server, 40000+fd*1000+index, database, 5432, "01", 1000, inode(fd)))
	}
	tree.addSocketRow(netNS, "unix", fmt.Sprintf("0000000000000000: 00000002 00000000 00010000 0001 01 %5d /run/inventory-service/worker-%d.sock", inode(9), index))
	tree.addSocketRow(netNS, "unix", fmt.Sprintf("0000000000000000: 00000003 00000000 00000000 0001 03 %5d", inode(10)))
	tree.addSocketRow(netNS, "udp", fmt.Sprintf("%5d: %08X:%04X 00000000:0000 07 00000000:00000000 00:00000000 00000000 %5d %8d %d 2 0000000000000000 0",
		index, server, 20000+index, 1000, 0, inode(11)))

	for fd, entry := range fds {
		name := dir + "fd/" + strconv.Itoa(fd)
		tree.writeString(name, entry.link)
		if entry.nlink != "" {
			tree.writeString(name+".nlink", entry.nlink+"\n")
			tree.writeString(name+".size", strconv.FormatInt(entry.size, 10)+"\n")
		}
		if entry.epoll {
			tree.write(dir+"fdinfo/"+strconv.Itoa(fd), tpl.fdinfoEpoll)
			continue
		}
		tree.writeString(dir+"fdinfo/"+strconv.Itoa(fd), fmt.Sprintf("pos:\t%d\nflags:\t%s\nmnt_id:\t%d\nino:\t%d\n", entry.size/2, entry.flags, 29, entry.inode))
	}

	if index == benchUserProcesses/2 {
		tree.lookupPID, tree.lookupInode = pid, inode(6)
	}
	if index == benchUserProcesses-1 {
		// Hidden from listing.txt, so only pid_probe and the sockets
		// tables see it.
		return
	}
	tree.rows["processes"]++
	tree.rows["threads"] += benchThreadsPerProcess
	tree.rows["fds"] += len(fds)
	tree.rows["environ"] += bytes.Count(tpl.environ, []byte{0})
	tree.rows["maps"] += bytes.Count(tpl.maps, []byte("\n"))
	tree.rows["maps_executable"] += executableMappings(tree.tb, tpl.maps)
}

// executableMappings counts the lines of a maps file whose permissions allow
// execution.
func executableMappings(tb testing.TB, maps []byte) int {
	mappings, err := procfile.ParseMaps(maps)
	if err != nil {
		tb.Fatalf("bench maps template: %v", err)
	}
	n := 0
	for _, m := range mappings {
		if m.Perms[2] == 'x' {
			n++
		}
	}
	return n
}

// columnIndex returns the position of a column in a table's full schema.
func columnIndex(tree *benchTree, table, column string) int {
	for _, t := range tables.All() {
		if t.Name() != table {
			continue
		}
		for i, c := range t.Columns() {
			if c.Name == column {
				return i
			}
		}
	}
	tree.tb.Fatalf("table %s has no column %q", table, column)
	return -1
}

// writeNetFiles writes the socket files of each namespace under its lowest
// pid, as /proc/<pid>/net shows them, with headers and the rows that no
// process holds: TIME_WAIT connections, a tcp6 listener of the host and two
// packet sockets.
func (tree *benchTree) writeNetFiles() {
	server := hostWord("192.0.2.10")
	for i := range benchTimeWaitRows {
		client := hostWord(fmt.Sprintf("203.0.113.%d", i%250+1))
		row := fmt.Sprintf("%4d: %08X:01BB %08X:%04X 06 00000000:00000000 03:%08X 00000000     0        0 0 3 0000000000000000",
			3000+i, server, client, 33000+i, 1500+i)
		tree.addSocketRow(benchHostNetNS, "tcp", row+strings.Repeat(" ", max(0, 149-len(row))))
	}
	tree.addSocketRow(benchHostNetNS, "tcp6", "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31001 1 0000000000000000 100 0 0 10 0")
	tree.addSocketRow(benchHostNetNS, "packet", "0000000000000000 3      3    0003   2     1 0      0      31002 ")
	tree.addSocketRow(benchHostNetNS, "packet", "0000000000000000 2      2    0000   0     0 2304   101    31003 ")

	headers := map[string]string{
		"tcp":    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode" + strings.Repeat(" ", 53) + "\n",
		"tcp6":   "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
		"udp":    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             \n",
		"udp6":   "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n",
		"raw":    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             \n",
		"raw6":   "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n",
		"unix":   "Num       RefCount Protocol Flags    Type St Inode Path\n",
		"packet": "sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n",
	}
	for netNS, pid := range tree.netDirPID {
		for file, header := range headers {
			content := []byte(header)
			if rows := tree.netFiles[netNS][file]; rows != nil {
				content = append(content, rows.Bytes()...)
			}
			tree.write(fmt.Sprintf("%d/net/%s", pid, file), content)
		}
	}
}

// writeHostFiles writes the files outside the tree that the tables read
// through source.Dir's host paths: etc/passwd, etc/ld.so.preload and
// sys/module/.
func (tree *benchTree) writeHostFiles(tpl benchTemplates, hostRoot string) {
	host := &benchTree{tb: tree.tb, root: hostRoot, dirs: tree.dirs}
	host.write("etc/passwd", tpl.passwd)
	host.writeString("etc/ld.so.preload", "# memory allocator for every service\n/usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n")
	tree.rows["ld_so_preload"] = 1

	templateLines := strings.Split(strings.TrimSuffix(string(tpl.modules), "\n"), "\n")
	var modules strings.Builder
	for i := range benchModules {
		line := templateLines[i%len(templateLines)]
		name, rest, _ := strings.Cut(line, " ")
		name = fmt.Sprintf("%s_%d", name, i)
		fmt.Fprintf(&modules, "%s %s\n", name, rest)

		fields := strings.Fields(rest)
		taint := ""
		if last := fields[len(fields)-1]; strings.HasPrefix(last, "(") {
			taint = strings.Trim(last, "()")
		}
		dir := "sys/module/" + name + "/"
		host.writeString(dir+"refcnt", fields[1]+"\n")
		host.writeString(dir+"initstate", "live\n")
		host.writeString(dir+"taint", taint+"\n")
		host.writeString(dir+"coresize", fields[0]+"\n")
	}
	for i := range benchBuiltinModules {
		host.writeString(fmt.Sprintf("sys/module/builtin_%d/parameters/debug", i), "N\n")
	}
	tree.writeString("modules", modules.String())
	tree.rows["modules"] = benchModules
	tree.rows["sys_modules"] = benchModules + benchBuiltinModules
}

// buildBenchTree writes the tree under tb.TempDir() and returns it. It writes
// about 39,000 files, which takes seconds, so only benchmarks call it.
func buildBenchTree(tb testing.TB) *benchTree {
	tb.Helper()
	tpl := loadBenchTemplates(tb)
	base := tb.TempDir()
	tree := &benchTree{
		tb: tb, root: filepath.Join(base, "proc"), dirs: map[string]bool{},
		rows:      map[string]int{},
		netFiles:  map[uint64]map[string]*bytes.Buffer{},
		netDirPID: map[uint64]int{},
	}

	var listing []string
	for pid := 2; pid < 2+benchKernelThreads; pid++ {
		tree.writeKernelThread(tpl, pid)
		listing = append(listing, strconv.Itoa(pid))
	}
	for index := range benchUserProcesses {
		tree.writeUserProcess(tpl, index)
		if index < benchUserProcesses-1 {
			listing = append(listing, strconv.Itoa(1000+10*index))
		}
	}
	tree.writeString("listing.txt", strings.Join(listing, "\n")+"\n")
	tree.writeNetFiles()
	tree.writeHostFiles(tpl, base)

	tree.write("stat", tpl.procStat)
	tree.write("meminfo", tpl.meminfo)
	tree.writeString("sys/kernel/hostname", "bench-host\n")
	tree.writeString("sys/kernel/osrelease", "6.8.0-45-generic\n")
	tree.writeString("sys/kernel/version", "#45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024\n")
	tree.writeString("sys/kernel/pid_max", "4194304\n")

	tree.rows["process_sockets"] = tree.rows["sockets"]
	tree.rows["pid_probe"] = benchKernelThreads + benchUserProcesses
	tree.rows["system"] = 1
	tree.rows["meminfo"] = bytes.Count(tpl.meminfo, []byte("\n"))
	return tree
}

// scanCase is one benchmarked scan: a table, the columns requested (nil for
// all) and the filter that a WHERE clause on a key column pushes down.
type scanCase struct {
	name    string
	table   string
	columns []string
	filter  tables.Filter
	rows    int // rows the scan must return
}

func benchScanCases(tree *benchTree) []scanCase {
	all := func(table string) scanCase {
		return scanCase{name: table + "/all_columns", table: table, rows: tree.rows[table]}
	}
	oneColumn := func(table, column string) scanCase {
		return scanCase{name: table + "/one_column", table: table, columns: []string{column}, rows: tree.rows[table]}
	}
	pidLookup := func(table string, rows int) scanCase {
		return scanCase{name: table + "/pid_lookup", table: table, filter: tables.Filter{PIDs: []int{tree.lookupPID}}, rows: rows}
	}
	inodeLookup := func(table string) scanCase {
		return scanCase{name: table + "/inode_lookup", table: table, filter: tables.Filter{Inodes: []uint64{tree.lookupInode}}, rows: 1}
	}
	// executableMaps keeps the executable mappings, as a WHERE clause on perms
	// that the engine pushes into the scan does.
	executableMaps := scanCase{name: "maps/executable_condition", table: "maps", rows: tree.rows["maps_executable"],
		columns: []string{"pid", "start", "perms", "path", "kind"}}
	permsPos := columnIndex(tree, "maps", "perms")
	executableMaps.filter.Conditions = []tables.Condition{{
		Columns: []int{permsPos},
		Test: func(row sql.Row) bool {
			perms, _ := row[permsPos].(string)
			return len(perms) == 4 && perms[2] == 'x'
		},
	}}
	return []scanCase{
		all("processes"), oneColumn("processes", "pid"), pidLookup("processes", 1),
		all("threads"), pidLookup("threads", benchThreadsPerProcess),
		all("fds"), oneColumn("fds", "fd"), pidLookup("fds", 20),
		all("environ"), pidLookup("environ", tree.rows["environ"]/(benchUserProcesses-1)),
		all("maps"), oneColumn("maps", "start"), pidLookup("maps", tree.rows["maps"]/(benchUserProcesses-1)), executableMaps,
		all("modules"),
		all("sys_modules"), oneColumn("sys_modules", "name"),
		all("sockets"), inodeLookup("sockets"),
		all("process_sockets"), oneColumn("process_sockets", "inode"), pidLookup("process_sockets", 7), inodeLookup("process_sockets"),
		all("pid_probe"),
		all("ld_so_preload"),
		all("system"), oneColumn("system", "source"),
		all("meminfo"),
	}
}

// wantedColumns returns the wanted slice that engine passes to Scan for the
// named columns, or every column when names is nil.
func wantedColumns(tb testing.TB, table tables.Table, names []string) []bool {
	columns := table.Columns()
	wanted := make([]bool, len(columns))
	for i, c := range columns {
		wanted[i] = names == nil
		for _, name := range names {
			if c.Name == name {
				wanted[i] = true
			}
		}
	}
	for _, name := range names {
		found := false
		for _, c := range columns {
			found = found || c.Name == name
		}
		if !found {
			tb.Fatalf("table %s has no column %q", table.Name(), name)
		}
	}
	return wanted
}

// scanOnce runs one scan as engine runs one query, with a new cache and
// Reader, and returns the row count and the Reader's warnings.
func scanOnce(src source.Source, table tables.Table, filter tables.Filter, wanted []bool) (int, []string, error) {
	r := tables.NewReader(source.NewCache(src))
	count := 0
	err := table.Scan(r, filter, wanted, func(sql.Row) error {
		count++
		return nil
	})
	return count, r.Warnings(), err
}

// BenchmarkTableScan scans every table over one synthetic copied /proc tree
// of benchUserProcesses user processes with 20 descriptors each, their maps,
// smaps and environments, and 2,000 held TCP sockets. Each scan reads
// through a new source.Cache, so it includes the file reads of one query.
func BenchmarkTableScan(b *testing.B) {
	tree := buildBenchTree(b)
	src, err := source.NewDir(tree.root)
	if err != nil {
		b.Fatal(err)
	}
	byName := map[string]tables.Table{}
	for _, table := range tables.All() {
		byName[table.Name()] = table
	}

	for _, sc := range benchScanCases(tree) {
		b.Run(sc.name, func(b *testing.B) {
			table := byName[sc.table]
			if table == nil {
				b.Fatalf("no table %q", sc.table)
			}
			wanted := wantedColumns(b, table, sc.columns)

			count, warnings, err := scanOnce(src, table, sc.filter, wanted)
			if err != nil {
				b.Fatal(err)
			}
			if count != sc.rows {
				b.Fatalf("scan returned %d rows, want %d", count, sc.rows)
			}
			if len(warnings) > 0 {
				b.Fatalf("scan warned:\n%s", strings.Join(warnings, "\n"))
			}

			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := scanOnce(src, table, sc.filter, wanted); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(count), "rows/op")
		})
	}
}
