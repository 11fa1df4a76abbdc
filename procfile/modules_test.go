package procfile

import (
	"bytes"
	"errors"
	"slices"
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
