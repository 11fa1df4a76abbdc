package tables

import (
	"errors"
	"strconv"
	"strings"

	"github.com/procsql/procsql/procfile"
	"github.com/procsql/procsql/source"
)

// lazy holds a value that is loaded on first use. A Process is used by one
// goroutine at a time, so it needs no lock.
type lazy[V any] struct {
	loaded bool
	value  V
	ok     bool
}

func (l *lazy[V]) get(load func() (V, bool)) (V, bool) {
	if !l.loaded {
		l.value, l.ok = load()
		l.loaded = true
	}
	return l.value, l.ok
}

// Process reads the files of one process on demand. Each accessor reports
// false when its file could not be read; the failure is recorded on the
// Reader unless the process simply exited.
type Process struct {
	PID int
	r   *Reader
	dir string // "<pid>/", the prefix of every file name of the process

	stat lazy[procfile.Stat]
	// statMissing is set when the source did not collect stat at all,
	// which lets a few columns fall back to status (see statOrStatus).
	statMissing bool
	status      lazy[procfile.Status]
	argv        lazy[cmdline]
	exe         lazy[string]
	nlink       lazy[uint64]
	digest      lazy[source.Digest]
	environ     lazy[[]procfile.EnvVar]
	cgroup      lazy[string]
	links       []namedLink
}

// namedLink is a link under /proc/<pid>, such as "cwd", read on first use.
// A process has a handful, so a slice searched in order costs less than a
// map.
type namedLink struct {
	file   string
	target lazy[string]
}

type cmdline struct {
	raw       []byte
	argv      []string
	truncated bool
}

func newProcess(r *Reader, pid int) *Process {
	return &Process{PID: pid, r: r, dir: strconv.Itoa(pid) + "/"}
}

func (p *Process) name(file string) string {
	return p.dir + file
}

// Stat returns the parsed /proc/<pid>/stat.
func (p *Process) Stat() (procfile.Stat, bool) {
	return p.stat.get(func() (procfile.Stat, bool) {
		data, err := p.r.Src.ReadFile(p.name("stat"))
		return p.parseStat(data, err)
	})
}

func (p *Process) parseStat(data []byte, err error) (procfile.Stat, bool) {
	if err == nil {
		var st procfile.Stat
		if st, err = procfile.ParseStat(data); err == nil {
			return st, true
		}
	}
	p.statMissing = errors.Is(err, source.ErrNotCollected)
	p.r.recordFailure(p.name("stat"), err)
	return procfile.Stat{}, false
}

// Comm returns the command name from stat, or from the "Name:" line of
// status when the source did not collect stat (see statOrStatus).
func (p *Process) Comm() (string, bool) {
	if st, ok := p.Stat(); ok {
		return st.Comm, true
	}
	if !p.statMissing {
		return "", false
	}
	st, ok := p.Status()
	if !ok {
		return "", false
	}
	v, ok := st.Value("Name")
	return procfile.UnescapeStatusName(v), ok
}

// Status returns the parsed /proc/<pid>/status.
func (p *Process) Status() (procfile.Status, bool) {
	return p.status.get(func() (procfile.Status, bool) {
		data, ok := p.r.readFile(p.name("status"))
		if !ok {
			return procfile.Status{}, false
		}
		st, err := procfile.ParseStatus(data)
		if err != nil {
			p.r.recordFailure(p.name("status"), err)
			return procfile.Status{}, false
		}
		return st, true
	})
}

// Cmdline returns argv from /proc/<pid>/cmdline and whether the kernel cut it
// at one page.
func (p *Process) Cmdline() (cmdline, bool) {
	return p.argv.get(func() (cmdline, bool) {
		data, ok := p.r.readFile(p.name("cmdline"))
		if !ok {
			return cmdline{}, false
		}
		argv, truncated := procfile.ParseCmdline(data)
		return cmdline{raw: data, argv: argv, truncated: truncated}, true
	})
}

