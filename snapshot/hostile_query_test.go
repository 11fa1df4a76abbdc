package snapshot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/procsql/procsql/internal/livetest"
	"github.com/procsql/procsql/snapshot"
	"github.com/procsql/procsql/source"
	"github.com/procsql/procsql/tables"
)

// hostileQueryCases are files of testdata/hostile whose digests all match
// and whose bytes stay within the expansion bounds, but which describe
// more than a kernel can. Before the bounds of a real capture, such files
// made a query run for tens of seconds and allocate gigabytes. Each must
// be rejected by snapshot verify and by a query alike.
func hostileQueryCases() []hostileCase {
	// withFile replaces the bytes of a captured file and reseals its
	// segment.
	withFile := func(segment, path string, data []byte) func(*testing.T, []byte) []byte {
		return func(t *testing.T, good []byte) []byte {
			u := unpack(t, good)
			s := u.segment(t, segment)
			found := false
			for i, e := range s.entries {
				if e.hdr.Name == path {
					s.entries[i].data = data
					found = true
				}
			}
			if !found {
				t.Fatalf("segment %s has no entry %s", segment, path)
			}
			reseal(t, s, nil)
			return u.pack(t, nil)
		}
	}
	// withNames replaces the names of a listing record, as a successful
	// read, and reseals its segment.
	withNames := func(segment, op, path string, names func(old []string) []string) func(*testing.T, []byte) []byte {
		return func(t *testing.T, good []byte) []byte {
			u := unpack(t, good)
			s := u.segment(t, segment)
			editRecord(t, s, op, path, func(rec map[string]any) {
				var old []string
				if list, ok := rec["names"].([]any); ok {
					for _, n := range list {
						old = append(old, n.(string))
					}
				}
				delete(rec, "errno")
				delete(rec, "error")
				delete(rec, "not_collected")
				rec["names"] = names(old)
			})
			reseal(t, s, nil)
			return u.pack(t, nil)
		}
	}
	// numbers returns the decimal names from first to first+n-1, sorted as
	// a capture sorts a listing.
	numbers := func(first, n int) []string {
		names := make([]string, n)
		for i := range names {
			names[i] = strconv.Itoa(first + i)
		}
		sort.Strings(names)
		return names
	}
	sorted := func(names ...string) []string {
		sort.Strings(names)
		return names
	}

	const (
		cmdlineWant = `proc/1234/cmdline has 52428800 NUL-separated strings, above the bound of 8388608 for one process's arguments and environment together`
		environWant = `proc/5678/environ has 16777216 NUL-separated strings, above the bound of 8388608`
		listingWant = `proc/. lists pid 1000000, but the snapshot has no segment proc/1000000: a capture reads every pid it lists`
		aboveWant   = `proc/. lists pid 4194304, outside the range 1 to 4194303`
		twiceWant   = `the names of readdir proc/. are not sorted and distinct: "5678" follows "5678"`
		fdWant      = `proc/5678/fd lists descriptor 0, but the snapshot has no readlink record of proc/5678/fd/0`
		taskWant    = `proc/5678/task lists thread 5678, but the snapshot has no record under proc/5678/task/5678/`
	)
	return []hostileCase{
		// 50 MiB of NULs are 52,428,800 empty arguments, each a string
		// that a query splits out and prints.
		{"cmdline-50m-nuls", withFile("proc/1234", "proc/1234/cmdline", make([]byte, 50<<20)), cmdlineWant, cmdlineWant},
		// 16 Mi entries of "A=", each a row of environ.
		{"environ-16m-entries", withFile("proc/5678", "proc/5678/environ", bytes.Repeat([]byte("A=\x00"), 16<<20)), environWant, environWant},
		// 200,000 pids without their files, each a row of NULLs in every
		// per-process table.
		{"listing-unread-pids", withNames("proc", "readdir", "proc/.", func(old []string) []string {
			return sorted(append(old, numbers(1_000_000, 200_000)...)...)
		}), listingWant, listingWant},
		{"listing-pid-above-limit", withNames("proc", "readdir", "proc/.", func(old []string) []string {
			return sorted(append(old, "4194304")...)
		}), aboveWant, aboveWant},
		// Each copy of a listed pid would repeat its rows.
		{"listing-pid-twice", withNames("proc", "readdir", "proc/.", func(old []string) []string {
			return sorted(append(old, "5678")...)
		}), twiceWant, twiceWant},
		// 200,000 descriptors without their links, each a row of fds.
		{"fd-unread-descriptors", withNames("proc/5678/fd", "readdir", "proc/5678/fd", func([]string) []string {
			return numbers(0, 200_000)
		}), fdWant, fdWant},
		{"task-unread-thread", withNames("proc/5678/task", "readdir", "proc/5678/task", func([]string) []string {
			return []string{"5678"}
		}), taskWant, taskWant},
	}
}

