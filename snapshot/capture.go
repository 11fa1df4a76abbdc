package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
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
func Capture(ctx context.Context, live *source.Dir, opts Options) (Summary, error) {
	if err := checkOutput(opts.Output, live.Describe().Location, opts.Force); err != nil {
		return Summary{}, err
	}
	rec := newRecorder(live)
	reader := tables.NewReader(rec)
	sum := Summary{Output: opts.Output, Start: time.Now().UTC()}

	// Processes come first because they change fastest. Each worker reads
	// all per-process tables for one pid, so a process's files are read
	// together and its read window is short.
	pids := reader.PIDs()
	procs, err := captureProcesses(ctx, reader, pids, opts.Progress)
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
	if opts.CopyDeletedExe {
		exes, err := copyDeletedExecutables(ctx, rec, live, pids, opts.MaxExeSize)
		if err != nil {
			return Summary{}, err
		}
		for _, e := range exes {
			m.Executables = append(m.Executables, e.Executable)
			if e.data != nil {
				content[e.Path] = e.data
			}
		}
	}
	m.Records = rec.sortedRecords()

	size, err := writeFile(opts.Output, m, content)
	if err != nil {
		return Summary{}, err
	}
	sum.FileSize = size
	sum.Processes = len(procs)
	sum.Errors = map[string]int{}
	for _, r := range m.Records {
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
func captureProcesses(ctx context.Context, reader *tables.Reader, pids []int, progress func(int, int)) ([]Process, error) {
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

// checkOutput rejects an output path that exists (unless force) or lies in
// the procfs being captured.
func checkOutput(output, procRoot string, force bool) error {
	if output == "" {
		return errors.New("missing output file: pass -o FILE")
	}
	abs, err := filepath.Abs(output)
	if err != nil {
		return fmt.Errorf("resolve output path %q: %w", output, err)
	}
	for _, root := range []string{"/proc", procRoot} {
		rootAbs, err := filepath.Abs(root)
		if err == nil && (abs == rootAbs || strings.HasPrefix(abs, rootAbs+string(filepath.Separator))) {
			return fmt.Errorf("output %q is inside %s: write the snapshot to a normal directory", output, rootAbs)
		}
	}
	if _, err := os.Lstat(output); err == nil && !force {
		return fmt.Errorf("output %q already exists: choose another name or pass --force to overwrite it", output)
	}
	return nil
}

// writeFile writes the archive to a temporary file in the output's directory
// and renames it into place, returning the file size.
func writeFile(output string, m *Manifest, content map[string][]byte) (int64, error) {
	dir := filepath.Dir(output)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(output)+".*.partial")
	if err != nil {
		return 0, fmt.Errorf("create temporary file in %s: %w", dir, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := writeArchive(tmp, m, content); err != nil {
		return 0, fmt.Errorf("write snapshot %s: %w", output, err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("write snapshot %s: %w", output, err)
	}
	info, err := tmp.Stat()
	if err != nil {
		return 0, fmt.Errorf("write snapshot %s: %w", output, err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("write snapshot %s: %w", output, err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return 0, fmt.Errorf("write snapshot %s: %w", output, err)
	}
	if err := os.Rename(tmp.Name(), output); err != nil {
		return 0, fmt.Errorf("move snapshot into place at %s: %w", output, err)
	}
	committed = true
	return info.Size(), nil
}

// copiedExe is an executable copy with its bytes.
type copiedExe struct {
	Executable
	data []byte
}

// copyDeletedExecutables reads deleted and memfd executables through
// /proc/<pid>/exe, which still reaches the file after it was unlinked.
// Each distinct content is stored once, under exe/<sha256>.
func copyDeletedExecutables(ctx context.Context, rec *recorder, live *source.Dir, pids []int, maxSize int64) ([]copiedExe, error) {
	var out []copiedExe
	seen := map[string]bool{}
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := strconv.Itoa(pid) + "/exe"
		target, err := rec.ReadLink(name)
		if err != nil {
			continue
		}
		nlink, err := rec.LinkCount(name)
		if !(err == nil && nlink == 0) && !strings.HasPrefix(target, "/memfd:") {
			continue
		}
		f, err := live.Open(name)
		if err != nil {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
		f.Close()
		if err != nil {
			continue
		}
		exe := Executable{PID: pid, Truncated: int64(len(data)) > maxSize}
		if exe.Truncated {
			data = data[:maxSize]
		}
		sum := sha256.Sum256(data)
		exe.SHA256 = hex.EncodeToString(sum[:])
		exe.Size = int64(len(data))
		exe.Path = "exe/" + exe.SHA256
		copied := copiedExe{Executable: exe}
		if !seen[exe.Path] {
			// Processes that run the same binary share one stored copy.
			copied.data = data
			seen[exe.Path] = true
		}
		out = append(out, copied)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}
