package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/procsql/procsql/collection"
	"github.com/procsql/procsql/snapshot"
	"github.com/procsql/procsql/source"
)

// snapshotCacheBudget bounds, in bytes, the decompressed snapshot segments
// that all loaded snapshots together keep for later statements: one
// snapshot gets all of it, as snapshot.DefaultLimits gives, and many share
// it, each keeping at least minSnapshotCache. Segments that a running
// statement reads are kept beyond it.
const (
	snapshotCacheBudget = 256 << 20
	minSnapshotCache    = 4 << 20
)

// openSources opens the sources that the global flags name: each --snapshot
// in order, with a directory of snapshots replaced by the files in it, or
// else the --proc root. Snapshots are opened in parallel, because opening
// one verifies the digest of every segment it holds.
func (a *app) openSources(ctx context.Context) ([]source.Source, error) {
	if len(a.snapshotPaths) == 0 {
		dir, err := source.NewDir(a.procRoot)
		if err != nil {
			return nil, err
		}
		return []source.Source{dir}, nil
	}
	var paths []string
	loadedBy := map[string]string{} // cleaned path -> the --snapshot that named it
	for _, arg := range a.snapshotPaths {
		expanded, err := expandSnapshotDir(arg, a.stderr)
		if err != nil {
			return nil, err
		}
		for _, p := range expanded {
			key := filepath.Clean(p)
			if first, dup := loadedBy[key]; dup {
				return nil, fmt.Errorf("%s is loaded twice, by --snapshot %s and by --snapshot %s: give each source once", p, first, arg)
			}
			loadedBy[key] = arg
			paths = append(paths, p)
		}
	}
	limits := snapshot.DefaultLimits
	limits.MaxCached = max(snapshotCacheBudget/int64(len(paths)), minSnapshotCache)
	stderr := &lockedWriter{w: a.stderr}
	return openAll(ctx, paths, func(ctx context.Context, p string) (source.Source, error) {
		return openSnapshotPath(ctx, p, limits, stderr)
	})
}

// lockedWriter serializes writes, so that sources opened in parallel can
// each print a warning line without interleaving.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// openAll opens every path with open, at most GOMAXPROCS at a time, and
// returns the sources in the order of paths. When one fails, it closes the
// others and returns the error of the first path that failed.
func openAll(ctx context.Context, paths []string, open func(context.Context, string) (source.Source, error)) ([]source.Source, error) {
	srcs := make([]source.Source, len(paths))
	errs := make([]error, len(paths))
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return
			}
			srcs[i], errs[i] = open(ctx, p)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			closeSources(srcs)
			return nil, err
		}
	}
	return srcs, nil
}

// closeSources releases the files of the sources that hold any.
func closeSources(srcs []source.Source) {
	for _, src := range srcs {
		if c, ok := src.(io.Closer); ok {
			c.Close()
		}
	}
}

// openSnapshotPath opens one file or directory that --snapshot names: a
// procsql snapshot with limits, or else what openSnapshotSource detects by
// its content, such as a collection.
func openSnapshotPath(ctx context.Context, p string, limits snapshot.Limits, stderr io.Writer) (source.Source, error) {
	if isSnapshotFile(p) {
		snap, err := snapshot.Open(ctx, p, limits)
		if err != nil {
			return nil, err
		}
		return snap, nil
	}
	src, err := openSnapshotSource(ctx, p, stderr)
	if info, statErr := os.Stat(p); err != nil && statErr == nil && info.IsDir() {
		return nil, fmt.Errorf("%w; a directory given to --snapshot must hold procsql snapshots or collection archives, or be an extracted collection", err)
	}
	return src, err
}

// zstdMagic starts every zstd frame, and so every procsql snapshot.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// isSnapshotFile reports whether p is a regular file that starts like a
// procsql snapshot. Open still checks all of it.
func isSnapshotFile(p string) bool {
	info, err := os.Stat(p)
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(zstdMagic))
	if _, err := io.ReadFull(f, head); err != nil {
		return false
	}
	return bytes.Equal(head, zstdMagic)
}

// maxSkippedNames bounds the file names that the warning about skipped files
// lists.
const maxSkippedNames = 5

// expandSnapshotDir returns the sources that --snapshot p names. A
// directory that directly holds procsql snapshots or collection archives
// names those files, in name order, and a line on stderr lists the other
// files it skipped. Any other path, including a directory without such
// files, which may be an extracted collection, names itself.
func expandSnapshotDir(p string, stderr io.Writer) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil || !info.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("list --snapshot directory %s: %w", p, err)
	}
	var found, skipped []string
	for _, e := range entries {
		full := filepath.Join(p, e.Name())
		info, err := os.Stat(full)
		if err != nil || !info.Mode().IsRegular() {
			// TODO: load extracted collections in subdirectories too, once
			// package collection can tell a collection directory from others.
			continue
		}
		if isSnapshotFile(full) {
			found = append(found, full)
			continue
		}
		if archive, err := collection.IsCollection(full); err == nil && archive {
			found = append(found, full)
			continue
		}
		skipped = append(skipped, e.Name())
	}
	if len(found) == 0 {
		return []string{p}, nil
	}
	if len(skipped) > 0 {
		names := strings.Join(skipped[:min(len(skipped), maxSkippedNames)], ", ")
		if len(skipped) > maxSkippedNames {
			names += ", ..."
		}
		fmt.Fprintf(stderr, "warning: --snapshot %s: skipped %s, which procsql does not open as a snapshot or collection archive: %s\n",
			p, plural(len(skipped), "file"), names)
	}
	return found, nil
}
