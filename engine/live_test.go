package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/procsql/procsql/engine"
	"github.com/procsql/procsql/internal/livetest"
	"github.com/procsql/procsql/source"
)

// The live test reads the real /proc inside fresh namespaces (see
// internal/livetest), so it reads only the processes it starts and never the
// environment of anyone else's.

func TestMain(m *testing.M) {
	if livetest.RunChild() {
		return
	}
	os.Exit(m.Run())
}

type liveDB struct {
	t   *testing.T
	eng *engine.Engine
}

func (db liveDB) in(t *testing.T) liveDB { return liveDB{t, db.eng} }

func (db liveDB) query(q string) *engine.Result {
	db.t.Helper()
	res, err := db.eng.Query(db.eng.NewSession(context.Background()), q)
	if err != nil {
		db.t.Fatalf("query %q: %v", q, err)
	}
	return res
}

// one runs q, requires exactly one row and returns it.
func (db liveDB) one(q string) []any {
	db.t.Helper()
	res := db.query(q)
	if len(res.Rows) != 1 {
		db.t.Fatalf("query %q returned %d rows, want 1: %v", q, len(res.Rows), res.Rows)
	}
	return res.Rows[0]
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if doc, ok := got.(types.JSONDocument); ok {
		b, _ := json.Marshal(doc.Val)
		got = string(b)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestLiveTables(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}
	dir := t.TempDir()
	argv := []string{"arg with spaces", "", "--last=x"}
	env := []string{"LIVE_TOKEN=s3cret value", "LIVE_MULTI=line1\nline2", "LIVE_BYTES=\xff\xfe", "EMPTY="}
	server := livetest.StartChild(t, "server", dir, argv, env)
	client := livetest.StartChild(t, "client", dir, []string{strconv.Itoa(server.Report.Port)}, nil)
	server.Next(t) // the accepted connection
	sp, cp := server.Cmd.Process.Pid, client.Cmd.Process.Pid

	src, err := source.NewDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(src)
	if err != nil {
		t.Fatal(err)
	}
	db := liveDB{t, eng}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	netns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("processes", func(t *testing.T) {
		db := db.in(t)
		row := db.one(fmt.Sprintf("SELECT pid, ppid, name, state, exe, exe_deleted, argv, cmdline, cwd, root, uid, euid, user, kernel_thread, threads > 0, ABS(TIMESTAMPDIFF(SECOND, start_time, UTC_TIMESTAMP())) < 60, CONCAT('net:[', net_ns, ']') FROM processes WHERE pid = %d", sp))
		wantArgv, _ := json.Marshal(append([]string{self}, argv...))
		if row[3] == "R" {
			row[3] = "S" // the child may still be on its way to its blocking read
		}
		for i, want := range []any{sp, os.Getpid(), filepath.Base(self)[:min(15, len(filepath.Base(self)))], "S", self, 0, string(wantArgv), self + " arg with spaces  --last=x", dir, "/", 0, 0, "root", 0, true, true, netns} {
			equal(t, fmt.Sprintf("processes column %d", i), row[i], want)
		}
		all := db.query("SELECT pid FROM processes ORDER BY pid")
		if len(all.Rows) != 3 {
			t.Errorf("namespace shows %d processes, want 3 (the test and its two children): %v", len(all.Rows), all.Rows)
		}
	})

	t.Run("environ", func(t *testing.T) {
		db := db.in(t)
		res := db.query(fmt.Sprintf("SELECT name, value, value_raw FROM environ WHERE pid = %d ORDER BY name", sp))
		want := [][3]string{
			{"EMPTY", "", ""},
			{"LIVE_BYTES", `\xff\xfe`, "\xff\xfe"},
			{"LIVE_MULTI", "line1\nline2", "line1\nline2"},
			{"LIVE_TOKEN", "s3cret value", "s3cret value"},
			{livetest.ChildModeEnv, "server", "server"},
		}
		if len(res.Rows) != len(want) {
			t.Fatalf("got %d variables, want %d: %q", len(res.Rows), len(want), res.Rows)
		}
		for i, w := range want {
			equal(t, "name", res.Rows[i][0], w[0])
			equal(t, "value of "+w[0], res.Rows[i][1], w[1])
			equal(t, "value_raw of "+w[0], string(res.Rows[i][2].([]byte)), w[2])
		}
	})

	t.Run("fds", func(t *testing.T) {
		db := db.in(t)
		r := server.Report
		file := db.one(fmt.Sprintf("SELECT type, path, deleted, pos, access, size_bytes FROM fds WHERE pid = %d AND fd = %d", sp, r.FileFD))
		equal(t, "file size_bytes", file[5], 10)
		equal(t, "file type", file[0], "file")
		equal(t, "file path", file[1], filepath.Join(dir, "evidence file.txt"))
		equal(t, "file deleted", file[2], 1)
		equal(t, "file pos", file[3], 10)
		equal(t, "file access", file[4], "rw")
		kept := db.one(fmt.Sprintf("SELECT path, deleted FROM fds WHERE pid = %d AND fd = %d", sp, r.KeptFD))
		equal(t, "kept path", kept[0], filepath.Join(dir, "kept (deleted)"))
		equal(t, "kept deleted", kept[1], 0)
		for _, fd := range []int{r.PipeRead, r.PipeWrite} {
			pipe := db.one(fmt.Sprintf("SELECT type, inode, target FROM fds WHERE pid = %d AND fd = %d", sp, fd))
			equal(t, "pipe type", pipe[0], "pipe")
			equal(t, "pipe inode", pipe[1], r.PipeInode)
			equal(t, "pipe target", pipe[2], fmt.Sprintf("pipe:[%d]", r.PipeInode))
		}
		sock := db.one(fmt.Sprintf("SELECT type, inode FROM fds WHERE pid = %d AND fd = %d", sp, r.ListenFD))
		equal(t, "listener type", sock[0], "socket")
		equal(t, "listener inode", sock[1], r.ListenInode)
	})

	t.Run("sockets", func(t *testing.T) {
		db := db.in(t)
		r := server.Report
		listen := db.one(fmt.Sprintf("SELECT family, protocol, local_address, local_port, remote_address, remote_port, state, uid, CONCAT('net:[', net_ns, ']') FROM sockets WHERE inode = %d", r.ListenInode))
		for i, want := range []any{"inet", "tcp", "127.0.0.1", r.Port, "0.0.0.0", 0, "LISTEN", 0, netns} {
			equal(t, fmt.Sprintf("listener column %d", i), listen[i], want)
		}
		accepted := db.one(fmt.Sprintf("SELECT local_port, remote_port, state FROM sockets WHERE inode = %d", r.AcceptedInode))
		equal(t, "accepted local_port", accepted[0], r.Port)
		equal(t, "accepted remote_port", accepted[1], client.Report.ClientPort)
		equal(t, "accepted state", accepted[2], "ESTABLISHED")
		unix := db.one(fmt.Sprintf("SELECT family, type, state, path FROM sockets WHERE inode = %d", r.UnixInode))
		for i, want := range []any{"unix", "stream", "LISTEN", filepath.Join(dir, "ctl sock")} {
			equal(t, fmt.Sprintf("unix column %d", i), unix[i], want)
		}
	})

	t.Run("process_sockets", func(t *testing.T) {
		db := db.in(t)
		held := db.one(fmt.Sprintf("SELECT pid, fd, name, state FROM process_sockets WHERE local_port = %d AND state = 'LISTEN'", server.Report.Port))
		equal(t, "listener holder pid", held[0], sp)
		equal(t, "listener holder fd", held[1], server.Report.ListenFD)
		client := db.one(fmt.Sprintf("SELECT pid, fd, remote_port FROM process_sockets WHERE inode = %d", client.Report.ClientInode))
		equal(t, "client holder pid", client[0], cp)
		equal(t, "client remote port", client[2], server.Report.Port)
		// A join from processes through fds to sockets finds the same link.
		join := db.one(fmt.Sprintf("SELECT p.pid, s.state FROM processes p JOIN fds f ON f.pid = p.pid JOIN sockets s ON s.inode = f.inode WHERE s.local_port = %d AND s.state = 'LISTEN'", server.Report.Port))
		equal(t, "joined pid", join[0], sp)
	})

	t.Run("maps", func(t *testing.T) {
		db := db.in(t)
		row := db.one(fmt.Sprintf("SELECT COUNT(*) > 0, SUM(size_bytes) > 0, SUM(rss_bytes) > 0 FROM maps WHERE pid = %d AND path = '%s' AND perms LIKE '%%x%%'", sp, self))
		for i, v := range row {
			equal(t, fmt.Sprintf("maps column %d", i), v, true)
		}
	})

	t.Run("system", func(t *testing.T) {
		db := db.in(t)
		row := db.one("SELECT source, location, kernel_release IS NOT NULL, boot_time < UTC_TIMESTAMP(), architecture FROM `system`")
		equal(t, "source", row[0], "live")
		equal(t, "location", row[1], "/proc")
		equal(t, "kernel_release present", row[2], true)
		equal(t, "boot_time in the past", row[3], true)
		equal(t, "architecture", row[4], unameMachine())
	})

	t.Run("host columns", func(t *testing.T) {
		db := db.in(t)
		hostname, err := os.ReadFile("/proc/sys/kernel/hostname")
		if err != nil {
			t.Fatal(err)
		}
		before := time.Now().UTC().Truncate(time.Microsecond)
		row := db.one("SELECT DISTINCT p.host, p.captured_at, s.captured_at FROM processes p JOIN `system` s ON s.host = p.host")
		after := time.Now().UTC()
		equal(t, "host", row[0], strings.TrimSpace(string(hostname)))
		at, ok := row[1].(time.Time)
		if !ok || at.Before(before) || at.After(after) {
			t.Errorf("captured_at = %v, want the statement's start, between %v and %v", row[1], before, after)
		}
		equal(t, "captured_at of system", row[2], row[1])
		next := db.one("SELECT DISTINCT captured_at FROM processes")
		if later, ok := next[0].(time.Time); !ok || !later.After(at) {
			t.Errorf("captured_at of a later statement = %v, want after %v: the live /proc is read afresh by each statement", next[0], at)
		}
	})

	t.Run("pid lookup plan", func(t *testing.T) {
		db := db.in(t)
		plan := db.query(fmt.Sprintf("EXPLAIN FORMAT=TREE SELECT name FROM processes WHERE pid = %d", sp))
		var text strings.Builder
		for _, r := range plan.Rows {
			fmt.Fprintln(&text, r...)
		}
		if !strings.Contains(text.String(), "IndexedTableAccess") {
			t.Errorf("plan does not use the pid index:\n%s", text.String())
		}
	})
}

func unameMachine() string {
	out, err := exec.Command("uname", "-m").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
