package procfile

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// checkFDTarget compares every field of got and want, one error per field.
func checkFDTarget(t *testing.T, link string, got, want FDTarget) {
	t.Helper()
	if got.Type != want.Type {
		t.Errorf("%q: Type = %q, want %q", link, got.Type, want.Type)
	}
	if got.Path != want.Path {
		t.Errorf("%q: Path = %q, want %q", link, got.Path, want.Path)
	}
	if got.Deleted != want.Deleted {
		t.Errorf("%q: Deleted = %v, want %v", link, got.Deleted, want.Deleted)
	}
	if got.Inode != want.Inode {
		t.Errorf("%q: Inode = %d, want %d", link, got.Inode, want.Inode)
	}
	if got.HasInode != want.HasInode {
		t.Errorf("%q: HasInode = %v, want %v", link, got.HasInode, want.HasInode)
	}
	if got.Prefix != want.Prefix {
		t.Errorf("%q: Prefix = %q, want %q", link, got.Prefix, want.Prefix)
	}
}

// The case table lists /dev/null and /dev/pts/3 as "file". This package types
// paths under /dev/ other than /dev/shm/ as FDDevice, so those rows differ.
func TestParseFDTargetCases(t *testing.T) {
	want := []FDTarget{
		0:  {Type: FDDevice, Path: "/dev/null"},
		1:  {Type: FDPipe, Inode: 70113, HasInode: true},
		2:  {Type: FDDevice, Path: "/dev/pts/3"},
		3:  {Type: FDSocket, Inode: 70120, HasInode: true},
		4:  {Type: FDAnonInode, Path: "[eventfd]"},
		5:  {Type: FDAnonInode, Path: "inotify"},
		6:  {Type: FDMemfd, Path: "shm-pool", Deleted: true},
		7:  {Type: FDOther, Path: "onload:[tcp:2:5117]", Prefix: "onload"},
		8:  {Type: FDAnonInode, Path: "[eventpoll]"},
		9:  {Type: FDFile, Path: "/tmp/report 2024.txt", Deleted: true},
		10: {Type: FDAnonInode, Path: "bpf-map"},
		11: {Type: FDNsfs, Path: "net", Inode: 4026531840, HasInode: true},
	}
	for fd, w := range want {
		link := string(readCaseFile(t, fmt.Sprintf("12-fd-link-targets/fd/%d", fd)))
		checkFDTarget(t, link, ParseFDTarget(link), w)
	}
}

func TestParseFDTargetEdges(t *testing.T) {
	tests := []struct {
		link string
		want FDTarget
	}{
		{"/dev/shm/sem.jobs", FDTarget{Type: FDFile, Path: "/dev/shm/sem.jobs"}},
		{"/dev/shm/x (deleted)", FDTarget{Type: FDFile, Path: "/dev/shm/x", Deleted: true}},
		{"/dev/sda1 (deleted)", FDTarget{Type: FDDevice, Path: "/dev/sda1", Deleted: true}},
		{"/dev", FDTarget{Type: FDFile, Path: "/dev"}},
		{"/memfd:x", FDTarget{Type: FDMemfd, Path: "x"}},
		{"/memfd:a b (deleted) (deleted)", FDTarget{Type: FDMemfd, Path: "a b (deleted)", Deleted: true}},
		{"anon_inode:[pidfd]", FDTarget{Type: FDAnonInode, Path: "[pidfd]"}},
		{"mnt:[4026531841]", FDTarget{Type: FDNsfs, Path: "mnt", Inode: 4026531841, HasInode: true}},
		{"pid_for_children:[4026531836]", FDTarget{Type: FDNsfs, Path: "pid_for_children", Inode: 4026531836, HasInode: true}},
		{"socket:[abc]", FDTarget{Type: FDOther, Path: "socket:[abc]", Prefix: "socket"}},
		{"socket:[]", FDTarget{Type: FDOther, Path: "socket:[]", Prefix: "socket"}},
		{"socket:[-1]", FDTarget{Type: FDOther, Path: "socket:[-1]", Prefix: "socket"}},
		{"pipe:70113", FDTarget{Type: FDOther, Path: "pipe:70113", Prefix: "pipe"}},
		{"foo:[12]", FDTarget{Type: FDOther, Path: "foo:[12]", Prefix: "foo"}},
		{"relative/path", FDTarget{Type: FDOther, Path: "relative/path"}},
		{"", FDTarget{Type: FDOther}},
	}
	for _, tt := range tests {
		checkFDTarget(t, tt.link, ParseFDTarget(tt.link), tt.want)
	}
}

func BenchmarkParseFDTarget(b *testing.B) {
	links := make([]string, 12)
	for fd := range links {
		links[fd] = string(readCaseFile(b, fmt.Sprintf("12-fd-link-targets/fd/%d", fd)))
	}
	for b.Loop() {
		for _, link := range links {
			ParseFDTarget(link)
		}
	}
}

// FuzzParseFDTarget checks that the link text can be written back from the
// FDTarget that ParseFDTarget returns, so no part of it is lost or moved to
// another field.
func FuzzParseFDTarget(f *testing.F) {
	for _, data := range readSeedFiles(f, caseGlob("*/fd/*"), caseGlob("*/*/exe")) {
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, link string) {
		target := ParseFDTarget(link)

		var written string
		switch target.Type {
		case FDAnonInode:
			written = "anon_inode:" + target.Path
		case FDMemfd:
			written = "/memfd:" + target.Path
		case FDFile, FDDevice:
			written = target.Path
		case FDOther:
			written = target.Path
			prefix, _, found := strings.Cut(link, ":")
			if !found {
				prefix = ""
			}
			if target.Prefix != prefix {
				t.Errorf("Prefix = %q, want %q", target.Prefix, prefix)
			}
		case FDSocket, FDPipe, FDNsfs:
			kind := map[string]string{FDSocket: "socket", FDPipe: "pipe", FDNsfs: target.Path}[target.Type]
			if !target.HasInode {
				t.Errorf("%s target without HasInode", target.Type)
			}
			written = kind + ":[" + strconv.FormatUint(target.Inode, 10) + "]"
			if again := ParseFDTarget(written); again != target {
				t.Errorf("ParseFDTarget(%q) = %+v, want %+v as for %q", written, again, target, link)
			}
			if target.Type == FDNsfs {
				if kind, inode, err := ParseNamespaceLink(link); err != nil || kind != target.Path || inode != target.Inode {
					t.Errorf("ParseNamespaceLink(%q) = %q, %d, %v, want %q, %d", link, kind, inode, err, target.Path, target.Inode)
				}
			}
			return
		default:
			t.Fatalf("Type = %q, not one of the FD constants", target.Type)
		}
		if target.Deleted {
			written += deletedSuffix
		}
		if written != link {
			t.Errorf("%+v written back = %q, want %q", target, written, link)
		}
		if target.HasInode || target.Inode != 0 {
			t.Errorf("%s target has inode %d", target.Type, target.Inode)
		}
	})
}
