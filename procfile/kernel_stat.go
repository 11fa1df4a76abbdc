package procfile

import (
	"bytes"
	"fmt"
	"strconv"
)

// ParseBootTime returns the boot time from the "btime" line of /proc/stat, in
// seconds since the Unix epoch. Add Stat.StartTime divided by the clock tick
// rate (USER_HZ, 100 on common kernels) to get a process's start time.
func ParseBootTime(data []byte) (int64, error) {
	for line := range bytes.Lines(data) {
		value, found := bytes.CutPrefix(line, []byte("btime "))
		if !found {
			continue
		}
		text := bytes.TrimSpace(value)
		seconds, err := strconv.ParseInt(string(text), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: stat: btime %q is not an integer", ErrMalformed, excerpt(text))
		}
		return seconds, nil
	}
	return 0, fmt.Errorf("%w: stat: missing \"btime\" line", ErrMalformed)
}
