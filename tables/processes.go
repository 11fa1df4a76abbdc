package tables

import (
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/procsql/procsql/procfile"
	"strings"
)

// processes has one row per process, from /proc/<pid>/stat, status, cmdline,
// the exe, cwd and root links, cgroup and the ns/ links.
func init() {
	register(&rowTable[*Process]{
		name:    "processes",
		comment: "one row per process: identity, command line, credentials and resources",
		keys:    []string{"pid"},
		notNull: []string{"pid"},
		columns: processColumns,
		process: readProcess,
	})
}

var processColumns = []column[*Process]{
	{Column{"pid", types.Int32, "process id"}, func(p *Process) any { return int32(p.PID) }},
	{Column{"ppid", types.Int32, "parent process id (stat)"}, statOrStatus(func(s procfile.Stat) any { return int32(s.PPID) }, statusPPID)},
	{Column{"name", types.LongText, "command name, comm (stat), at most 15 bytes for most processes"}, func(p *Process) any { return orNull(p.Comm()) }},
	{Column{"state", types.LongText, "state letter (stat): R, S, D, Z, T, t, I ..."}, statOrStatus(func(s procfile.Stat) any { return s.State }, statusState)},
	{Column{"exe", types.LongText, "executable path from the exe link, without the \" (deleted)\" marker"}, func(p *Process) any {
		path, _, ok := p.ExePath()
		return orNull(path, ok)
	}},
	{Column{"exe_deleted", types.Boolean, "1 when the executable file was deleted (link count 0)"}, func(p *Process) any {
		_, deleted, ok := p.ExePath()
		return orNull(boolValue(deleted), ok)
	}},
	{Column{"exe_sha256", types.LongText, "SHA-256 of the executable, read through the exe link so deleted and memfd binaries are hashed too"}, func(p *Process) any {
		d, ok := p.ExeDigest()
		return orNull(d.SHA256, ok)
	}},
	{Column{"exe_size", types.Int64, "size of the executable in bytes, read through the exe link"}, func(p *Process) any {
		d, ok := p.ExeDigest()
		return orNull(d.Size, ok && !d.SizeUnknown)
	}},
	{Column{"cmdline", types.LongText, "argv joined by spaces"}, func(p *Process) any {
		c, ok := p.Cmdline()
		return orNull(procfile.JoinArgv(c.argv), ok)
	}},
	{Column{"cmdline_raw", types.LongBlob, "the exact bytes of /proc/<pid>/cmdline, NUL separators included"}, func(p *Process) any {
		c, ok := p.Cmdline()
		return orNull(c.raw, ok)
	}},
	{Column{"argv", types.JSON, "argv as a JSON array of strings; empty for kernel threads and zombies"}, func(p *Process) any {
		c, ok := p.Cmdline()
		if !ok {
			return nil
		}
		return jsonArray(c.argv)
	}},
	{Column{"cmdline_truncated", types.Boolean, "1 when cmdline filled one page with no NUL, so the kernel may have cut it"}, func(p *Process) any {
		c, ok := p.Cmdline()
		return orNull(boolValue(c.truncated), ok)
	}},
	{Column{"cwd", types.LongText, "current working directory (cwd link)"}, linkValue("cwd")},
	{Column{"root", types.LongText, "root directory (root link); not / inside a chroot or container"}, linkValue("root")},
	{Column{"uid", types.Uint32, "real user id (status)"}, idValue("Uid", 0)},
	{Column{"euid", types.Uint32, "effective user id (status)"}, idValue("Uid", 1)},
	{Column{"suid", types.Uint32, "saved user id (status)"}, idValue("Uid", 2)},
	{Column{"gid", types.Uint32, "real group id (status)"}, idValue("Gid", 0)},
	{Column{"egid", types.Uint32, "effective group id (status)"}, idValue("Gid", 1)},
	{Column{"sgid", types.Uint32, "saved group id (status)"}, idValue("Gid", 2)},
	{Column{"user", types.LongText, "name of the real uid in the host's /etc/passwd"}, func(p *Process) any {
		st, ok := p.Status()
		if !ok {
			return nil
		}
		ids, ok := st.IDs("Uid")
		if !ok {
			return nil
		}
		return orNull(p.r.userName(ids[0]))
	}},
	{Column{"start_time", types.DatetimeMaxPrecision, "start time in UTC, from boot time and the start ticks (stat)"}, func(p *Process) any {
		st, ok := p.Stat()
		if !ok {
			return nil
		}
		return orNull(p.r.startTime(st.StartTime))
	}},
	{Column{"threads", types.Int64, "number of threads (stat)"}, statOrStatus(func(s procfile.Stat) any { return s.NumThreads }, statusThreads)},
	{Column{"nice", types.Int64, "nice value, -20 to 19 (stat)"}, statValue(func(s procfile.Stat) any { return s.Nice })},
	{Column{"rss_bytes", types.Int64, "resident set size in bytes (status VmRSS); NULL for kernel threads and zombies"}, statusBytes("VmRSS")},
	{Column{"vsize_bytes", types.Uint64, "virtual memory size in bytes (stat); NULL for kernel threads and zombies, which have no address space"}, statValue(func(s procfile.Stat) any {
		return orNull(s.VSize, s.VSize != 0)
	})},
	{Column{"tty_nr", types.Int64, "controlling terminal device number, 0 for none (stat)"}, statValue(func(s procfile.Stat) any { return s.TTYNr })},
	{Column{"session", types.Int32, "session id (stat)"}, statValue(func(s procfile.Stat) any { return int32(s.Session) })},
	{Column{"pgrp", types.Int32, "process group id (stat)"}, statValue(func(s procfile.Stat) any { return int32(s.PGRP) })},
	{Column{"tracer_pid", types.Int32, "pid of the tracing process, 0 when not traced (status TracerPid)"}, func(p *Process) any {
		st, ok := p.Status()
		if !ok {
			return nil
		}
		v, ok := st.Uint("TracerPid")
		return orNull(int32(v), ok)
	}},
	{Column{"cap_eff", types.LongText, "effective capability mask as 16 hex digits (status CapEff)"}, statusText("CapEff")},
	{Column{"seccomp", types.Int32, "seccomp mode: 0 off, 1 strict, 2 filter (status Seccomp)"}, func(p *Process) any {
		st, ok := p.Status()
		if !ok {
			return nil
		}
		v, ok := st.Uint("Seccomp")
		return orNull(int32(v), ok)
	}},
	{Column{"cgroup", types.LongText, "cgroup v2 path, or the v1 lines joined by ;"}, func(p *Process) any {
		return orNull(p.Cgroup())
	}},
	{Column{"pid_ns", types.Uint64, "pid namespace inode (ns/pid link)"}, namespaceValue("pid")},
	{Column{"net_ns", types.Uint64, "network namespace inode (ns/net link)"}, namespaceValue("net")},
	{Column{"mnt_ns", types.Uint64, "mount namespace inode (ns/mnt link)"}, namespaceValue("mnt")},
	{Column{"kernel_thread", types.Boolean, "1 for kernel threads (PF_KTHREAD in the stat flags)"}, statOrStatus(func(s procfile.Stat) any { return boolValue(s.KernelThread()) }, statusKthread)},
}

