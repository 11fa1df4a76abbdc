package collection

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"
)

func TestParseLsLinksFdListing(t *testing.T) {
	data := []byte(`total 0
dr-x------ 2 root root  6 Dec  4 19:29 .
dr-xr-xr-x 9 root root  0 Dec  4 19:29 ..
lr-x------ 1 root root 64 Dec  4 19:29 0 -> /dev/null
lrwx------ 1 root root 64 Dec  4 19:29 3 -> socket:[302320]
lr-x------ 1 root root 64 Dec  4 19:29 4 -> /tmp/a -> b (deleted)
lrwx------ 1 root root 64 Dec  4 19:29 5 -> /tmp/two
lines
l-wx------ 1 root root 64 Dec  4  2025 10 -> /memfd:x (deleted)
`)
	got := parseLsLinks(data)
	want := []lsLink{
		{name: "0", target: "/dev/null"},
		{name: "3", target: "socket:[302320]"},
		{name: "4", target: "/tmp/a -> b (deleted)"},
		{name: "5", target: "/tmp/two\nlines"},
		{name: "10", target: "/memfd:x (deleted)"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("links = %q\nwant %q", got, want)
	}
}

func TestParseLsLinksDirectoryHeadings(t *testing.T) {
	data := []byte(`/proc/1:
total 0
-r--r--r-- 1 root root 0 Dec  4 19:29 cmdline
lrwxrwxrwx 1 root root 0 Dec  4 19:29 cwd -> /
lrwxrwxrwx 1 root root 0 Dec  4 19:29 exe

/proc/13:
total 0
lrwxrwxrwx 1 root root 0 Dec  4 19:29 exe -> /usr/bin/sleep
`)
	got := parseLsLinks(data)
	want := []lsLink{
		{dir: "/proc/1", name: "cwd", target: "/"},
		{dir: "/proc/13", name: "exe", target: "/usr/bin/sleep"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("links = %q\nwant %q", got, want)
	}
}

func TestFromStringsOutput(t *testing.T) {
	cases := []struct {
		name      string
		in        string
		want      string
		converted bool
	}{
		{"lines", "sleep\n3600\n", "sleep\x003600\x00", true},
		{"no final newline", "sleep\n3600", "sleep\x003600\x00", true},
		{"empty", "", "", false},
		{"copied with cat", "ls\x00-la\x00", "ls\x00-la\x00", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, converted := fromStringsOutput([]byte(c.in))
			if string(got) != c.want {
				t.Errorf("data = %q, want %q", got, c.want)
			}
			if converted != c.converted {
				t.Errorf("converted = %v, want %v", converted, c.converted)
			}
		})
	}
}

func TestParseUnameA(t *testing.T) {
	cases := []struct {
		text, machine string
		want          uname
	}{
		{"Linux vm 6.18.44-fc-v1272 #1 SMP PREEMPT_DYNAMIC @0 x86_64 GNU/Linux\n", "x86_64",
			uname{"vm", "6.18.44-fc-v1272", "#1 SMP PREEMPT_DYNAMIC @0", "x86_64"}},
		{"Linux web1 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) x86_64 x86_64 x86_64 GNU/Linux", "",
			uname{"web1", "6.1.0-18-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)", "x86_64"}},
		{"Linux pi 6.6.20+rpt-rpi-v8 #1 SMP PREEMPT Debian 1:6.6.20-1+rpt1 (2024-03-07) aarch64 unknown unknown GNU/Linux", "aarch64",
			uname{"pi", "6.6.20+rpt-rpi-v8", "#1 SMP PREEMPT Debian 1:6.6.20-1+rpt1 (2024-03-07)", "aarch64"}},
	}
	for _, c := range cases {
		got, ok := parseUnameA(c.text, c.machine)
		if !ok || got != c.want {
			t.Errorf("parseUnameA(%q) = %+v, %v; want %+v", c.text, got, ok, c.want)
		}
	}
	if _, ok := parseUnameA("Darwin mac 23.0.0", ""); ok {
		t.Error("parseUnameA accepted a Darwin line")
	}
}

func TestParseUACLog(t *testing.T) {
	log := parseUACLog([]byte(`2026-12-04 19:29:22 +0100 INF Unix-like Artifacts Collector 3.3.0
2026-12-04 19:29:22 +0100 INF Hostname: web1
2026-12-04 19:29:22 +0100 INF System architecture: aarch64
2026-12-04 19:29:30 +0100 CMD ls -l /proc
continued output without a time
2026-12-04 19:29:35 +0100 INF Artifacts collection completed in 13 seconds
`))
	if log.version != "3.3.0" || log.hostname != "web1" || log.arch != "aarch64" {
		t.Errorf("version %q, host %q, arch %q; want 3.3.0, web1, aarch64", log.version, log.hostname, log.arch)
	}
	if want := time.Date(2026, 12, 4, 18, 29, 22, 0, time.UTC); !log.start.Equal(want) {
		t.Errorf("start = %s, want %s", log.start, want)
	}
	if want := time.Date(2026, 12, 4, 18, 29, 35, 0, time.UTC); !log.end.Equal(want) {
		t.Errorf("end = %s, want %s", log.end, want)
	}
	boot, ok := parseUptimeSince("2026-12-04 19:06:51\n", log.zone)
	if want := time.Date(2026, 12, 4, 18, 6, 51, 0, time.UTC); !ok || !boot.Equal(want) {
		t.Errorf("boot = %s, %v; want %s in the log's offset", boot, ok, want)
	}
}

func TestParseUACName(t *testing.T) {
	host, at, ok := parseUACName("/cases/uac-web-1-linux-20261204192922.tar.gz")
	if !ok || host != "web-1" || !at.Equal(time.Date(2026, 12, 4, 19, 29, 22, 0, time.UTC)) {
		t.Errorf("parseUACName = %q, %s, %v", host, at, ok)
	}
	if _, _, ok := parseUACName("collection.tar.gz"); ok {
		t.Error("parseUACName accepted a name without UAC's pattern")
	}
}

func TestParseHashList(t *testing.T) {
	data := []byte("427f93cafd9cc19be6eec03e590c9c6cdf9f688a5eaf21fa8d72351e2b15fd05  live_response/network/hostname.txt\n" +
		"\\427F93CAFD9CC19BE6EEC03E590C9C6CDF9F688A5EAF21FA8D72351E2B15FD05 *odd\\nname\\\\x\n" +
		"not a hash line\n" +
		"6520213d3695a344f306efffa2523807  md5 length\n")
	entries, bad := parseHashList(data, 64)
	want := []hashLine{
		{"427f93cafd9cc19be6eec03e590c9c6cdf9f688a5eaf21fa8d72351e2b15fd05", "live_response/network/hostname.txt"},
		{"427f93cafd9cc19be6eec03e590c9c6cdf9f688a5eaf21fa8d72351e2b15fd05", "odd\nname\\x"},
	}
	if !slices.Equal(entries, want) {
		t.Errorf("entries = %q\nwant %q", entries, want)
	}
	if len(bad) != 2 {
		t.Errorf("bad lines = %q, want the text line and the md5 line", bad)
	}
}

func TestCleanEntryName(t *testing.T) {
	good := map[string]string{
		"./catscale_out/":       "catscale_out",
		"live_response/a.txt":   "live_response/a.txt",
		"./":                    ".",
		"a//b/./c":              "a/b/c",
		"uac-x/live_response/b": "uac-x/live_response/b",
	}
	for in, want := range good {
		got, err := cleanEntryName(in)
		if err != nil || got != want {
			t.Errorf("cleanEntryName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"/etc/passwd", "../evil", "a/../../b", "a/..", "a\x00b"} {
		if got, err := cleanEntryName(in); err == nil {
			t.Errorf("cleanEntryName(%q) = %q, want an error", in, got)
		}
	}
}

func TestByteOrderOf(t *testing.T) {
	for machine, want := range map[string]binary.ByteOrder{
		"x86_64": binary.LittleEndian, "aarch64": binary.LittleEndian, "ppc64le": binary.LittleEndian,
		"s390x": binary.BigEndian, "ppc64": binary.BigEndian, "aarch64_be": binary.BigEndian, "": binary.LittleEndian,
	} {
		if got := byteOrderOf(machine); got != want {
			t.Errorf("byteOrderOf(%q) = %v, want %v", machine, got, want)
		}
	}
}

func TestUnixMergerKeepsEachSocketOnce(t *testing.T) {
	var m unixMerger
	m.add([]byte("Num       RefCount Protocol Flags    Type St Inode Path\n" +
		"0000000044ea4fcf: 00000002 00000000 00010000 0001 01 302321 /run/a\n" +
		"00000000aaaaaaaa: 00000002 00000000 00010000 0001 01 302399 /run/two\nlines\n"))
	m.add([]byte("Num       RefCount Protocol Flags    Type St Inode Path\n" +
		"0000000044ea4fcf: 00000002 00000000 00010000 0001 01 302321 /run/a\n" +
		"00000000bbbbbbbb: 00000002 00000000 00010000 0001 01 302400 /run/b\n"))
	want := "Num       RefCount Protocol Flags    Type St Inode Path\n" +
		"0000000044ea4fcf: 00000002 00000000 00010000 0001 01 302321 /run/a\n" +
		"00000000aaaaaaaa: 00000002 00000000 00010000 0001 01 302399 /run/two\nlines\n" +
		"00000000bbbbbbbb: 00000002 00000000 00010000 0001 01 302400 /run/b\n"
	if got := string(m.bytes()); got != want {
		t.Errorf("merged =\n%s\nwant\n%s", got, want)
	}
}

// TestParseLsLinksLongContinuation checks that a target split over many
// lines is joined whole and that the next entry starts afresh.
func TestParseLsLinksLongContinuation(t *testing.T) {
	var b []byte
	b = append(b, "lrwx------ 1 root root 64 Dec  4 19:29 7 -> /tmp/first\n"...)
	for range 200000 {
		b = append(b, "x\n"...)
	}
	b = append(b, "lrwx------ 1 root root 64 Dec  4 19:29 8 -> /tmp/next\n"...)
	got := parseLsLinks(b)
	if len(got) != 2 {
		t.Fatalf("parsed %d links, want 2", len(got))
	}
	if want := len("/tmp/first") + 200000*2; len(got[0].target) != want || got[0].target[:12] != "/tmp/first\nx" {
		t.Errorf("first target has %d bytes and starts %q, want %d bytes starting \"/tmp/first\\nx\"", len(got[0].target), got[0].target[:12], want)
	}
	if got[1] != (lsLink{name: "8", target: "/tmp/next"}) {
		t.Errorf("second link = %q, want 8 -> /tmp/next", got[1])
	}
}
