// Package procfile parses the text of Linux /proc files from byte slices.
//
// The parsers take the bytes of one file, so the same code reads a live
// /proc and a snapshot archive held in memory. They never panic on any input.
// A parser that rejects its input returns an error wrapping ErrMalformed.
package procfile

import "errors"

// ErrMalformed is wrapped by every error that reports /proc data the parsers
// cannot read. Test for it with errors.Is.
var ErrMalformed = errors.New("malformed /proc data")

// maxExcerpt is the number of input bytes an error message quotes, so one bad
// line of a multi-megabyte file keeps the message short.
const maxExcerpt = 80

// excerpt returns s cut to maxExcerpt bytes, with "..." appended when it was cut.
// Quote the result with %q.
func excerpt[T string | []byte](s T) string {
	if len(s) <= maxExcerpt {
		return string(s)
	}
	return string(s[:maxExcerpt]) + "..."
}
