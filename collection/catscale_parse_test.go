package collection

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/procsql/procsql/procfile"
)

// catScaleFS returns a collection holding files, named by folder and
// suffix such as "Process_and_Network/process-cmdline.txt", with the
// default prefix of host "web-01".
func catScaleFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{"catscale_out/Process_and_Network": &fstest.MapFile{Mode: os.ModeDir | 0o755}}
	for name, text := range files {
		folder, suffix, _ := strings.Cut(name, "/")
		fsys["catscale_out/"+folder+"/web-01-20250102-0304-"+suffix] = &fstest.MapFile{Data: []byte(text)}
	}
	return fsys
}

func loadCatScaleFS(t *testing.T, files map[string]string) *Tree {
	t.Helper()
	tree, err := loadCatScale(catScaleFS(files), ".")
	if err != nil {
		t.Fatalf("loadCatScale: %v", err)
	}
	return tree
}

// hasNote reports whether one of notes contains every part.
func hasNote(notes []string, parts ...string) bool {
	for _, n := range notes {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(n, p)
		}
		if all {
			return true
		}
	}
	return false
}

const twoStatusFiles = "Name:\tsshd\nState:\tS (sleeping)\nTgid:\t40\nPid:\t40\nPPid:\t1\nUid:\t0\t0\t0\t0\n" +
	"Name:\tbash\nState:\tR (running)\nTgid:\t41\nPid:\t41\nPPid:\t40\nUid:\t1000\t1000\t1000\t1000\n"

func TestCatScaleMissingFiles(t *testing.T) {
	tree := loadCatScaleFS(t, map[string]string{"Process_and_Network/process-details.txt": twoStatusFiles})
	pids, err := tree.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, "40") || !slices.Contains(pids, "41") {
		t.Errorf("ReadDir(.) = %q, want pids 40 and 41", pids)
	}
	if _, err := tree.ReadFile("40/cmdline"); err == nil {
		t.Error("40/cmdline exists without process-cmdline")
	}
	if _, err := tree.ReadFile("net/tcp"); err == nil {
		t.Error("net/tcp exists without ss-anepo")
	}
	lossy := tree.Lossy()
	for _, parts := range [][]string{
		{"processes.cmdline", "no process-cmdline"},
		{"environ", "no process-environment"},
		{"processes.exe", "no process-exe-links"},
		{"sockets", "no ss-anepo"},
		{"read_time", "20250102-0304", "UTC"},
	} {
		if !hasNote(lossy, parts...) {
			t.Errorf("no Lossy note with %q; notes:\n%s", parts, strings.Join(lossy, "\n"))
		}
	}
	if want := time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC); !tree.Describe().ReadTime.Equal(want) {
		t.Errorf("ReadTime = %v, want %v from the file names", tree.Describe().ReadTime, want)
	}
	host, err := tree.ReadFile("sys/kernel/hostname")
	if err != nil || string(host) != "web-01\n" {
		t.Errorf("sys/kernel/hostname = %q, %v, want web-01", host, err)
	}
}

func TestCatScaleNoCollection(t *testing.T) {
	_, err := loadCatScale(fstest.MapFS{"other/file.txt": &fstest.MapFile{}}, ".")
	if err == nil || !strings.Contains(err.Error(), "catscale_out directory not found") {
		t.Errorf("without catscale_out: err = %v, want one naming catscale_out", err)
	}
	_, err = loadCatScale(catScaleFS(nil), ".")
	if err == nil || !strings.Contains(err.Error(), "without CatScale's process functions") {
		t.Errorf("with an empty catscale_out: err = %v, want one saying the process functions did not run", err)
	}
	_, err = loadCatScale(catScaleFS(nil), "../x")
	if err == nil || !strings.Contains(err.Error(), "invalid collection root") {
		t.Errorf("with root ../x: err = %v, want an invalid root", err)
	}
}

func TestCatScaleTwoCollections(t *testing.T) {
	fsys := catScaleFS(map[string]string{"Process_and_Network/process-details.txt": twoStatusFiles})
	fsys["catscale_out/Process_and_Network/db-02-20250102-0304-process-cmdline.txt"] = &fstest.MapFile{}
	_, err := loadCatScale(fsys, ".")
	if err == nil || !strings.Contains(err.Error(), "more than one CatScale collection") {
		t.Errorf("err = %v, want one about two collections", err)
	}
}

