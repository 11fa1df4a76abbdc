package tables_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/output"
	"github.com/procsql/procsql/snapshot"
	"github.com/procsql/procsql/source"
)

// The tests in this file run each /proc fault case of testdata/cases through
// SQL, the way an analyst meets it. Cases laid out as a /proc tree are read
// directly, as --proc reads them. Single-file cases are first placed into a
// small tree, next to a synthetic stat line.

const casesDir = "../testdata/cases"

// runSQL runs query over the procfs tree at root and returns the result. It
// also captures the tree into a snapshot and runs the query there, and fails
// unless both give the same rows and warnings: every case must load through
// the snapshot path too.
func runSQL(t *testing.T, root, query string) *engine.Result {
	t.Helper()
	src, err := source.NewDir(root)
	if err != nil {
		t.Fatalf("open %s: %v", root, err)
	}
	res := queryOn(t, src, query)
	snap := captureTree(t, src)
	fromSnapshot := queryOn(t, snap, query)
	if got, want := strings.Join(rows(fromSnapshot), "\n"), strings.Join(rows(res), "\n"); got != want {
		t.Errorf("query %q on the snapshot of %s:\n%s\nwant the tree's rows:\n%s", query, root, got, want)
	}
	if got, want := strings.Join(fromSnapshot.Warnings, "\n"), strings.Join(res.Warnings, "\n"); got != want {
		t.Errorf("query %q on the snapshot of %s warns %q, want the tree's %q", query, root, got, want)
	}
	return res
}

func queryOn(t *testing.T, src source.Source, query string) *engine.Result {
	t.Helper()
	eng, err := engine.New(src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Query(eng.NewSession(context.Background()), query)
	if err != nil {
		t.Fatalf("query %q: %v", query, err)
	}
	return res
}

// captureTree captures the tree behind src into a snapshot file and opens it.
func captureTree(t *testing.T, src *source.Dir) *snapshot.Snapshot {
	t.Helper()
	out := filepath.Join(t.TempDir(), "case.procsql")
	if _, err := snapshot.Capture(context.Background(), src, snapshot.Options{Output: out, Collector: "procsql test"}); err != nil {
		t.Fatalf("capture %s: %v", src.Describe().Location, err)
	}
	snap, err := snapshot.Open(context.Background(), out, snapshot.Limits{})
	if err != nil {
		t.Fatalf("open snapshot of %s: %v", src.Describe().Location, err)
	}
	return snap
}

// cell renders a value as the CSV output would, with NULL spelled out.
func cell(v any) string {
	if v == nil {
		return "NULL"
	}
	var b strings.Builder
	if err := output.Write(&b, "csv", output.Result{Columns: []string{"v"}, Types: []sql.Type{nil}, Rows: []sql.Row{{v}}}); err != nil {
		return fmt.Sprint(v)
	}
	text := strings.TrimPrefix(b.String(), "v\n")
	text = strings.TrimSuffix(text, "\n")
	if strings.HasPrefix(text, `"`) {
		text = strings.ReplaceAll(strings.Trim(text, `"`), `""`, `"`)
	}
	return text
}

// rows renders a result as one string per row, columns joined by " | ".
func rows(res *engine.Result) []string {
	out := make([]string, len(res.Rows))
	for i, row := range res.Rows {
		parts := make([]string, len(row))
		for j, v := range row {
			parts[j] = cell(v)
		}
		out[i] = strings.Join(parts, " | ")
	}
	return out
}

func assertRows(t *testing.T, res *engine.Result, want ...string) {
	t.Helper()
	got := rows(res)
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got  %q\n want %q", i, got[i], want[i])
		}
	}
}

// tree writes files (name -> content) under a new directory and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// statLine returns a plausible 52-field stat line for a sleeping process.
func statLine(pid int, comm string) string {
	return fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 1000000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", pid, comm, pid, pid)
}

func caseFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(casesDir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestCaseStatCommWithSpaces(t *testing.T) {
	root := tree(t, map[string]string{
		"4242/stat":           caseFile(t, "01-stat-comm-with-spaces/stat"),
		"4242/task/4250/stat": caseFile(t, "01-stat-comm-with-spaces/task/4250/stat"),
	})
	res := runSQL(t, root, "SELECT pid, name, state, ppid, pgrp, session, tty_nr, threads, vsize_bytes FROM processes")
	assertRows(t, res, "4242 | Media Serv Wkr | S | 1 | 4242 | 4242 | 0 | 9 | 412315648")
	threads := runSQL(t, root, "SELECT pid, tid, name, state FROM threads")
	assertRows(t, threads, "4242 | 4250 | Worker Pool 2 | S")
}

func TestCaseStatCommWithParentheses(t *testing.T) {
	res := runSQL(t, filepath.Join(casesDir, "02-stat-comm-with-parentheses"), "SELECT pid, name, state, ppid, pgrp, session FROM processes ORDER BY pid")
	assertRows(t, res,
		"7001 | svc (v2) main | R | 1491 | 7001 | 1491",
		"7002 | report-(weekly- | S | 1491 | 7002 | 1491",
		"7003 | x) Z 1 1 1 0 - | S | 1491 | 7003 | 1491",
		"7004 | ) | S | 1491 | 7004 | 1491",
	)
}

func TestCaseCmdlineRewrittenSpaces(t *testing.T) {
	files := map[string]string{}
	for i, variant := range []string{"cmdline", "cmdline.electron", "cmdline.genuine_space", "cmdline.no_trailing_nul"} {
		pid := 10 + i
		files[fmt.Sprintf("%d/stat", pid)] = statLine(pid, "variant")
		files[fmt.Sprintf("%d/cmdline", pid)] = caseFile(t, "04-cmdline-rewritten-spaces/"+variant)
	}
	root := tree(t, files)
	res := runSQL(t, root, "SELECT pid, JSON_LENGTH(argv), cmdline, cmdline_truncated FROM processes WHERE pid < 13 ORDER BY pid")
	assertRows(t, res,
		"10 | 1 | python3 jobrunner.py --queue high -x 4 | 0",
		"11 | 1 | /opt/editor/editor --type=gpu-process --no-sandbox --log-level=2 | 0",
		"12 | 1 | ./foo bar | 0",
	)
	res = runSQL(t, root, "SELECT JSON_LENGTH(argv), LENGTH(cmdline), cmdline_truncated, LEFT(cmdline, 8) FROM processes WHERE pid = 13")
	assertRows(t, res, "1 | 4096 | 1 | svc: www")
}

func TestCaseCmdlineEmptyArguments(t *testing.T) {
	root := tree(t, map[string]string{
		"20/stat":    statLine(20, "python3"),
		"20/cmdline": caseFile(t, "06-cmdline-empty-arguments/cmdline"),
	})
	res := runSQL(t, root, "SELECT argv, cmdline FROM processes")
	assertRows(t, res, `["python3","job.py","","--dry-run",""] | python3 job.py  --dry-run`)
}

func TestCaseEnvironNulSeparated(t *testing.T) {
	root := tree(t, map[string]string{
		"30/stat":    statLine(30, "env"),
		"30/environ": caseFile(t, "08-environ-nul-separated/environ"),
		"31/stat":    statLine(31, "env"),
		"31/environ": caseFile(t, "08-environ-nul-separated/environ.no_trailing_nul"),
	})
	res := runSQL(t, root, "SELECT pid, name, value FROM environ")
	assertRows(t, res,
		"30 | HOME | /home/user",
		"30 | MULTI | line1\nline2",
		"30 | EDITOR | vi",
		"30 | EMPTY | ",
		"31 | A | 1",
		"31 | B | 2",
	)
}

func TestCaseKernelThreads(t *testing.T) {
	root := filepath.Join(casesDir, "09-kernel-threads")
	res := runSQL(t, root, "SELECT pid, name, state, ppid, kernel_thread, argv, exe, rss_bytes, vsize_bytes FROM processes ORDER BY pid")
	assertRows(t, res,
		"2 | kthreadd | S | 0 | 1 | [] | NULL | NULL | NULL",
		"58 | kworker/0:1H-kblockd | I | 2 | 1 | [] | NULL | NULL | NULL",
	)
	// ENOENT on a kernel thread's exe is expected and not reported. The
	// fixture has no status file for pid 58, which is reported.
	wantWarnings := []string{"1 read of status failed (not found), so the values from it are NULL or missing"}
	if strings.Join(res.Warnings, "\n") != strings.Join(wantWarnings, "\n") {
		t.Errorf("warnings %q, want %q", res.Warnings, wantWarnings)
	}
	empty := runSQL(t, root, "SELECT COUNT(*) FROM environ UNION ALL SELECT COUNT(*) FROM maps")
	assertRows(t, empty, "0", "0")
}

func TestCaseZombieProcess(t *testing.T) {
	files := map[string]string{}
	for _, name := range []string{"cmdline", "environ", "exe.error", "maps", "stat", "status"} {
		files["3170/"+name] = caseFile(t, "10-zombie-process/"+name)
	}
	root := tree(t, files)
	res := runSQL(t, root, "SELECT pid, name, state, ppid, argv, exe, rss_bytes FROM processes")
	assertRows(t, res, "3170 | defunct-child | Z | 3100 | [] | NULL | NULL")
	empty := runSQL(t, root, "SELECT COUNT(*) FROM environ UNION ALL SELECT COUNT(*) FROM maps")
	assertRows(t, empty, "0", "0")
	if len(res.Warnings) != 0 {
		t.Errorf("zombie produced warnings %q, want none", res.Warnings)
	}
}

func TestCaseExeDeletedSuffix(t *testing.T) {
	files := map[string]string{}
	for _, name := range []string{"100/exe", "100/maps", "101/exe", "102/exe", "102/exe.nlink"} {
		files[name] = caseFile(t, "11-exe-deleted-suffix/"+name)
	}
	for _, pid := range []int{100, 101, 102} {
		files[fmt.Sprintf("%d/stat", pid)] = statLine(pid, "agent")
	}
	root := tree(t, files)
	res := runSQL(t, root, "SELECT pid, exe, exe_deleted FROM processes ORDER BY pid")
	assertRows(t, res,
		"100 | /usr/local/bin/acme-agent | 1",
		"101 | /opt/app/srv (deleted) | 1",
		"102 | /opt/app/tool (deleted) | 0",
	)
	maps := runSQL(t, root, "SELECT HEX(start), HEX(end), perms, HEX(offset), device, inode, path, deleted FROM maps WHERE pid = 100")
	assertRows(t, maps,
		"55D0A4A00000 | 55D0A4A21000 | r--p | 0 | fd:01 | 1311234 | /usr/local/bin/acme-agent | 1",
		"55D0A4A21000 | 55D0A4B40000 | r-xp | 21000 | fd:01 | 1311234 | /usr/local/bin/acme-agent | 1",
	)
}

func TestCaseFDLinkTargets(t *testing.T) {
	files := map[string]string{"900/stat": statLine(900, "holder")}
	entries, err := os.ReadDir(filepath.Join(casesDir, "12-fd-link-targets/fd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		files["900/fd/"+e.Name()] = caseFile(t, "12-fd-link-targets/fd/"+e.Name())
	}
	root := tree(t, files)
	res := runSQL(t, root, "SELECT fd, type, path, deleted, inode FROM fds WHERE pid = 900 ORDER BY fd")
	assertRows(t, res,
		"0 | device | /dev/null | 0 | NULL",
		"1 | pipe | NULL | 0 | 70113",
		"2 | device | /dev/pts/3 | 0 | NULL",
		"3 | socket | NULL | 0 | 70120",
		"4 | anon_inode | [eventfd] | 0 | NULL",
		"5 | anon_inode | inotify | 0 | NULL",
		"6 | memfd | shm-pool | 1 | NULL",
		"7 | other | onload:[tcp:2:5117] | 0 | NULL",
		"8 | anon_inode | [eventpoll] | 0 | NULL",
		"9 | file | /tmp/report 2024.txt | 1 | NULL",
		"10 | anon_inode | bpf-map | 0 | NULL",
		"11 | nsfs | net | 0 | 4026531840",
	)
	raw := runSQL(t, root, "SELECT target FROM fds WHERE fd = 6")
	assertRows(t, raw, "/memfd:shm-pool (deleted)")
}

func TestCaseMapsPathWithSpaces(t *testing.T) {
	root := tree(t, map[string]string{
		"40/stat": statLine(40, "game"),
		"40/maps": caseFile(t, "13-maps-path-with-spaces/maps.32bit"),
		"41/stat": statLine(41, "app"),
		"41/maps": caseFile(t, "13-maps-path-with-spaces/maps"),
	})
	res := runSQL(t, root, "SELECT pid, HEX(start), HEX(end), perms, HEX(offset), device, inode, path FROM maps ORDER BY pid, start")
	assertRows(t, res,
		"40 | 8048000 | 805A000 | r-xp | 0 | 08:03 | 401177 | /home/user/Game Files/lib/libengine.so.2",
		"40 | B7700000 | B7721000 | rw-p | 0 | 00:00 | 0 | NULL",
		"41 | 7F2A1C000000 | 7F2A1C021000 | r--p | 0 | fd:01 | 131090 | /opt/My App/lib/libfoo.so",
		"41 | 7F2A1C021000 | 7F2A1C0A0000 | r-xp | 21000 | fd:01 | 131090 | /opt/My App/lib/libfoo.so",
	)
}

func TestCaseMapsDeletedAndMemfd(t *testing.T) {
	root := tree(t, map[string]string{
		"50/stat": statLine(50, "jit"),
		"50/maps": caseFile(t, "15-maps-deleted-and-memfd/maps"),
	})
	res := runSQL(t, root, "SELECT perms, path, deleted, kind FROM maps ORDER BY start")
	got := rows(res)
	want := map[string]bool{
		"rw-s | /memfd:jit-code | 1 | memfd":                      true,
		"r-xp | /usr/lib/x86_64-linux-gnu/libssl.so.3 | 1 | file": false,
		"rw-s | /dev/shm/sem.jobs | 1 | file":                     true,
	}
	for w, exact := range want {
		found := false
		for _, g := range got {
			if g == w || (!exact && strings.HasSuffix(g, "| /usr/lib/x86_64-linux-gnu/libssl.so.3 | 1 | file")) {
				found = true
			}
		}
		if !found {
			t.Errorf("no row %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
	first := runSQL(t, root, "SELECT HEX(start), HEX(end), HEX(offset), device, inode FROM maps WHERE kind = 'memfd'")
	assertRows(t, first, "7F41C0E10000 | 7F41C0E11000 | 2F000 | 00:01 | 90211")
}

func TestCaseMapsAnonymousAndPseudo(t *testing.T) {
	root := tree(t, map[string]string{
		"60/stat":  statLine(60, "browser"),
		"60/maps":  caseFile(t, "16-maps-anonymous-and-pseudo-paths/maps"),
		"60/smaps": caseFile(t, "16-maps-anonymous-and-pseudo-paths/smaps"),
	})
	res := runSQL(t, root, "SELECT HEX(start), perms, path, kind, pseudo FROM maps ORDER BY start")
	assertRows(t, res,
		"55D0A5000000 | rw-p | [heap] | pseudo | [heap]",
		"7F0A10000000 | rw-p | NULL | anonymous | NULL",
		"7F0A10100000 | rw-p | [anon:js heap arena] | anon_named | NULL",
		"7FFC1A000000 | rw-p | [stack] | pseudo | [stack]",
		"7FFC1A1FC000 | r--p | [vvar] | pseudo | [vvar]",
		"7FFC1A200000 | r-xp | [vdso] | pseudo | [vdso]",
		"FFFFFFFFFF600000 | --xp | [vsyscall] | pseudo | [vsyscall]",
	)
	end := runSQL(t, root, "SELECT end FROM maps WHERE pseudo = '[vsyscall]'")
	assertRows(t, end, "18446744073699069952")
	smaps := runSQL(t, root, "SELECT size_bytes, rss_bytes, pss_bytes, swap_bytes, path FROM maps WHERE start = CAST(0x7f0a10000000 AS UNSIGNED)")
	assertRows(t, smaps, "135168 | 8192 | 8192 | 0 | NULL")
}

func TestCaseStatusFieldSetVaries(t *testing.T) {
	root := tree(t, map[string]string{
		"6021/stat":   statLine(6021, "sleep"),
		"6021/status": caseFile(t, "19-status-field-set-varies/status.new_fields"),
		"9/stat":      statLine(9, "bash"),
		"9/status":    caseFile(t, "19-status-field-set-varies/status.no_ns_fields"),
		"8804/stat":   statLine(8804, "python3"),
		"8804/status": caseFile(t, "19-status-field-set-varies/status.blank_line"),
	})
	res := runSQL(t, root, "SELECT pid, uid, euid, gid, rss_bytes FROM processes ORDER BY pid")
	got := rows(res)
	if len(got) != 3 {
		t.Fatalf("got %d rows, want 3: %q", len(got), got)
	}
	if !strings.HasPrefix(got[1], "6021 | 0 | 0 | 0 |") {
		t.Errorf("new_fields row = %q, want uid, euid and gid 0", got[1])
	}
	if !strings.HasSuffix(got[2], fmt.Sprint(5212*1024)) {
		t.Errorf("blank_line row = %q, want rss_bytes %d", got[2], 5212*1024)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings %q, want none", res.Warnings)
	}
}

func TestCaseTCP6ByteOrder(t *testing.T) {
	root := tree(t, map[string]string{"net/tcp6": caseFile(t, "21-tcp6-address-byte-order/tcp6")})
	res := runSQL(t, root, "SELECT protocol, local_address, local_port, remote_address, remote_port, state, uid, inode FROM sockets ORDER BY inode")
	assertRows(t, res,
		"tcp6 | ::1 | 45001 | :: | 0 | LISTEN | 0 | 58001",
		"tcp6 | 2001:db8::10 | 52014 | 2001:db8::20 | 443 | ESTABLISHED | 1000 | 58002",
		"tcp6 | fe80::1 | 22 | :: | 0 | LISTEN | 0 | 58003",
	)
}

func TestCaseNetTCPDuplicates(t *testing.T) {
	root := tree(t, map[string]string{"net/tcp": caseFile(t, "23-net-tcp-duplicates-and-size/tcp")})
	res := runSQL(t, root, "SELECT local_address, local_port, remote_address, remote_port, state, inode, uid IS NULL FROM sockets ORDER BY remote_port, local_port")
	assertRows(t, res,
		"127.0.0.1 | 9000 | 0.0.0.0 | 0 | LISTEN | 41230 | false",
		"192.0.2.2 | 40001 | 127.0.0.1 | 9000 | ESTABLISHED | 41231 | false",
		"192.0.2.2 | 40002 | 127.0.0.1 | 9100 | ESTABLISHED | 41232 | false",
		"192.0.2.2 | 40003 | 127.0.0.1 | 9200 | TIME_WAIT | 0 | true",
		"192.0.2.2 | 40004 | 127.0.0.1 | 9200 | TIME_WAIT | 0 | true",
	)
}

func TestCaseUnixSocketPaths(t *testing.T) {
	root := tree(t, map[string]string{"net/unix": caseFile(t, "25-unix-socket-path-with-spaces/unix")})
	res := runSQL(t, root, "SELECT inode, type, state, path FROM sockets ORDER BY inode")
	assertRows(t, res,
		"8125 | stream | CONNECTED | /run/radio/qmi client    7",
		"18001 | dgram | UNCONNECTED | /run/systemd/notify",
		"21401 | stream | LISTEN | /run/user/1000/my app/ipc socket",
		"21402 | stream | CONNECTED | NULL",
	)
}

func TestCaseModulesTaintFlags(t *testing.T) {
	root := tree(t, map[string]string{"modules": caseFile(t, "27-modules-taint-flags/modules")})
	res := runSQL(t, root, "SELECT name, size, refcount, used_by, state, address, taint FROM modules")
	assertRows(t, res,
		"acme_shim | 20480 | 0 |  | Live | NULL | POE",
		"nvidia_uvm | 1540096 | 2 |  | Live | NULL | POE",
		"nvidia | 56586240 | 120 | nvidia_uvm,nvidia_modeset | Live | NULL | POE",
		"vboxguest | 421888 | 5 | vboxsf | Live | NULL | OE",
		"staging_drv | 16384 | 0 |  | Live | NULL | C",
		"e1000e | 327680 | 0 |  | Live | NULL | ",
	)
	rootView := tree(t, map[string]string{"modules": caseFile(t, "27-modules-taint-flags/modules.root")})
	addr := runSQL(t, rootView, "SELECT name, HEX(address) FROM modules WHERE name IN ('nvidia', 'e1000e') ORDER BY name")
	assertRows(t, addr, "e1000e | FFFFFFFFC0400000", "nvidia | FFFFFFFFC1A00000")
}

func TestModulesMissingFileNote(t *testing.T) {
	root := tree(t, map[string]string{"1/stat": statLine(1, "init")})
	res := runSQL(t, root, "SELECT COUNT(*) FROM modules")
	assertRows(t, res, "0")
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "no modules file") {
		t.Errorf("warnings = %q, want one note about the missing /proc/modules", res.Warnings)
	}
}

func TestCasePermissionDenied(t *testing.T) {
	root := filepath.Join(casesDir, "29-permission-denied-other-user")
	res := runSQL(t, root, "SELECT pid, name, state, uid, euid, argv, exe FROM processes ORDER BY pid")
	assertRows(t, res,
		`1234 | postgres | S | 113 | 113 | ["/usr/lib/postgresql/16/bin/postgres","-D","/var/lib/postgresql/16/main"] | NULL`,
		"5678 | bash | S | NULL | NULL | NULL | /usr/bin/bash",
	)
	// The fixture has no cmdline or status for pid 5678: not collected.
	wantWarnings := []string{
		"1 read of cmdline failed (not found), so the values from it are NULL or missing",
		"1 read of exe failed (EACCES), so the values from it are NULL or missing",
		"1 read of status failed (not found), so the values from it are NULL or missing",
	}
	if strings.Join(res.Warnings, "\n") != strings.Join(wantWarnings, "\n") {
		t.Errorf("warnings = %q, want %q", res.Warnings, wantWarnings)
	}
	env := runSQL(t, root, "SELECT pid, name, value FROM environ ORDER BY pid, name")
	assertRows(t, env, "5678 | HOME | /home/user", "5678 | SHELL | /bin/bash")
	if len(env.Warnings) != 1 || !strings.Contains(env.Warnings[0], "1 read of environ failed (EACCES)") {
		t.Errorf("environ warnings = %q, want the EACCES on environ counted", env.Warnings)
	}
	fds := runSQL(t, root, "SELECT COUNT(*) FROM fds UNION ALL SELECT COUNT(*) FROM maps")
	assertRows(t, fds, "0", "0")
}

func TestCaseProcessExitsMidRead(t *testing.T) {
	root := filepath.Join(casesDir, "31-process-exits-mid-read")
	res := runSQL(t, root, "SELECT pid, name, argv, exe FROM processes ORDER BY pid")
	assertRows(t, res,
		"4102 | short-lived | [] | NULL",
		"4103 | sleeper | [\"sleep\",\"600\"] | NULL",
	)
	// Vanished processes and ESRCH on 4102's exe are not errors; the
	// fixture has no exe for 4103, which is reported as not collected.
	wantWarnings := []string{"1 read of exe failed (not found), so the values from it are NULL or missing"}
	if strings.Join(res.Warnings, "\n") != strings.Join(wantWarnings, "\n") {
		t.Errorf("warnings = %q, want %q", res.Warnings, wantWarnings)
	}
}

func TestPIDLookupReadsOnlyThatProcess(t *testing.T) {
	root := filepath.Join(casesDir, "02-stat-comm-with-parentheses")
	res := runSQL(t, root, "SELECT pid, name FROM processes WHERE pid IN (7002, 7004, 99999) ORDER BY pid")
	assertRows(t, res, "7002 | report-(weekly-", "7004 | )")
}

func TestTreeWithTopLevelNetOnly(t *testing.T) {
	root := tree(t, map[string]string{
		"10/stat":   statLine(10, "app"),
		"10/ns/net": "net:[4026531840]",
		"net/tcp":   caseFile(t, "23-net-tcp-duplicates-and-size/tcp"),
	})
	res := runSQL(t, root, "SELECT COUNT(*), COUNT(net_ns) FROM sockets")
	assertRows(t, res, "5 | 0")
}

func TestTreeNamesArePIDsOnlyInKernelSpelling(t *testing.T) {
	root := tree(t, map[string]string{
		"4/stat":          statLine(4, "real"),
		"04/stat":         statLine(4, "zero"),
		"+4/stat":         statLine(4, "plus"),
		"4294967300/stat": statLine(4, "wrap"),
	})
	res := runSQL(t, root, "SELECT pid, name FROM processes")
	assertRows(t, res, "4 | real")
}

func TestPIDProbeFindsHiddenProcess(t *testing.T) {
	res := runSQL(t, "../testdata/hunts/hidden_process/positive", "SELECT pid, listed, probed, tgid, kind FROM pid_probe ORDER BY pid")
	assertRows(t, res,
		"1 | 1 | 1 | 1 | process",
		"7100 | 1 | 1 | 7100 | process",
		"7101 | 0 | 1 | 7100 | thread",
		"7200 | 0 | 1 | 7200 | hidden",
		"7300 | 1 | 1 | 7300 | process",
	)
}
