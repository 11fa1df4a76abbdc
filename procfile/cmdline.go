package procfile

import (
	"bytes"
	"strings"
)

// cmdlineTitleLimit is the size at which the kernel cuts /proc/<pid>/cmdline
// of a process that overwrote the NUL ending its argument area, as
// setproctitle(3) does. The kernel then reads at most one page.
//
// NOTE: one page is 4096 bytes on x86 and most other systems, but 16 KiB or
// 64 KiB on some arm64 and ppc64 kernels, where a cut cmdline is longer and
// ParseCmdline does not flag it.
const cmdlineTitleLimit = 4096

// ParseCmdline splits the content of /proc/<pid>/cmdline into arguments.
//
// It drops exactly one trailing NUL, if present, and splits the rest on NUL,
// so empty arguments stay in place and the last argument is kept when it
// lacks its NUL. It never splits on spaces: a command line rewritten as one
// space-joined string has the same bytes as an argv[0] that contains spaces.
// Empty data, as for kernel threads and zombies, gives an empty non-nil argv.
//
// truncated reports exactly 4096 bytes without any NUL, the shape the kernel
// prints when it cuts a rewritten command line at one page.
func ParseCmdline(data []byte) (argv []string, truncated bool) {
	truncated = len(data) == cmdlineTitleLimit && bytes.IndexByte(data, 0) < 0
	if len(data) == 0 {
		return []string{}, truncated
	}

	data = bytes.TrimSuffix(data, []byte{0})
	return strings.Split(string(data), "\x00"), truncated
}

// JoinArgv joins argv with single spaces for display and trims trailing
// spaces, so trailing empty arguments leave no trailing space. Inner empty
// arguments still show as double spaces.
func JoinArgv(argv []string) string {
	return strings.TrimRight(strings.Join(argv, " "), " ")
}
