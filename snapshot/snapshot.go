package snapshot

import (
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/klauspost/compress/zstd"

	"github.com/procsql/procsql/source"
)

// Snapshot is an open snapshot file. It implements source.Source by
// replaying the recorded outcome of every read, errors included, so the
// tables cannot tell it from the live /proc it was captured from. Segments
// are decompressed when a read first needs them. It is safe for concurrent
// use.
type Snapshot struct {
	path     string
	file     *os.File
	limits   Limits
	manifest *Manifest
	segments map[string]Segment
	exes     map[string]Executable // copies stored in the file, by path
	decoder  *zstd.Decoder
	cache    *segmentCache

	pidsOnce sync.Once
	pids     map[string]bool // the process directories the capture listed
	pidsErr  error
}

var _ source.Source = (*Snapshot)(nil)

// Open opens the snapshot file at path and verifies its manifest and the
// digest of every compressed segment. It decompresses a segment only when a
// read first needs it and writes nothing to disk. A zero limits means
// DefaultLimits. Close releases the file.
func Open(ctx context.Context, path string, limits Limits) (*Snapshot, error) {
	if limits == (Limits{}) {
		limits = DefaultLimits
	}
	// O_NONBLOCK keeps a FIFO from blocking the open; it is rejected below.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	s, err := open(ctx, f, path, limits)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	return s, nil
}

func open(ctx context.Context, f *os.File, path string, limits Limits) (*Snapshot, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s): give the file that procsql snapshot -o wrote", info.Mode().Type())
	}
	if info.Size() == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrCorrupt)
	}
	// A snapshot compresses /proc text well, but not beyond this ratio; a
	// file that expands further is a decompression bomb.
	if bound := info.Size() * maxExpansion; bound < limits.MaxTotalSize {
		limits.MaxTotalSize = max(bound, minTotalBound)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecodeAllCapLimit(true), zstd.WithDecoderMaxMemory(uint64(limits.MaxEntrySize)*2))
	if err != nil {
		return nil, err
	}
	m, err := readManifest(f, info.Size(), limits, dec)
	if err != nil {
		dec.Close()
		return nil, err
	}
	if err := checkFrames(ctx, f, m.Segments); err != nil {
		dec.Close()
		return nil, err
	}
	s := &Snapshot{
		path: path, file: f, limits: limits, manifest: m, decoder: dec,
		segments: make(map[string]Segment, len(m.Segments)),
		exes:     map[string]Executable{},
		cache:    newSegmentCache(limits.MaxCached),
	}
	for _, seg := range m.Segments {
		s.segments[seg.Name] = seg
	}
	for _, exe := range m.Executables {
		if exe.Error != "" {
			continue
		}
		if _, ok := s.segments[segmentOf(exe.Path)]; !ok || !strings.HasPrefix(exe.Path, "exe/") {
			dec.Close()
			return nil, fmt.Errorf("%w: executable copy %q listed in the manifest is missing from the archive", ErrCorrupt, exe.Path)
		}
		s.exes[exe.Path] = exe
	}
	return s, nil
}

// Close releases the file. Reads after Close fail.
func (s *Snapshot) Close() error {
	s.decoder.Close()
	return s.file.Close()
}

// Manifest returns the snapshot's manifest.
func (s *Snapshot) Manifest() *Manifest { return s.manifest }

// VerifySummary describes a verified snapshot.
type VerifySummary struct {
	Segments int
	Files    int   // captured files and executable copies
	Bytes    int64 // of those files
}

// Verify decompresses every segment and checks every file against the
// SHA-256 its record holds. Open checks the digests of the compressed
// frames, which cover every byte, and a query checks the frames it reads
// again. Only Verify recomputes the digest of each captured file.
func (s *Snapshot) Verify(ctx context.Context) (VerifySummary, error) {
	var sum VerifySummary
	for _, seg := range s.manifest.Segments {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		// Through the loader, not the cache, so a full check does not
		// evict what queries use.
		loaded, err := s.loadBounded(seg, true)
		if err != nil {
			return sum, fmt.Errorf("verify snapshot %s: %w", s.path, err)
		}
		sum.Segments++
		sum.Files += seg.Entries - 1
		for _, data := range loaded.content {
			sum.Bytes += int64(len(data))
		}
	}
	for _, exe := range s.exes {
		sum.Bytes += exe.Size
	}
	return sum, nil
}

// segment returns the segment called name, loading it on first use. A name
// the manifest does not list is an empty segment.
func (s *Snapshot) segment(name string) (*segment, error) {
	seg, ok := s.segments[name]
	if !ok {
		return emptySegment, nil
	}
	return s.cache.get(name, func() (*segment, error) { return s.loadBounded(seg, false) })
}

// loadBounded loads seg like loadSegment and then checks it against the
// bounds of a capture of a real /proc (checkCaptureBounds), so a file
// that describes more than a kernel can fails before a query reads it.
func (s *Snapshot) loadBounded(seg Segment, verify bool) (*segment, error) {
	loaded, err := s.loadSegment(seg, verify)
	if err != nil {
		return nil, err
	}
	if err := checkCaptureBounds(loaded, s.hasSegment); err != nil {
		return nil, err
	}
	return loaded, nil
}

