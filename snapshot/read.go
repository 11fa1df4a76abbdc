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
	"os"
	"path"
	"runtime"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Limits bound what Open accepts, so that a hostile or damaged file cannot
// exhaust memory. The defaults fit a host with tens of thousands of processes.
type Limits struct {
	MaxEntrySize int64 // bytes of one archive entry, and of the manifest
	MaxTotalSize int64 // bytes of all entries together, uncompressed
	MaxEntries   int   // number of archive entries
	// MaxCached bounds the decompressed segments kept for later queries,
	// in bytes. Segments in use by a query are kept beyond it.
	MaxCached int64
}

// maxSegmentSize bounds one segment's tar stream, and so what loading one
// segment allocates: its largest entry with the tar headers and records of
// the others, for which 16 MiB leaves room.
func (l Limits) maxSegmentSize() int64 { return l.MaxEntrySize + 16<<20 }

// DefaultLimits are the limits Open uses when given a zero Limits.
var DefaultLimits = Limits{
	MaxEntrySize: 256 << 20,
	MaxTotalSize: 8 << 30,
	MaxEntries:   5_000_000,
	MaxCached:    256 << 20,
}

// maxExpansion bounds how many bytes a snapshot may expand to per byte of the
// file, and minTotalBound keeps that bound from rejecting small files.
// Captures of /proc compress by roughly 5 to 20 times (docs/benchmarks.md);
// 200 leaves room for very repetitive hosts.
const (
	maxExpansion  = 200
	minTotalBound = 64 << 20
)

// readManifest reads the footer and the manifest frame of f, a file of size
// bytes, and checks the manifest's digest, version and segment table.
func readManifest(f *os.File, size int64, limits Limits, dec *zstd.Decoder) (*Manifest, error) {
	magic := make([]byte, min(size, int64(len(zstdMagic))))
	if _, err := f.ReadAt(magic, 0); err != nil {
		return nil, fmt.Errorf("%w: read the first bytes: %v", ErrCorrupt, err)
	}
	if !bytes.HasPrefix(zstdMagic, magic) {
		return nil, fmt.Errorf("%w: not a zstd-compressed archive (first bytes %x); procsql snapshots are made with procsql snapshot -o FILE", ErrCorrupt, magic)
	}
	if size < int64(len(zstdMagic))+footerSize {
		return nil, fmt.Errorf("%w: the file has %d bytes, too few for a snapshot, so it is truncated", ErrCorrupt, size)
	}
	tail := make([]byte, footerSize)
	if _, err := f.ReadAt(tail, size-footerSize); err != nil {
		return nil, fmt.Errorf("%w: read the footer: %v", ErrCorrupt, err)
	}
	ft, err := decodeFooter(tail, size)
	if err != nil {
		return nil, err
	}
	if ft.manifestLength > limits.MaxEntrySize {
		return nil, fmt.Errorf("%w: the manifest frame has %d bytes, above the limit of %d", ErrCorrupt, ft.manifestLength, limits.MaxEntrySize)
	}
	frame := make([]byte, ft.manifestLength)
	if _, err := f.ReadAt(frame, ft.manifestOffset); err != nil {
		return nil, fmt.Errorf("%w: read the manifest frame: %v", ErrCorrupt, err)
	}
	// The frame header gives the decompressed size, which the capacity
	// limit then enforces. The entries with their tar headers and end
	// marker may take a little more than MaxEntrySize, and never more than
	// the file's expansion bound.
	bound := uint64(min(limits.MaxEntrySize+64<<10, limits.MaxTotalSize))
	var hdr zstd.Header
	if err := hdr.Decode(frame); err == nil && hdr.HasFCS && hdr.FrameContentSize < bound {
		bound = hdr.FrameContentSize
	}
	data, err := dec.DecodeAll(frame, make([]byte, 0, bound))
	if err != nil {
		return nil, fmt.Errorf("%w: the manifest frame is damaged: %v", ErrCorrupt, err)
	}
	entries, err := manifestEntries(data)
	if err != nil {
		return nil, err
	}
	m, err := checkManifest(entries[manifestName], entries[manifestHashName])
	if err != nil {
		return nil, err
	}
	if m.Segments, err = checkSegments(m, entries[segmentsName]); err != nil {
		return nil, err
	}
	if err := checkSegmentTable(m, ft, size, limits); err != nil {
		return nil, err
	}
	return m, nil
}

// manifestEntries returns the entries of the manifest frame by name:
// segments.json, manifest.json and its digest line, which must all be
// there, and nothing else.
func manifestEntries(data []byte) (map[string][]byte, error) {
	entries := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: the manifest frame is truncated or damaged: %v", ErrCorrupt, err)
		}
		if err := checkEntryName(hdr); err != nil {
			return nil, err
		}
		if hdr.Name != manifestName && hdr.Name != manifestHashName && hdr.Name != segmentsName {
			return nil, fmt.Errorf("%w: unexpected entry %q in the manifest frame", ErrCorrupt, hdr.Name)
		}
		if _, dup := entries[hdr.Name]; dup {
			return nil, fmt.Errorf("%w: entry %q appears twice", ErrCorrupt, hdr.Name)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %q is truncated or damaged: %v", ErrCorrupt, hdr.Name, err)
		}
		entries[hdr.Name] = body
	}
	for _, name := range []string{manifestName, manifestHashName, segmentsName} {
		if _, ok := entries[name]; !ok {
			return nil, fmt.Errorf("%w: %s is missing, so the file is truncated or not a procsql snapshot", ErrCorrupt, name)
		}
	}
	return entries, nil
}

