package procfile

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// moduleWant lists the values a test checks in one Module.
type moduleWant struct {
	name        string
	size        uint64
	refCount    int64
	hasRefCount bool
	usedBy      []string
	permanent   bool
	state       string
	address     uint64
	hasAddress  bool
	taint       string
}

func checkModule(t *testing.T, index int, got Module, want moduleWant) {
	t.Helper()
	if got.Name != want.name {
		t.Errorf("row %d: Name = %q, want %q", index, got.Name, want.name)
	}
	if got.Size != want.size {
		t.Errorf("row %d: Size = %d, want %d", index, got.Size, want.size)
	}
	if got.RefCount != want.refCount {
		t.Errorf("row %d: RefCount = %d, want %d", index, got.RefCount, want.refCount)
	}
	if got.HasRefCount != want.hasRefCount {
		t.Errorf("row %d: HasRefCount = %t, want %t", index, got.HasRefCount, want.hasRefCount)
	}
	if !slices.Equal(got.UsedBy, want.usedBy) {
		t.Errorf("row %d: UsedBy = %q, want %q", index, got.UsedBy, want.usedBy)
	}
	if got.Permanent != want.permanent {
		t.Errorf("row %d: Permanent = %t, want %t", index, got.Permanent, want.permanent)
	}
	if got.State != want.state {
		t.Errorf("row %d: State = %q, want %q", index, got.State, want.state)
	}
	if got.Address != want.address {
		t.Errorf("row %d: Address = %#x, want %#x", index, got.Address, want.address)
	}
	if got.HasAddress != want.hasAddress {
		t.Errorf("row %d: HasAddress = %t, want %t", index, got.HasAddress, want.hasAddress)
	}
	if got.Taint != want.taint {
		t.Errorf("row %d: Taint = %q, want %q", index, got.Taint, want.taint)
	}
}

