package procfile

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// statField returns the field of s named as in proc_pid_stat(5), so a table
// can list only the values a case states.
func statField(t *testing.T, s Stat, name string) any {
	t.Helper()
	switch name {
	case "pid":
		return s.PID
	case "comm":
		return s.Comm
	case "state":
		return s.State
	case "ppid":
		return s.PPID
	case "pgrp":
		return s.PGRP
	case "session":
		return s.Session
	case "tty_nr":
		return s.TTYNr
	case "tpgid":
		return s.TPGID
	case "flags":
		return s.Flags
	case "utime":
		return s.UTime
	case "stime":
		return s.STime
	case "num_threads":
		return s.NumThreads
	case "starttime":
		return s.StartTime
	case "vsize":
		return s.VSize
	case "rss":
		return s.RSS
	case "exit_code":
		if s.ExitCode == nil {
			return nil
		}
		return *s.ExitCode
	case "field_count":
		return s.FieldCount
	case "kernel_thread":
		return s.KernelThread()
	}
	t.Fatalf("unknown stat field %q", name)
	return nil
}

func TestParseStatCases(t *testing.T) {
	tests := []struct {
		file string
		want map[string]any
	}{
		{"01-stat-comm-with-spaces/stat", map[string]any{
			"pid": 4242, "comm": "Media Serv Wkr", "state": "S", "ppid": 1, "pgrp": 4242,
			"session": 4242, "tty_nr": int64(0), "tpgid": int64(-1), "utime": uint64(642),
			"stime": uint64(118), "num_threads": int64(9), "starttime": uint64(73110),
			"vsize": uint64(412315648), "rss": int64(20480), "exit_code": int64(0),
			"field_count": 52, "kernel_thread": false,
		}},
		{"01-stat-comm-with-spaces/task/4250/stat", map[string]any{
			"pid": 4250, "comm": "Worker Pool 2", "state": "S", "ppid": 1, "pgrp": 4242,
			"num_threads": int64(9),
		}},
		{"02-stat-comm-with-parentheses/7001/stat", map[string]any{
			"pid": 7001, "comm": "svc (v2) main", "state": "R", "ppid": 1491, "pgrp": 7001,
			"session": 1491, "field_count": 52,
		}},
		{"02-stat-comm-with-parentheses/7002/stat", map[string]any{
			"pid": 7002, "comm": "report-(weekly-", "state": "S", "ppid": 1491, "field_count": 52,
		}},
		{"02-stat-comm-with-parentheses/7003/stat", map[string]any{
			"pid": 7003, "comm": "x) Z 1 1 1 0 -", "state": "S", "ppid": 1491, "pgrp": 7003,
			"session": 1491, "field_count": 52,
		}},
		{"02-stat-comm-with-parentheses/7004/stat", map[string]any{
			"pid": 7004, "comm": ")", "state": "S", "ppid": 1491, "field_count": 52,
		}},
		{"09-kernel-threads/2/stat", map[string]any{
			"pid": 2, "comm": "kthreadd", "state": "S", "ppid": 0, "flags": uint64(2129984),
			"vsize": uint64(0), "rss": int64(0), "kernel_thread": true,
		}},
		{"09-kernel-threads/58/stat", map[string]any{
			"pid": 58, "comm": "kworker/0:1H-kblockd", "state": "I", "ppid": 2,
			"flags": uint64(69238880), "kernel_thread": true,
		}},
		{"10-zombie-process/stat", map[string]any{
			"pid": 3170, "comm": "defunct-child", "state": "Z", "ppid": 3100,
			"vsize": uint64(0), "rss": int64(0), "exit_code": int64(256), "kernel_thread": false,
		}},
		{"29-permission-denied-other-user/1234/stat", map[string]any{
			"pid": 1234, "comm": "postgres", "state": "S",
		}},
		{"29-permission-denied-other-user/5678/stat", map[string]any{
			"pid": 5678, "comm": "bash",
		}},
		{"31-process-exits-mid-read/4102/stat", map[string]any{
			"pid": 4102, "comm": "short-lived",
		}},
		{"31-process-exits-mid-read/4103/stat", map[string]any{
			"pid": 4103, "comm": "sleeper",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s, err := ParseStat(readCaseFile(t, tt.file))
			if err != nil {
				t.Fatalf("ParseStat: %v", err)
			}
			for name, want := range tt.want {
				if got := statField(t, s, name); got != want {
					t.Errorf("%s = %#v, want %#v", name, got, want)
				}
			}
		})
	}
}

