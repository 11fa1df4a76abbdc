package collection

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

// uacForms writes the test collection in every container Open reads and
// returns the paths by form.
func uacForms(t *testing.T) map[string]string {
	t.Helper()
	entries := readUACEntries(t)
	const top = "uac-vm-linux-20261204192922/"
	return map[string]string{
		"tar.gz":                    uacArchive,
		"directory":                 writeUACDir(t, entries, ""),
		"zip":                       writeUACFile(t, "uac.zip", uacZip(t, entries)),
		"tar":                       writeUACFile(t, "uac.tar", uacTar(t, entries, "", false)),
		"tar.gz with a top dir":     writeUACFile(t, "wrapped.tgz", uacTar(t, entries, "./"+top, true)),
		"directory with a top dir":  writeUACDir(t, entries, top),
		"zip with a top dir":        writeUACFile(t, "wrapped.zip", uacZip(t, prefixEntries(entries, top))),
		"tar.gz named anything.bin": writeUACFile(t, "anything.bin", uacTar(t, entries, "", true)),
	}
}

func prefixEntries(entries []uacEntry, prefix string) []uacEntry {
	out := make([]uacEntry, len(entries))
	for i, e := range entries {
		out[i] = uacEntry{prefix + e.name, e.data}
	}
	return out
}

func openUAC(t *testing.T, p string) *Tree {
	t.Helper()
	tree, err := Open(p)
	if err != nil {
		t.Fatalf("Open(%s): %v", p, err)
	}
	return tree
}

const (
	sleepSHA256  = "4add4bb89d8ca0e3b1bd861130ddd7ae0fd9617a8055de0a38c8d2ca1ac95723"
	pythonSHA256 = "a83c0370d91532c96d4060a0e7c107d1f2889dad8a98e03395e86ef0373fd467"
)

// TestUACScenario checks every table against the values the scenario
// documents, in every container.
func TestUACScenario(t *testing.T) {
	for form, p := range uacForms(t) {
		t.Run(form, func(t *testing.T) {
			db := newUACDB(t, openUAC(t, p))
			checkUACProcesses(db)
			checkUACEnviron(db)
			checkUACFDs(db)
			checkUACSockets(db)
			checkUACMaps(db)
			checkUACSystem(db)
		})
	}
}

func checkUACProcesses(db uacDB) {
	db.t.Helper()
	db.check("SELECT pid, ppid, name, exe, exe_deleted, cmdline, cwd FROM processes WHERE pid IN (13, 17, 20, 21, 26, 27, 28, 30, 31, 37) ORDER BY pid",
		"13 | 1 | sleep | /usr/bin/sleep | 0 | sleep 3600 | /",
		"17 | 1 | ssh-agent-helpe | /tmp/scenario/bin/ssh-agent-helper | 1 | /tmp/scenario/bin/ssh-agent-helper 3600 | /",
		"20 | 1 | sleep | /usr/bin/sleep | 0 | sleep 3600 | /",
		"21 | 1 | python3 | /usr/bin/python3.11 | 0 | /usr/bin/python3 /tmp/scenario/listener.py | /",
		"26 | 1 | python3 | /usr/bin/python3.11 | 0 | /usr/bin/python3 /tmp/scenario/client.py | /",
		"27 | 1 | sleep | /usr/bin/sleep | 0 | sleep 3600 | /",
		"28 | 1 | sleep | /usr/bin/sleep | 0 | [kworker/0:1] 3600 | /",
		"30 | 1 | sleep | /usr/bin/sleep | 0 | sleep 3600 | /",
		"31 | 1 | 3 | /memfd:memfd_sleep | 1 | memfd-sleep 3600 | /",
		"37 | 1 | sleep | /usr/bin/sleep | 0 | sleep 3600 | /dev/shm/.work",
	)
	// The memfd and the deleted copy of sleep hash as sleep does. UAC's
	// recovered copies of them give the size of every sleep; nothing
	// gives python's.
	db.check("SELECT pid, exe_sha256, exe_size, argv, cmdline_raw FROM processes WHERE pid IN (17, 21, 28, 31) ORDER BY pid",
		`17 | `+sleepSHA256+` | 43888 | ["/tmp/scenario/bin/ssh-agent-helper","3600"] | /tmp/scenario/bin/ssh-agent-helper`+"\x00"+`3600`+"\x00",
		`21 | `+pythonSHA256+` | NULL | ["/usr/bin/python3","/tmp/scenario/listener.py"] | /usr/bin/python3`+"\x00"+`/tmp/scenario/listener.py`+"\x00",
		`28 | `+sleepSHA256+` | 43888 | ["[kworker/0:1]","3600"] | [kworker/0:1]`+"\x00"+`3600`+"\x00",
		`31 | `+sleepSHA256+` | 43888 | ["memfd-sleep","3600"] | memfd-sleep`+"\x00"+`3600`+"\x00",
	)
	// UAC's own processes are there too, and the helpers it hashed but
	// whose directories it did not collect are not.
	db.check("SELECT pid, ppid, name, exe FROM processes WHERE pid NOT IN (13, 17, 20, 21, 26, 27, 28, 30, 31, 37) ORDER BY pid",
		"1 | 0 | bash | /usr/bin/bash",
		"214 | 1 | uac | /usr/bin/dash",
		"2688 | 214 | uac | /usr/bin/dash",
	)
	db.check("SELECT pid, start_time FROM processes WHERE pid = 13", "13 | 2026-12-04 19:29:19.49 +0000 UTC")
}

