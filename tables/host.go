package tables

import (
	"time"

	"github.com/procsql/procsql/procfile"
)

// userHZ is the unit of the tick counts in /proc/<pid>/stat. The kernel
// reports them in USER_HZ, which is 100 on every architecture Linux
// exports to user space through /proc (sysconf(_SC_CLK_TCK)).
const userHZ = 100

// userName returns the name of uid from the host's /etc/passwd.
func (r *Reader) userName(uid uint32) (string, bool) {
	users := memoize(r, "passwd", func() map[uint32]string {
		data, err := r.Src.HostFile("etc/passwd")
		if err != nil {
			r.Note("user names are NULL: /etc/passwd of the host could not be read (" + err.Error() + ")")
			return nil
		}
		return procfile.ParsePasswd(data)
	})
	name, ok := users[uid]
	return name, ok
}

// BootTime returns the boot time from the btime line of /proc/stat.
func (r *Reader) BootTime() (time.Time, bool) {
	type boot struct {
		at time.Time
		ok bool
	}
	b := memoize(r, "btime", func() boot {
		data, ok := r.readFile("stat")
		if !ok {
			return boot{}
		}
		seconds, err := procfile.ParseBootTime(data)
		if err != nil {
			r.recordFailure("stat", err)
			return boot{}
		}
		return boot{time.Unix(seconds, 0).UTC(), true}
	})
	return b.at, b.ok
}

// startTime converts a start time in ticks after boot to a UTC time.
func (r *Reader) startTime(ticks uint64) (time.Time, bool) {
	boot, ok := r.BootTime()
	if !ok {
		return time.Time{}, false
	}
	offset := time.Duration(ticks) * (time.Second / userHZ)
	return boot.Add(offset), true
}
