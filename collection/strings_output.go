package collection

import (
	"bytes"
)

// fromStringsOutput turns the output of strings(1) run on a NUL-separated
// /proc file, such as environ, back into that file: one item per line
// becomes one item per NUL, with a NUL after the last. It reports whether
// the data was strings output at all. Data that already holds NUL bytes
// was copied as it was (cat) and is returned unchanged, and empty data
// stays empty, as for a kernel thread.
//
// strings cannot be undone completely. It drops runs shorter than its
// minimum length (4 by default), and it ends a run at every byte that is
// neither printable ASCII nor a tab. So an item that contains a newline or
// a non-ASCII byte comes back as several items or loses parts.
func fromStringsOutput(data []byte) (out []byte, converted bool) {
	if len(data) == 0 || bytes.IndexByte(data, 0) >= 0 {
		return data, false
	}
	trimmed := bytes.TrimSuffix(data, []byte("\n"))
	out = make([]byte, 0, len(trimmed)+1)
	for _, line := range bytes.Split(trimmed, []byte("\n")) {
		out = append(out, line...)
		out = append(out, 0)
	}
	return out, true
}