// editRecord changes the record of op on path in the records of s.
func editRecord(t *testing.T, s *unpackedSegment, op, path string, change func(rec map[string]any)) {
	t.Helper()
	var records []map[string]any
	if err := json.Unmarshal(s.entries[0].data, &records); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rec := range records {
		if rec["op"] == op && rec["path"] == path {
			change(rec)
			found = true
		}
	}
	if !found {
		t.Fatalf("segment %s has no %s record of %s", s.name, op, path)
	}
	data, err := json.Marshal(records)
	if err != nil {
		t.Fatal(err)
	}
	s.entries[0].data = data
}

// A process with a 2 MiB command line and 100,000 environment entries,
// far beyond common ones but within the kernel's limits, is captured,
// opened and queried like any other, inside new namespaces.
func TestLargeArgumentsCapture(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}
	// execve keeps the strings within a quarter of RLIMIT_STACK, so the
	// default 8 MiB stack allows only 2 MiB of them. The child inherits
	// the raised limit.
	var stack syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_STACK, &stack); err != nil {
		t.Fatal(err)
	}
	raised := stack
	raised.Cur = max(stack.Cur, 64<<20)
	if raised.Cur > stack.Max {
		t.Skipf("the stack limit cannot be raised to %d bytes: the hard limit is %d", raised.Cur, stack.Max)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_STACK, &raised); err != nil {
		t.Fatal(err)
	}

	// The test binary waits as the child, in TestLargeArgumentsChild: a
	// shell would take seconds to import 100,000 variables. 16 arguments
	// of 128 KiB less one byte, the longest execve accepts (MAX_ARG_STRLEN
	// counts the NUL), make 2 MiB of cmdline.
	const argCount, argLen, envCount = 16, 128<<10 - 1, 100_000
	argv := []string{os.Args[0], "-test.run=^TestLargeArgumentsChild$"}
	for i := range argCount {
		argv = append(argv, strings.Repeat(string(rune('a'+i)), argLen))
	}
	env := []string{largeArgsChildEnv + "=1"}
	for i := range envCount - 1 {
		env = append(env, fmt.Sprintf("PROCSQL_TEST_%06d=value %d", i, i))
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	err = cmd.Start()
	if restoreErr := syscall.Setrlimit(syscall.RLIMIT_STACK, &stack); restoreErr != nil {
		t.Fatal(restoreErr)
	}
	if err != nil {
		t.Fatalf("start a child with %d arguments and %d environment entries: %v", len(argv), len(env), err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	pid := cmd.Process.Pid
	// Start returns once the child is forked, maybe before its execve has
	// replaced the arguments and environment, so wait for its cmdline.
	for deadline := time.Now().Add(10 * time.Second); ; {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(data, []byte("TestLargeArgumentsChild")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d has not run its execve after 10 s", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}

	live, err := source.NewDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "large.procsql")
	if _, err := snapshot.Capture(context.Background(), live, snapshot.Options{Output: out, Collector: "procsql test"}); err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Open(context.Background(), out, snapshot.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if _, err := snap.Verify(context.Background()); err != nil {
		t.Fatalf("verify: %v", err)
	}

	environ := scanPID(t, snap, "environ", pid)
	if len(environ) != len(env) {
		t.Errorf("environ of pid %d has %d rows, want %d", pid, len(environ), len(env))
	}
	processes := scanPID(t, snap, "processes", pid)
	if len(processes) != 1 {
		t.Fatalf("processes has %d rows for pid %d, want 1", len(processes), pid)
	}
	cmdline, _ := processes[0][columnIndex(t, "processes", "cmdline")].(string)
	if want := strings.Join(argv, " "); cmdline != want {
		t.Errorf("cmdline of pid %d has %d bytes, want the %d of its arguments joined by spaces", pid, len(cmdline), len(want))
	}
}

// largeArgsChildEnv makes the test binary wait in TestLargeArgumentsChild.
const largeArgsChildEnv = "PROCSQL_TEST_LARGE_ARGS_CHILD"

// TestLargeArgumentsChild waits for its standard input to close when
// TestLargeArgumentsCapture runs it as the process to capture. It does
// nothing in a normal test run.
func TestLargeArgumentsChild(t *testing.T) {
	if os.Getenv(largeArgsChildEnv) == "" {
		t.Skip("run by TestLargeArgumentsCapture")
	}
	io.Copy(io.Discard, os.Stdin)
}

// scanPID returns the rows of table for one pid, read from snap.
func scanPID(t *testing.T, snap *snapshot.Snapshot, table string, pid int) []sql.Row {
	t.Helper()
	for _, tab := range tables.All() {
		if tab.Name() != table {
			continue
		}
		r := tables.NewReader(source.NewCache(snap))
		var rows []sql.Row
		err := tab.Scan(r, tables.Filter{PIDs: []int{pid}}, nil, func(row sql.Row) error {
			rows = append(rows, row)
			return nil
		})
		if err == nil {
			err = r.Err()
		}
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		return rows
	}
	t.Fatalf("no table %s", table)
	return nil
}

// columnIndex returns the position of column in the rows of table.
func columnIndex(t *testing.T, table, column string) int {
	t.Helper()
	for _, tab := range tables.All() {
		if tab.Name() != table {
			continue
		}
		for i, c := range tab.Columns() {
			if c.Name == column {
				return i
			}
		}
	}
	t.Fatalf("table %s has no column %s", table, column)
	return 0
}
