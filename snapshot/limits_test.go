package snapshot

import (
	"bytes"
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// boundsSegment builds a loaded segment from records, with content for the
// successful reads named in files, sorted as a loaded segment is.
func boundsSegment(records []Record, files map[string][]byte) *segment {
	sort.Slice(records, func(i, j int) bool {
		a, b := &records[i], &records[j]
		return a.Path < b.Path || a.Path == b.Path && a.Op < b.Op
	})
	seg := &segment{records: records, content: make([][]byte, len(records))}
	for i, rec := range records {
		seg.content[i] = files[rec.Path]
	}
	return seg
}

// segmentsOf returns a hasSegment function for the given segment names.
func segmentsOf(names ...string) func(string) bool {
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	return func(name string) bool { return set[name] }
}

func readRecord(path string, data []byte) Record {
	return Record{Op: OpRead, Path: path, Size: int64(len(data))}
}

func TestCountArgStrings(t *testing.T) {
	cases := []struct {
		data string
		want int
	}{
		{"", 0},
		{"\x00", 1},
		{"sleep\x0060\x00", 2},
		{"sleep\x0060", 2},
		{"\x00\x00\x00", 3},
		{"A=1\x00B=2\x00", 2},
	}
	for _, c := range cases {
		if got := countArgStrings([]byte(c.data)); got != c.want {
			t.Errorf("countArgStrings(%q) = %d, want %d", c.data, got, c.want)
		}
	}
}

func TestArgStringsBound(t *testing.T) {
	atBound := bytes.Repeat([]byte{0}, maxArgStrings)
	half := bytes.Repeat([]byte("A=\x00"), maxArgStrings/2)

	cases := []struct {
		name  string
		files map[string][]byte
		want  string // "" when the segment is within the bound
	}{
		{"cmdline at the bound", map[string][]byte{"proc/7/cmdline": atBound}, ""},
		{"cmdline one string above", map[string][]byte{"proc/7/cmdline": append(bytes.Clone(atBound), 'x')},
			"proc/7/cmdline has 8388609 NUL-separated strings, above the bound of 8388608"},
		{"cmdline and environ at the bound together", map[string][]byte{"proc/7/cmdline": half, "proc/7/environ": half}, ""},
		{"cmdline and environ above the bound together", map[string][]byte{"proc/7/cmdline": half, "proc/7/environ": append(bytes.Clone(half), 0)},
			"proc/7/cmdline has 4194304 and proc/7/environ has 4194305 NUL-separated strings, 8388609 in all, above the bound of 8388608"},
		// Threads share their process's memory, so each thread directory
		// counts on its own.
		{"threads counted apart", map[string][]byte{"proc/7/task/7/cmdline": atBound, "proc/7/task/8/cmdline": atBound}, ""},
		// Other files hold no argument strings.
		{"other files", map[string][]byte{"proc/7/maps": append(bytes.Clone(atBound), 0), "proc/7/environment": append(bytes.Clone(atBound), 0)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var records []Record
			for p, data := range c.files {
				records = append(records, readRecord(p, data))
			}
			err := checkCaptureBounds(boundsSegment(records, c.files), segmentsOf())
			checkBoundsError(t, err, c.want)
		})
	}
}

// A failed read holds no bytes and so no strings.
func TestArgStringsFailedRead(t *testing.T) {
	seg := boundsSegment([]Record{{Op: OpRead, Path: "proc/7/environ", Errno: "EACCES"}}, nil)
	if err := checkCaptureBounds(seg, segmentsOf()); err != nil {
		t.Fatal(err)
	}
}

func checkBoundsError(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("want no error, got %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want an error containing %q, got none", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("want an error containing %q, got %v", want, err)
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("error %v does not wrap ErrCorrupt", err)
	}
}

func TestListingBounds(t *testing.T) {
	listing := func(names ...string) Record { return Record{Op: OpReadDir, Path: "proc/.", Names: names} }
	probe := func(names ...string) Record { return Record{Op: OpProbe, Path: "proc/probe/70000", Names: names} }
	fds := func(names ...string) Record { return Record{Op: OpReadDir, Path: "proc/7/fd", Names: names} }
	tasks := func(names ...string) Record { return Record{Op: OpReadDir, Path: "proc/7/task", Names: names} }
	modules := func(names ...string) Record { return Record{Op: OpHostReadDir, Path: "host/sys/module", Names: names} }
	link := func(fd string) Record { return Record{Op: OpReadLink, Path: "proc/7/fd/" + fd, Target: "/dev/null"} }
	failedLink := func(fd string) Record { return Record{Op: OpReadLink, Path: "proc/7/fd/" + fd, Errno: "ENOENT"} }
	stat := func(tid string) Record {
		return Record{Op: OpRead, Path: "proc/7/task/" + tid + "/stat", Errno: "ESRCH"}
	}
	attr := func(module string) Record {
		return Record{Op: OpHostRead, Path: "host/sys/module/" + module + "/initstate", Errno: "ENOENT"}
	}
	segments := segmentsOf("proc/1", "proc/7", "proc/4194303", "proc/65536")

	cases := []struct {
		name    string
		records []Record
		want    string
	}{
		{"listing of backed pids and other entries", []Record{listing("1", "4194303", "7", "cpuinfo", "self")}, ""},
		// The tables skip a name that is not a pid as the kernel spells
		// it, so it costs no row.
		{"listing with names the tables skip", []Record{listing("+7", "-1", "07", "7", "99999999999")}, ""},
		{"listing without a segment", []Record{listing("1", "2", "7")},
			"proc/. lists pid 2, but the snapshot has no segment proc/2: a capture reads every pid it lists"},
		{"listing of pid 0", []Record{listing("0", "1")}, "proc/. lists pid 0, outside the range 1 to 4194303"},
		{"listing above PID_MAX_LIMIT", []Record{listing("1", "4194304")}, "proc/. lists pid 4194304, outside the range 1 to 4194303"},
		{"listing with a pid twice", []Record{listing("1", "7", "7")}, `the names of readdir proc/. are not sorted and distinct: "7" follows "7"`},
		{"listing out of order", []Record{listing("7", "1")}, `"1" follows "7"`},
		{"probe of backed pids", []Record{probe("1", "7", "65536")}, ""},
		{"probe out of order", []Record{probe("7", "1")}, "the pids of proc/probe/70000 are not ascending and distinct: 1 follows 7"},
		{"probe with a pid twice", []Record{probe("7", "7")}, "7 follows 7"},
		{"probe of another spelling", []Record{probe("07")}, `lists "07", which is not a pid`},
		{"probe without a segment", []Record{probe("1", "8")}, "proc/probe/70000 lists pid 8, but the snapshot has no segment proc/8"},
		{"fds with links", []Record{fds("0", "1", "10", "2"), link("0"), link("1"), failedLink("10"), link("2")}, ""},
		{"fd without a link", []Record{fds("0", "1"), link("0")},
			"proc/7/fd lists descriptor 1, but the snapshot has no readlink record of proc/7/fd/1"},
		{"fd at fs.nr_open's maximum", []Record{fds("2147483584"), link("2147483584")},
			"proc/7/fd lists descriptor 2147483584, at or above 2147483584, the largest fs.nr_open"},
		{"fd below fs.nr_open's maximum", []Record{fds("2147483583"), link("2147483583")}, ""},
		{"fds twice", []Record{fds("3", "3"), link("3")}, `"3" follows "3"`},
		{"failed fd listing", []Record{{Op: OpReadDir, Path: "proc/7/fd", Errno: "EACCES"}}, ""},
		{"threads with reads", []Record{tasks("7", "8"), stat("7"), stat("8")}, ""},
		{"thread without a read", []Record{tasks("7", "8"), stat("7")},
			"proc/7/task lists thread 8, but the snapshot has no record under proc/7/task/8/"},
		// proc/7/task/80/stat must not count as a read of thread 8.
		{"thread with a longer id read", []Record{tasks("8"), stat("80")}, "proc/7/task lists thread 8"},
		{"thread above PID_MAX_LIMIT", []Record{tasks("4194304"), stat("4194304")}, "lists thread 4194304, outside the range 1 to 4194303"},
		{"modules with reads", []Record{modules("ext4", "kvm"), attr("ext4"), attr("kvm")}, ""},
		{"module without a read", []Record{modules("ext4", "kvm"), attr("ext4")},
			`host/sys/module lists module "kvm", but the snapshot has no record under host/sys/module/kvm/`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkCaptureBounds(boundsSegment(c.records, nil), segments)
			checkBoundsError(t, err, c.want)
		})
	}
}

// A capture of a million processes lists a million pids, each with its
// segment, and stays within the bounds.
func TestListingBoundsMillionPIDs(t *testing.T) {
	names := make([]string, 0, 1_000_000)
	for pid := 1; pid <= 1_000_000; pid++ {
		names = append(names, strconv.Itoa(pid))
	}
	sort.Strings(names)
	seg := boundsSegment([]Record{{Op: OpReadDir, Path: "proc/.", Names: names}}, nil)
	all := func(name string) bool { return strings.HasPrefix(name, "proc/") }
	if err := checkCaptureBounds(seg, all); err != nil {
		t.Fatal(err)
	}
}