// statOrStatus returns a column read from stat or, when the source did not
// collect stat at all, from status. A CatScale collection keeps status only.
// Only fields that status repeats use it; a denied or malformed stat still
// gives NULL.
func statOrStatus(get func(procfile.Stat) any, fromStatus func(procfile.Status) any) func(*Process) any {
	return func(p *Process) any {
		if st, ok := p.Stat(); ok {
			return get(st)
		}
		if !p.statMissing {
			return nil
		}
		st, ok := p.Status()
		if !ok {
			return nil
		}
		return fromStatus(st)
	}
}

func statusPPID(st procfile.Status) any {
	v, ok := st.Uint("PPid")
	return orNull(int32(v), ok)
}

func statusThreads(st procfile.Status) any {
	v, ok := st.Uint("Threads")
	return orNull(int64(v), ok)
}

// statusState returns the letter of "State:	S (sleeping)".
func statusState(st procfile.Status) any {
	v, ok := st.Value("State")
	letter, _, _ := strings.Cut(v, " ")
	return orNull(letter, ok && letter != "")
}

// statusKthread reads "Kthread:", which kernels from 6.10 print; older
// ones leave the column NULL.
func statusKthread(st procfile.Status) any {
	v, ok := st.Value("Kthread")
	if !ok || (v != "0" && v != "1") {
		return nil
	}
	return boolValue(v == "1")
}

func statValue(get func(procfile.Stat) any) func(*Process) any {
	return func(p *Process) any {
		st, ok := p.Stat()
		if !ok {
			return nil
		}
		return get(st)
	}
}

func linkValue(file string) func(*Process) any {
	return func(p *Process) any { return orNull(p.Link(file)) }
}

func namespaceValue(kind string) func(*Process) any {
	return func(p *Process) any { return orNull(p.Namespace(kind)) }
}

func idValue(key string, index int) func(*Process) any {
	return func(p *Process) any {
		st, ok := p.Status()
		if !ok {
			return nil
		}
		ids, ok := st.IDs(key)
		return orNull(ids[index], ok)
	}
}

func statusBytes(key string) func(*Process) any {
	return func(p *Process) any {
		st, ok := p.Status()
		if !ok {
			return nil
		}
		v, ok := st.Bytes(key)
		return orNull(int64(v), ok)
	}
}

func statusText(key string) func(*Process) any {
	return func(p *Process) any {
		st, ok := p.Status()
		if !ok {
			return nil
		}
		return orNull(st.Value(key))
	}
}

// jsonArray returns strings as a JSON column value. Strings are kept as Go
// strings, so bytes that are not UTF-8 reach encoders unchanged.
func jsonArray(items []string) types.JSONDocument {
	values := make([]any, len(items))
	for i, s := range items {
		values[i] = s
	}
	return types.JSONDocument{Val: values}
}