func checkUACEnviron(db uacDB) {
	db.t.Helper()
	db.check("SELECT pid, value FROM environ WHERE name = 'LD_PRELOAD' ORDER BY pid", "20 | /tmp/scenario/lib/libfake.so")
	db.check("SELECT pid, value FROM environ WHERE name = 'AWS_SECRET_ACCESS_KEY' ORDER BY pid", "27 | EXAMPLEKEYNOTREAL0000")
	db.check("SELECT pid, value FROM environ WHERE name = 'SCENARIO' ORDER BY pid",
		"13 | a-normal", "17 | b-deleted-exe", "20 | c-ld-preload", "21 | d-listener", "26 | d-client",
		"27 | e-env-secret", "28 | f-fake-kthread", "30 | g1-deleted-open-file", "31 | g2-memfd-exec", "37 | h-cwd-devshm")
	db.check("SELECT name, value FROM environ WHERE pid = 20 ORDER BY name",
		"HOME | /root", "LD_PRELOAD | /tmp/scenario/lib/libfake.so", "PATH | /usr/sbin:/usr/bin:/sbin:/bin",
		"SCENARIO | c-ld-preload", "USER | root")
}

func checkUACFDs(db uacDB) {
	db.t.Helper()
	db.check("SELECT pid, fd, target, type, path, deleted, inode, size_bytes FROM fds WHERE fd = 3 ORDER BY pid",
		"21 | 3 | socket:[302320] | socket | NULL | 0 | 302320 | NULL",
		"26 | 3 | socket:[302328] | socket | NULL | 0 | 302328 | NULL",
		"30 | 3 | /tmp/scenario/gone.log (deleted) | file | /tmp/scenario/gone.log | 1 | NULL | NULL",
		"31 | 3 | /memfd:memfd_sleep (deleted) | memfd | memfd_sleep | 1 | NULL | NULL",
	)
	db.check("SELECT fd, target FROM fds WHERE pid = 214 ORDER BY fd",
		"0 | /tmp/collections/uac/uac-data.tmp/artifact_list.tmp",
		"1 | /tmp/collections/logs/uac-console.log",
		"2 | /tmp/collections/logs/uac-console.log",
		"10 | /tmp/collections/uac-src/uac",
		"11 | /dev/null",
	)
}

func checkUACSockets(db uacDB) {
	db.t.Helper()
	db.check("SELECT pid, fd, protocol, local_address, local_port, remote_address, remote_port, state, inode, path FROM process_sockets WHERE pid IN (21, 26) ORDER BY pid, fd",
		"21 | 3 | tcp | 127.0.0.1 | 4444 | 0.0.0.0 | 0 | LISTEN | 302320 | NULL",
		"21 | 4 | unix | NULL | NULL | NULL | NULL | LISTEN | 302321 | /tmp/scenario/run/agent.sock",
		"21 | 5 | tcp | 127.0.0.1 | 4444 | 127.0.0.1 | 33830 | ESTABLISHED | 302322 | NULL",
		"26 | 3 | tcp | 127.0.0.1 | 33830 | 127.0.0.1 | 4444 | ESTABLISHED | 302328 | NULL",
	)
	db.check("SELECT COUNT(*), COUNT(net_ns) FROM sockets", "4 | 0")
}

func checkUACMaps(db uacDB) {
	db.t.Helper()
	db.check("SELECT pid, COUNT(*) FROM maps WHERE path = '/tmp/scenario/lib/libfake.so' GROUP BY pid", "20 | 5")
	db.check("SELECT perms, path FROM maps WHERE pid = 31 AND perms LIKE '%x%' AND path LIKE '/memfd:%'", "r-xp | /memfd:memfd_sleep")
}

func checkUACSystem(db uacDB) {
	db.t.Helper()
	db.check("SELECT hostname, kernel_release, kernel_version, architecture, boot_time, pid_max, source, read_time, capture_end, collector, JSON_LENGTH(lossy), problems FROM `system`",
		"vm | 6.18.44-fc-v1272 | #1 SMP PREEMPT_DYNAMIC @0 | x86_64 | 2026-12-04 19:06:51 +0000 UTC | 4194304 | uac | "+
			"2026-12-04 19:29:22 +0000 UTC | 2026-12-04 19:29:35 +0000 UTC | UAC 3.3.0 | 6 | []")
}

