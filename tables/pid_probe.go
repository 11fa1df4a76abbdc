package tables

import (
	"sort"
	"strconv"

	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/procsql/procsql/procfile"
)

// pid_probe compares two views of the process table: the /proc directory
// listing, and a lookup of /proc/<n> by name for every n up to a bound. A
// rootkit that filters the listing (getdents) usually leaves lookups by
// name alone, so a process found by the probe but missing from the
// listing is hidden. Thread ids answer the probe too; their thread group id
// tells them apart.
func init() {
	register(&rowTable[probeRow]{
		name:    "pid_probe",
		comment: "each pid seen in the /proc listing or by a lookup of /proc/<pid> up to a bound",
		keys:    nil,
		notNull: []string{"pid"},
		columns: []column[probeRow]{
			{Column{"pid", types.Int32, "process or thread id"}, func(p probeRow) any { return int32(p.pid) }},
			{Column{"listed", types.Boolean, "1 when readdir of /proc lists the pid"}, func(p probeRow) any { return boolValue(p.listed) }},
			{Column{"probed", types.Boolean, "1 when /proc/<pid> exists when looked up by name"}, func(p probeRow) any { return boolValue(p.probed) }},
			{Column{"tgid", types.Int32, "thread group id from status: the pid itself for a process, its process for a thread; NULL when unreadable"}, func(p probeRow) any {
				return orNull(int32(p.tgid), p.tgid > 0)
			}},
			{Column{"kind", types.LongText, "process (listed), thread (probed, part of another process), hidden (probed, not listed, its own thread group) or vanished (listed, gone when probed)"}, func(p probeRow) any {
				return p.kind()
			}},
			{Column{"bound", types.Int32, "the highest pid probed"}, func(p probeRow) any { return int32(p.bound) }},
		},
		items: readPIDProbe,
	})
}

// maxProbe is PID_MAX_LIMIT on 64-bit kernels, the largest pid_max allowed.
const maxProbe = 4194304

// probeMargin is how far above the highest listed pid the probe looks when
// pid_max is larger. Pids are handed out in increasing order until they wrap,
// so a process started after the newest listed one has a pid just above it.
//
// NOTE: a hidden process whose pid is more than this above every listed pid,
// after a wrap for example, is not found unless pid_max is smaller.
const probeMargin = 65536

type probeRow struct {
	pid            int
	listed, probed bool
	tgid           int
	bound          int
}

func (p probeRow) kind() string {
	switch {
	case p.listed && p.probed:
		return "process"
	case p.listed:
		return "vanished"
	case p.tgid > 0 && p.tgid != p.pid:
		return "thread"
	}
	return "hidden"
}

func readPIDProbe(r *Reader, f Filter, emit func(probeRow) error) error {
	listed := r.PIDs()
	bound := maxProbe
	if text, ok := r.kernelValue("sys/kernel/pid_max"); ok {
		if n, err := strconv.Atoi(text); err == nil && n > 0 && n < bound {
			bound = n
		}
	}
	highest := 0
	if len(listed) > 0 {
		highest = listed[len(listed)-1]
	}
	bound = min(bound, highest+probeMargin)
	probed, err := r.Src.ProbePIDs(bound)
	if err != nil {
		r.recordFailure("probe", err)
		return nil
	}
	rows := map[int]*probeRow{}
	for _, pid := range listed {
		rows[pid] = &probeRow{pid: pid, listed: true, bound: bound}
	}
	for _, pid := range probed {
		row, ok := rows[pid]
		if !ok {
			row = &probeRow{pid: pid, bound: bound}
			rows[pid] = row
			// Only unlisted pids need their thread group id read.
			if data, ok := r.readFile(strconv.Itoa(pid) + "/status"); ok {
				if st, err := procfile.ParseStatus(data); err == nil {
					if tgid, ok := st.Uint("Tgid"); ok {
						row.tgid = int(tgid)
					}
				}
			}
		}
		row.probed = true
	}
	for _, pid := range listed {
		rows[pid].tgid = pid
	}
	pids := make([]int, 0, len(rows))
	for pid := range rows {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	for _, pid := range pids {
		if err := emit(*rows[pid]); err != nil {
			return err
		}
	}
	return nil
}