// Exe returns the raw link text of /proc/<pid>/exe, which ends in
// " (deleted)" when the file was unlinked.
func (p *Process) Exe() (string, bool) {
	return p.exe.get(func() (string, bool) {
		return p.r.readLink(p.name("exe"))
	})
}

// ExePath returns the executable path without the deletion marker and whether
// the executable was deleted. The hard link count of the file behind the
// link decides deletion when it can be read, because a live file may itself
// be named "x (deleted)". Without it, one trailing marker is taken as
// deletion.
func (p *Process) ExePath() (path string, deleted bool, ok bool) {
	raw, ok := p.Exe()
	if !ok {
		return "", false, false
	}
	nlink, known := p.nlink.get(func() (uint64, bool) {
		st, err := p.r.Src.Stat(p.name("exe"))
		return st.LinkCount, err == nil
	})
	if known {
		path, deleted = procfile.SplitDeletedNlink(raw, nlink)
		return path, deleted, true
	}
	path, deleted = procfile.SplitDeleted(raw)
	return path, deleted, true
}

// ExeDigest returns the SHA-256 and size of the executable.
func (p *Process) ExeDigest() (source.Digest, bool) {
	return p.digest.get(func() (source.Digest, bool) {
		d, err := p.r.Src.Hash(p.name("exe"))
		if err != nil {
			p.r.recordFailure(p.name("exe"), err)
			return source.Digest{}, false
		}
		return d, true
	})
}

// Link returns the target of a link under /proc/<pid>, such as "cwd".
func (p *Process) Link(file string) (string, bool) {
	i := 0
	for i < len(p.links) && p.links[i].file != file {
		i++
	}
	if i == len(p.links) {
		p.links = append(p.links, namedLink{file: file})
	}
	return p.links[i].target.get(func() (string, bool) {
		return p.r.readLink(p.name(file))
	})
}

// Namespace returns the inode of the process's namespace of the given kind,
// such as "net", from the ns/<kind> link.
func (p *Process) Namespace(kind string) (uint64, bool) {
	link, ok := p.Link("ns/" + kind)
	if !ok {
		return 0, false
	}
	_, inode, err := procfile.ParseNamespaceLink(link)
	if err != nil {
		p.r.recordFailure(p.name("ns/"+kind), err)
		return 0, false
	}
	return inode, true
}

// Environ returns the variables of /proc/<pid>/environ.
func (p *Process) Environ() ([]procfile.EnvVar, bool) {
	return p.environ.get(func() ([]procfile.EnvVar, bool) {
		data, ok := p.r.readFile(p.name("environ"))
		if !ok {
			return nil, false
		}
		return procfile.ParseEnviron(data), true
	})
}

// Cgroup returns the unified (v2) cgroup path, or the whole file with lines
// joined by ";" on a host that still mounts v1 hierarchies.
func (p *Process) Cgroup() (string, bool) {
	return p.cgroup.get(func() (string, bool) {
		data, ok := p.r.readFile(p.name("cgroup"))
		if !ok {
			return "", false
		}
		text := strings.TrimRight(string(data), "\n")
		if path, found := strings.CutPrefix(text, "0::"); found && !strings.Contains(path, "\n") {
			return path, true
		}
		return strings.ReplaceAll(text, "\n", ";"), true
	})
}

// readProcess emits the process pid unless it no longer exists. A process
// whose stat is gone exited during the scan and is skipped. Any other stat
// failure, including a stat that a copied tree lacks, still yields the
// process, with NULL in the columns stat feeds.
func readProcess(r *Reader, pid int, emit func(*Process) error) error {
	p := newProcess(r, pid)
	data, err := r.Src.ReadFile(p.name("stat"))
	if errors.Is(err, source.ErrNotCollected) {
		// A copied tree that lacks the file: the process existed.
		r.recordMissing(p.name("stat"))
		return emit(p)
	}
	if err != nil && source.Gone(err) {
		return nil
	}
	p.stat.get(func() (procfile.Stat, bool) { return p.parseStat(data, err) })
	return emit(p)
}