func TestUACLossyNotes(t *testing.T) {
	lossy := openUAC(t, uacArchive).Lossy()
	for _, want := range []string{
		"processes.cmdline, argv and cmdline_raw come from UAC's strings(1) copy of cmdline: arguments shorter than 4 characters are missing",
		"environ (name, value, value_raw) comes from UAC's strings(1) copy of environ: variables shorter than 4 characters are missing",
		"fds come from ls -la of each fd directory",
		"processes.exe_size is NULL for 4 processes",
		"sockets: the tcp, tcp6, udp and udp6 rows are those of the network namespace UAC ran in",
		"system.boot_time and processes.start_time rest on uptime -s",
	} {
		if !slices.ContainsFunc(lossy, func(note string) bool { return strings.HasPrefix(note, want) }) {
			t.Errorf("no lossy note starts with %q; notes:\n%s", want, strings.Join(lossy, "\n"))
		}
	}
	if len(lossy) != 6 {
		t.Errorf("%d lossy notes, want 6:\n%s", len(lossy), strings.Join(lossy, "\n"))
	}
}

func TestUACIntactArchiveHasNoProblems(t *testing.T) {
	tree := openUAC(t, uacArchive)
	if problems := tree.Problems(); len(problems) != 0 {
		t.Errorf("problems = %q, want none", problems)
	}
	list, files := tree.Checked()
	if list != "hash_list.sha256" || files != 367 {
		t.Errorf("checked %d files against %q, want 367 against hash_list.sha256", files, list)
	}
}

// environ20 is the environ of the LD_PRELOAD process, one byte of which the
// tamper tests change.
const environ20 = "live_response/process/proc/20/environ.txt"

func tamperEnviron20(data []byte) []byte {
	return bytes.Replace(data, []byte("libfake.so"), []byte("libfakE.so"), 1)
}

func TestUACTamperedFileIsAProblem(t *testing.T) {
	entries := changeUACEntry(t, readUACEntries(t), environ20, tamperEnviron20)
	forms := map[string]string{
		"tar.gz":    writeUACFile(t, "tampered.tar.gz", uacTar(t, entries, "", true)),
		"directory": writeUACDir(t, entries, ""),
		"zip":       writeUACFile(t, "tampered.zip", uacZip(t, entries)),
	}
	for form, p := range forms {
		t.Run(form, func(t *testing.T) {
			tree := openUAC(t, p)
			want := []string{environ20 + " does not match its SHA256 in hash_list.sha256 (listed " +
				"f11aecdd4c4c9da8d97587da74a55a97b704ce9a728cfa7291b0094eeecc7391, found " +
				"85175e1409bf6fe285cef7deab4080f0b5e9c501e1b4e2241bad8cb58892f767)"}
			problems := tree.Problems()
			if !slices.Equal(problems, want) {
				t.Fatalf("problems = %q\nwant %q", problems, want)
			}
			if _, files := tree.Checked(); files != 366 {
				t.Errorf("%d files matched, want 366", files)
			}
			// The altered content is still served, and the problem warns
			// the analyst not to trust it.
			db := newUACDB(t, tree)
			db.check("SELECT value FROM environ WHERE pid = 20 AND name = 'LD_PRELOAD'", "/tmp/scenario/lib/libfakE.so")
			db.check("SELECT JSON_LENGTH(problems) FROM `system`", "1")
		})
	}
}

func TestUACMissingAndUnlistedFiles(t *testing.T) {
	var entries []uacEntry
	for _, e := range readUACEntries(t) {
		if e.name != "live_response/network/hostname.txt" {
			entries = append(entries, e)
		}
	}
	entries = append(entries, uacEntry{"live_response/process/planted.txt", []byte("not collected by UAC\n")})
	tree := openUAC(t, writeUACDir(t, entries, ""))
	want := []string{
		"hash_list.sha256 lists live_response/network/hostname.txt, which the collection lacks",
		"live_response/process/planted.txt is in the collection but not in hash_list.sha256",
	}
	if got := tree.Problems(); !slices.Equal(got, want) {
		t.Errorf("problems = %q\nwant %q", got, want)
	}
	// The host name then comes from uac.log.
	if data, err := tree.ReadFile("sys/kernel/hostname"); err != nil || string(data) != "vm\n" {
		t.Errorf("hostname = %q, %v; want vm from uac.log", data, err)
	}
}

