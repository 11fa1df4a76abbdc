package hardening

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// insideEnv is "1" in the copy of the test binary that runs inside the new
// namespaces.
const insideEnv = "PROCSQL_HARDENING_NAMESPACE"

// enterNamespaces re-runs the calling test inside fresh PID, mount and
// network namespaces and reports whether the caller is already inside and
// should run the test body. Outside, it builds procsql first, so the copy
// inside finds the binary through binaryEnv.
//
// The copy inside gets an environment of its own (PATH and the two
// variables above), not the test run's, because the tests print rows of
// the environ table and must not print variables they did not set.
func enterNamespaces(t *testing.T) bool {
	t.Helper()
	if os.Getenv(insideEnv) == "1" {
		if os.Getpid() != 1 {
			t.Fatalf("test runs as pid %d inside the namespaces, want pid 1 of a new PID namespace", os.Getpid())
		}
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			t.Fatalf("ip link set lo up: %v: %s", err, out)
		}
		closeInheritedOnExec(t)
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create PID, mount and network namespaces with unshare")
	}
	binary := procsqlBinary(t)

	// --kill-child ends the namespace's pid 1, and with it every process
	// inside, when unshare is killed at the timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--net",
		os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1", "-test.timeout=3m")
	cmd.Env = []string{"PATH=" + systemPath, insideEnv + "=1", binaryEnv + "=" + binary}
	out, err := cmd.CombinedOutput()
	t.Logf("inside the namespaces:\n%s", out)
	if ctx.Err() != nil {
		t.Fatalf("test inside the namespaces did not finish within 4 minutes and was killed")
	}
	if err != nil {
		t.Fatalf("test inside the namespaces failed: %v", err)
	}
	return false
}

// closeInheritedOnExec sets close-on-exec on every descriptor above 2. The
// test binary may inherit open descriptors from whatever ran go test, and
// os/exec passes such descriptors on to every child, where they would show
// up among the descriptors that a test expects.
func closeInheritedOnExec(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range entries {
		if fd, err := strconv.Atoi(entry.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
