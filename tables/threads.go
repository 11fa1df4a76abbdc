package tables

import (
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/procsql/procsql/procfile"
)

// threads has one row per thread, from /proc/<pid>/task/<tid>/stat. Thread
// names are set freely with prctl(PR_SET_NAME), so a thread can carry a name
// that its process does not.
func init() {
	register(&rowTable[threadItem]{
		name:    "threads",
		comment: "one row per thread of each process",
		keys:    []string{"pid"},
		notNull: []string{"pid", "tid"},
		columns: []column[threadItem]{
			{Column{"pid", types.Int32, "process id (thread group id)"}, func(it threadItem) any { return int32(it.pid) }},
			{Column{"tid", types.Int32, "thread id"}, func(it threadItem) any { return int32(it.tid) }},
			{Column{"name", types.LongText, "thread name, comm (task stat)"}, func(it threadItem) any { return it.stat.Comm }},
			{Column{"state", types.LongText, "state letter (task stat)"}, func(it threadItem) any { return it.stat.State }},
			{Column{"utime_ticks", types.Uint64, "user CPU time in clock ticks (1/100 s)"}, func(it threadItem) any { return it.stat.UTime }},
			{Column{"stime_ticks", types.Uint64, "system CPU time in clock ticks (1/100 s)"}, func(it threadItem) any { return it.stat.STime }},
			{Column{"start_time", types.DatetimeMaxPrecision, "thread start time in UTC"}, func(it threadItem) any {
				return orNull(it.r.startTime(it.stat.StartTime))
			}},
		},
		process: readThreads,
	})
}

type threadItem struct {
	r    *Reader
	pid  int
	tid  int
	stat procfile.Stat
}

// readThreads emits the threads of one process in tid order. A thread that
// exits between the listing and the read is skipped.
func readThreads(r *Reader, pid int, emit func(threadItem) error) error {
	p := newProcess(r, pid)
	names, err := r.Src.ReadDir(p.name("task"))
	if err != nil {
		r.recordFailure(p.name("task"), err)
		return nil
	}
	for _, name := range names {
		tid, ok := parseID(name)
		if !ok {
			continue
		}
		file := p.name("task/" + name + "/stat")
		data, ok := r.readFile(file)
		if !ok {
			continue
		}
		st, err := procfile.ParseStat(data)
		if err != nil {
			r.recordFailure(file, err)
			continue
		}
		if err := emit(threadItem{r: r, pid: pid, tid: tid, stat: st}); err != nil {
			return err
		}
	}
	return nil
}
