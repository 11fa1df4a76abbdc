package procfile

import "strings"

// UnescapeStatusName returns comm from the value of the "Name:" line of
// /proc/<pid>/status. The kernel writes a newline in the name as `\n` and a
// backslash as `\\`, so that the line stays one line. Stat's field 2 contains
// the raw bytes. Other backslashes are kept as they are.
func UnescapeStatusName(value string) string {
	if !strings.Contains(value, `\`) {
		return value
	}
	var b strings.Builder
	b.Grow(len(value))
	for i := 0; i < len(value); i++ {
		if value[i] == '\\' && i+1 < len(value) {
			switch value[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(value[i])
	}
	return b.String()
}
