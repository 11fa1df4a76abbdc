package collection

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawTarGz returns a gzip-compressed tar archive with the given headers,
// each followed by its body.
func rawTarGz(t *testing.T, files ...struct {
	hdr  tar.Header
	body string
}) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		hdr := f.hdr
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(f.body))
		}
		hdr.Mode = 0o644
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type tarFile = struct {
	hdr  tar.Header
	body string
}

func TestOpenRejectsDamagedArchives(t *testing.T) {
	archive, err := os.ReadFile(uacArchive)
	if err != nil {
		t.Fatal(err)
	}
	entries := readUACEntries(t)
	zipped := uacZip(t, entries)
	flipped := bytes.Clone(archive)
	flipped[len(flipped)/2] ^= 0xff
	badCRC := bytes.Clone(archive)
	badCRC[len(badCRC)-8] ^= 0x01 // the gzip trailer's CRC-32
	appended := append(bytes.Clone(archive), []byte("trailing data")...)
	doubled := append(bytes.Clone(archive), archive...)
	extraMember := append(bytes.Clone(archive), gzipOf(t, "x\n")...)
	dup := rawTarGz(t, tarFile{tar.Header{Name: "uac.log"}, "a"}, tarFile{tar.Header{Name: "./uac.log"}, "b"})

	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated tar.gz", archive[:len(archive)/2], "the archive is truncated or damaged"},
		{"truncated after the tar", archive[:len(archive)-4], "the archive is truncated or damaged"},
		{"flipped byte in tar.gz", flipped, "the archive is truncated or damaged"},
		{"wrong gzip checksum", badCRC, "after the last entry"},
		{"data after the gzip stream", appended, "the archive is truncated or damaged"},
		{"two archives in one file", doubled, "after the end of the tar archive"},
		{"a gzip member after the archive", extraMember, "after the end of the tar archive"},
		{"truncated zip", zipped[:len(zipped)/2], "the archive is truncated or damaged"},
		{"text file", []byte("just some notes\n"), "invalid collection archive: neither a directory nor a gzip, tar or zip archive; procsql reads a UAC or CatScale collection"},
		{"empty file", nil, "invalid collection archive: neither a directory nor a gzip, tar or zip archive"},
		{"gzip of text", gzipOf(t, "not a tar archive\n"), "the archive is truncated or damaged"},
		{"empty tar.gz", rawTarGz(t), "the archive contains no entries"},
		{"dot-dot entry", rawTarGz(t, tarFile{tar.Header{Name: "live_response/../../etc/cron.d/x"}, "x"}), `leads out of the archive through ".."`},
		{"absolute entry", rawTarGz(t, tarFile{tar.Header{Name: "/etc/passwd"}, "x"}), "has an absolute path"},
		{"duplicate entry", dup, `entry "uac.log" appears twice`},
		{"file and directory", rawTarGz(t, tarFile{tar.Header{Name: "a"}, "x"}, tarFile{tar.Header{Name: "a/b"}, "y"}), `"a" is both a file and a directory`},
		{"dot-dot zip entry", zipOf(t, "../evil", "x"), `leads out of the archive through ".."`},
		{"encrypted zip", encryptedZip(t), "is encrypted; decrypt the archive first"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeUACFile(t, "collection.bin", c.data)
			tree, err := Open(p)
			if err == nil {
				t.Fatalf("Open returned a tree with %d problems, want an error", len(tree.Problems()))
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func gzipOf(t *testing.T, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(text))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipOf(t *testing.T, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// encryptedZip returns a zip whose only entry has the encryption flag set,
// as zip -e leaves it.
func encryptedZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "uac.log", Method: zip.Store, Flags: 0x1})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("ciphertext"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestOpenStopsDecompressionBomb(t *testing.T) {
	zeros := strings.Repeat("\x00", 8<<20)
	p := writeUACFile(t, "bomb.tar.gz", rawTarGz(t, tarFile{tar.Header{Name: "live_response/zeros"}, zeros}))
	limits := DefaultLimits
	limits.MinExpanded = 1 << 20
	_, err := OpenWithLimits(p, limits)
	if err == nil || !strings.Contains(err.Error(), "a decompression bomb") {
		t.Errorf("error %v, want a decompression bomb", err)
	}
	zipped := writeUACFile(t, "bomb.zip", zipOf(t, "live_response/zeros", zeros))
	_, err = OpenWithLimits(zipped, limits)
	if err == nil || !strings.Contains(err.Error(), "a decompression bomb") {
		t.Errorf("zip: error %v, want a decompression bomb", err)
	}
}

func TestOpenLimitsEntries(t *testing.T) {
	limits := DefaultLimits
	limits.MaxEntries = 10
	_, err := OpenWithLimits(uacArchive, limits)
	if err == nil || !strings.Contains(err.Error(), "more than 10 entries") {
		t.Errorf("error %v, want more than 10 entries", err)
	}
	zipped := writeUACFile(t, "many.zip", uacZip(t, readUACEntries(t)))
	_, err = OpenWithLimits(zipped, limits)
	if err == nil || !strings.Contains(err.Error(), "more than 10") {
		t.Errorf("zip: error %v, want more than 10 entries", err)
	}
}

func TestOpenLimitsMemory(t *testing.T) {
	limits := DefaultLimits
	limits.MaxLoaded = 64 << 10
	_, err := OpenWithLimits(uacArchive, limits)
	if err == nil || !strings.Contains(err.Error(), "add up to more than 65536 bytes; extract the archive and pass the directory") {
		t.Errorf("error %v, want the memory limit", err)
	}
	// The same collection extracted reads each file when needed.
	if _, err := OpenWithLimits(writeUACDir(t, readUACEntries(t), ""), limits); err != nil {
		t.Errorf("directory: %v", err)
	}
}

func TestOpenRejectsUnknownLayouts(t *testing.T) {
	entries := readUACEntries(t)
	var inner []uacEntry
	for _, e := range entries {
		if rest, ok := strings.CutPrefix(e.name, "live_response/"); ok {
			inner = append(inner, uacEntry{rest, e.data})
		}
	}
	var noLog []uacEntry
	for _, e := range entries {
		if e.name != "uac.log" && !strings.HasPrefix(e.name, "hash_list.") {
			noLog = append(noLog, e)
		}
	}
	twoTops := append(prefixEntries(entries[:5], "a/"), prefixEntries(entries[:5], "b/")...)
	cases := []struct {
		name    string
		entries []uacEntry
		want    string
	}{
		{"other files", []uacEntry{{"notes.txt", []byte("x")}, {"photos/a.jpg", []byte("y")}},
			"not a known collection layout (the top holds notes.txt, photos); procsql reads UAC collections (live_response/ with uac.log or hash_list.* beside it) and CatScale collections (catscale_out/Process_and_Network)"},
		{"inside of live_response", inner, "found the inside of live_response: give the collection's top directory, which holds uac.log"},
		{"live_response alone", noLog, "found live_response but neither uac.log nor a hash_list file beside it"},
		{"two top directories", twoTops, "not a known collection layout (the top holds a, b)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeUACDir(t, c.entries, "")
			_, err := Open(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v\nwant it to contain %q", err, c.want)
			}
			if err != nil && !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the directory", err)
			}
		})
	}
	_, err := Open(filepath.Join(t.TempDir(), "missing.tar.gz"))
	if err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("missing file: error %v", err)
	}
}

func TestOpenDirectoryFollowsNoLinks(t *testing.T) {
	dir := writeUACDir(t, readUACEntries(t), "")
	secret := writeUACFile(t, "secret", []byte("outside the collection\n"))
	hostname := filepath.Join(dir, "live_response/network/hostname.txt")
	if err := os.Remove(hostname); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, hostname); err != nil {
		t.Fatal(err)
	}
	tree := openUAC(t, dir)
	problems := strings.Join(tree.Problems(), "\n")
	for _, want := range []string{
		"live_response/network/hostname.txt could not be read, so its data is missing",
		"procsql follows no links in a collection",
	} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
	if data, _ := tree.ReadFile("sys/kernel/hostname"); string(data) != "vm\n" {
		t.Errorf("hostname = %q, want vm from uac.log, not the linked file", data)
	}
}