// The case files state "50 tokens after the last ')'", which is 52 fields.
func TestParseStatParenthesesTokenCount(t *testing.T) {
	for _, pid := range []string{"7001", "7002", "7003", "7004"} {
		s, err := ParseStat(readCaseFile(t, "02-stat-comm-with-parentheses/"+pid+"/stat"))
		if err != nil {
			t.Fatalf("%s: ParseStat: %v", pid, err)
		}
		if got := s.FieldCount - 2; got != 50 {
			t.Errorf("%s: tokens after the last ')' = %d, want 50", pid, got)
		}
	}
}

// A first-')' parser reads pid 7003 as a zombie with ppid 1.
func TestParseStatSpoofedZombie(t *testing.T) {
	s, err := ParseStat(readCaseFile(t, "02-stat-comm-with-parentheses/7003/stat"))
	if err != nil {
		t.Fatalf("ParseStat: %v", err)
	}
	if s.State == "Z" {
		t.Errorf("State = %q, want %q", s.State, "S")
	}
	if s.PPID == 1 {
		t.Errorf("PPID = %d, want 1491", s.PPID)
	}
}

// Kernels before Linux 3.5 print fewer than 52 fields, so exit_code is absent.
func TestParseStatShortLine(t *testing.T) {
	line := "1 (init) S 0 1 1 0 -1 4194560 10 20 30 40 50 60 70 80 20 0 1 0 5 1000 2 18446744073709551615 1 2 3 4 5 6 7 8 9 10 11 12 17 0 0 0 0 0 0\n"
	s, err := ParseStat([]byte(line))
	if err != nil {
		t.Fatalf("ParseStat: %v", err)
	}
	if s.FieldCount != 44 {
		t.Errorf("FieldCount = %d, want 44", s.FieldCount)
	}
	if s.ExitCode != nil {
		t.Errorf("ExitCode = %d, want nil", *s.ExitCode)
	}
	if s.RSS != 2 {
		t.Errorf("RSS = %d, want 2", s.RSS)
	}
}

func TestParseStatMalformed(t *testing.T) {
	valid := "4242 (x) S 1 4242 4242 0 -1 4194560 1 0 3 0 642 118 0 0 20 0 9 0 73110 412315648 20480"
	tests := []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"no parentheses", "4242 x S 1"},
		{"no closing parenthesis", "4242 (x S 1 4242"},
		{"closing before opening", "4242 )x( S 1 4242 4242 0 -1 4194560 1 0 3 0 642 118 0 0 20 0 9 0 73110 412315648 20480"},
		{"pid not a number", strings.Replace(valid, "4242", "abc", 1)},
		{"pid missing", valid[len("4242 "):]},
		{"too few fields", "4242 (x) S 1 4242"},
		{"ppid not a number", strings.Replace(valid, "S 1 ", "S one ", 1)},
		{"negative utime", strings.Replace(valid, " 642 ", " -642 ", 1)},
		{"rss not a number", valid[:len(valid)-len("20480")] + "2048O"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStat([]byte(tt.data))
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseStat(%q) error = %v, want ErrMalformed", tt.data, err)
			}
		})
	}
}

func TestParseStatErrorQuotesInput(t *testing.T) {
	long := "1 " + strings.Repeat("y", 500)
	_, err := ParseStat([]byte(long))
	if err == nil {
		t.Fatal("ParseStat: no error")
	}
	if got := len(err.Error()); got > 200 {
		t.Errorf("error message length = %d, want at most 200: %v", got, err)
	}
	if !strings.Contains(err.Error(), `"1 yyy`) {
		t.Errorf("error = %v, want the input quoted", err)
	}
}

// statLine formats a stat line with the given comm and distinct values in
// every field, so a shifted field shows as a wrong value.
func statLine(pid int, comm string, values statValues) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d (%s) %s %d %d %d %d %d %d", pid, comm, values.state,
		values.ppid, values.pgrp, values.session, values.ttyNr, values.tpgid, values.flags)
	fmt.Fprintf(&b, " 10 11 12 13 %d %d 16 17 %d %d %d 21 %d %d %d",
		values.utime, values.stime, values.priority, values.nice, values.numThreads,
		values.startTime, values.vsize, values.rss)
	for field := 25; field <= 51; field++ {
		fmt.Fprintf(&b, " %d", field)
	}
	fmt.Fprintf(&b, " %d\n", values.exitCode)
	return b.String()
}

