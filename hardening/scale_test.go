package hardening

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Shape of the synthetic host that TestScaleInBoundedMemory writes.
const (
	scaleTCPSockets   = 50_000  // distinct rows of net/tcp, TIME_WAIT rows included
	scaleTimeWait     = 2_000   // of those, TIME_WAIT rows with inode 0 and distinct ports
	scaleTCPRepeats   = 500     // rows that net/tcp prints a second time, as a kernel does when a read races a change
	scaleUnixSockets  = 50_000  // rows of net/unix
	scaleHeldTCP      = 5_000   // TCP sockets that the server process holds as descriptors
	scaleHeldUnix     = 5_000   // unix sockets that the server process holds
	scaleMappings     = 200_000 // lines of the mapper process's maps
	scaleSmallMapping = 3       // lines of the maps of every other process
)

// Pids of the synthetic host. The server holds sockets; init holds one of
// them as well, so that socket has two holders.
const (
	scaleInitPID   = 1
	scaleServerPID = 100
	scaleMapperPID = 200
)

// scaleNetNS is the network namespace inode of every synthetic process.
const scaleNetNS = 4026531840

// Bounds of the peak resident set of each query in TestScaleInBoundedMemory,
// in MiB. They were measured over four runs with go1.26 on linux/amd64
// (2 cores, 24 GiB RAM). SELECT * FROM sockets peaked at 250 to 330 MiB,
// process_sockets at 290 to 325 MiB, the COUNT(*) join at 105 to 112 MiB
// and the maps columns at 475 to 530 MiB. Each bound is about twice the
// largest peak.
// NOTE: the peaks depend on go-mysql-server's result buffering and on the
// GOGC=400 that procsql sets for queries; remeasure when either changes.
const (
	scaleSocketsRSSMiB = 640
	scaleHoldersRSSMiB = 640
	scaleJoinRSSMiB    = 256
	scaleMapsRSSMiB    = 1024
)

