package hardening

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// requireToolsEnv set to 1 makes a missing strace fail
// TestNoWritesOutsideOutput instead of skipping it. It is the variable with
// which .ci/run makes missing MySQL clients fail the server tests.
const requireToolsEnv = "PROCSQL_REQUIRE_CLIENTS"

// traceSyscalls are the classes of system calls that the trace records:
// every call that takes a path or a descriptor, and the network calls.
const traceSyscalls = "trace=%file,%desc,%network"

// writePolicy is what one procsql run may write. Every entry that ends in
// "/" allows everything under that directory.
type writePolicy struct {
	targets []string // files that write, pwrite and writev may reach, as strace -y names them
	opens   []string // paths that may be opened with O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND or O_TMPFILE
	names   []string // new names that linkat and rename may create
}

func allowed(list []string, path string) bool {
	for _, entry := range list {
		if path == entry || (strings.HasSuffix(entry, "/") && strings.HasPrefix(path, entry)) {
			return true
		}
	}
	return false
}

// changingSyscalls change the file system, the mount table or a file's
// metadata, or send data over a socket. procsql may make none of them but
// linkat and the renames, which writePolicy.names allows.
var changingSyscalls = []string{
	"creat", "unlink", "unlinkat", "rmdir", "mkdir", "mkdirat", "mknod", "mknodat",
	"link", "linkat", "symlink", "symlinkat", "rename", "renameat", "renameat2",
	"truncate", "ftruncate", "fallocate",
	"chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
	"utime", "utimes", "utimensat", "futimesat",
	"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
	"mount", "umount2", "pivot_root", "chroot", "swapon", "swapoff", "acct",
	"bind", "connect", "listen", "sendto", "sendmsg", "sendmmsg",
}

// writeFDArgument is the position of the descriptor that each writing call
// writes to.
var writeFDArgument = map[string]int{
	"write": 0, "pwrite64": 0, "writev": 0, "pwritev": 0, "pwritev2": 0,
	"sendfile": 0, "splice": 2, "tee": 1, "copy_file_range": 2, "vmsplice": 0,
}

var writeFlags = []string{"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE"}

// traceLinePattern splits a line of strace -f output into the syscall name
// and the text after its opening parenthesis.
var traceLinePattern = regexp.MustCompile(`^\d+\s+([a-z0-9_]+)\((.*)$`)

// annotatedFD matches a descriptor argument that strace -y decorated with
// the file it refers to, such as 5</tmp/out/#1234>(deleted).
var annotatedFD = regexp.MustCompile(`^(?:\d+|AT_FDCWD)<(.*)>(?:\(deleted\))?$`)

// traceViolations returns the lines of an strace -f -y log that write or
// change anything policy does not allow.
func traceViolations(log string, policy writePolicy) []string {
	var violations []string
	flag := func(line, reason string) {
		if len(line) > 300 {
			line = line[:300] + "..."
		}
		violations = append(violations, reason+": "+line)
	}
	for _, line := range strings.Split(log, "\n") {
		m := traceLinePattern.FindStringSubmatch(line)
		if m == nil {
			continue // a resumed call, a signal, an exit or a blank line
		}
		name, args := m[1], splitTraceArgs(m[2])
		switch {
		case name == "open" || name == "openat" || name == "openat2" || name == "open_by_handle_at":
			if !hasWriteFlag(args) {
				continue
			}
			if path := tracePath(args, name); !allowed(policy.opens, path) {
				flag(line, "opened "+path+" for writing")
			}
		case name == "linkat" || name == "rename" || name == "renameat" || name == "renameat2":
			if path := newName(args, name); !allowed(policy.names, path) {
				flag(line, "created the name "+path)
			}
		case slices.Contains(changingSyscalls, name):
			flag(line, name+" changes files or sends data")
		case name == "mmap":
			if len(args) > 4 && strings.Contains(args[2], "PROT_WRITE") && strings.Contains(args[3], "MAP_SHARED") {
				if target := fdTarget(args[4]); target != "" && !allowed(policy.targets, target) {
					flag(line, "mapped "+target+" shared and writable")
				}
			}
		default:
			position, writes := writeFDArgument[name]
			if !writes || position >= len(args) {
				continue
			}
			if target := fdTarget(args[position]); !allowed(policy.targets, target) {
				flag(line, "wrote to "+target)
			}
		}
	}
	return violations
}

