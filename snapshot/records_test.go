package snapshot

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

var recordSeeds = []string{
	`[]`,
	` [ ] `,
	`[{}]`,
	`[{"op":"read","path":"proc/1/stat","size":239,"offset":1024,"sha256":"bd5f"}]`,
	`[{"op":"readlink","path":"proc/1/exe","target":"/usr/bin/x (deleted)"},{"op":"stat","path":"proc/1/exe","nlink":0,"file_size":-1}]`,
	`[{"op":"readdir","path":"proc/.","names":["1","2","self"]},{"op":"readdir","path":"proc/1/fd","names":[]}]`,
	`[{"op":"read","path":"proc/1/environ","errno":"EACCES"},{"op":"read","path":"proc/1/x","not_collected":true,"error":"boom"}]`,
	"[\n {\"op\": \"read\",\n  \"path\": \"proc/1/stat\"}\n]",
	// Each of these leaves the fast path; encoding/json decides.
	`[{"op":"readlink","path":"proc/1/exe","target":"/tmp/a\"b\\c\n\u00e9"}]`,
	"[{\"op\":\"readlink\",\"path\":\"proc/1/exe\",\"target\":\"/tmp/\xff\xfe\"}]",
	`[{"OP":"read","Path":"proc/1/stat"}]`,
	`[{"op":"read","path":"proc/1/stat","size":1e3}]`,
	`[{"op":"stat","path":"proc/1/exe","nlink":-1}]`,
	`[{"op":"stat","path":"proc/1/exe","nlink":18446744073709551616}]`,
	`[{"op":"read","path":"proc/1/stat","size":007}]`,
	`[{"op":"read","path":"proc/1/stat","extra":[1,2]}]`,
	`[{"op":null}]`,
	`null`,
	`[{"op":"read",}]`,
	`[{"op":"read"}`,
	`[{"op":"read"}] x`,
	`[{"names":["a","a"],"names":["b"]}]`,
}

// TestDecodeRecordsMatchesJSON checks that the fast path returns what
// encoding/json returns, and fails where it fails.
func TestDecodeRecordsMatchesJSON(t *testing.T) {
	for _, in := range recordSeeds {
		checkDecodeRecords(t, []byte(in))
	}
	for _, in := range recordSeeds[3:7] {
		if _, ok := fastRecords([]byte(in)); !ok {
			t.Errorf("fast path gave up on %s, which json.Marshal could have written", in)
		}
	}
}

func checkDecodeRecords(t *testing.T, in []byte) {
	t.Helper()
	got, gotErr := decodeRecords(in)
	var want []Record
	wantErr := json.Unmarshal(in, &want)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%q: error %v, encoding/json %v", in, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got  %+v\n want %+v", in, got, want)
	}
}

func FuzzDecodeRecords(f *testing.F) {
	for _, in := range recordSeeds {
		f.Add([]byte(in))
	}
	f.Fuzz(checkDecodeRecords)
}

var segmentSeeds = []string{
	`[]`,
	`[{"name":"proc/1","offset":0,"length":120,"sha256":"ab","size":2048,"entries":3}]`,
	`[{"name":"proc","offset":0,"length":1,"sha256":"","size":0,"entries":1},{"name":"host","offset":1,"length":2,"sha256":"cd","size":512,"entries":2}]`,
	`[{"name":"proc/1","entries":1e2}]`,
	`[{"name":"proc/1","entries":9223372036854775808}]`,
	`[{"Name":"proc/1"}]`,
	`[{"name":"proc/\u0031"}]`,
	`{"name":"proc/1"}`,
}

// TestDecodeSegmentsMatchesJSON checks the manifest's segment table like
// TestDecodeRecordsMatchesJSON checks records.
func TestDecodeSegmentsMatchesJSON(t *testing.T) {
	for _, in := range segmentSeeds {
		checkDecodeSegments(t, []byte(in))
	}
	for _, in := range segmentSeeds[1:3] {
		if _, ok := parseArray([]byte(in), (*recordParser).segment); !ok {
			t.Errorf("fast path gave up on %s, which json.Marshal could have written", in)
		}
	}
}

func checkDecodeSegments(t *testing.T, in []byte) {
	t.Helper()
	got, gotErr := decodeSegments(in)
	var want []Segment
	wantErr := json.Unmarshal(in, &want)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%q: error %v, encoding/json %v", in, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got  %+v\n want %+v", in, got, want)
	}
}

func FuzzDecodeSegments(f *testing.F) {
	for _, in := range segmentSeeds {
		f.Add([]byte(in))
	}
	f.Fuzz(checkDecodeSegments)
}

// checkRecordsEntry checks that recordsEntry, when it accepts data, returns
// the body that archive/tar reads for the first entry.
func checkRecordsEntry(t *testing.T, data []byte, name string) {
	t.Helper()
	body, ok := recordsEntry(data, name)
	if !ok {
		return
	}
	tr := tar.NewReader(bytes.NewReader(data))
	hdr, err := tr.Next()
	if err != nil {
		t.Fatalf("recordsEntry accepted a header that archive/tar rejects: %v", err)
	}
	want, err := io.ReadAll(tr)
	if err != nil {
		t.Fatalf("recordsEntry accepted an entry that archive/tar cannot read: %v", err)
	}
	if hdr.Name != name || hdr.Typeflag != tar.TypeReg || !bytes.Equal(body, want) {
		t.Fatalf("recordsEntry = %q; archive/tar reads %q of type %q with %q", body, hdr.Name, hdr.Typeflag, want)
	}
}

func recordsTar(t testing.TB, name string, body []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := writeEntry(tw, name, body, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRecordsEntryMatchesArchiveTar(t *testing.T) {
	data := recordsTar(t, "records/proc/1.json", []byte(`[{"op":"read"}]`))
	body, ok := recordsEntry(data, "records/proc/1.json")
	if !ok || string(body) != `[{"op":"read"}]` {
		t.Errorf("recordsEntry = %q, %v; want the records", body, ok)
	}
	if _, ok := recordsEntry(data, "records/proc/2.json"); ok {
		t.Error("recordsEntry accepted another segment's records")
	}
	long := "records/" + strings.Repeat("x", 120) + ".json"
	if _, ok := recordsEntry(recordsTar(t, long, []byte("[]")), long); ok {
		t.Error("recordsEntry accepted a name longer than the ustar field, which needs archive/tar")
	}
	for cut := range data {
		checkRecordsEntry(t, data[:cut], "records/proc/1.json")
	}
}

func FuzzRecordsEntry(f *testing.F) {
	f.Add(recordsTar(f, "records/proc/1.json", []byte(`[]`)), "records/proc/1.json")
	f.Add(recordsTar(f, "records/host.json", []byte(`[{"op":"host_read","path":"host/etc/passwd"}]`)), "records/host.json")
	f.Fuzz(checkRecordsEntry)
}