// checkManifest verifies the manifest's digest and parses it.
func checkManifest(raw, sumLine []byte) (*Manifest, error) {
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
	if m.Host.ByteOrder != "little" && m.Host.ByteOrder != "big" {
		return nil, fmt.Errorf("%w: manifest byte order %q is neither \"little\" nor \"big\"", ErrCorrupt, m.Host.ByteOrder)
	}
	return &m, nil
}

// checkSegments verifies segments.json against the digest and count in the
// manifest and parses it.
func checkSegments(m *Manifest, raw []byte) ([]Segment, error) {
	sum := sha256.Sum256(raw)
	if hex.EncodeToString(sum[:]) != m.SegmentsSHA256 {
		return nil, fmt.Errorf("%w: %s does not match its SHA-256 in %s", ErrCorrupt, segmentsName, manifestName)
	}
	segs, err := decodeSegments(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not valid JSON: %v", ErrCorrupt, segmentsName, err)
	}
	if len(segs) != m.SegmentCount {
		return nil, fmt.Errorf("%w: %s lists %d segments, but %s counts %d", ErrCorrupt, segmentsName, len(segs), manifestName, m.SegmentCount)
	}
	return segs, nil
}

// checkSegmentTable checks that the segments tile the file from its first
// byte to the manifest frame, have distinct valid names, and stay within
// the limits, so a segment read later cannot reach outside its frame.
func checkSegmentTable(m *Manifest, ft footer, fileSize int64, limits Limits) error {
	total, entries := int64(0), 0
	seen := make(map[string]bool, len(m.Segments))
	var offset int64
	for _, seg := range m.Segments {
		switch {
		case !validSegmentName(seg.Name):
			return fmt.Errorf("%w: the manifest lists a segment named %q, which is not a segment name", ErrCorrupt, seg.Name)
		case seen[seg.Name]:
			return fmt.Errorf("%w: the manifest lists segment %q twice", ErrCorrupt, seg.Name)
		case seg.Offset != offset || seg.Length <= 0:
			return fmt.Errorf("%w: segment %q is at bytes %d+%d, but the previous segment ends at byte %d", ErrCorrupt, seg.Name, seg.Offset, seg.Length, offset)
		case seg.Size < 0 || seg.Entries < 1:
			return fmt.Errorf("%w: segment %q declares %d bytes in %d entries", ErrCorrupt, seg.Name, seg.Size, seg.Entries)
		case seg.Size > limits.maxSegmentSize():
			return fmt.Errorf("%w: segment %q declares %d bytes, above the limit of %d for one segment", ErrCorrupt, seg.Name, seg.Size, limits.maxSegmentSize())
		}
		seen[seg.Name] = true
		offset += seg.Length
		total += seg.Size
		entries += seg.Entries
		if total > limits.MaxTotalSize {
			return fmt.Errorf("%w: segments add up to more than %d bytes", ErrCorrupt, limits.MaxTotalSize)
		}
		if entries > limits.MaxEntries {
			return fmt.Errorf("%w: more than %d entries", ErrCorrupt, limits.MaxEntries)
		}
	}
	if offset != ft.manifestOffset {
		return fmt.Errorf("%w: the segments end at byte %d, but the manifest frame starts at byte %d of %d", ErrCorrupt, offset, ft.manifestOffset, fileSize)
	}
	return nil
}

// validSegmentName reports whether name is one that segmentOf returns.
func validSegmentName(name string) bool {
	if segmentOf(name) != name || path.Clean(name) != name {
		return false
	}
	if rest, ok := strings.CutPrefix(name, "exe/"); ok {
		return rest != "" && !strings.Contains(rest, "/")
	}
	return true
}

// checkFrames verifies the SHA-256 of every segment frame, on GOMAXPROCS
// goroutines. Reading the compressed file once costs far less than
// decompressing it, and it finds a truncated or altered file at Open
// rather than in the middle of a query.
func checkFrames(ctx context.Context, f *os.File, segs []Segment) error {
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			// Contiguous ranges keep each goroutine's reads sequential.
			lo, hi := w*len(segs)/workers, (w+1)*len(segs)/workers
			for _, seg := range segs[lo:hi] {
				if err := ctx.Err(); err != nil {
					errs[w] = fmt.Errorf("loading interrupted: %w", err)
					return
				}
				if int64(cap(buf)) < seg.Length {
					buf = make([]byte, seg.Length)
				}
				frame := buf[:seg.Length]
				if err := readFrame(f, seg, frame); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// readFrame reads the frame of seg into frame, which has seg.Length bytes,
// and checks its digest.
func readFrame(f *os.File, seg Segment, frame []byte) error {
	if _, err := f.ReadAt(frame, seg.Offset); err != nil {
		return fmt.Errorf("%w: segment %q is truncated: %v", ErrCorrupt, seg.Name, err)
	}
	sum := sha256.Sum256(frame)
	if hex.EncodeToString(sum[:]) != seg.SHA256 {
		return fmt.Errorf("%w: segment %q does not match its SHA-256 in the manifest", ErrCorrupt, seg.Name)
	}
	return nil
}
