package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Limits bound what Open accepts, so that a hostile or damaged file cannot
// exhaust memory. The defaults fit a host with tens of thousands of processes.
type Limits struct {
	MaxEntrySize int64 // bytes of one archive entry
	MaxTotalSize int64 // bytes of all entries together, uncompressed
	MaxEntries   int   // number of archive entries
}

// DefaultLimits are the limits Open uses when given a zero Limits.
var DefaultLimits = Limits{
	MaxEntrySize: 256 << 20,
	MaxTotalSize: 8 << 30,
	MaxEntries:   5_000_000,
}

// maxExpansion bounds how many bytes a snapshot may expand to per byte of the
// file, and minTotalBound keeps that bound from rejecting small files.
// Captures of /proc compress by roughly 10 to 20 times (docs/benchmarks.md);
// 200 leaves room for very repetitive hosts.
const (
	maxExpansion  = 200
	minTotalBound = 64 << 20
)

// zstdMagic starts every zstd frame (RFC 8878).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// writeArchive writes the manifest and the captured file contents as a
// zstd-compressed tar stream. Contents come first, sorted by path, and the
// manifest and its digest last, because the manifest lists the digests of
// everything before it.
func writeArchive(ctx context.Context, w io.Writer, m *Manifest, content map[string][]byte) error {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return fmt.Errorf("start zstd stream: %w", err)
	}
	tw := tar.NewWriter(zw)
	modTime := m.Capture.Start.UTC().Truncate(time.Second)

	paths := make([]string, 0, len(content))
	for p := range content {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeEntry(tw, p, content[p], modTime); err != nil {
			return err
		}
	}

	manifest, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	sum := sha256.Sum256(manifest)
	if err := writeEntry(tw, manifestName, manifest, modTime); err != nil {
		return err
	}
	if err := writeEntry(tw, manifestHashName, []byte(hex.EncodeToString(sum[:])+"  "+manifestName+"\n"), modTime); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finish tar stream: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("finish zstd stream: %w", err)
	}
	return nil
}

func writeEntry(tw *tar.Writer, name string, data []byte, modTime time.Time) error {
	hdr := &tar.Header{
		Name:     name,
		Typeflag: tar.TypeReg,
		Mode:     0o444,
		Size:     int64(len(data)),
		ModTime:  modTime,
		Format:   tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write archive entry %q: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("write archive entry %q: %w", name, err)
	}
	return nil
}

// readArchive reads every entry of a snapshot stream into memory and checks
// the manifest against them. It never writes to disk.
func readArchive(ctx context.Context, r io.Reader, limits Limits) (*Manifest, map[string]entry, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, nil, fmt.Errorf("%w: file is shorter than a zstd header: %v", ErrCorrupt, err)
	}
	if !bytes.Equal(magic[:], zstdMagic) {
		return nil, nil, fmt.Errorf("%w: not a zstd-compressed archive (first bytes %x); procsql snapshots are made with procsql snapshot -o FILE", ErrCorrupt, magic)
	}
	zr, err := zstd.NewReader(io.MultiReader(bytes.NewReader(magic[:]), r),
		zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(limits.MaxEntrySize)*2))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer zr.Close()

	tr := tar.NewReader(zr)
	content := map[string]entry{}
	var manifest, manifestSum, buf []byte
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("loading interrupted: %w", err)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: archive is truncated or damaged after %d entries: %v", ErrCorrupt, len(content), err)
		}
		if err := checkEntryName(hdr); err != nil {
			return nil, nil, err
		}
		if _, dup := content[hdr.Name]; dup {
			return nil, nil, fmt.Errorf("%w: entry %q appears twice", ErrCorrupt, hdr.Name)
		}
		if len(content) >= limits.MaxEntries {
			return nil, nil, fmt.Errorf("%w: more than %d entries", ErrCorrupt, limits.MaxEntries)
		}
		if hdr.Size < 0 || hdr.Size > limits.MaxEntrySize {
			return nil, nil, fmt.Errorf("%w: entry %q declares %d bytes, above the limit of %d", ErrCorrupt, hdr.Name, hdr.Size, limits.MaxEntrySize)
		}
		if total += hdr.Size; total > limits.MaxTotalSize {
			return nil, nil, fmt.Errorf("%w: entries add up to more than %d bytes", ErrCorrupt, limits.MaxTotalSize)
		}
		// One buffer serves every entry, because each is hashed and
		// compressed as soon as it is read; only the manifest is kept.
		if int64(cap(buf)) < hdr.Size {
			buf = make([]byte, hdr.Size)
		}
		data := buf[:hdr.Size]
		if _, err := io.ReadFull(tr, data); err != nil {
			return nil, nil, fmt.Errorf("%w: entry %q is truncated or damaged: %v", ErrCorrupt, hdr.Name, err)
		}
		switch hdr.Name {
		case manifestName:
			manifest = bytes.Clone(data)
			content[hdr.Name] = entry{size: hdr.Size}
		case manifestHashName:
			manifestSum = bytes.Clone(data)
			content[hdr.Name] = entry{size: hdr.Size}
		default:
			content[hdr.Name] = newEntry(data)
		}
	}
	// After the end of the tar stream only the zero padding of the last tar
	// record may follow, so nothing can hide behind a complete archive.
	if n, err := io.Copy(nonZeroDetector{}, io.LimitReader(zr, maxPadding+1)); err != nil || n > maxPadding {
		if err == nil {
			return nil, nil, fmt.Errorf("%w: more than %d bytes follow the end of the archive", ErrCorrupt, maxPadding)
		}
		if errors.Is(err, errTrailingData) {
			return nil, nil, fmt.Errorf("%w: data follows the end of the archive at byte %d of the padding", ErrCorrupt, n)
		}
		return nil, nil, fmt.Errorf("%w: the end of the archive is damaged: %v", ErrCorrupt, err)
	}

	m, err := checkManifest(content, manifest, manifestSum)
	if err != nil {
		return nil, nil, err
	}
	delete(content, manifestName)
	delete(content, manifestHashName)
	return m, content, nil
}

