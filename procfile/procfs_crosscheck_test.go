//go:build linux

package procfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// checkSame reports an error when ours and theirs print differently, so
// values of different integer types compare by their decimal text.
func checkSame(t *testing.T, name string, ours, theirs any) {
	t.Helper()
	if fmt.Sprint(ours) != fmt.Sprint(theirs) {
		t.Errorf("%s = %v, procfs = %v", name, ours, theirs)
	}
}

// snapshotProc copies the live /proc/self/{stat,status,maps} to
// <dir>/<pid>/ and /proc/meminfo to <dir>/meminfo, so this package and procfs
// parse the same bytes although the test process changes between two reads.
func snapshotProc(t *testing.T, dir string, pid int) {
	t.Helper()
	copies := map[string]string{
		"/proc/self/stat":   filepath.Join(dir, strconv.Itoa(pid), "stat"),
		"/proc/self/status": filepath.Join(dir, strconv.Itoa(pid), "status"),
		"/proc/self/maps":   filepath.Join(dir, strconv.Itoa(pid), "maps"),
		"/proc/meminfo":     filepath.Join(dir, "meminfo"),
	}
	if err := os.MkdirAll(filepath.Join(dir, strconv.Itoa(pid)), 0o755); err != nil {
		t.Fatalf("create snapshot folder: %v", err)
	}
	for from, to := range copies {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatalf("read %s: %v", from, err)
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			t.Fatalf("write snapshot: %v", err)
		}
	}
}

func readSnapshot(t *testing.T, dir string, name ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(append([]string{dir}, name...)...))
	if err != nil {
		t.Fatalf("read snapshot: %v", err)
	}
	return data
}

