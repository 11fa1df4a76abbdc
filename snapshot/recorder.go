package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"strconv"
	"sync"

	"github.com/procsql/procsql/source"
)

// recorder wraps a live source, reads each name at most once, and keeps
// every outcome so that capture can write it out. Because the tables read
// through it exactly as they read a live source, the snapshot holds exactly
// what they need, and the recorder doubles as the capture's cache.
type recorder struct {
	src source.Source

	mu      sync.Mutex
	records map[string]*Record // by op and path
	content map[string][]byte  // by archive path, for successful reads
	bytes   int64
}

func newRecorder(src source.Source) *recorder {
	return &recorder{src: src, records: map[string]*Record{}, content: map[string][]byte{}}
}

// record returns the stored outcome of op on path, or runs read and stores
// what it returns. The lock is not held while reading.
func (r *recorder) record(op, path string, read func(rec *Record) []byte) *Record {
	key := op + "\x00" + path
	r.mu.Lock()
	rec, ok := r.records[key]
	r.mu.Unlock()
	if ok {
		return rec
	}
	rec = &Record{Op: op, Path: path}
	data := read(rec)
	r.mu.Lock()
	defer r.mu.Unlock()
	if first, ok := r.records[key]; ok {
		return first
	}
	r.records[key] = rec
	if data != nil {
		r.content[path] = data
		r.bytes += int64(len(data))
	}
	return rec
}

func setError(rec *Record, err error) {
	if errors.Is(err, source.ErrNotCollected) {
		rec.NotCollected = true
		return
	}
	if errno := source.ErrnoName(err); errno != "" {
		rec.Errno = errno
		return
	}
	rec.Error = err.Error()
}

func procPath(name string) string { return "proc/" + name }
func hostPath(name string) string { return "host/" + name }

func (r *recorder) readContent(op, path string, read func() ([]byte, error)) ([]byte, error) {
	rec := r.record(op, path, func(rec *Record) []byte {
		data, err := read()
		if err != nil {
			setError(rec, err)
			return nil
		}
		if data == nil {
			data = []byte{}
		}
		sum := sha256.Sum256(data)
		rec.Size = int64(len(data))
		rec.SHA256 = hex.EncodeToString(sum[:])
		return data
	})
	if err := recordError(rec); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.content[path], nil
}

// ReadFile implements source.Source.
func (r *recorder) ReadFile(name string) ([]byte, error) {
	return r.readContent(OpRead, procPath(name), func() ([]byte, error) { return r.src.ReadFile(name) })
}

// HostFile implements source.Source.
func (r *recorder) HostFile(name string) ([]byte, error) {
	return r.readContent(OpHostRead, hostPath(name), func() ([]byte, error) { return r.src.HostFile(name) })
}

// ReadLink implements source.Source.
func (r *recorder) ReadLink(name string) (string, error) {
	rec := r.record(OpReadLink, procPath(name), func(rec *Record) []byte {
		target, err := r.src.ReadLink(name)
		if err != nil {
			setError(rec, err)
		}
		rec.Target = target
		return nil
	})
	return rec.Target, recordError(rec)
}

func (r *recorder) readNames(op, path string, read func() ([]string, error)) ([]string, error) {
	rec := r.record(op, path, func(rec *Record) []byte {
		names, err := read()
		if err != nil {
			setError(rec, err)
			return nil
		}
		rec.Names = append([]string{}, names...)
		return nil
	})
	return rec.Names, recordError(rec)
}

// ReadDir implements source.Source.
func (r *recorder) ReadDir(name string) ([]string, error) {
	return r.readNames(OpReadDir, procPath(name), func() ([]string, error) { return r.src.ReadDir(name) })
}

// HostDir implements source.Source.
func (r *recorder) HostDir(name string) ([]string, error) {
	return r.readNames(OpHostReadDir, hostPath(name), func() ([]string, error) { return r.src.HostDir(name) })
}

// ProbePIDs implements source.Source. The whole probe is one record, so a
// bound of millions of pids costs one line of the manifest.
func (r *recorder) ProbePIDs(max int) ([]int, error) {
	names, err := r.readNames(OpProbe, probePath(max), func() ([]string, error) {
		pids, err := r.src.ProbePIDs(max)
		if err != nil {
			return nil, err
		}
		names := make([]string, len(pids))
		for i, pid := range pids {
			names[i] = strconv.Itoa(pid)
		}
		return names, nil
	})
	if err != nil {
		return nil, err
	}
	return namesToPIDs(names), nil
}

func probePath(max int) string { return "proc/probe/" + strconv.Itoa(max) }

func namesToPIDs(names []string) []int {
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Stat implements source.Source.
func (r *recorder) Stat(name string) (source.FileStat, error) {
	rec := r.record(OpStat, procPath(name), func(rec *Record) []byte {
		st, err := r.src.Stat(name)
		if err != nil {
			setError(rec, err)
			return nil
		}
		rec.LinkCount = &st.LinkCount
		if st.HasSize {
			rec.FileSize = &st.Size
		}
		return nil
	})
	if err := recordError(rec); err != nil {
		return source.FileStat{}, err
	}
	return statOf(rec), nil
}

// statOf rebuilds the FileStat a stat record holds.
func statOf(rec *Record) source.FileStat {
	st := source.FileStat{}
	if rec.LinkCount != nil {
		st.LinkCount = *rec.LinkCount
	}
	if rec.FileSize != nil {
		st.Size, st.HasSize = *rec.FileSize, true
	}
	return st
}

// Hash implements source.Source.
func (r *recorder) Hash(name string) (source.Digest, error) {
	rec := r.record(OpHash, procPath(name), func(rec *Record) []byte {
		d, err := r.src.Hash(name)
		if err != nil {
			setError(rec, err)
			return nil
		}
		rec.SHA256, rec.Size = d.SHA256, d.Size
		return nil
	})
	if err := recordError(rec); err != nil {
		return source.Digest{}, err
	}
	return source.Digest{SHA256: rec.SHA256, Size: rec.Size}, nil
}

// Describe implements source.Source.
func (r *recorder) Describe() source.Description { return r.src.Describe() }

// sortedRecords returns every record ordered by path and then operation, so
// that two captures of the same data produce the same manifest.
func (r *recorder) sortedRecords() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Record, 0, len(r.records))
	for _, rec := range r.records {
		out = append(out, *rec)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Op < out[j].Op
	})
	return out
}