func TestUACFallsBackToSHA1List(t *testing.T) {
	var entries []uacEntry
	for _, e := range readUACEntries(t) {
		if e.name != "hash_list.sha256" {
			entries = append(entries, e)
		}
	}
	entries = changeUACEntry(t, entries, environ20, tamperEnviron20)
	tree := openUAC(t, writeUACFile(t, "sha1.tar.gz", uacTar(t, entries, "", true)))
	if list, _ := tree.Checked(); list != "hash_list.sha1" {
		t.Errorf("checked against %q, want hash_list.sha1", list)
	}
	problems := tree.Problems()
	if len(problems) != 1 || !strings.HasPrefix(problems[0], environ20+" does not match its SHA1 in hash_list.sha1") {
		t.Errorf("problems = %q, want the SHA-1 mismatch of %s", problems, environ20)
	}
}

func TestUACWithoutLogUsesName(t *testing.T) {
	var entries []uacEntry
	for _, e := range readUACEntries(t) {
		if e.name != "uac.log" {
			entries = append(entries, e)
		}
	}
	p := writeUACFile(t, "uac-vm-linux-20261204192922.tar.gz", uacTar(t, entries, "", true))
	desc := openUAC(t, p).Describe()
	if want := time.Date(2026, 12, 4, 19, 29, 22, 0, time.UTC); !desc.ReadTime.Equal(want) {
		t.Errorf("read time = %s, want %s from the name", desc.ReadTime, want)
	}
	if !desc.CaptureEnd.IsZero() {
		t.Errorf("capture end = %s, want none without uac.log", desc.CaptureEnd)
	}
	if desc.Collector != "UAC" {
		t.Errorf("collector = %q, want UAC without a version", desc.Collector)
	}
	if desc.Architecture != "x86_64" {
		t.Errorf("architecture = %q, want x86_64 from uname -a", desc.Architecture)
	}
	if !slices.ContainsFunc(desc.Lossy, func(note string) bool {
		return strings.HasPrefix(note, "read_time and boot_time are the collecting host's local time read as UTC")
	}) {
		t.Errorf("no lossy note about the time zone:\n%s", strings.Join(desc.Lossy, "\n"))
	}
}

func TestUACFileOverSizeLimitIsAProblem(t *testing.T) {
	limits := DefaultLimits
	limits.MaxFileSize = 4096
	for form, p := range map[string]string{"tar.gz": uacArchive, "directory": writeUACDir(t, readUACEntries(t), "")} {
		t.Run(form, func(t *testing.T) {
			tree, err := OpenWithLimits(p, limits)
			if err != nil {
				t.Fatal(err)
			}
			problems := strings.Join(tree.Problems(), "\n")
			for _, want := range []string{
				"live_response/process/proc/21/maps.txt could not be read, so its data is missing",
				"hash_list.sha256 could not be read, so no file was checked",
			} {
				if !strings.Contains(problems, want) {
					t.Errorf("problems lack %q:\n%s", want, problems)
				}
			}
			if list, _ := tree.Checked(); list != "" {
				t.Errorf("checked against %q, want no list", list)
			}
			if _, err := tree.ReadFile("21/stat"); err != nil {
				t.Errorf("pid 21 lost its stat: %v", err)
			}
		})
	}
}

// TestCollectionAbsentPID checks that a pid the collection does not hold
// is no process, in a lookup and as the parent side of a join, on both
// formats: a row of NULLs would invent a process.
func TestCollectionAbsentPID(t *testing.T) {
	db := newUACDB(t, openUAC(t, uacArchive))
	db.check("SELECT pid, name FROM processes WHERE pid IN (4, 13, 99999) ORDER BY pid", "13 | sleep")
	db.check("SELECT COUNT(*) FROM fds WHERE pid = 99999", "0")
	db.check("SELECT COUNT(*) FROM processes c LEFT JOIN processes p ON p.pid = c.ppid AND p.host = c.host WHERE c.pid = 1 AND p.pid IS NULL", "1")

	cs := newCatScaleEngine(t, loadScenario(t))
	cs.check("SELECT pid, name FROM processes WHERE pid IN (4, 13, 99999) ORDER BY pid", "13 | sleep")
}

// TestUACWithoutHashLists checks that a collection made without hashing
// reports that it cannot be checked.
func TestUACWithoutHashLists(t *testing.T) {
	var entries []uacEntry
	for _, e := range readUACEntries(t) {
		if !strings.HasPrefix(e.name, "hash_list.") {
			entries = append(entries, e)
		}
	}
	tree := openUAC(t, writeUACDir(t, entries, ""))
	if list, _ := tree.Checked(); list != "" {
		t.Errorf("checked against %q, want no list", list)
	}
	if !slices.ContainsFunc(tree.Lossy(), func(note string) bool { return strings.HasPrefix(note, "The collection has no hash_list.sha256") }) {
		t.Errorf("lossy notes %q do not say that the collection has no hash list", tree.Lossy())
	}
}