// checkEntryName rejects entries that an extracting tool could write outside
// its target directory, and every entry type but regular files.
func checkEntryName(hdr *tar.Header) error {
	name := hdr.Name
	switch {
	case hdr.Typeflag != tar.TypeReg:
		return fmt.Errorf("%w: entry %q is not a regular file (tar type %q); snapshots hold only regular files", ErrCorrupt, name, hdr.Typeflag)
	case name == "" || strings.HasPrefix(name, "/"):
		return fmt.Errorf("%w: entry %q has an absolute or empty path", ErrCorrupt, name)
	case path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../"):
		return fmt.Errorf("%w: entry %q is not a clean relative path", ErrCorrupt, name)
	case name != manifestName && name != manifestHashName &&
		!strings.HasPrefix(name, "proc/") && !strings.HasPrefix(name, "host/") && !strings.HasPrefix(name, "exe/"):
		return fmt.Errorf("%w: unexpected entry %q outside proc/, host/ and exe/", ErrCorrupt, name)
	}
	return nil
}

// checkManifest parses the manifest, verifies its digest and version, and
// verifies every file record against the archive entries.
func checkManifest(content map[string]entry, raw, sumLine []byte) (*Manifest, error) {
	if _, ok := content[manifestName]; !ok {
		return nil, fmt.Errorf("%w: %s is missing, so the file is truncated or not a procsql snapshot", ErrCorrupt, manifestName)
	}
	if _, ok := content[manifestHashName]; !ok {
		return nil, fmt.Errorf("%w: %s is missing, so the file is truncated", ErrCorrupt, manifestHashName)
	}
	sum := sha256.Sum256(raw)
	if fields := strings.Fields(string(sumLine)); len(fields) == 0 || fields[0] != hex.EncodeToString(sum[:]) {
		return nil, fmt.Errorf("%w: %s does not match the SHA-256 of %s", ErrCorrupt, manifestHashName, manifestName)
	}

	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: %s is not valid JSON: %v", ErrCorrupt, manifestName, err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("%w: manifest format is %q, want %q", ErrCorrupt, m.Format, Format)
	}
	if m.Version != Version {
		return nil, fmt.Errorf("%w: snapshot format version %d is not supported: this procsql reads version %d (use the procsql release that captured it)", ErrCorrupt, m.Version, Version)
	}

	m.index = make(map[string]*Record, len(m.Records))
	for i := range m.Records {
		rec := &m.Records[i]
		key := recordKey(rec.Op, rec.Path)
		if _, seen := m.index[key]; seen {
			return nil, fmt.Errorf("%w: the manifest records %s of %q twice", ErrCorrupt, rec.Op, rec.Path)
		}
		m.index[key] = rec
	}
	referenced := map[string]bool{}
	for _, rec := range m.Records {
		if (rec.Op != OpRead && rec.Op != OpHostRead) || rec.failed() {
			continue
		}
		if err := checkDigest(content, rec.Path, rec.Size, rec.SHA256); err != nil {
			return nil, err
		}
		referenced[rec.Path] = true
	}
	for _, exe := range m.Executables {
		if exe.Error != "" {
			continue
		}
		if err := checkDigest(content, exe.Path, exe.Size, exe.SHA256); err != nil {
			return nil, err
		}
		referenced[exe.Path] = true
	}
	if m.Host.ByteOrder != "little" && m.Host.ByteOrder != "big" {
		return nil, fmt.Errorf("%w: manifest byte order %q is neither \"little\" nor \"big\"", ErrCorrupt, m.Host.ByteOrder)
	}
	for name := range content {
		if name != manifestName && name != manifestHashName && !referenced[name] {
			return nil, fmt.Errorf("%w: entry %q is not listed in the manifest", ErrCorrupt, name)
		}
	}
	return &m, nil
}

func checkDigest(content map[string]entry, name string, size int64, want string) error {
	e, ok := content[name]
	if !ok {
		return fmt.Errorf("%w: entry %q listed in the manifest is missing from the archive", ErrCorrupt, name)
	}
	if e.size != size {
		return fmt.Errorf("%w: entry %q has %d bytes, but the manifest lists %d", ErrCorrupt, name, e.size, size)
	}
	if hex.EncodeToString(e.sum[:]) != want {
		return fmt.Errorf("%w: entry %q does not match its SHA-256 in the manifest", ErrCorrupt, name)
	}
	return nil
}

var errTrailingData = errors.New("data after the end of the archive")

// maxPadding bounds the zeros accepted after the tar end marker; archive/tar
// pads the stream to a 10240-byte record.
//
// NOTE: zstd skippable frames appended to the file produce no output and are
// not detected; they cannot alter what the manifest verifies.
const maxPadding = 64 << 10

// nonZeroDetector accepts zero bytes and fails on the first other byte.
type nonZeroDetector struct{}

func (nonZeroDetector) Write(p []byte) (int, error) {
	for i, b := range p {
		if b != 0 {
			return i, errTrailingData
		}
	}
	return len(p), nil
}