// scaleTree writes a copied /proc tree under dir/proc, with etc/passwd
// beside it, and returns the tree's path.
func scaleTree(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "proc")
	write := func(name, content string) {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	passwd := "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	stat, err := os.ReadFile("../testdata/hunts/clean/stat")
	if err != nil {
		t.Fatal(err)
	}
	write("stat", string(stat))

	for _, p := range []struct {
		pid  int
		comm string
		maps string
	}{
		{scaleInitPID, "init", smallMaps(0x5000_0000_0000)},
		{scaleServerPID, "scale-server", smallMaps(0x5100_0000_0000)},
		{scaleMapperPID, "scale-mapper", largeMaps()},
	} {
		dir := strconv.Itoa(p.pid) + "/"
		write(dir+"stat", fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 4194560 210 0 0 0 3 1 0 0 20 0 1 0 120000 9000000 900 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", p.pid, p.comm, p.pid, p.pid))
		write(dir+"status", fmt.Sprintf("Name:\t%s\nState:\tS (sleeping)\nTgid:\t%d\nPid:\t%d\nPPid:\t1\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nVmRSS:\t    3600 kB\nThreads:\t1\nCapEff:\t000001ffffffffff\nSeccomp:\t0\n", p.comm, p.pid, p.pid))
		write(dir+"cmdline", "/usr/sbin/"+p.comm+"\x00")
		write(dir+"environ", "PATH=/usr/bin\x00")
		write(dir+"exe", "/usr/sbin/"+p.comm)
		write(dir+"cwd", "/")
		write(dir+"root", "/")
		write(dir+"cgroup", "0::/\n")
		write(dir+"ns/net", fmt.Sprintf("net:[%d]", scaleNetNS))
		write(dir+"ns/pid", "pid:[4026531836]")
		write(dir+"ns/mnt", "mnt:[4026531841]")
		write(dir+"maps", p.maps)
		if err := os.MkdirAll(filepath.Join(root, dir, "fd"), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// The server holds the first TCP sockets that have an inode and the
	// first unix sockets as fds 3 and up. Init holds the first TCP socket
	// too, so that socket has two holders.
	fd := 3
	for i := range scaleHeldTCP {
		write(fmt.Sprintf("%d/fd/%d", scaleServerPID, fd), fmt.Sprintf("socket:[%d]", tcpInode(i)))
		fd++
	}
	for i := range scaleHeldUnix {
		write(fmt.Sprintf("%d/fd/%d", scaleServerPID, fd), fmt.Sprintf("socket:[%d]", unixInode(i)))
		fd++
	}
	write(fmt.Sprintf("%d/fd/3", scaleInitPID), fmt.Sprintf("socket:[%d]", tcpInode(0)))

	net := fmt.Sprintf("%d/net/", scaleInitPID)
	write(net+"tcp", tcpTable())
	write(net+"unix", unixTable())
	for name, header := range map[string]string{
		"tcp6":   "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
		"udp":    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             \n",
		"udp6":   "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n",
		"raw":    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             \n",
		"raw6":   "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n",
		"packet": "sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n",
	} {
		write(net+name, header)
	}
	return root
}

// tcpInode is the inode of the i-th TCP socket that is not in TIME_WAIT.
func tcpInode(i int) int { return 1_000_001 + i }

// unixInode is the inode of the i-th unix socket.
func unixInode(i int) int { return 2_000_001 + i }

// tcpTable returns net/tcp with scaleTCPSockets rows: listeners on
// 127.0.0.1, connections between 127.0.0.1 and 127.0.0.2, and TIME_WAIT
// rows with inode 0, followed by scaleTCPRepeats rows repeated from the
// start. Addresses are the little-endian words that x86 prints.
func tcpTable() string {
	var b strings.Builder
	b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	var rows []string
	live := scaleTCPSockets - scaleTimeWait
	for i := range live {
		local, remote, state := fmt.Sprintf("0100007F:%04X", 10000+i%1000), fmt.Sprintf("0200007F:%04X", 20000+i%40000), "01"
		if i%100 == 0 {
			local, remote, state = fmt.Sprintf("0100007F:%04X", 1024+i/100), "00000000:0000", "0A"
		}
		rows = append(rows, fmt.Sprintf("%4d: %s %s %s 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000 20 4 30 10 -1", i, local, remote, state, tcpInode(i)))
	}
	for i := range scaleTimeWait {
		rows = append(rows, fmt.Sprintf("%4d: 0100007F:1F90 0200007F:%04X 06 00000000:00000000 03:00000F00 00000000     0        0 0 3 0000000000000000", live+i, 30000+i))
	}
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	for _, r := range rows[:scaleTCPRepeats] {
		b.WriteString(r + "\n")
	}
	return b.String()
}

// unixTable returns net/unix with scaleUnixSockets rows: every tenth a
// listening stream socket with a path, the rest connected stream sockets
// and datagram sockets without one.
func unixTable() string {
	var b strings.Builder
	b.WriteString("Num       RefCount Protocol Flags    Type St Inode Path\n")
	for i := range scaleUnixSockets {
		switch {
		case i%10 == 0:
			fmt.Fprintf(&b, "0000000000000000: 00000002 00000000 00010000 0001 01 %d /run/scale/listener-%d.sock\n", unixInode(i), i)
		case i%2 == 0:
			fmt.Fprintf(&b, "0000000000000000: 00000003 00000000 00000000 0001 03 %d\n", unixInode(i))
		default:
			fmt.Fprintf(&b, "0000000000000000: 00000002 00000000 00000000 0002 01 %d\n", unixInode(i))
		}
	}
	return b.String()
}

// smallMaps returns scaleSmallMapping lines of maps starting at base.
func smallMaps(base uint64) string {
	return fmt.Sprintf("%x-%x r-xp 00000000 fd:01 1835058                    /usr/sbin/init\n", base, base+0x1000) +
		fmt.Sprintf("%x-%x rw-p 00000000 00:00 0                          [heap]\n", base+0x2000, base+0x3000) +
		fmt.Sprintf("%x-%x rw-p 00000000 00:00 0\n", base+0x4000, base+0x5000)
}

// largeMapKinds is the kind each line of largeMaps has, by line number
// modulo 5.
var largeMapKinds = []string{"file", "anonymous", "file", "memfd", "anonymous"}

// largeMaps returns scaleMappings lines of maps, one page each with a gap
// between them: file mappings (every fourth one deleted), anonymous
// mappings and memfd mappings, followed by the pseudo mappings.
func largeMaps() string {
	var b strings.Builder
	address := uint64(0x7f00_0000_0000)
	for i := range scaleMappings - 2 {
		start, end := address, address+0x1000
		address += 0x2000
		switch largeMapKinds[i%5] {
		case "file":
			deleted := ""
			if i%4 == 0 {
				deleted = " (deleted)"
			}
			fmt.Fprintf(&b, "%x-%x r--p %08x fd:01 %d                    /usr/lib/scale/lib%d.so%s\n", start, end, i*0x1000, 3_000_000+i, i%97, deleted)
		case "memfd":
			fmt.Fprintf(&b, "%x-%x rw-s 00000000 00:01 %d                    /memfd:arena-%d (deleted)\n", start, end, 4_000_000+i, i)
		default:
			fmt.Fprintf(&b, "%x-%x rw-p 00000000 00:00 0\n", start, end)
		}
	}
	fmt.Fprintf(&b, "%x-%x rw-p 00000000 00:00 0                          [stack]\n", address, address+0x21000)
	b.WriteString("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n")
	return b.String()
}

// countJSONLines decodes each line of jsonl output into a map and calls
// visit with it, and returns the number of lines.
func countJSONLines(t *testing.T, output string, visit func(map[string]any)) int {
	t.Helper()
	scanner := bufio.NewScanner(strings.NewReader(output))
	scanner.Buffer(make([]byte, 64*1024), 16*1024*1024)
	n := 0
	for scanner.Scan() {
		var r map[string]any
		decoder := json.NewDecoder(strings.NewReader(scanner.Text()))
		decoder.UseNumber()
		if err := decoder.Decode(&r); err != nil {
			t.Fatalf("line %d of the output is not a JSON object: %v", n+1, err)
		}
		visit(r)
		n++
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestScaleInBoundedMemory(t *testing.T) {
	binary := procsqlBinary(t)
	tree := scaleTree(t, t.TempDir())

	// run runs one query on the tree with jsonl output, requires exit
	// status 0 and an empty stderr, and checks the peak RSS, which
	// getrusage reports in KiB.
	run := func(t *testing.T, query string, limitMiB int64) procsqlRun {
		t.Helper()
		r := mustRunProcsql(t, binary, runOptions{timeout: 2 * time.Minute}, "--proc", tree, "--format", "jsonl", "query", query)
		if r.status != 0 || r.stderr != "" {
			t.Fatalf("query exited with status %d, want 0 and no output on stderr; stderr:\n%s", r.status, firstLines(r.stderr, 20))
		}
		peakMiB := r.rusage.Maxrss / 1024
		t.Logf("%s: peak RSS %d MiB", query, peakMiB)
		if peakMiB > limitMiB {
			t.Errorf("peak RSS %d MiB exceeds the bound of %d MiB", peakMiB, limitMiB)
		}
		return r
	}

	t.Run("sockets", func(t *testing.T) {
		r := run(t, "SELECT * FROM sockets", scaleSocketsRSSMiB)
		byProtocol := map[string]int{}
		timeWait := 0
		n := countJSONLines(t, r.stdout, func(row map[string]any) {
			protocol, _ := row["protocol"].(string)
			byProtocol[protocol]++
			if row["state"] == "TIME_WAIT" {
				timeWait++
			}
		})
		if want := scaleTCPSockets + scaleUnixSockets; n != want {
			t.Errorf("sockets has %d rows, want %d", n, want)
		}
		if byProtocol["tcp"] != scaleTCPSockets {
			t.Errorf("sockets has %d tcp rows, want %d: the %d repeated rows are dropped and TIME_WAIT rows with distinct ports are kept", byProtocol["tcp"], scaleTCPSockets, scaleTCPRepeats)
		}
		if byProtocol["unix"] != scaleUnixSockets {
			t.Errorf("sockets has %d unix rows, want %d", byProtocol["unix"], scaleUnixSockets)
		}
		if timeWait != scaleTimeWait {
			t.Errorf("sockets has %d TIME_WAIT rows, want %d", timeWait, scaleTimeWait)
		}
	})

	t.Run("process_sockets", func(t *testing.T) {
		r := run(t, "SELECT * FROM process_sockets", scaleHoldersRSSMiB)
		byHolder := map[string]int{}
		n := countJSONLines(t, r.stdout, func(row map[string]any) {
			byHolder[fmt.Sprint(row["pid"])]++
		})
		// One socket has two holders, so it has two rows.
		if want := scaleTCPSockets + scaleUnixSockets + 1; n != want {
			t.Errorf("process_sockets has %d rows, want %d", n, want)
		}
		if got, want := byHolder[strconv.Itoa(scaleServerPID)], scaleHeldTCP+scaleHeldUnix; got != want {
			t.Errorf("the server holds %d sockets, want %d", got, want)
		}
		if got := byHolder[strconv.Itoa(scaleInitPID)]; got != 1 {
			t.Errorf("init holds %d sockets, want 1", got)
		}
		if got, want := byHolder["<nil>"], scaleTCPSockets+scaleUnixSockets-scaleHeldTCP-scaleHeldUnix; got != want {
			t.Errorf("%d sockets have no holder, want %d", got, want)
		}
	})

	t.Run("fds joined to sockets", func(t *testing.T) {
		r := run(t, "SELECT COUNT(*) AS n FROM fds f JOIN sockets s ON s.inode = f.inode", scaleJoinRSSMiB)
		if want := fmt.Sprintf("{\"n\":%d}\n", scaleHeldTCP+scaleHeldUnix+1); r.stdout != want {
			t.Errorf("join output %q, want %q", r.stdout, want)
		}
	})

	t.Run("maps", func(t *testing.T) {
		// The smaps columns are left out, because the tree has no smaps.
		r := run(t, "SELECT pid, start, end, perms, offset, device, inode, path, deleted, kind, pseudo, size_bytes FROM maps", scaleMapsRSSMiB)

		byKind := map[string]int{}
		deleted := 0
		mapper := 0
		n := countJSONLines(t, r.stdout, func(row map[string]any) {
			if fmt.Sprint(row["pid"]) != strconv.Itoa(scaleMapperPID) {
				return
			}
			mapper++
			kind, _ := row["kind"].(string)
			byKind[kind]++
			if row["deleted"] == true {
				deleted++
			}
		})

		if want := scaleMappings + 2*scaleSmallMapping; n != want {
			t.Errorf("maps has %d rows, want %d", n, want)
		}
		if mapper != scaleMappings {
			t.Errorf("maps has %d rows of the mapper, want %d", mapper, scaleMappings)
		}

		want := map[string]int{"pseudo": 2}
		for i := range scaleMappings - 2 {
			want[largeMapKinds[i%5]]++
		}
		for kind, count := range want {
			if byKind[kind] != count {
				t.Errorf("the mapper has %d mappings of kind %s, want %d", byKind[kind], kind, count)
			}
		}
		if len(byKind) != len(want) {
			t.Errorf("the mapper's mappings have kinds %v, want only %v", sortedKeys(byKind), sortedKeys(want))
		}

		// File lines whose index is a multiple of 4 end in " (deleted)",
		// and so does every memfd line.
		wantDeleted := 0
		for i := range scaleMappings - 2 {
			if kind := largeMapKinds[i%5]; kind == "memfd" || (kind == "file" && i%4 == 0) {
				wantDeleted++
			}
		}
		if deleted != wantDeleted {
			t.Errorf("the mapper has %d deleted mappings, want %d", deleted, wantDeleted)
		}
	})
}
