// Package hardening tests the procsql binary under stress: many processes
// that start and exit while it reads them, a synthetic host with tens of
// thousands of sockets and mappings, an unprivileged user, and a trace of
// every file it opens.
//
// The tests build cmd/procsql with the go tool and run the binary, so a
// panic shows as an exit status and a stack trace on stderr. The tests that
// read the live /proc need root: they re-run themselves inside fresh PID,
// mount and network namespaces (unshare from util-linux, ip from iproute2)
// and see only the processes they start. The unprivileged test also needs
// setpriv (util-linux), and the trace test strace.
package hardening

import (
	"os"
	"testing"
)

// childRoleEnv names the role of a copy of the test binary that a test
// started as a child process instead of a test run.
const childRoleEnv = "PROCSQL_HARDENING_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childRoleEnv) {
	case "":
	case churnRole:
		os.Exit(runChurnChild())
	case resizeRole:
		os.Exit(runResizeChild())
	default:
		os.Stderr.WriteString("invalid " + childRoleEnv + " " + os.Getenv(childRoleEnv) + ": want " + churnRole + " or " + resizeRole + "\n")
		os.Exit(3)
	}
	code := m.Run()
	removeBuiltBinary()
	os.Exit(code)
}
