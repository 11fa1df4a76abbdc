package collection

import (
	"regexp"
	"strings"
)

// lsLink is one symbolic link in the output of ls -l: its name as ls
// printed it (the last word before " -> ") and its target text.
type lsLink struct {
	dir    string // the directory heading above the entry ("/proc/12:"), or ""
	name   string
	target string
}

// lsMode matches the start of an ls -l entry: a file type, nine permission
// characters, an optional ACL or security context mark, then a space.
var lsMode = regexp.MustCompile(`^[-bcdlpsDn?][-rwxsStTlL]{9}[.+@]?\s`)

// parseLsLinks returns the symbolic links listed by ls -l or ls -la, in the
// order printed. Collectors run ls with its output in a file, where GNU ls
// prints names and targets as they are, without quoting. So a target that
// contains a newline continues on the next line, and a line that is neither
// an entry, a "total" line nor a directory heading is joined to the target
// before it. A continuation line shaped like a whole entry is read as an
// entry, and an empty line ends a target, as ls gives no way to tell them
// apart.
func parseLsLinks(data []byte) []lsLink {
	var links []lsLink
	dir := ""
	last := -1 // index in links of the entry a continuation belongs to
	// Continuation lines are collected and joined once per entry: adding
	// each to the target would copy it again for every line, which a
	// hostile listing of one link and 200,000 lines turned into 38 s.
	var more []string
	flush := func() {
		if last >= 0 && len(more) > 0 {
			links[last].target += "\n" + strings.Join(more, "\n")
		}
		more = more[:0]
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		switch {
		case lsMode.MatchString(line):
			flush()
			last = -1
			if line[0] != 'l' {
				continue
			}
			left, target, ok := strings.Cut(line, " -> ")
			if !ok {
				// ls could not read the link, as for a kernel
				// thread's exe, and printed the name alone.
				continue
			}
			fields := strings.Fields(left)
			links = append(links, lsLink{dir: dir, name: fields[len(fields)-1], target: target})
			last = len(links) - 1
		case line == "":
			// ls separates the listings of several directories with an
			// empty line, so a target cannot be continued across one.
			flush()
			last = -1
		case strings.HasPrefix(line, "total ") && last < 0:
		case strings.HasPrefix(line, "/") && strings.HasSuffix(line, ":") && last < 0:
			dir = strings.TrimSuffix(line, ":")
		case last >= 0:
			more = append(more, line)
		}
	}
	flush()
	return links
}