func TestParseModulesTaintsHiddenAddress(t *testing.T) {
	rows, err := ParseModules(readCaseFile(t, "27-modules-taint-flags/modules"))
	if err != nil {
		t.Fatalf("ParseModules: %v", err)
	}
	want := []moduleWant{
		{name: "acme_shim", size: 20480, refCount: 0, hasRefCount: true, state: "Live", taint: "POE"},
		{name: "nvidia_uvm", size: 1540096, refCount: 2, hasRefCount: true, state: "Live", taint: "POE"},
		{name: "nvidia", size: 56586240, refCount: 120, hasRefCount: true, usedBy: []string{"nvidia_uvm", "nvidia_modeset"}, state: "Live", taint: "POE"},
		{name: "vboxguest", size: 421888, refCount: 5, hasRefCount: true, usedBy: []string{"vboxsf"}, state: "Live", taint: "OE"},
		{name: "staging_drv", size: 16384, refCount: 0, hasRefCount: true, state: "Live", taint: "C"},
		{name: "e1000e", size: 327680, refCount: 0, hasRefCount: true, state: "Live", taint: ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i := range want {
		checkModule(t, i, rows[i], want[i])
	}
}

func TestParseModulesRootAddresses(t *testing.T) {
	rows, err := ParseModules(readCaseFile(t, "27-modules-taint-flags/modules.root"))
	if err != nil {
		t.Fatalf("ParseModules: %v", err)
	}
	want := []moduleWant{
		{name: "nvidia", size: 56586240, refCount: 120, hasRefCount: true, usedBy: []string{"nvidia_uvm", "nvidia_modeset"},
			state: "Live", address: 0xffffffffc1a00000, hasAddress: true, taint: "POE"},
		{name: "e1000e", size: 327680, refCount: 0, hasRefCount: true, state: "Live", address: 0xffffffffc0400000, hasAddress: true},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i := range want {
		checkModule(t, i, rows[i], want[i])
	}
}

func TestParseModulesKernelVariants(t *testing.T) {
	tests := []struct {
		name string
		line string
		want moduleWant
	}{
		{
			"no unload support",
			"ext4 1007616 - - Live 0xffffffffc0a00000",
			moduleWant{name: "ext4", size: 1007616, state: "Live", address: 0xffffffffc0a00000, hasAddress: true},
		},
		{
			"permanent",
			"vboxsf 45056 1 [permanent], Live 0x0000000000000000 (OE)",
			moduleWant{name: "vboxsf", size: 45056, refCount: 1, hasRefCount: true, permanent: true, state: "Live", taint: "OE"},
		},
		{
			"permanent and users",
			"base 8192 2 user_a,[permanent], Live 0x0000000000000000",
			moduleWant{name: "base", size: 8192, refCount: 2, hasRefCount: true, usedBy: []string{"user_a"}, permanent: true, state: "Live"},
		},
		{
			"loading tainted",
			"acme 16384 0 - Loading 0xffffffffc0600000 (OE+)",
			moduleWant{name: "acme", size: 16384, hasRefCount: true, state: "Loading", address: 0xffffffffc0600000, hasAddress: true, taint: "OE"},
		},
		{
			"unloading tainted",
			"acme 16384 0 - Unloading 0xffffffffc0600000 (P-)",
			moduleWant{name: "acme", size: 16384, hasRefCount: true, state: "Unloading", address: 0xffffffffc0600000, hasAddress: true, taint: "P"},
		},
		{
			"32-bit kernel",
			"e1000 102400 0 - Live 0xf8a2c000",
			moduleWant{name: "e1000", size: 102400, hasRefCount: true, state: "Live", address: 0xf8a2c000, hasAddress: true},
		},
		{
			"32-bit hidden address",
			"e1000 102400 0 - Live 0x00000000",
			moduleWant{name: "e1000", size: 102400, hasRefCount: true, state: "Live"},
		},
		{
			"column appended after taints",
			"e1000 102400 0 - Live 0x00000000 (O) future",
			moduleWant{name: "e1000", size: 102400, hasRefCount: true, state: "Live", taint: "O"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ParseModules([]byte(tt.line + "\n"))
			if err != nil {
				t.Fatalf("ParseModules: %v", err)
			}
			if len(rows) != 1 {
				t.Fatalf("got %d rows, want 1", len(rows))
			}
			checkModule(t, 0, rows[0], tt.want)
		})
	}
}

func TestParseModulesMalformed(t *testing.T) {
	const good = "e1000e 327680 0 - Live 0x0000000000000000\n"
	tests := []struct {
		name        string
		bad         string
		wantInError string
	}{
		{"five columns", "e1000e 327680 0 - Live", "found 5"},
		{"size not a number", "e1000e 32k 0 - Live 0x0", "invalid size"},
		{"size negative", "e1000e -1 0 - Live 0x0", "invalid size"},
		{"refcount not a number", "e1000e 327680 x - Live 0x0", "invalid refcnt"},
		{"deps without trailing comma", "e1000e 327680 1 ptp Live 0x0", "invalid deps"},
		{"deps with empty name", "e1000e 327680 1 ptp,,pps, Live 0x0", "invalid deps"},
		{"address without 0x", "e1000e 327680 0 - Live ffffffffc0400000", "invalid address"},
		{"address not hex", "e1000e 327680 0 - Live 0xffffzzzz", "invalid address"},
		{"address over 64 bits", "e1000e 327680 0 - Live 0x1ffffffffc0400000", "invalid address"},
		{"taints without parentheses", "e1000e 327680 0 - Live 0x0 POE", "invalid taint flags"},
		{"taints lower case", "e1000e 327680 0 - Live 0x0 (poe)", "invalid taint flags"},
		{"taints unclosed", "e1000e 327680 0 - Live 0x0 (POE", "invalid taint flags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ParseModules([]byte(good + tt.bad + "\n" + good))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error = %v, want one wrapping ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), "line 2:") {
				t.Errorf("error %q does not name line 2", err)
			}
			if !strings.Contains(err.Error(), tt.wantInError) {
				t.Errorf("error %q does not contain %q", err, tt.wantInError)
			}
			if len(rows) != 2 {
				t.Errorf("got %d good rows, want 2 around the bad line", len(rows))
			}
		})
	}
}

func TestParseModulesTruncated(t *testing.T) {
	for _, name := range []string{"27-modules-taint-flags/modules", "27-modules-taint-flags/modules.root"} {
		data := readCaseFile(t, name)
		whole, err := ParseModules(data)
		if err != nil {
			t.Fatalf("%s: ParseModules: %v", name, err)
		}
		for end := 0; end <= len(data); end++ {
			rows, _ := ParseModules(data[:end])
			if len(rows) > len(whole) {
				t.Fatalf("%s cut to %d bytes: got %d rows, more than the whole file's %d", name, end, len(rows), len(whole))
			}
		}
	}
}

func BenchmarkParseModules(b *testing.B) {
	fixture := readCaseFile(b, "27-modules-taint-flags/modules")
	data := bytes.Repeat(fixture, 200)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseModules(data); err != nil {
			b.Fatal(err)
		}
	}
}

// formatModuleLine writes row as the kernel prints a /proc/modules line. A
// module in the Loading or Unloading state gets '+' or '-' in its taint
// group, which then appears even without taint letters.
func formatModuleLine(row Module) string {
	refCount := "-"
	if row.HasRefCount {
		refCount = strconv.FormatInt(row.RefCount, 10)
	}
	users := ""
	for _, user := range row.UsedBy {
		users += user + ","
	}
	if row.Permanent {
		users += "[permanent],"
	}
	if users == "" {
		users = "-"
	}
	line := fmt.Sprintf("%s %d %s %s %s 0x%016x", row.Name, row.Size, refCount, users, row.State, row.Address)
	mark := map[string]string{"Loading": "+", "Unloading": "-"}[row.State]
	if row.Taint != "" || mark != "" {
		line += " (" + row.Taint + mark + ")"
	}
	return line
}

