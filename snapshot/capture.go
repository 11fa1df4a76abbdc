package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/procsql/procsql/source"
	"github.com/procsql/procsql/tables"
)

// Options control a capture.
type Options struct {
	Output    string // path of the snapshot file to write
	Force     bool   // overwrite an existing file
	Collector string // "procsql <version>", stored in the manifest
	// CopyDeletedExe stores the bytes of deleted and memfd executables, up
	// to MaxExeSize bytes each.
	CopyDeletedExe bool
	MaxExeSize     int64
	// Progress, when set, is called after each process with the number of
	// processes read and the total.
	Progress func(done, total int)
}

// Summary describes a finished capture.
type Summary struct {
	Output    string
	Processes int
	Files     int // successful file reads stored in the archive
	Bytes     int64
	Errors    map[string]int // failed reads by errno
	Start     time.Time
	End       time.Time // end of reading; writing the file comes after
	FileSize  int64
}

// Capture reads everything procsql's tables read from live and writes it to
// opts.Output. It writes to a temporary file beside the output and renames
// it only when complete, so an interrupted capture never leaves a file that
// looks like a snapshot.
func Capture(ctx context.Context, live *source.Dir, opts Options) (sum Summary, err error) {
	out, err := createOutput(opts.Output, live.Describe().Location, opts.Force)
	if err != nil {
		return Summary{}, err
	}
	committed := false
	defer func() {
		if !committed {
			out.abort()
		}
		if errors.Is(err, context.Canceled) {
			err = fmt.Errorf("capture interrupted, so no snapshot was written: %w", err)
		}
	}()
	if opts.CopyDeletedExe && (opts.MaxExeSize <= 0 || opts.MaxExeSize > DefaultLimits.MaxEntrySize) {
		return Summary{}, fmt.Errorf("invalid executable size cap %d: give 1 to %d bytes, the largest entry a snapshot can hold", opts.MaxExeSize, DefaultLimits.MaxEntrySize)
	}
	rec := newRecorder(live)
	reader := tables.NewReader(rec)
	sum = Summary{Output: opts.Output, Start: time.Now().UTC()}

	// Processes come first because they change fastest. Each worker reads
	// all per-process tables for one pid, so a process's files are read
	// together and its read window is short.
	pids := reader.PIDs()
	var copier *exeCopier
	if opts.CopyDeletedExe {
		copier = &exeCopier{rec: rec, live: live, maxSize: opts.MaxExeSize, content: map[string][]byte{}}
	}
	procs, err := captureProcesses(ctx, reader, pids, copier, opts.Progress)
	if err != nil {
		return Summary{}, err
	}
	for _, t := range tables.All() {
		if t.PerProcess() {
			continue
		}
		if err := t.Scan(reader, tables.Filter{}, nil, func(sql.Row) error { return ctx.Err() }); err != nil {
			return Summary{}, fmt.Errorf("capture table %s: %w", t.Name(), err)
		}
	}
	// Group names are not used by any table yet, but analysts need them
	// to read the uid and gid columns.
	_, _ = rec.HostFile("etc/group")
	sum.End = time.Now().UTC()

	m := &Manifest{
		Format:  Format,
		Version: Version,
		Host:    hostInfo(reader, rec, live),
		Capture: CaptureInfo{
			Start: sum.Start, End: sum.End, Collector: opts.Collector,
			UID: os.Getuid(), CommandLine: os.Args, ProcRoot: live.Describe().Location,
		},
		Procs: procs,
	}
	content := rec.content
	if copier != nil {
		m.Executables = copier.sorted()
		for name, data := range copier.content {
			content[name] = data
		}
	}
	records := rec.sortedRecords()

	if err := writeSnapshot(ctx, out, m, planSegments(records, content), content); err != nil {
		return Summary{}, fmt.Errorf("write snapshot %s: %w", opts.Output, err)
	}
	size, err := out.commit()
	if err != nil {
		return Summary{}, err
	}
	committed = true
	sum.FileSize = size
	sum.Processes = len(procs)
	sum.Errors = map[string]int{}
	for _, r := range records {
		switch {
		case r.Errno != "":
			sum.Errors[r.Errno]++
		case r.NotCollected:
			sum.Errors["not in the source"]++
		case r.Error != "":
			sum.Errors["other"]++
		case r.Op == OpRead || r.Op == OpHostRead:
			sum.Files++
			sum.Bytes += r.Size
		}
	}
	return sum, nil
}

// captureProcesses runs every per-process table for each pid on a pool of
// workers and returns when each process was read.
func captureProcesses(ctx context.Context, reader *tables.Reader, pids []int, copier *exeCopier, progress func(int, int)) ([]Process, error) {
	var perProcess []tables.Table
	for _, t := range tables.All() {
		if t.PerProcess() {
			perProcess = append(perProcess, t)
		}
	}
	procs := make([]Process, len(pids))
	errs := make([]error, len(pids))
	next := make(chan int)
	var done sync.WaitGroup
	var mu sync.Mutex
	finished := 0
	for range 2 * runtime.GOMAXPROCS(0) {
		done.Add(1)
		go func() {
			defer done.Done()
			for i := range next {
				start := time.Now().UTC()
				for _, t := range perProcess {
					err := t.Scan(reader, tables.Filter{PIDs: []int{pids[i]}}, nil, func(sql.Row) error { return ctx.Err() })
					if err != nil {
						errs[i] = fmt.Errorf("capture pid %d, table %s: %w", pids[i], t.Name(), err)
						break
					}
				}
				if copier != nil && errs[i] == nil {
					// Within the process's window, before it can exit.
					copier.copy(pids[i])
				}
				procs[i] = Process{PID: pids[i], Start: start, End: time.Now().UTC()}
				if progress != nil {
					mu.Lock()
					finished++
					progress(finished, len(pids))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range pids {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	done.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("capture interrupted: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return procs, nil
}

// hostInfo fills the manifest's host section from what the capture read.
func hostInfo(reader *tables.Reader, rec *recorder, live *source.Dir) Host {
	desc := live.Describe()
	h := Host{Architecture: desc.Architecture, ByteOrder: "little"}
	if desc.ByteOrder.Uint16([]byte{0, 1}) == 1 {
		h.ByteOrder = "big"
	}
	text := func(name string) string {
		data, err := rec.ReadFile(name)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(data))
	}
	h.Hostname = text("sys/kernel/hostname")
	h.KernelRelease = text("sys/kernel/osrelease")
	if n, err := strconv.ParseInt(text("sys/kernel/pid_max"), 10, 64); err == nil {
		h.PIDMax = n
	}
	if boot, ok := reader.BootTime(); ok {
		h.BootTime = boot
	}
	return h
}
