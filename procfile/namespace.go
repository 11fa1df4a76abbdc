package procfile

import "fmt"

// ParseNamespaceLink parses the readlink text of /proc/<pid>/ns/<kind>, such
// as "net:[4026531840]", into the namespace kind and its nsfs inode number.
// Two processes on one host share a namespace when the kind and inode match.
func ParseNamespaceLink(link string) (kind string, inode uint64, err error) {
	kind, inode, ok := splitInodeLink(link)
	if !ok {
		return "", 0, fmt.Errorf("%w: namespace link %q is not of the form \"kind:[inode]\"",
			ErrMalformed, excerpt(link))
	}
	return kind, inode, nil
}