func TestCatScaleMalformedStatus(t *testing.T) {
	details := "garbage before any status file\n" +
		"Name:\tgood\nPid:\t50\n" +
		"Name:\tno pid\nState:\tS (sleeping)\n" +
		"Name:\tbad pid\nPid:\t050\n" +
		"Name:\tbroken\nPid:\t51\nthis line has no colon\n" +
		// A process name cannot start a line of its own, because the
		// kernel escapes newlines in names. So two files for one pid
		// mean that the file was altered.
		"Name:\tdup\nPid:\t52\n" + "Name:\tdup\nPid:\t52\n"
	tree := loadCatScaleFS(t, map[string]string{"Process_and_Network/process-details.txt": details})
	if data, err := tree.ReadFile("50/status"); err != nil || string(data) != "Name:\tgood\nPid:\t50\n" {
		t.Errorf("50/status = %q, %v", data, err)
	}
	for _, pid := range []string{"51", "52"} {
		if _, err := tree.ReadFile(pid + "/status"); err == nil {
			t.Errorf("%s/status was kept", pid)
		}
	}
	problems := tree.Problems()
	for _, parts := range [][]string{
		{"process-details.txt line 1", "before the first"},
		{"line 4", "Pid line is \"\""},
		{"more than one status file for pid 52"},
	} {
		if !hasNote(problems, parts...) {
			t.Errorf("no problem with %q; problems:\n%s", parts, strings.Join(problems, "\n"))
		}
	}
}