// splitTraceArgs splits the text after a call's opening parenthesis into its
// arguments, at commas outside quotes, brackets and braces, and stops at the
// closing parenthesis or an "<unfinished ...>" marker.
func splitTraceArgs(text string) []string {
	var args []string
	depth, start := 0, 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '"':
			for i++; i < len(text) && text[i] != '"'; i++ {
				if text[i] == '\\' {
					i++
				}
			}
		case '[', '{', '(':
			depth++
		case ']', '}':
			depth--
		case ')':
			if depth == 0 {
				return append(args, strings.TrimSpace(text[start:i]))
			}
			depth--
		case ',':
			if depth == 0 {
				args = append(args, strings.TrimSpace(text[start:i]))
				start = i + 1
			}
		case '<':
			if strings.HasPrefix(text[i:], "<unfinished ...>") {
				return append(args, strings.TrimSpace(text[start:i]))
			}
		}
	}
	return append(args, strings.TrimSpace(text[start:]))
}

var (
	quotedString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	fdAnnotation = regexp.MustCompile(`<[^>]*>`)
	flagToken    = regexp.MustCompile(`[A-Z_0-9]+`)
)

// hasWriteFlag reports whether the arguments of an open call, outside
// quoted strings and the file names that strace -y adds, name a flag that
// allows writing or creating.
func hasWriteFlag(args []string) bool {
	text := quotedString.ReplaceAllString(strings.Join(args, ", "), `""`)
	text = fdAnnotation.ReplaceAllString(text, "")
	for _, token := range flagToken.FindAllString(text, -1) {
		if slices.Contains(writeFlags, token) {
			return true
		}
	}
	return false
}

// fdTarget returns the file that strace -y names for a descriptor argument,
// or "" when the argument has no annotation, such as -1.
func fdTarget(arg string) string {
	m := annotatedFD.FindStringSubmatch(arg)
	if m == nil {
		return ""
	}
	return m[1]
}

// resolvePath returns the quoted path argument, joined to the directory
// that the annotated directory descriptor names when it is relative.
func resolvePath(dirArg, pathArg string) string {
	path, err := strconv.Unquote(pathArg)
	if err != nil {
		path = pathArg
	}
	if dir := fdTarget(dirArg); dir != "" && !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	return path
}

// tracePath returns the path that an open call opens.
func tracePath(args []string, name string) string {
	if name == "open" && len(args) > 0 {
		return resolvePath("", args[0])
	}
	if len(args) > 1 {
		return resolvePath(args[0], args[1])
	}
	return strings.Join(args, ", ")
}

// newName returns the name that a linkat or rename call creates.
func newName(args []string, name string) string {
	if name == "rename" && len(args) > 1 {
		return resolvePath("", args[1])
	}
	if len(args) > 3 {
		return resolvePath(args[2], args[3])
	}
	return strings.Join(args, ", ")
}

// writeCheck names the directories of one traced run: an empty HOME,
// working directory and TMPDIR, which procsql must leave empty, and the
// directory of the files that receive stdout, stderr and the trace.
type writeCheck struct {
	home, work, tmp string
	streams         string // directory of stdout, stderr and the trace
}

func newWriteCheck(t *testing.T) writeCheck {
	t.Helper()
	return writeCheck{home: t.TempDir(), work: t.TempDir(), tmp: t.TempDir(), streams: t.TempDir()}
}

func (w writeCheck) env() []string {
	return []string{"PATH=" + systemPath, "HOME=" + w.home, "TMPDIR=" + w.tmp, "LANG=C", "TERM=xterm"}
}

func (w writeCheck) stracePrefix() []string {
	return []string{"strace", "-f", "-qq", "-y", "-o", filepath.Join(w.streams, "trace"), "-e", traceSyscalls, "--"}
}

