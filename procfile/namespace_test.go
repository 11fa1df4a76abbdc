package procfile

import (
	"errors"
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