// checkModuleEqual compares every field of got and want, one error per field.
func checkModuleEqual(t *testing.T, index int, got, want Module) {
	t.Helper()
	checkModule(t, index, got, moduleWant{
		name: want.Name, size: want.Size, refCount: want.RefCount, hasRefCount: want.HasRefCount,
		usedBy: want.UsedBy, permanent: want.Permanent, state: want.State, address: want.Address,
		hasAddress: want.HasAddress, taint: want.Taint,
	})
}

// FuzzParseModules checks that every row ParseModules returns parses back
// unchanged from the line the kernel would print for it, and that no line is
// dropped without an error.
func FuzzParseModules(f *testing.F) {
	addFileSeeds(f, caseGlob("*/modules*"))
	f.Add([]byte("base 8192 2 user_a,[permanent], Live 0x0000000000000000\next4 1007616 - - Loading 0xffffffffc0a00000 (OE+)\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var rows []Module
		var err error
		checkAllocations(t, len(data), func() { rows, err = ParseModules(data) })
		checkMalformed(t, err)
		lines := countTableRows(data, "")
		if err == nil && len(rows) != lines {
			t.Errorf("got %d rows and no error from %d lines", len(rows), lines)
		}
		if len(rows) > lines {
			t.Errorf("got %d rows from %d lines", len(rows), lines)
		}
		var written strings.Builder
		for i, row := range rows {
			if row.HasAddress != (row.Address != 0) {
				t.Errorf("row %d: HasAddress = %v with Address %#x", i, row.HasAddress, row.Address)
			}
			written.WriteString(formatModuleLine(row) + "\n")
		}
		again, err := ParseModules([]byte(written.String()))
		if err != nil || len(again) != len(rows) {
			t.Fatalf("ParseModules(%q) = %d rows, %v, want %d", written.String(), len(again), err, len(rows))
		}
		for i, row := range rows {
			checkModuleEqual(t, i, again[i], row)
		}
	})
}

// FuzzModuleRow writes a module from known values between two fixed lines and
// checks that every column comes back unchanged. Names lose the bytes that
// end a column or a user name, and brackets, so that no user is named
// "[permanent]", which the format reserves. The seeds are the modules of the
// fixtures.
func FuzzModuleRow(f *testing.F) {
	for _, data := range readSeedFiles(f, caseGlob("*/modules*")) {
		rows, err := ParseModules(data)
		if err != nil {
			f.Fatalf("seed %q: %v", data, err)
		}
		for _, row := range rows {
			taints := uint32(0)
			for _, c := range row.Taint {
				taints |= 1 << (c - 'A')
			}
			f.Add(row.Name, strings.Join(row.UsedBy, ","), uint32(row.Size), int32(row.RefCount), row.HasRefCount,
				row.Permanent, byte(0), row.Address, taints)
		}
	}
	f.Fuzz(func(t *testing.T, name, users string, size uint32, refCount int32, hasRefCount, permanent bool,
		state byte, address uint64, taints uint32) {
		const notInName = " \t\n,[]"
		name = sanitize(name, notInName)
		if name == "" {
			name = "m"
		}
		var usedBy []string
		if users != "" {
			for user := range strings.SplitSeq(users, ",") {
				if user = sanitize(user, notInName); user != "" {
					usedBy = append(usedBy, user)
				}
			}
		}
		letters := ""
		for i := range 26 {
			if taints&(1<<i) != 0 {
				letters += string(rune('A' + i))
			}
		}
		want := Module{
			Name: name, Size: uint64(size), UsedBy: usedBy, Permanent: permanent,
			State:   []string{"Live", "Loading", "Unloading"}[int(state)%3],
			Address: address, HasAddress: address != 0, Taint: letters,
		}
		if hasRefCount {
			want.RefCount, want.HasRefCount = int64(refCount), true
		}
		first := Module{Name: "nvidia", Size: 56586240, RefCount: 120, HasRefCount: true, UsedBy: []string{"nvidia_uvm"}, State: "Live", Taint: "POE"}
		last := Module{Name: "e1000e", Size: 327680, HasRefCount: true, State: "Live", Address: 0xffffffffc0400000, HasAddress: true}
		data := formatModuleLine(first) + "\n" + formatModuleLine(want) + "\n" + formatModuleLine(last) + "\n"

		rows, err := ParseModules([]byte(data))
		if err != nil {
			t.Fatalf("ParseModules(%q): %v", data, err)
		}
		if len(rows) != 3 {
			t.Fatalf("ParseModules(%q) = %d rows, want 3", data, len(rows))
		}
		checkModuleEqual(t, 0, rows[0], first)
		checkModuleEqual(t, 1, rows[1], want)
		checkModuleEqual(t, 2, rows[2], last)
	})
}