// hasSegment reports whether the snapshot has a segment called name.
func (s *Snapshot) hasSegment(name string) bool {
	_, ok := s.segments[name]
	return ok
}

// listedPIDs returns the process directories the capture listed in /proc.
func (s *Snapshot) listedPIDs() (map[string]bool, error) {
	s.pidsOnce.Do(func() {
		s.pids = map[string]bool{}
		seg, err := s.segment(segmentOf(procPath(".")))
		if err != nil {
			s.pidsErr = err
			return
		}
		if i, ok := seg.find(OpReadDir, procPath(".")); ok {
			for _, name := range seg.records[i].Names {
				s.pids[name] = true
			}
		}
	})
	return s.pids, s.pidsErr
}

// lookup returns the record of op on path and the segment that holds it. A
// read under a process directory the capture did not list fails as not
// existing, as the live read would have. Any other read the capture never
// made is reported as not collected. A damaged segment fails every read in
// it with an error that wraps ErrCorrupt.
func (s *Snapshot) lookup(op, path string) (*Record, *segment, error) {
	name := strings.TrimPrefix(path, "proc/")
	seg, err := s.segment(segmentOf(path))
	if err != nil {
		return nil, nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	if i, ok := seg.find(op, path); ok {
		return &seg.records[i], seg, recordError(&seg.records[i])
	}
	first, _, _ := strings.Cut(name, "/")
	if _, err := strconv.Atoi(first); err == nil && name != path {
		pids, err := s.listedPIDs()
		if err != nil {
			return nil, nil, &fs.PathError{Op: op, Path: name, Err: err}
		}
		if !pids[first] {
			return nil, nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
	}
	return nil, nil, &fs.PathError{Op: op, Path: name, Err: source.ErrNotCollected}
}

// fileContent returns a file's bytes from its segment without copying them:
// like source.Cache, which hands one slice to every reader of a file, it
// relies on callers not to change them.
func (s *Snapshot) fileContent(op, path string) ([]byte, error) {
	rec, seg, err := s.lookup(op, path)
	if err != nil {
		return nil, err
	}
	i, _ := seg.find(rec.Op, rec.Path)
	if seg.content[i] == nil {
		return []byte{}, nil
	}
	return seg.content[i], nil
}

// ReadFile implements source.Source.
func (s *Snapshot) ReadFile(name string) ([]byte, error) {
	return s.fileContent(OpRead, procPath(name))
}

// HostFile implements source.Source.
func (s *Snapshot) HostFile(name string) ([]byte, error) {
	return s.fileContent(OpHostRead, hostPath(name))
}

// ReadLink implements source.Source.
func (s *Snapshot) ReadLink(name string) (string, error) {
	rec, _, err := s.lookup(OpReadLink, procPath(name))
	if err != nil {
		return "", err
	}
	return rec.Target, nil
}

// ReadDir implements source.Source.
func (s *Snapshot) ReadDir(name string) ([]string, error) {
	rec, _, err := s.lookup(OpReadDir, procPath(name))
	if err != nil {
		return nil, err
	}
	return rec.Names, nil
}

// HostDir implements source.Source.
func (s *Snapshot) HostDir(name string) ([]string, error) {
	rec, _, err := s.lookup(OpHostReadDir, hostPath(name))
	if err != nil {
		return nil, err
	}
	return rec.Names, nil
}

// ProbePIDs implements source.Source.
func (s *Snapshot) ProbePIDs(max int) ([]int, error) {
	rec, _, err := s.lookup(OpProbe, probePath(max))
	if err != nil {
		return nil, err
	}
	return namesToPIDs(rec.Names), nil
}

// Stat implements source.Source.
func (s *Snapshot) Stat(name string) (source.FileStat, error) {
	rec, _, err := s.lookup(OpStat, procPath(name))
	if err != nil {
		return source.FileStat{}, err
	}
	if rec.LinkCount == nil {
		return source.FileStat{}, &fs.PathError{Op: OpStat, Path: name, Err: fmt.Errorf("%w: stat record has no link count", ErrCorrupt)}
	}
	return statOf(rec), nil
}

// Hash implements source.Source.
func (s *Snapshot) Hash(name string) (source.Digest, error) {
	rec, _, err := s.lookup(OpHash, procPath(name))
	if err != nil {
		return source.Digest{}, err
	}
	return source.Digest{SHA256: rec.SHA256, Size: rec.Size}, nil
}

// Describe implements source.Source.
func (s *Snapshot) Describe() source.Description {
	var order binary.ByteOrder = binary.LittleEndian
	if s.manifest.Host.ByteOrder == "big" {
		order = binary.BigEndian
	}
	return source.Description{
		Kind:         "snapshot",
		Location:     s.path,
		Architecture: s.manifest.Host.Architecture,
		ByteOrder:    order,
		ReadTime:     s.manifest.Capture.Start,
		CaptureEnd:   s.manifest.Capture.End,
		Collector:    s.manifest.Capture.Collector,
	}
}
