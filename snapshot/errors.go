package snapshot

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/procsql/procsql/source"
)

// ErrCorrupt is wrapped by every error that reports a snapshot file that is
// truncated, altered or not a snapshot at all. It matches
// source.ErrDamaged, so a table that meets a damaged segment fails the
// query.
var ErrCorrupt error = corruptError{}

type corruptError struct{}

func (corruptError) Error() string        { return "invalid snapshot" }
func (corruptError) Is(target error) bool { return target == source.ErrDamaged }

// recordError rebuilds the error that a record holds, or returns nil. An
// errno comes back as *fs.PathError wrapping the syscall.Errno, so callers
// test it exactly as they test a live read.
func recordError(rec *Record) error {
	switch {
	case rec.NotCollected:
		return &fs.PathError{Op: rec.Op, Path: strings.TrimPrefix(rec.Path, "proc/"), Err: source.ErrNotCollected}
	case rec.Errno != "":
		errno, ok := source.ParseErrno(rec.Errno)
		if !ok {
			return &fs.PathError{Op: rec.Op, Path: rec.Path, Err: fmt.Errorf("recorded errno %s", rec.Errno)}
		}
		return &fs.PathError{Op: rec.Op, Path: strings.TrimPrefix(rec.Path, "proc/"), Err: errno}
	case rec.Error != "":
		return &fs.PathError{Op: rec.Op, Path: strings.TrimPrefix(rec.Path, "proc/"), Err: errors.New(rec.Error)}
	}
	return nil
}