type statValues struct {
	state                                     string
	ppid, pgrp, session                       int
	ttyNr, tpgid                              int64
	flags, utime, stime, startTime, vsize     uint64
	priority, nice, numThreads, rss, exitCode int64
}

// commAlphabet contains the bytes that break naive stat parsers.
const commAlphabet = "ab() \n\t)(Z-0129:/"

func TestParseStatCommNeverShiftsFields(t *testing.T) {
	fixed := []string{
		"", ")", "(", ")(", "a b", "a\nb", "x) Z 1 1 1 0 -", ") S 1 2 3 4 5 6",
		"((((", "))))", " ", "\n", "kworker/0:1H-kblockd", strings.Repeat(") ", 32),
	}
	random := rand.New(rand.NewPCG(1, 2))
	comms := append([]string(nil), fixed...)
	for range 2000 {
		n := random.IntN(65)
		var b strings.Builder
		for range n {
			b.WriteByte(commAlphabet[random.IntN(len(commAlphabet))])
		}
		comms = append(comms, b.String())
	}

	for i, comm := range comms {
		values := statValues{
			state: "DRSTZ"[random.IntN(5):][:1], ppid: random.IntN(1 << 22),
			pgrp: random.IntN(1 << 22), session: random.IntN(1 << 22),
			ttyNr: random.Int64N(1 << 20), tpgid: random.Int64N(1<<22) - 1,
			flags: random.Uint64(), utime: random.Uint64(), stime: random.Uint64(),
			priority: random.Int64N(140) - 100, nice: random.Int64N(40) - 20,
			numThreads: random.Int64N(1 << 16), startTime: random.Uint64(),
			vsize: random.Uint64(), rss: random.Int64(), exitCode: random.Int64N(1<<16) - 1,
		}
		pid := 1 + i
		line := statLine(pid, comm, values)

		s, err := ParseStat([]byte(line))
		if err != nil {
			t.Fatalf("ParseStat(%q): %v", line, err)
		}
		check := func(name string, got, want any) {
			if got != want {
				t.Errorf("comm %q: %s = %#v, want %#v", comm, name, got, want)
			}
		}
		check("pid", s.PID, pid)
		check("comm", s.Comm, comm)
		check("state", s.State, values.state)
		check("ppid", s.PPID, values.ppid)
		check("pgrp", s.PGRP, values.pgrp)
		check("session", s.Session, values.session)
		check("tty_nr", s.TTYNr, values.ttyNr)
		check("tpgid", s.TPGID, values.tpgid)
		check("flags", s.Flags, values.flags)
		check("utime", s.UTime, values.utime)
		check("stime", s.STime, values.stime)
		check("priority", s.Priority, values.priority)
		check("nice", s.Nice, values.nice)
		check("num_threads", s.NumThreads, values.numThreads)
		check("starttime", s.StartTime, values.startTime)
		check("vsize", s.VSize, values.vsize)
		check("rss", s.RSS, values.rss)
		check("field_count", s.FieldCount, 52)
		if s.ExitCode == nil {
			t.Errorf("comm %q: ExitCode = nil, want %d", comm, values.exitCode)
		} else {
			check("exit_code", *s.ExitCode, values.exitCode)
		}
		if t.Failed() {
			return
		}
	}
}

