package snapshot

import (
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/procsql/procsql/source"
)

// Snapshot is a loaded snapshot file. It implements source.Source by
// replaying the recorded outcome of every read, errors included, so the
// tables cannot tell it from the live /proc it was captured from.
type Snapshot struct {
	path     string
	manifest *Manifest
	content  map[string]entry
	records  map[string]*Record // by op and path
	pids     map[string]bool    // the process directories the capture listed
}

var _ source.Source = (*Snapshot)(nil)

// Open reads and verifies the snapshot file at path. It holds the whole
// content in memory and writes nothing to disk. A zero limits means
// DefaultLimits.
func Open(ctx context.Context, path string, limits Limits) (*Snapshot, error) {
	if limits == (Limits{}) {
		limits = DefaultLimits
	}
	// O_NONBLOCK keeps a FIFO from blocking the open; it is rejected below.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("open snapshot %s: not a regular file (%s): give the file that procsql snapshot -o wrote", path, info.Mode().Type())
	}
	if info.Size() == 0 {
		return nil, fmt.Errorf("open snapshot %s: %w: the file is empty", path, ErrCorrupt)
	}
	// A snapshot compresses /proc text well, but not beyond this ratio; a
	// file that expands further is a decompression bomb.
	if bound := info.Size() * maxExpansion; bound < limits.MaxTotalSize {
		limits.MaxTotalSize = max(bound, minTotalBound)
	}
	m, content, err := readArchive(ctx, f, limits)
	if err != nil {
		return nil, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	s := &Snapshot{path: path, manifest: m, content: content, records: m.index}
	s.pids = map[string]bool{}
	if root, ok := s.records[recordKey(OpReadDir, procPath("."))]; ok {
		for _, name := range root.Names {
			s.pids[name] = true
		}
	}
	return s, nil
}

// Manifest returns the snapshot's manifest.
func (s *Snapshot) Manifest() *Manifest { return s.manifest }

// lookup returns the record of op on path. A read under a process directory
// the capture did not list fails as not existing, as the live read would
// have. Any other read the capture never made is reported as not collected.
func (s *Snapshot) lookup(op, path string) (*Record, error) {
	rec, ok := s.records[recordKey(op, path)]
	if ok {
		return rec, recordError(rec)
	}
	name := strings.TrimPrefix(path, "proc/")
	first, _, _ := strings.Cut(name, "/")
	if _, err := strconv.Atoi(first); err == nil && name != path && !s.pids[first] {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return nil, &fs.PathError{Op: op, Path: name, Err: source.ErrNotCollected}
}

func (s *Snapshot) fileContent(op, path string) ([]byte, error) {
	if _, err := s.lookup(op, path); err != nil {
		return nil, err
	}
	e, ok := s.content[path]
	if !ok {
		// A read that failed or that the capture recorded as empty.
		return nil, nil
	}
	return e.data(path)
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
	rec, err := s.lookup(OpReadLink, procPath(name))
	if err != nil {
		return "", err
	}
	return rec.Target, nil
}

// ReadDir implements source.Source.
func (s *Snapshot) ReadDir(name string) ([]string, error) {
	rec, err := s.lookup(OpReadDir, procPath(name))
	if err != nil {
		return nil, err
	}
	return rec.Names, nil
}

// HostDir implements source.Source.
func (s *Snapshot) HostDir(name string) ([]string, error) {
	rec, err := s.lookup(OpHostReadDir, hostPath(name))
	if err != nil {
		return nil, err
	}
	return rec.Names, nil
}

// ProbePIDs implements source.Source.
func (s *Snapshot) ProbePIDs(max int) ([]int, error) {
	rec, err := s.lookup(OpProbe, probePath(max))
	if err != nil {
		return nil, err
	}
	return namesToPIDs(rec.Names), nil
}

// Stat implements source.Source.
func (s *Snapshot) Stat(name string) (source.FileStat, error) {
	rec, err := s.lookup(OpStat, procPath(name))
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
	rec, err := s.lookup(OpHash, procPath(name))
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