func TestParseHeadOutput(t *testing.T) {
	tests := []struct {
		name string
		data string
		want map[int]string
		bad  bool
	}{
		{"one header per file", "==> /proc/1/cmdline <==\na\x00b\x00\n==> /proc/2/cmdline <==\nc\x00", map[int]string{1: "a\x00b\x00", 2: "c\x00"}, false},
		{"empty file of a kernel thread", "==> /proc/2/cmdline <==\n\n==> /proc/3/cmdline <==\nx\x00", map[int]string{2: "", 3: "x\x00"}, false},
		{"file ending in a newline", "==> /proc/4/cmdline <==\nline\n\n==> /proc/5/cmdline <==\n", map[int]string{4: "line\n", 5: ""}, false},
		// xargs started a second head, which prints no newline before
		// its first header.
		{"second head run", "==> /proc/6/cmdline <==\na\x00==> /proc/7/cmdline <==\nb\x00", map[int]string{6: "a\x00", 7: "b\x00"}, false},
		{"header text inside a file", "==> /proc/8/cmdline <==\n==> /proc/x\x00", map[int]string{8: "==> /proc/x\x00"}, false},
		{"text before the first header", "stray\n==> /proc/9/cmdline <==\nz\x00", map[int]string{9: "z\x00"}, true},
		{"header of another kind", "==> /proc/9/environ <==\nA=1\x00", map[int]string{}, true},
		{"no header at all", "sleep\x00", map[int]string{}, true},
		{"truncated header", "==> /proc/10/cmdl", map[int]string{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := &fileProblems{name: "cmdline"}
			got := map[int]string{}
			for _, e := range parseHeadOutput([]byte(tt.data), "cmdline", problems) {
				got[e.pid] = string(e.content)
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for pid, content := range tt.want {
				if got[pid] != content {
					t.Errorf("pid %d: got %q, want %q", pid, got[pid], content)
				}
			}
			if bad := len(problems.shown) > 0; bad != tt.bad {
				t.Errorf("problems = %q, want some: %v", problems.shown, tt.bad)
			}
		})
	}
}

func TestCatScaleRepeatedHeader(t *testing.T) {
	// An argument that imitates head's header for another pid makes that
	// pid appear twice, so neither copy is trusted.
	cmdline := "==> /proc/60/cmdline <==\nevil\x00\n==> /proc/61/cmdline <==\nx\x00\n==> /proc/60/cmdline <==\nreal\x00"
	tree := loadCatScaleFS(t, map[string]string{"Process_and_Network/process-cmdline.txt": cmdline})
	if _, err := tree.ReadFile("60/cmdline"); err == nil {
		t.Error("60/cmdline was kept although it appears twice")
	}
	if data, err := tree.ReadFile("61/cmdline"); err != nil || string(data) != "x\x00" {
		t.Errorf("61/cmdline = %q, %v", data, err)
	}
	if !hasNote(tree.Problems(), "more than one cmdline for pid 60") {
		t.Errorf("problems = %q", tree.Problems())
	}
}

func TestCatScaleHeadCut(t *testing.T) {
	environ := "==> /proc/70/environ <==\n" + strings.Repeat("A=1\n", 10)
	tree := loadCatScaleFS(t, map[string]string{"Process_and_Network/process-environment.txt": environ})
	if !hasNote(tree.Lossy(), "pid 70 may be cut", "first 10 lines") {
		t.Errorf("no note about head's 10-line limit; lossy:\n%s", strings.Join(tree.Lossy(), "\n"))
	}
}

func TestParsePS(t *testing.T) {
	aux := "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n" +
		"root           2  0.0  0.0      0     0 ?        S    Dec04   0:00 [kthreadd]\n" +
		"www-data     812  0.1  1.0 123456  7890 pts/0    Ss+  10:01   0:02 php-fpm: pool www\n" +
		"root          x1  0.0  0.0      0     0 ?        S    Dec04   0:00 bad pid\n" +
		"root           9  0.0\n"
	problems := &fileProblems{name: "ps"}
	rows := parsePS([]byte(aux), problems)
	want := []psRow{
		{pid: 2, state: 'S', hasMemory: true},
		{pid: 812, state: 'S', vszKiB: 123456, rssKiB: 7890, hasMemory: true},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("rows = %+v, want %+v", rows, want)
	}
	if len(problems.shown) != 2 {
		t.Errorf("problems = %q, want the bad pid and the short line", problems.shown)
	}
	// Without a PPID column the status has no PPid line, and a kernel
	// thread, with VSZ 0, has no Vm lines.
	if got := rows[0].status(); got != "State:\tS (sleeping)\nTgid:\t2\nPid:\t2\n" {
		t.Errorf("status of pid 2 = %q", got)
	}
	st, err := procfile.ParseStatus([]byte(rows[1].status()))
	if err != nil {
		t.Fatal(err)
	}
	if rss, ok := st.Bytes("VmRSS"); !ok || rss != 7890*1024 {
		t.Errorf("VmRSS of pid 812 = %d, %v, want %d", rss, ok, 7890*1024)
	}
}

func TestParseSSLines(t *testing.T) {
	ss := "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n" +
		"tcp   LISTEN 0      128          *:22           *:*    users:((\"sshd\",pid=700,fd=3)) ino:1001 sk:1 cgroup:/ v6only:0 <->\n" +
		"tcp   ESTAB  0      36      [::ffff:10.0.0.5]:22 [::ffff:10.0.0.9]:51000 users:((\"sshd\",pid=900,fd=4),(\"sshd\",pid=901,fd=4)) timer:(on,200ms,2) uid:1000 ino:1002 sk:2 <->\n" +
		"udp   UNCONN 0      0      127.0.0.53%lo:53       0.0.0.0:*    users:((\"a \\\"q\\\") b\",pid=300,fd=12)) uid:101 ino:1003 sk:3\n" +
		"raw   UNCONN 0      0                *:58               *:*    ino:1004 sk:4\n" +
		"u_str ESTAB  0      0      /run/my socket 1005            * 1006 users:((\"app\",pid=42,fd=7)) <->\n" +
		"u_dgr UNCONN 0      0                   * 1007            * 0    ino:0 dev:0/0 peers:\n" +
		"p_raw UNCONN 0      0                   *:eth0             *   users:((\"tcpdump\",pid=77,fd=3)) uid:0 ino:1008 sk:5\n" +
		"\tver:3 cpy_thresh:0 flags( running)\n" +
		"nl    UNCONN 0      0                   0:0                *\n" +
		"tcp   ESTAB  0      0           1.2.3.4:80\n" +
		"tcp   BOGUS  0      0           1.2.3.4:80      5.6.7.8:9   ino:1\n" +
		"tcp   ESTAB  0      0           1.2.3.4:80      5.6.7.8:9   sk:1\n"
	problems := &fileProblems{name: "ss"}
	out := parseSS([]byte(ss), problems)

	rows, err := procfile.ParseNetIP(out.netFile("tcp6"), nil)
	if err != nil || len(rows) != 2 {
		t.Fatalf("tcp6 = %+v, %v, want 2 rows", rows, err)
	}
	if rows[0].LocalAddr.String() != "::" || rows[0].LocalPort != 22 || rows[0].State != 10 || rows[0].Inode != 1001 || rows[0].TxQueue != 0 {
		t.Errorf("listener = %+v, want :: port 22, LISTEN, inode 1001, tx_queue 0", rows[0])
	}
	if rows[1].LocalAddr.String() != "::ffff:10.0.0.5" || rows[1].RemotePort != 51000 || rows[1].UID != 1000 || rows[1].TxQueue != 36 || rows[1].Timer != 1 || rows[1].Retransmits != 2 {
		t.Errorf("connection = %+v", rows[1])
	}
	udp, err := procfile.ParseNetIP(out.netFile("udp"), nil)
	if err != nil || len(udp) != 1 || udp[0].LocalAddr.String() != "127.0.0.53" || udp[0].State != 7 || udp[0].UID != 101 {
		t.Errorf("udp = %+v, %v", udp, err)
	}
	raw, err := procfile.ParseNetIP(out.netFile("raw6"), nil)
	if err != nil || len(raw) != 1 || raw[0].LocalPort != 58 {
		t.Errorf("raw6 = %+v, %v", raw, err)
	}
	unix, err := procfile.ParseNetUnix(out.netFile("unix"))
	if err != nil || len(unix) != 2 {
		t.Fatalf("unix = %+v, %v", unix, err)
	}
	if unix[0].Path != "/run/my socket" || unix[0].Inode != 1005 || unix[0].State != 3 || unix[0].Type != 1 {
		t.Errorf("unix[0] = %+v, want the connected stream socket /run/my socket", unix[0])
	}
	if unix[1].HasPath || unix[1].Inode != 1007 || unix[1].Type != 2 {
		t.Errorf("unix[1] = %+v, want an unbound datagram socket", unix[1])
	}
	packet, err := procfile.ParseNetPacket(out.netFile("packet"))
	if err != nil || len(packet) != 1 || packet[0].Protocol != 3 || packet[0].Type != 3 || packet[0].Inode != 1008 {
		t.Errorf("packet = %+v, %v", packet, err)
	}
	wantHolders := []ssHolder{{700, 3, 1001}, {900, 4, 1002}, {901, 4, 1002}, {300, 12, 1003}, {42, 7, 1005}, {77, 3, 1008}}
	if !slices.Equal(out.holders, wantHolders) {
		t.Errorf("holders = %v, want %v", out.holders, wantHolders)
	}
	if out.skipped["nl"] != 1 {
		t.Errorf("skipped = %v, want 1 nl", out.skipped)
	}
	if len(problems.shown) != 3 {
		t.Errorf("problems = %q, want the short line, the unknown state and the missing ino:", problems.shown)
	}
}

func TestCatScaleSSHolders(t *testing.T) {
	fdLinks := "lrwx------ 1 root root 64 Jan  2 03:04 /proc/42/fd/7 -> socket:[999]\n"
	ss := "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n" +
		"tcp ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000 users:((\"sshd\",pid=42,fd=7),(\"sshd\",pid=43,fd=5)) ino:1234 sk:1\n"
	tree := loadCatScaleFS(t, map[string]string{
		"Process_and_Network/process-fd-links.txt": fdLinks,
		"Process_and_Network/ss-anepo.txt":         ss,
	})
	if target, err := tree.ReadLink("43/fd/5"); err != nil || target != "socket:[1234]" {
		t.Errorf("43/fd/5 = %q, %v, want socket:[1234] from ss", target, err)
	}
	if target, err := tree.ReadLink("42/fd/7"); err != nil || target != "socket:[999]" {
		t.Errorf("42/fd/7 = %q, %v, want process-fd-links' socket:[999]", target, err)
	}
	if !hasNote(tree.Problems(), "42/fd/7 is socket:[999] in process-fd-links") {
		t.Errorf("problems = %q, want the disagreement on 42/fd/7", tree.Problems())
	}
	if !hasNote(tree.Lossy(), "43/fd/5 come from ss") {
		t.Errorf("lossy = %q, want a note on 43/fd/5", tree.Lossy())
	}
}

func TestCatScaleLinks(t *testing.T) {
	fdLinks := "lr-x------ 1 root root 64 Jan  2 03:04 /proc/8/fd/0 -> /dev/null\n" +
		"l-wx------ 1 root root 64 Jan  2 03:04 /proc/8/fd/1 -> /tmp/a\nb (deleted)\n" +
		"\n/proc/8/fd:\ntotal 0\n" +
		"lr-x------ 1 root root 64 Jan  2 03:04 0 -> /dev/null\n" +
		"l-wx------ 1 root root 64 Jan  2 03:04 2 -> pipe:[77]\n" +
		"lrwx------ 1 root root 64 Jan  2 03:04 9 -> /dev/null\n" +
		"\n/proc/8/fd:\ntotal 0\n" +
		"lrwx------ 1 root root 64 Jan  2 03:04 9 -> /dev/zero\n"
	exeLinks := "lrwxrwxrwx 1 root root 0 Jan  2 03:04 /proc/2/exe\n" +
		"lrwxrwxrwx 1 root root 0 Jan  2 03:04 /proc/8/exe -> /usr/bin/x (deleted)\n" +
		"lrwxrwxrwx 1 root root 0 Jan  2 03:04 /proc/8/fd/4 -> /wrong/file\n"
	tree := loadCatScaleFS(t, map[string]string{
		"Process_and_Network/process-fd-links.txt":  fdLinks,
		"Process_and_Network/process-exe-links.txt": exeLinks,
	})
	for link, want := range map[string]string{
		"8/fd/0": "/dev/null",
		"8/fd/1": "/tmp/a\nb (deleted)",
		"8/fd/2": "pipe:[77]",
		"8/fd/9": "/dev/null",
		"8/exe":  "/usr/bin/x (deleted)",
	} {
		if got, err := tree.ReadLink(link); err != nil || got != want {
			t.Errorf("ReadLink(%s) = %q, %v, want %q", link, got, err, want)
		}
	}
	// A kernel thread's exe cannot be read, and a link of another kind in
	// the exe listing is ignored.
	for _, link := range []string{"2/exe", "8/fd/4"} {
		if got, err := tree.ReadLink(link); err == nil {
			t.Errorf("ReadLink(%s) = %q, want not collected", link, got)
		}
	}
	if !hasNote(tree.Problems(), "8/fd/9", "different targets") {
		t.Errorf("problems = %q, want the two targets of 8/fd/9", tree.Problems())
	}
}

func TestParseLsofDirs(t *testing.T) {
	// Real lsof 4.95 output, `lsof +c0 -M -R -V -w -n -P`, of processes
	// started for the test in a fresh pid namespace: pid 5 in a directory
	// whose name has a space, pid 6 (comm "two words") in a deleted
	// directory, pid 9 with a thread, 11.
	data, err := os.ReadFile("testdata/catscale/lsof-4.95.txt")
	if err != nil {
		t.Fatal(err)
	}
	problems := &fileProblems{name: "lsof"}
	got := map[string]string{}
	for _, d := range parseLsofDirs(data, problems) {
		key := fmt.Sprintf("%s %d", d.link, d.pid)
		if _, dup := got[key]; dup {
			t.Errorf("%s listed twice: threads must be skipped", key)
		}
		got[key] = d.path
	}
	want := map[string]string{
		"cwd 1": "/", "root 1": "/",
		"cwd 5": "/dev/shm/.work lsof", "root 5": "/",
		"cwd 6": "/tmp/lsofgen/gone (deleted)", "root 6": "/",
		"cwd 9": "/", "root 9": "/",
		"cwd 12": "/", "root 12": "/",
		"cwd 13": "/", "root 13": "/",
	}
	if len(got) != len(want) {
		t.Errorf("got %d directories %q, want %d", len(got), got, len(want))
	}
	for key, path := range want {
		if got[key] != path {
			t.Errorf("%s = %q, want %q", key, got[key], path)
		}
	}
	if len(problems.shown) != 0 {
		t.Errorf("problems = %q", problems.shown)
	}
}

func TestCatScaleLsofCwd(t *testing.T) {
	data, err := os.ReadFile("testdata/catscale/lsof-4.95.txt")
	if err != nil {
		t.Fatal(err)
	}
	tree := loadCatScaleFS(t, map[string]string{"Process_and_Network/lsof-list-open-files.txt": string(data)})
	e := newCatScaleEngine(t, tree)
	e.check("SELECT pid, cwd, root FROM processes WHERE pid IN (5, 6) ORDER BY pid",
		"5 | /dev/shm/.work lsof | /",
		"6 | /tmp/lsofgen/gone (deleted) | /")
	e.check("SELECT pid FROM hunt_executable_in_temp_dir", "5", "6")
	if hasNote(tree.Lossy(), "processes.cwd and root are NULL") {
		t.Error("the note that cwd is NULL remains although lsof gave it")
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		text      string
		want      time.Time
		zoneKnown bool
	}{
		{"Fri Dec 4 19:29:35 2026 +00:00", time.Date(2026, 12, 4, 19, 29, 35, 0, time.UTC), true},
		{"Thu Jan 2 03:04:05 UTC 2025", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), true},
		{"Thu Jan 2 03:04:05 -0500 2025", time.Date(2025, 1, 2, 8, 4, 5, 0, time.UTC), true},
		{"Thu 2 Jan 15:04:05 GMT 2025", time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC), true},
		{"Thu Jan 2 03:04:05 PM UTC 2025", time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC), true},
		{"Thu Jan 2 03:04:05 CET 2025", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), false},
	}
	for _, tt := range tests {
		got, zoneKnown, err := parseDate(tt.text)
		if err != nil || !got.Equal(tt.want) || zoneKnown != tt.zoneKnown {
			t.Errorf("parseDate(%q) = %v, %v, %v, want %v, %v", tt.text, got, zoneKnown, err, tt.want, tt.zoneKnown)
		}
	}
	if _, _, err := parseDate("2025-01-02 03:04"); err == nil {
		t.Error("parseDate accepted an ISO date, which CatScale's date line never is")
	}
}

