package collection

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/procsql/procsql/procfile"
)

// scenarioFile returns the content of one file of the scenario collection,
// by suffix, for fuzz seeds.
func scenarioFile(f *testing.F, suffix string) []byte {
	f.Helper()
	dir := filepath.Join(extractCatScaleArchive(f), "catscale_out")
	matches, err := filepath.Glob(filepath.Join(dir, "*", "*-"+suffix))
	if err != nil || len(matches) != 1 {
		f.Fatalf("scenario file *-%s: %v, %d matches", suffix, err, len(matches))
	}
	data, err := os.ReadFile(matches[0])
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// FuzzParseSS checks that every row rebuilt from ss output parses as the
// kernel's own /proc/net text, one row per line written.
func FuzzParseSS(f *testing.F) {
	f.Add(scenarioFile(f, "ss-anepo.txt"))
	f.Add([]byte("u_str ESTAB 0 0 /run/a b 5 * 6 users:((\"x\",pid=1,fd=2))\ntcp LISTEN 0 5 [::1]%lo:80 [::]:* ino:9 uid:5 timer:(keepalive,1min,0)\n"))
	f.Add([]byte("p_dgr UNCONN 0 0 0x0800:eth0 * ino:4 uid:7\nudp ESTAB 3 4 1.2.3.4:5 6.7.8.9:10 ino:11\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out := parseSS(data, &fileProblems{name: "ss"})
		for file, lines := range out.lines {
			text := out.netFile(file)
			var rows int
			var err error
			switch file {
			case "unix":
				var parsed []procfile.UnixSocket
				parsed, err = procfile.ParseNetUnix(text)
				rows = len(parsed)
			case "packet":
				var parsed []procfile.PacketSocket
				parsed, err = procfile.ParseNetPacket(text)
				rows = len(parsed)
			default:
				var parsed []procfile.IPSocket
				parsed, err = procfile.ParseNetIP(text, nil)
				rows = len(parsed)
			}
			// A unix path with a newline continues on the next line, so
			// it may hold fewer rows than lines, never more.
			if err != nil || rows > len(lines) || (file != "unix" && rows != len(lines)) {
				t.Errorf("net/%s from %q: %d rows of %d lines, %v\n%s", file, data, rows, len(lines), err, text)
			}
		}
		for _, h := range out.holders {
			if h.pid <= 0 || h.fd < 0 {
				t.Errorf("holder %+v from %q", h, data)
			}
		}
	})
}

// FuzzParseHeadOutput checks that two files written as GNU head writes
// them split back into the same two files.
func FuzzParseHeadOutput(f *testing.F) {
	f.Add(uint16(13), []byte("sleep\x003600\x00"), []byte(""))
	f.Add(uint16(7), []byte("a\n"), []byte("b\n\n"))
	f.Add(uint16(1), []byte("==> /proc/2/cmdline <==\n"), []byte("x"))
	f.Fuzz(func(t *testing.T, pid uint16, first, second []byte) {
		if pid == 0 || pid == 65535 {
			return
		}
		data := []byte("==> /proc/" + strconv.Itoa(int(pid)) + "/cmdline <==\n")
		data = append(data, first...)
		data = append(data, "\n==> /proc/"+strconv.Itoa(int(pid)+1)+"/cmdline <==\n"...)
		data = append(data, second...)
		entries := parseHeadOutput(data, "cmdline", &fileProblems{name: "cmdline"})
		for _, e := range entries {
			if !bytes.Contains(data, e.content) {
				t.Errorf("content %q is not in the input %q", e.content, data)
			}
		}
		if bytes.Contains(first, []byte("==> /proc/")) || bytes.Contains(second, []byte("==> /proc/")) {
			return
		}
		if len(entries) != 2 || !bytes.Equal(entries[0].content, first) || !bytes.Equal(entries[1].content, second) {
			t.Errorf("parseHeadOutput(%q) = %+v, want %q and %q", data, entries, first, second)
		}
	})
}

// FuzzLoadCatScale feeds one input to every per-process file of a
// collection and checks that the import ends in a tree or an error, with
// every rebuilt status parsing as status.
func FuzzLoadCatScale(f *testing.F) {
	// Short seeds keep each run fast: every input is read as ten files.
	for _, suffix := range []string{"process-details.txt", "processes-axwwSo.txt", "ss-anepo.txt", "process-environment.txt"} {
		data := scenarioFile(f, suffix)
		f.Add(data[:min(len(data), 1500)])
	}
	lsof, err := os.ReadFile("testdata/catscale/lsof-4.95.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(lsof[:1500])
	f.Fuzz(func(t *testing.T, data []byte) {
		files := map[string]string{}
		for _, suffix := range []string{
			"process-details.txt", "processes-axwwSo.txt", "process-cmdline.txt", "process-environment.txt",
			"lsof-list-open-files.txt", "ss-anepo.txt", "processhashes.txt",
			"process-exe-links.txt", "process-fd-links.txt", "process-map_files-links.txt",
		} {
			files["Process_and_Network/"+suffix] = string(data)
		}
		files["System_Info/host-date-timezone.txt"] = string(data)
		tree, err := loadCatScale(catScaleFS(files), ".")
		if err != nil {
			return
		}
		names, _ := tree.ReadDir(".")
		for _, name := range names {
			if strings.Trim(name, "0123456789") != "" {
				continue
			}
			status, err := tree.ReadFile(name + "/status")
			if err != nil {
				continue
			}
			if _, err := procfile.ParseStatus(status); err != nil {
				t.Errorf("%s/status does not parse: %v\n%q", name, err, status)
			}
		}
	})
}
