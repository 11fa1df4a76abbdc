package main

import (
	"context"
	"fmt"
	"io"

	"github.com/procsql/procsql/collection"
	"github.com/procsql/procsql/snapshot"
	"github.com/procsql/procsql/source"
)

// openSnapshotSource opens what --snapshot names: a procsql snapshot, or a
// UAC or CatScale collection as an archive or an extracted directory. The
// content decides, not the name: a snapshot is a zstd stream, and a
// collection a directory or a gzip, tar or zip archive. When the collection
// has integrity problems, one warning line on stderr reports them.
func openSnapshotSource(ctx context.Context, path string, stderr io.Writer) (source.Source, error) {
	isCollection, err := collection.IsCollection(path)
	if err != nil {
		return nil, fmt.Errorf("open --snapshot %s: %w", path, err)
	}
	if !isCollection {
		snap, err := snapshot.Open(ctx, path, snapshot.Limits{})
		if err != nil {
			return nil, fmt.Errorf("%w; --snapshot also takes a UAC or CatScale collection (.tar.gz, .tgz, .tar, .zip or its directory)", err)
		}
		return snap, nil
	}
	tree, err := collection.Open(path)
	if err != nil {
		return nil, err
	}
	warnProblems(stderr, tree.Describe())
	return tree, nil
}

// warnProblems prints one line when a collection failed its integrity
// checks, naming the first problem and where to read the others.
func warnProblems(stderr io.Writer, desc source.Description) {
	switch n := len(desc.Problems); n {
	case 0:
	case 1:
		fmt.Fprintf(stderr, "warning: %s: integrity problem: %s\n", desc.Location, desc.Problems[0])
	default:
		fmt.Fprintf(stderr, "warning: %s: %d integrity problems, the first: %s; SELECT problems FROM `system` lists them all\n", desc.Location, n, desc.Problems[0])
	}
}
