package procfile

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// pfKthread is PF_KTHREAD from include/linux/sched.h, set in the flags of
// every kernel thread.
const pfKthread = 0x00200000

// minStatFields is the field count up to and including rss (field 24), the
// last field that Stat requires. Later fields are optional.
const minStatFields = 24

// Stat is one line of /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat.
// Field numbers in the comments are those of proc_pid_stat(5).
type Stat struct {
	PID        int    // field 1
	Comm       string // field 2, the bytes between the first '(' and the last ')'
	State      string // field 3, one letter such as "R", "S", "Z"
	PPID       int    // field 4
	PGRP       int    // field 5
	Session    int    // field 6
	TTYNr      int64  // field 7, encoded device number of the controlling terminal
	TPGID      int64  // field 8, -1 without a controlling terminal
	Flags      uint64 // field 9, PF_* bits
	MinFlt     uint64 // field 10, minor page faults
	MajFlt     uint64 // field 12, major page faults
	UTime      uint64 // field 14, clock ticks in user mode
	STime      uint64 // field 15, clock ticks in kernel mode
	CUTime     int64  // field 16, clock ticks of waited-for children in user mode
	CSTime     int64  // field 17, clock ticks of waited-for children in kernel mode
	Priority   int64  // field 18
	Nice       int64  // field 19
	NumThreads int64  // field 20
	StartTime  uint64 // field 22, clock ticks after boot
	VSize      uint64 // field 23, bytes
	RSS        int64  // field 24, pages
	ExitCode   *int64 // field 52, nil when the kernel prints fewer fields (before Linux 3.5)
	FieldCount int    // number of fields including pid and comm, 52 on current kernels
}

// ParseStat parses the content of /proc/<pid>/stat or a task's stat file.
//
// The command name may contain spaces, parentheses and newlines, so the name
// ends at the last ')' of the data and fields 3 onwards are the
// space-separated tokens after it. Fields 3 to 24 are required.
func ParseStat(data []byte) (Stat, error) {
	open := bytes.IndexByte(data, '(')
	closing := bytes.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return Stat{}, fmt.Errorf("%w: stat: missing \"(comm)\" in %q", ErrMalformed, excerpt(data))
	}

	pid, err := strconv.Atoi(string(bytes.TrimSpace(data[:open])))
	if err != nil {
		return Stat{}, fmt.Errorf("%w: stat: pid %q is not an integer", ErrMalformed, excerpt(data[:open]))
	}

	tokens := strings.Fields(string(data[closing+1:]))
	fieldCount := len(tokens) + 2
	if fieldCount < minStatFields {
		return Stat{}, fmt.Errorf("%w: stat: %d fields, want at least %d, in %q",
			ErrMalformed, fieldCount, minStatFields, excerpt(data))
	}

	f := statFields{tokens: tokens}
	s := Stat{
		PID:        pid,
		Comm:       string(data[open+1 : closing]),
		State:      f.token(3),
		PPID:       int(f.signed(4, "ppid")),
		PGRP:       int(f.signed(5, "pgrp")),
		Session:    int(f.signed(6, "session")),
		TTYNr:      f.signed(7, "tty_nr"),
		TPGID:      f.signed(8, "tpgid"),
		Flags:      f.unsigned(9, "flags"),
		MinFlt:     f.unsigned(10, "minflt"),
		MajFlt:     f.unsigned(12, "majflt"),
		UTime:      f.unsigned(14, "utime"),
		STime:      f.unsigned(15, "stime"),
		CUTime:     f.signed(16, "cutime"),
		CSTime:     f.signed(17, "cstime"),
		Priority:   f.signed(18, "priority"),
		Nice:       f.signed(19, "nice"),
		NumThreads: f.signed(20, "num_threads"),
		StartTime:  f.unsigned(22, "starttime"),
		VSize:      f.unsigned(23, "vsize"),
		RSS:        f.signed(24, "rss"),
		FieldCount: fieldCount,
	}
	if fieldCount >= 52 {
		exitCode := f.signed(52, "exit_code")
		s.ExitCode = &exitCode
	}
	if f.err != nil {
		return Stat{}, f.err
	}
	return s, nil
}

// KernelThread reports whether PF_KTHREAD is set in Flags. This works on all
// kernels, unlike the "Kthread" line of /proc/<pid>/status.
func (s Stat) KernelThread() bool {
	return s.Flags&pfKthread != 0
}

// statFields converts the tokens after the command name by their
// proc_pid_stat(5) field number and keeps the first conversion error.
type statFields struct {
	tokens []string // tokens[0] is field 3
	err    error
}

func (f *statFields) token(field int) string {
	i := field - 3
	if i < 0 || i >= len(f.tokens) {
		if f.err == nil {
			f.err = fmt.Errorf("%w: stat: field %d is missing", ErrMalformed, field)
		}
		return ""
	}
	return f.tokens[i]
}

func (f *statFields) signed(field int, name string) int64 {
	text := f.token(field)
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("%w: stat: field %d (%s) %q is not an integer",
			ErrMalformed, field, name, excerpt(text))
	}
	return v
}

func (f *statFields) unsigned(field int, name string) uint64 {
	text := f.token(field)
	v, err := strconv.ParseUint(text, 10, 64)
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("%w: stat: field %d (%s) %q is not an unsigned integer",
			ErrMalformed, field, name, excerpt(text))
	}
	return v
}
