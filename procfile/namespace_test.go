package procfile

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseNamespaceLinkCase(t *testing.T) {
	kind, inode, err := ParseNamespaceLink(string(readCaseFile(t, "12-fd-link-targets/fd/11")))
	if err != nil {
		t.Fatalf("ParseNamespaceLink: %v", err)
	}
	if kind != "net" {
		t.Errorf("kind = %q, want %q", kind, "net")
	}
	if inode != 4026531840 {
		t.Errorf("inode = %d, want 4026531840", inode)
	}
}

func TestParseNamespaceLinkMalformed(t *testing.T) {
	for _, link := range []string{"", "net", "net:", "net:[]", "net:[x]", "net:4026531840", ":[1]", "net:[1", "net:[18446744073709551616]"} {
		if _, _, err := ParseNamespaceLink(link); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseNamespaceLink(%q) error = %v, want ErrMalformed", link, err)
		}
	}
}

func BenchmarkParseNamespaceLink(b *testing.B) {
	link := string(readCaseFile(b, "12-fd-link-targets/fd/11"))
	for b.Loop() {
		if _, _, err := ParseNamespaceLink(link); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseNamespaceLink checks that an accepted link is "kind:[inode]" with
// a kind without ':', and that writing the result back parses the same.
func FuzzParseNamespaceLink(f *testing.F) {
	for _, data := range readSeedFiles(f, caseGlob("*/fd/*")) {
		f.Add(string(data))
	}
	f.Add("pid_for_children:[4026531836]")
	f.Fuzz(func(t *testing.T, link string) {
		kind, inode, err := ParseNamespaceLink(link)
		checkMalformed(t, err)
		if err != nil {
			return
		}
		if kind == "" || strings.Contains(kind, ":") {
			t.Errorf("kind = %q, want a non-empty name without ':'", kind)
		}
		if !strings.HasPrefix(link, kind+":[") || !strings.HasSuffix(link, "]") {
			t.Errorf("link %q is not %q followed by \":[inode]\"", link, kind)
		}
		written := fmt.Sprintf("%s:[%d]", kind, inode)
		again, againInode, err := ParseNamespaceLink(written)
		if err != nil || again != kind || againInode != inode {
			t.Errorf("ParseNamespaceLink(%q) = %q, %d, %v, want %q, %d", written, again, againInode, err, kind, inode)
		}
	})
}