// TestProcfsCrossCheck compares the parsers with prometheus/procfs v0.23.0
// on a copy of the live /proc/self files of the test process and the live
// /proc/meminfo.
func TestProcfsCrossCheck(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	self, err := procfs.Self()
	if err != nil {
		t.Fatalf("procfs.Self: %v", err)
	}
	pid := os.Getpid()
	if self.PID != pid {
		t.Fatalf("procfs.Self PID = %d, want %d", self.PID, pid)
	}

	dir := t.TempDir()
	snapshotProc(t, dir, pid)
	fs, err := procfs.NewFS(dir)
	if err != nil {
		t.Fatalf("procfs.NewFS: %v", err)
	}
	proc, err := fs.Proc(pid)
	if err != nil {
		t.Fatalf("procfs Proc: %v", err)
	}

	t.Run("stat", func(t *testing.T) {
		ours, err := ParseStat(readSnapshot(t, dir, strconv.Itoa(pid), "stat"))
		if err != nil {
			t.Fatalf("ParseStat: %v", err)
		}
		theirs, err := proc.Stat()
		if err != nil {
			t.Fatalf("procfs Stat: %v", err)
		}
		checkSame(t, "PID", ours.PID, pid)
		checkSame(t, "Comm", ours.Comm, theirs.Comm)
		checkSame(t, "State", ours.State, theirs.State)
		checkSame(t, "PPID", ours.PPID, theirs.PPID)
		checkSame(t, "PPID (os.Getppid)", ours.PPID, os.Getppid())
		checkSame(t, "PGRP", ours.PGRP, theirs.PGRP)
		checkSame(t, "Session", ours.Session, theirs.Session)
		checkSame(t, "TTYNr", ours.TTYNr, theirs.TTY)
		checkSame(t, "TPGID", ours.TPGID, theirs.TPGID)
		checkSame(t, "Flags", ours.Flags, theirs.Flags)
		checkSame(t, "MinFlt", ours.MinFlt, theirs.MinFlt)
		checkSame(t, "MajFlt", ours.MajFlt, theirs.MajFlt)
		checkSame(t, "UTime", ours.UTime, theirs.UTime)
		checkSame(t, "STime", ours.STime, theirs.STime)
		checkSame(t, "CUTime", ours.CUTime, theirs.CUTime)
		checkSame(t, "CSTime", ours.CSTime, theirs.CSTime)
		checkSame(t, "Priority", ours.Priority, theirs.Priority)
		checkSame(t, "Nice", ours.Nice, theirs.Nice)
		checkSame(t, "NumThreads", ours.NumThreads, theirs.NumThreads)
		checkSame(t, "StartTime", ours.StartTime, theirs.Starttime)
		checkSame(t, "VSize", ours.VSize, theirs.VSize)
		checkSame(t, "RSS", ours.RSS, theirs.RSS)
		if ours.KernelThread() {
			t.Error("KernelThread() = true for the test process, want false")
		}
	})

	t.Run("status", func(t *testing.T) {
		ours, err := ParseStatus(readSnapshot(t, dir, strconv.Itoa(pid), "status"))
		if err != nil {
			t.Fatalf("ParseStatus: %v", err)
		}
		theirs, err := proc.NewStatus()
		if err != nil {
			t.Fatalf("procfs NewStatus: %v", err)
		}
		name, _ := ours.Value("Name")
		checkSame(t, "Name", name, theirs.Name)
		statusPID, _ := ours.Uint("Pid")
		checkSame(t, "Pid", statusPID, pid)
		tgid, _ := ours.Uint("Tgid")
		checkSame(t, "Tgid", tgid, theirs.TGID)
		uids, _ := ours.IDs("Uid")
		checkSame(t, "Uid", uids, theirs.UIDs)
		gids, _ := ours.IDs("Gid")
		checkSame(t, "Gid", gids, theirs.GIDs)
		nspid, _ := ours.Value("NSpid")
		checkSame(t, "NSpid", strings.Fields(nspid), theirs.NSpids)
		hexLines := []struct {
			key    string
			theirs uint64
		}{
			{"CapInh", theirs.CapInh}, {"CapPrm", theirs.CapPrm}, {"CapEff", theirs.CapEff},
			{"CapBnd", theirs.CapBnd}, {"CapAmb", theirs.CapAmb},
		}
		for _, line := range hexLines {
			v, _ := ours.Hex(line.key)
			checkSame(t, line.key, v, line.theirs)
		}
		sizeLines := []struct {
			key    string
			theirs uint64
		}{
			{"VmPeak", theirs.VmPeak}, {"VmSize", theirs.VmSize}, {"VmHWM", theirs.VmHWM},
			{"VmRSS", theirs.VmRSS}, {"RssAnon", theirs.RssAnon}, {"RssFile", theirs.RssFile},
			{"VmData", theirs.VmData}, {"VmStk", theirs.VmStk}, {"VmSwap", theirs.VmSwap},
		}
		for _, line := range sizeLines {
			v, _ := ours.Bytes(line.key)
			checkSame(t, line.key, v, line.theirs)
		}
		switches, _ := ours.Uint("voluntary_ctxt_switches")
		checkSame(t, "voluntary_ctxt_switches", switches, theirs.VoluntaryCtxtSwitches)
	})

	t.Run("maps", func(t *testing.T) {
		ours, err := ParseMaps(readSnapshot(t, dir, strconv.Itoa(pid), "maps"))
		if err != nil {
			t.Fatalf("ParseMaps: %v", err)
		}
		theirs, err := proc.ProcMaps()
		if err != nil {
			t.Fatalf("procfs ProcMaps: %v", err)
		}
		if len(ours) != len(theirs) {
			t.Fatalf("mapping count = %d, procfs = %d", len(ours), len(theirs))
		}
		if len(ours) == 0 {
			t.Fatal("mapping count = 0, want the test binary's mappings")
		}
		for i, o := range ours {
			p := theirs[i]
			row := "row " + strconv.Itoa(i+1) + " "
			checkSame(t, row+"Start", o.Start, uint64(p.StartAddr))
			checkSame(t, row+"End", o.End, uint64(p.EndAddr))
			checkSame(t, row+"Offset", o.Offset, p.Offset)
			checkSame(t, row+"Inode", o.Inode, p.Inode)
			checkSame(t, row+"Device", o.Device, fmt.Sprintf("%02x:%02x", unix.Major(p.Dev), unix.Minor(p.Dev)))
			// procfs joins the words of a path with single spaces.
			checkSame(t, row+"Path", strings.Join(strings.Fields(o.Path), " "), p.Pathname)
			checkSame(t, row+"Perms", o.Perms, formatProcfsPerms(p.Perms))
		}
	})

	t.Run("meminfo", func(t *testing.T) {
		entries, err := ParseMeminfo(readSnapshot(t, dir, "meminfo"))
		if err != nil {
			t.Fatalf("ParseMeminfo: %v", err)
		}
		theirs, err := fs.Meminfo()
		if err != nil {
			t.Fatalf("procfs Meminfo: %v", err)
		}
		ours := make(map[string]uint64)
		for _, e := range entries {
			ours[e.Name] = e.Value
		}
		lines := []struct {
			name   string
			theirs *uint64
		}{
			{"MemTotal", theirs.MemTotalBytes},
			{"MemFree", theirs.MemFreeBytes},
			{"MemAvailable", theirs.MemAvailableBytes},
			{"Cached", theirs.CachedBytes},
			{"Active(anon)", theirs.ActiveAnonBytes},
			{"SwapTotal", theirs.SwapTotalBytes},
			{"VmallocTotal", theirs.VmallocTotalBytes},
			{"Hugepagesize", theirs.HugepagesizeBytes},
			{"HugePages_Total", theirs.HugePagesTotal},
		}
		for _, line := range lines {
			got, ok := ours[line.name]
			if line.theirs == nil {
				if ok {
					t.Errorf("%s = %d, procfs found no such line", line.name, got)
				}
				continue
			}
			if !ok {
				t.Errorf("%s absent, procfs = %d", line.name, *line.theirs)
				continue
			}
			if got != *line.theirs {
				t.Errorf("%s = %d, procfs = %d", line.name, got, *line.theirs)
			}
		}
	})
}

// formatProcfsPerms rebuilds the four-letter maps permissions from procfs.
func formatProcfsPerms(p *procfs.ProcMapPermissions) string {
	letters := []byte("---p")
	if p.Read {
		letters[0] = 'r'
	}
	if p.Write {
		letters[1] = 'w'
	}
	if p.Execute {
		letters[2] = 'x'
	}
	if p.Shared {
		letters[3] = 's'
	}
	return string(letters)
}