func TestCatScaleSystemInfo(t *testing.T) {
	meminfo := "MemTotal:        2000000 kB\nMemFree:         1000000 kB\n"
	tree := loadCatScaleFS(t, map[string]string{
		"Process_and_Network/process-details.txt": twoStatusFiles,
		"System_Info/host-date-timezone.txt":      "Date : Thu Jan 2 03:04:05 CET 2025\n",
		"System_Info/release.txt":                 "PRETTY_NAME=\"Debian\"\nKERNELVERSION(uname -r)=6.1.0-18-amd64\n",
		"System_Info/meminfo.txt":                 meminfo,
		"System_Info/procmod.txt":                 "",
	})
	if data, err := tree.ReadFile("sys/kernel/osrelease"); err != nil || string(data) != "6.1.0-18-amd64\n" {
		t.Errorf("osrelease = %q, %v", data, err)
	}
	if data, err := tree.ReadFile("meminfo"); err != nil || string(data) != meminfo {
		t.Errorf("meminfo = %q, %v", data, err)
	}
	if _, err := tree.ReadFile("modules"); err == nil {
		t.Error("an empty procmod became the modules file")
	}
	if !hasNote(tree.Lossy(), "CatScale's copy of /proc/modules is empty") {
		t.Errorf("lossy = %q", tree.Lossy())
	}
	if !hasNote(tree.Lossy(), "as UTC", "CET") {
		t.Errorf("lossy lacks the note on the CET zone: %q", tree.Lossy())
	}
}