func BenchmarkParseStat(b *testing.B) {
	data := readCaseFile(b, "01-stat-comm-with-spaces/stat")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseStat(data); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseStat checks that ParseStat takes comm from between the first '('
// and the last ')' and every later field from its own position after it.
func FuzzParseStat(f *testing.F) {
	addFileSeeds(f, caseGlob("*/stat"), caseGlob("*/*/stat"), caseGlob("*/task/*/stat"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Stat
		var err error
		checkAllocations(t, len(data), func() { s, err = ParseStat(data) })
		checkMalformed(t, err)
		if err != nil {
			return
		}

		open := bytes.IndexByte(data, '(')
		closing := bytes.LastIndexByte(data, ')')
		if want := string(data[open+1 : closing]); s.Comm != want {
			t.Errorf("Comm = %q, want %q", s.Comm, want)
		}
		tokens := strings.Fields(string(data[closing+1:]))
		if s.FieldCount != len(tokens)+2 {
			t.Errorf("FieldCount = %d, want %d", s.FieldCount, len(tokens)+2)
		}
		if s.State != tokens[0] {
			t.Errorf("State = %q, want field 3 %q", s.State, tokens[0])
		}

		// Each number must be the one at its field number of proc_pid_stat(5).
		signed := map[int]int64{
			4: int64(s.PPID), 5: int64(s.PGRP), 6: int64(s.Session), 7: s.TTYNr, 8: s.TPGID,
			16: s.CUTime, 17: s.CSTime, 18: s.Priority, 19: s.Nice, 20: s.NumThreads, 24: s.RSS,
		}
		if s.ExitCode != nil {
			signed[52] = *s.ExitCode
		} else if s.FieldCount >= 52 {
			t.Errorf("ExitCode = nil with %d fields", s.FieldCount)
		}
		for field, got := range signed {
			if want, err := strconv.ParseInt(tokens[field-3], 10, 64); err != nil || got != want {
				t.Errorf("field %d = %d, want %q", field, got, tokens[field-3])
			}
		}
		unsigned := map[int]uint64{
			9: s.Flags, 10: s.MinFlt, 12: s.MajFlt, 14: s.UTime, 15: s.STime,
			22: s.StartTime, 23: s.VSize,
		}
		for field, got := range unsigned {
			if want, err := strconv.ParseUint(tokens[field-3], 10, 64); err != nil || got != want {
				t.Errorf("field %d = %d, want %q", field, got, tokens[field-3])
			}
		}
	})
}

// FuzzStatComm formats a stat line from known field values and an arbitrary
// comm, which may contain spaces, parentheses, newlines, NULs and invalid
// UTF-8. The comm and every other field must parse back unchanged. The seeds
// are the command names of the stat fixtures.
func FuzzStatComm(f *testing.F) {
	for _, data := range readSeedFiles(f, caseGlob("*/stat"), caseGlob("*/*/stat"), caseGlob("*/task/*/stat")) {
		s, err := ParseStat(data)
		if err != nil {
			f.Fatalf("seed %q: %v", data, err)
		}
		f.Add(s.Comm, s.State[0], uint64(s.PID))
	}
	f.Add("a\x00b\xff\xfe) R 1 2 3", byte('Z'), uint64(1))
	f.Fuzz(func(t *testing.T, comm string, state byte, seed uint64) {
		random := rand.New(rand.NewPCG(seed, uint64(len(comm))))
		values := statValues{
			state: string("RSDZTtXxKWPI"[int(state)%12]), ppid: random.IntN(1 << 22),
			pgrp: random.IntN(1 << 22), session: random.IntN(1 << 22),
			ttyNr: random.Int64N(1 << 20), tpgid: random.Int64N(1<<22) - 1,
			flags: random.Uint64(), utime: random.Uint64(), stime: random.Uint64(),
			priority: random.Int64N(140) - 100, nice: random.Int64N(40) - 20,
			numThreads: random.Int64N(1 << 16), startTime: random.Uint64(),
			vsize: random.Uint64(), rss: random.Int64(), exitCode: random.Int64N(1<<16) - 1,
		}
		pid := 1 + random.IntN(1<<22)
		line := statLine(pid, comm, values)

		s, err := ParseStat([]byte(line))
		if err != nil {
			t.Fatalf("ParseStat(%q): %v", line, err)
		}
		check := func(name string, got, want any) {
			t.Helper()
			if got != want {
				t.Errorf("comm %q: %s = %#v, want %#v", comm, name, got, want)
			}
		}
		check("pid", s.PID, pid)
		check("comm", s.Comm, comm)
		check("state", s.State, values.state)
		check("ppid", s.PPID, values.ppid)
		check("pgrp", s.PGRP, values.pgrp)
		check("session", s.Session, values.session)
		check("tty_nr", s.TTYNr, values.ttyNr)
		check("tpgid", s.TPGID, values.tpgid)
		check("flags", s.Flags, values.flags)
		check("utime", s.UTime, values.utime)
		check("stime", s.STime, values.stime)
		check("priority", s.Priority, values.priority)
		check("nice", s.Nice, values.nice)
		check("num_threads", s.NumThreads, values.numThreads)
		check("starttime", s.StartTime, values.startTime)
		check("vsize", s.VSize, values.vsize)
		check("rss", s.RSS, values.rss)
		check("field_count", s.FieldCount, 52)
		if s.ExitCode == nil {
			t.Errorf("comm %q: ExitCode = nil, want %d", comm, values.exitCode)
		} else {
			check("exit_code", *s.ExitCode, values.exitCode)
		}
	})
}
