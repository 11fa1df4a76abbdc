package collection

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// dateLayouts are outputs of date(1) that CatScale's "Date : $(date)" line
// may hold: the C locale's, the forms with a numeric zone, and forms with
// the day first or a 12-hour clock as other locales print them. The shell
// collapses the runs of spaces in $(date), so the layouts use single spaces.
var dateLayouts = []string{
	"Mon Jan 2 15:04:05 MST 2006", // C and POSIX locales
	"Mon Jan 2 15:04:05 2006 -07:00",
	"Mon Jan 2 15:04:05 2006 -0700",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Mon Jan 2 03:04:05 PM MST 2006",
	"Mon 2 Jan 15:04:05 MST 2006",
	"Mon 2 Jan 2006 15:04:05 MST",
	"Mon 02 Jan 2006 03:04:05 PM MST",
	"Mon 2 Jan 2006 03:04:05 PM MST",
	"Mon Jan 2 15:04:05 MST -0700 2006",
}

// prefixTime matches the default prefix of CatScale's file names,
// "<hostname -s>-<yyyymmdd>-<hhmm>".
var prefixTime = regexp.MustCompile(`^(.+)-([0-9]{8}-[0-9]{4})$`)

// startTime returns when the collection started, from the Date line of
// host-date-timezone or, without it, of console-error-log. It returns a
// note when the time had to be read in a way that may be off.
func (s *catScaleSet) startTime() (time.Time, string, error) {
	for _, suffix := range []string{"host-date-timezone.txt", "console-error-log.txt"} {
		data, ok, err := s.read(suffix)
		if err != nil {
			return time.Time{}, "", err
		}
		if !ok {
			continue
		}
		line, found := dateLine(data)
		if !found {
			continue
		}
		t, zoneKnown, err := parseDate(line)
		if err != nil {
			s.problemLater(fmt.Sprintf("%s: %v", s.files[suffix], err))
			continue
		}
		if !zoneKnown {
			name, _ := t.Zone()
			return t, fmt.Sprintf("system.read_time takes the start time %q of %s as UTC because the time zone %s has no offset in the file.", line, s.files[suffix], name), nil
		}
		return t, "", nil
	}
	if m := prefixTime.FindStringSubmatch(s.prefix); m != nil {
		t, err := time.Parse("20060102-1504", m[2])
		if err == nil {
			return t, fmt.Sprintf("system.read_time is the minute %s in CatScale's file names, taken as UTC, because no Date line was found; the host's time zone is unknown.", m[2]), nil
		}
	}
	return time.Time{}, "system.read_time is 0001-01-01 because the collection holds no Date line and its file names carry no date.", nil
}

// dateLine returns the text after the first "Date :" at the start of a
// line.
func dateLine(data []byte) (string, bool) {
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "Date :"); ok {
			return strings.Join(strings.Fields(rest), " "), true
		}
	}
	return "", false
}

// parseDate parses the output of date(1) and reports whether its zone
// gives the offset: a numeric zone, UTC or GMT. An abbreviation such as
// CET has no offset in the text, so the time is read as UTC.
func parseDate(text string) (time.Time, bool, error) {
	for _, layout := range dateLayouts {
		t, err := time.ParseInLocation(layout, text, time.UTC)
		if err != nil {
			continue
		}
		name, offset := t.Zone()
		if !strings.Contains(layout, "MST") || offset != 0 || name == "UTC" || name == "GMT" {
			return t, true, nil
		}
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("date %q is in no layout procsql reads, such as %q", text, dateLayouts[0])
}

// problemLater keeps a finding made before the tree exists.
func (s *catScaleSet) problemLater(problem string) {
	s.earlyProblems = append(s.earlyProblems, problem)
}

// loadSystemInfo adds the host files that CatScale's system functions copy
// verbatim from /proc, and the host name from the file names.
func (s *catScaleSet) loadSystemInfo() error {
	for _, p := range s.earlyProblems {
		s.tree.AddProblem(p)
	}
	if m := prefixTime.FindStringSubmatch(s.prefix); m != nil {
		s.tree.AddFile("sys/kernel/hostname", []byte(m[1]+"\n"))
		s.tree.AddLossy("system.hostname is the short host name (hostname -s) in CatScale's file names, without any domain part.")
	} else {
		s.tree.AddLossy("system.hostname is NULL because CatScale's file names were given another prefix with -f.")
	}

	release, ok, err := s.read("release.txt")
	if err != nil {
		return err
	}
	if osRelease, found := kernelRelease(release); ok && found {
		s.tree.AddFile("sys/kernel/osrelease", []byte(osRelease+"\n"))
	} else {
		s.tree.AddLossy("system.kernel_release is NULL because the collection has no release file with the output of uname -r.")
	}
	s.tree.AddLossy("system.kernel_version, boot_time and pid_max are NULL because CatScale keeps no /proc/sys/kernel/version, /proc/stat or pid_max.")

	meminfo, ok, err := s.read("meminfo.txt")
	if err != nil {
		return err
	}
	if ok {
		s.tree.AddFile("meminfo", meminfo)
	} else {
		s.tree.AddLossy("The meminfo table is empty because the collection has no meminfo file (CatScale's system functions did not run).")
	}

	modules, ok, err := s.read("procmod.txt")
	if err != nil {
		return err
	}
	switch {
	case ok && len(bytes.TrimSpace(modules)) > 0:
		s.tree.AddFile("modules", modules)
		s.tree.AddLossy("The sys_modules table is empty because CatScale keeps no /sys/module, so hunts that compare it with /proc/modules find nothing.")
	case ok:
		s.tree.AddLossy("The modules table is empty because CatScale's copy of /proc/modules is empty, as it also is when the kernel has no /proc/modules.")
	default:
		s.tree.AddLossy("The modules and sys_modules tables are empty because the collection has no copy of /proc/modules.")
	}
	s.tree.AddLossy("processes.user and the etc/ld.so.preload checks are NULL or empty because the importer reads no /etc files from CatScale's archives.")
	return nil
}

// kernelRelease returns the value of the "KERNELVERSION(uname -r)=" line
// that CatScale appends to its release file.
func kernelRelease(data []byte) (string, bool) {
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "KERNELVERSION(uname -r)="); ok {
			rest = strings.TrimSpace(rest)
			return rest, rest != ""
		}
	}
	return "", false
}