// run runs procsql under strace with stdout and stderr in files, and
// returns the run with those files' content.
func (w writeCheck) run(t *testing.T, binary, stdin string, args ...string) procsqlRun {
	t.Helper()
	stdout, err := os.Create(filepath.Join(w.streams, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(w.streams, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	opts := runOptions{env: w.env(), dir: w.work, prefix: w.stracePrefix(), stdout: stdout, stderr: stderr, timeout: 2 * time.Minute}
	if stdin != "" {
		opts.stdin = strings.NewReader(stdin)
	}
	run := mustRunProcsql(t, binary, opts, args...)
	run.stdout = w.read(t, "stdout")
	run.stderr = w.read(t, "stderr")
	for _, problem := range crashProblems(run) {
		t.Fatal(problem)
	}
	return run
}

func (w writeCheck) read(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(w.streams, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// policy returns the default policy: writes to the stdout and stderr files
// and to the eventfd through which the Go runtime wakes its network poller.
func (w writeCheck) policy() writePolicy {
	return writePolicy{targets: []string{filepath.Join(w.streams, "stdout"), filepath.Join(w.streams, "stderr"), "anon_inode:[eventfd]"}}
}

// check fails the test for each traced violation of policy and for each
// file that the run left in HOME, the working directory or TMPDIR.
func (w writeCheck) check(t *testing.T, policy writePolicy) {
	t.Helper()
	log := w.read(t, "trace")
	if !strings.Contains(log, "execve(") {
		t.Fatalf("the trace has no execve, so strace did not trace procsql:\n%s", firstLines(log, 20))
	}
	violations := traceViolations(log, policy)
	if len(violations) > 20 {
		violations = append(violations[:20], fmt.Sprintf("... and %d more", len(violations)-20))
	}
	for _, v := range violations {
		t.Error(v)
	}
	for _, dir := range []string{w.home, w.work, w.tmp} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, entry := range entries {
			t.Errorf("procsql left %s in %s", entry.Name(), dir)
		}
	}
}

// shellScript runs a statement on every table and the shell's dot commands.
const shellScript = `.tables
.schema fds
.mode jsonl
.timer on
SELECT * FROM processes; SELECT * FROM threads; SELECT * FROM fds;
SELECT * FROM environ; SELECT * FROM maps; SELECT * FROM sockets;
SELECT * FROM process_sockets; SELECT * FROM pid_probe; SELECT * FROM ` + "`system`" + `;
SELECT * FROM meminfo; SELECT * FROM modules; SELECT * FROM sys_modules;
SELECT * FROM ld_so_preload; SELECT * FROM hunts;
.hunts
.hunt reverse_shell rwx_memory
`

func TestNoWritesOutsideOutput(t *testing.T) {
	if os.Getenv(insideEnv) != "1" {
		if _, err := exec.LookPath("strace"); err != nil {
			if os.Getenv(requireToolsEnv) == "1" {
				t.Fatalf("strace is missing (Debian package strace) and %s=1 requires it", requireToolsEnv)
			}
			t.Skip("strace is missing (Debian package strace)")
		}
	}
	if !enterNamespaces(t) {
		return
	}
	binary := procsqlBinary(t)

	t.Run("query", func(t *testing.T) {
		w := newWriteCheck(t)
		run := w.run(t, binary, "", "--format", "jsonl", "query",
			"SELECT p.pid, p.name, f.fd, f.target, s.state FROM processes p JOIN fds f ON f.pid = p.pid LEFT JOIN sockets s ON s.inode = f.inode")
		if run.status != 0 || run.stdout == "" {
			t.Fatalf("query exited with status %d and printed %d bytes, want 0 and rows; stderr:\n%s", run.status, len(run.stdout), run.stderr)
		}
		w.check(t, w.policy())
	})

	t.Run("hunt", func(t *testing.T) {
		w := newWriteCheck(t)
		run := w.run(t, binary, "", "hunt")
		if run.status != 0 && run.status != 1 {
			t.Fatalf("hunt exited with status %d, want 0 or 1; stderr:\n%s", run.status, run.stderr)
		}
		w.check(t, w.policy())
	})

	t.Run("piped shell", func(t *testing.T) {
		// With stdin not a terminal the shell saves no history, so HOME
		// stays empty.
		w := newWriteCheck(t)
		run := w.run(t, binary, shellScript, "shell")
		if run.status != 0 || !strings.Contains(run.stdout, "reverse_shell") {
			t.Fatalf("shell exited with status %d, want 0 and the output of every statement; stderr:\n%s", run.status, run.stderr)
		}
		w.check(t, w.policy())
	})

	t.Run("snapshot", func(t *testing.T) {
		w := newWriteCheck(t)
		outDir := t.TempDir()
		output := filepath.Join(outDir, "host.procsql")
		run := w.run(t, binary, "", "snapshot", "-o", output)
		if run.status != 0 || run.stdout != "" {
			t.Fatalf("snapshot exited with status %d and printed %q, want 0 and nothing on stdout; stderr:\n%s", run.status, run.stdout, run.stderr)
		}
		// The capture writes an unnamed O_TMPFILE in the output's
		// directory and links it to its name at the end.
		policy := w.policy()
		policy.targets = append(policy.targets, outDir+"/")
		policy.opens = []string{outDir}
		policy.names = []string{output}
		w.check(t, policy)
		checkOnlyFile(t, outDir, "host.procsql")

		// --force replaces the file through a temporary name in the same
		// directory and a rename.
		run = w.run(t, binary, "", "snapshot", "--force", "-o", output)
		if run.status != 0 {
			t.Fatalf("snapshot --force exited with status %d, want 0; stderr:\n%s", run.status, run.stderr)
		}
		policy.names = []string{outDir + "/"}
		w.check(t, policy)
		checkOnlyFile(t, outDir, "host.procsql")
	})

	t.Run("terminal shell", func(t *testing.T) {
		// The shell keeps history only when PROCSQL_HISTORY names a file,
		// so by default it writes nothing but the terminal.
		w := newWriteCheck(t)
		runTerminalShell(t, w, nil, binary, "SELECT 42 AS answer;")
		policy := w.policy()
		policy.targets = append(policy.targets, "/dev/pts/")
		w.check(t, policy)
	})

	t.Run("terminal shell with PROCSQL_HISTORY", func(t *testing.T) {
		w := newWriteCheck(t)
		historyDir := t.TempDir()
		history := filepath.Join(historyDir, "history")
		runTerminalShell(t, w, []string{"PROCSQL_HISTORY=" + history}, binary, "SELECT 42 AS answer;")
		policy := w.policy()
		policy.targets = append(policy.targets, "/dev/pts/", history)
		policy.opens = []string{history}
		w.check(t, policy)
		checkOnlyFile(t, historyDir, "history")
		checkHistory(t, history, "SELECT 42 AS answer;")
	})

	t.Run("terminal shell with long PROCSQL_HISTORY", func(t *testing.T) {
		w := newWriteCheck(t)
		historyDir := t.TempDir()
		history := filepath.Join(historyDir, "history")
		var lines strings.Builder
		for i := range 600 {
			fmt.Fprintf(&lines, "SELECT %d;\n", i)
		}
		if err := os.WriteFile(history, []byte(lines.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		runTerminalShell(t, w, []string{"PROCSQL_HISTORY=" + history}, binary, "SELECT 43 AS answer;")
		// Beyond 500 lines the line editor rewrites the history through
		// <file>.tmp and renames it into place; the mode check below shows
		// that the rewritten file stays owner-only.
		policy := w.policy()
		policy.targets = append(policy.targets, "/dev/pts/", history, history+".tmp")
		policy.opens = []string{history, history + ".tmp"}
		policy.names = append(policy.names, history)
		w.check(t, policy)
		checkOnlyFile(t, historyDir, "history")
		checkHistory(t, history, "SELECT 43 AS answer;")
	})
}

// checkOnlyFile fails the test unless dir contains exactly the file name.
func checkOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, entry := range entries {
		names = append(names, entry.Name())
	}
	if !slices.Equal(names, []string{name}) {
		t.Errorf("%s contains %v, want only %s", dir, names, name)
	}
}

// checkHistory fails the test unless the history file is private to its
// owner and its last line is want.
func checkHistory(t *testing.T, path, want string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("history file mode %v, want 0600, because statements may contain secrets copied from the host", mode)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if !slices.Contains(lines, want) {
		t.Errorf("history lacks %q; last lines: %q", want, lines[max(0, len(lines)-3):])
	}
}

// runTerminalShell runs procsql shell under strace on a new pseudo-terminal
// with extraEnv added to the environment, enters statement, waits for its
// result and leaves with .quit.
func runTerminalShell(t *testing.T, w writeCheck, extraEnv []string, binary, statement string) {
	t.Helper()
	args := append(w.stracePrefix(), binary, "shell")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(w.env(), extraEnv...)
	cmd.Dir = w.work
	terminal, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatalf("start procsql shell on a pseudo-terminal: %v", err)
	}
	defer terminal.Close()
	var mu sync.Mutex
	var output strings.Builder
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := terminal.Read(buf)
			mu.Lock()
			output.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return // EIO once the shell has exited
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	expect := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; {
			mu.Lock()
			text := output.String()
			mu.Unlock()
			if strings.Contains(text, want) {
				return
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("no %q from the shell within 30s; output:\n%q", want, text)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	expect("procsql> ")
	terminal.WriteString(statement + "\r")
	expect("(1 row)")
	terminal.WriteString(".quit\r")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("procsql shell exited with %v, want status 0", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("procsql shell did not exit within 30s of .quit")
	}
}

// TestTraceViolationsFlagWrites checks the trace parser on lines in the
// format of strace 6.1 with -f -y, so a parser that misses writes shows up
// here rather than as a trace that always passes.
func TestTraceViolationsFlagWrites(t *testing.T) {
	policy := writePolicy{targets: []string{"/s/stdout", "anon_inode:[eventfd]"}, opens: []string{"/out"}, names: []string{"/out/"}}
	cases := []struct {
		line string
		want string // "" when the line is allowed
	}{
		{`12 openat(AT_FDCWD</w>, "/proc/1/stat", O_RDONLY|O_CLOEXEC) = 3</proc/1/stat>`, ""},
		{`12 openat(AT_FDCWD</w>, "/tmp/O_WRONLY", O_RDONLY) = 3</tmp/O_WRONLY>`, ""},
		{`12 openat(AT_FDCWD</w>, "/etc/x", O_WRONLY|O_CREAT|O_CLOEXEC, 0644) = 3</etc/x>`, "opened /etc/x for writing"},
		{`12 openat(AT_FDCWD</w>, "rel", O_RDWR <unfinished ...>`, "opened /w/rel for writing"},
		{`12 openat2(3</w>, "a", {flags=O_RDONLY|O_APPEND, resolve=RESOLVE_BENEATH}, 24) = 4</w/a>`, "opened /w/a for writing"},
		{`12 openat(AT_FDCWD</w>, "/out", O_WRONLY|O_CLOEXEC|O_TMPFILE, 0600) = 5</out/#123>(deleted)`, ""},
		{`12 write(1</s/stdout>, "x, y", 4) = 4`, ""},
		{`12 write(7<anon_inode:[eventfd]>, "\1\0\0\0\0\0\0\0", 8) = 8`, ""},
		{`12 write(5</etc/passwd>, "x", 1) = 1`, "wrote to /etc/passwd"},
		{`12 pwrite64(5</out/#123>(deleted), "x", 1, 0) = 1`, "wrote to /out/#123"},
		{`12 unlinkat(AT_FDCWD</w>, "f", 0) = 0`, "unlinkat changes files"},
		{`12 renameat2(AT_FDCWD</w>, "a", AT_FDCWD</w>, "/out/b", RENAME_NOREPLACE) = 0`, ""},
		{`12 renameat(AT_FDCWD</w>, "a", AT_FDCWD</w>, "b") = 0`, "created the name /w/b"},
		{`12 linkat(5</out/#123>(deleted), "", AT_FDCWD</w>, "/out/host.procsql", AT_EMPTY_PATH) = 0`, ""},
		{`12 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3</etc/shadow>, 0) = 0x7f0000000000`, "mapped /etc/shadow shared and writable"},
		{`12 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000`, ""},
		{`12 connect(3<socket:[1]>, {sa_family=AF_UNIX, sun_path="/run/x"}, 110) = 0`, "connect changes files or sends data"},
		{`12 <... write resumed>) = 1`, ""},
		{`12 --- SIGURG {si_signo=SIGURG, si_code=SI_TKILL, si_pid=12, si_uid=0} ---`, ""},
	}
	for _, c := range cases {
		violations := traceViolations(c.line, policy)
		switch {
		case c.want == "" && len(violations) > 0:
			t.Errorf("%s: flagged %q, want it allowed", c.line, violations)
		case c.want != "" && (len(violations) != 1 || !strings.HasPrefix(violations[0], c.want)):
			t.Errorf("%s: flagged %q, want one violation starting %q", c.line, violations, c.want)
		}
	}
}
