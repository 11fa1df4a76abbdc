package collection

import (
	"encoding/binary"
	"path"
	"regexp"
	"strings"
	"time"
)

// uacLog is the collection metadata read from uac.log.
type uacLog struct {
	version  string // such as "3.3.0"
	start    time.Time
	end      time.Time
	zone     *time.Location // the offset the log's times carry
	hostname string
	arch     string
}

// uacLogTime matches the time at the start of a uac.log line, such as
// "2026-12-04 19:29:22 +0000". UAC writes the host's local time with its
// offset.
var uacLogTime = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) ([-+]\d{4}) `)

var uacVersion = regexp.MustCompile(`Unix-like Artifacts Collector v?(\S+)`)

// parseUACLog reads the version, the first and last times, the host name
// and the architecture from uac.log. Fields it cannot find stay zero.
func parseUACLog(data []byte) uacLog {
	var log uacLog
	for _, line := range strings.Split(string(data), "\n") {
		m := uacLogTime.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		at, err := time.Parse("2006-01-02 15:04:05 -0700", m[1]+" "+m[2])
		if err != nil {
			continue
		}
		if log.start.IsZero() {
			log.start = at
			log.zone = at.Location()
		}
		log.end = at
		text := line[len(m[0]):]
		if v := uacVersion.FindStringSubmatch(text); v != nil && log.version == "" {
			log.version = v[1]
		}
		if _, value, ok := strings.Cut(text, "INF Hostname: "); ok && log.hostname == "" {
			log.hostname = strings.TrimSpace(value)
		}
		if _, value, ok := strings.Cut(text, "INF System architecture: "); ok && log.arch == "" {
			log.arch = strings.TrimSpace(value)
		}
	}
	return log
}

// uacName matches UAC's default output name, uac-<host>-<os>-<local time>.
var uacName = regexp.MustCompile(`^uac-(.+)-([a-z]+)-(\d{14})$`)

// parseUACName returns the host name and the start time that UAC puts in
// the name of its output. The time is the collecting host's local time,
// whose offset the name does not give, so it is read as UTC.
func parseUACName(location string) (host string, start time.Time, ok bool) {
	base := path.Base(strings.TrimSuffix(location, "/"))
	for _, ext := range []string{".tar.gz", ".tgz", ".tar", ".zip"} {
		base = strings.TrimSuffix(base, ext)
	}
	m := uacName.FindStringSubmatch(base)
	if m == nil {
		return "", time.Time{}, false
	}
	at, err := time.Parse("20060102150405", m[3])
	if err != nil {
		return "", time.Time{}, false
	}
	return m[1], at, true
}

// uname is the parsed output of uname -a.
type uname struct {
	nodename, release, version, machine string
}

// parseUnameA splits the output of GNU uname -a: kernel name, node name,
// release, version, machine, processor, hardware platform and operating
// system. The version has spaces of its own, and uname leaves out a
// processor or platform it does not know. machine, when not "", is the
// architecture known from elsewhere and marks where the version ends.
func parseUnameA(text, machine string) (uname, bool) {
	fields := strings.Fields(strings.TrimSpace(text))
	if len(fields) < 5 || fields[0] != "Linux" {
		return uname{}, false
	}
	u := uname{nodename: fields[1], release: fields[2]}
	tail := fields[3:]
	// The operating system comes last.
	if n := len(tail); n > 1 && strings.Contains(tail[n-1], "Linux") {
		tail = tail[:n-1]
	}
	if machine == "" {
		machine = tail[len(tail)-1]
	}
	// Drop the machine, processor and platform: up to three trailing
	// words that are the machine or "unknown".
	end := len(tail)
	for i := 0; i < 3 && end > 1 && (tail[end-1] == machine || tail[end-1] == "unknown"); i++ {
		end--
	}
	if end == len(tail) {
		return uname{}, false
	}
	u.machine = machine
	u.version = strings.Join(tail[:end], " ")
	return u, true
}

// byteOrderOf returns the byte order of a Linux machine name, such as
// "x86_64" or "s390x". /proc/net files print addresses in that order.
func byteOrderOf(machine string) binary.ByteOrder {
	switch {
	case machine == "s390x", machine == "s390",
		machine == "ppc64", machine == "ppc",
		machine == "mips", machine == "mips64",
		strings.HasPrefix(machine, "sparc"),
		strings.HasSuffix(machine, "_be"), strings.HasSuffix(machine, "eb"):
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// parseUptimeSince reads the output of uptime -s, the boot time to the
// second in the host's local time, in zone.
func parseUptimeSince(text string, zone *time.Location) (time.Time, bool) {
	at, err := time.ParseInLocation("2006-01-02 15:04:05", strings.TrimSpace(text), zone)
	return at, err == nil
}
