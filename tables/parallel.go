package tables

import (
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"
)

// window is how many processes the workers may read ahead of the one whose
// rows are emitted next. It bounds the rows held in memory while keeping
// every worker busy.
const window = 256

// eachPID calls fn for every index of pids on 2 × GOMAXPROCS goroutines
// and returns when all calls have returned. fn must be safe for concurrent
// use; callers that need pid order collect into a slice by index.
func eachPID(pids []int, fn func(i, pid int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(2*runtime.GOMAXPROCS(0), len(pids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(pids); i = int(next.Add(1) - 1) {
				fn(i, pids[i])
			}
		}()
	}
	wg.Wait()
}

// scanProcesses calls read for every pid on several goroutines and emits the
// rows in pid order. Reading /proc is mostly system calls, so workers beyond
// the number of CPUs still help while others wait in the kernel. Workers
// take pids in order, except that procsql's own process comes first (see
// readOrder), and wait only for a free slot in the read-ahead window. The
// emitter waits only for the next pid in order.
func scanProcesses(pids []int, read func(pid int) ([]sql.Row, error), emit func(sql.Row) error) error {
	workers := min(2*runtime.GOMAXPROCS(0), len(pids))
	if workers <= 1 {
		for _, pid := range pids {
			rows, err := read(pid)
			if err != nil {
				return err
			}
			for _, row := range rows {
				if err := emit(row); err != nil {
					return err
				}
			}
		}
		return nil
	}

	type result struct {
		rows []sql.Row
		err  error
	}
	order := readOrder(pids, os.Getpid())
	done := make([]chan result, len(pids))
	for i := range done {
		done[i] = make(chan result, 1)
	}
	// slots holds one token per pid that may be read ahead of the emitter.
	slots := make(chan struct{}, window)
	stop := make(chan struct{})
	var next sync.Mutex
	claimed := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case slots <- struct{}{}:
				case <-stop:
					return
				}
				next.Lock()
				n := claimed
				claimed++
				next.Unlock()
				if n >= len(order) {
					return
				}
				i := order[n]
				rows, err := read(pids[i])
				done[i] <- result{rows, err}
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()

	for i := range pids {
		res := <-done[i]
		<-slots
		if res.err != nil {
			return res.err
		}
		for _, row := range res.rows {
			if err := emit(row); err != nil {
				return err
			}
		}
	}
	return nil
}

// readOrder returns the indexes of pids in the order that workers read
// them: ascending, but with self, procsql's own pid, first when it is among
// them. Its executable is procsql, about 70 MB, and hashing it took about
// 50 ms of one core on the 2-core Xeon of docs/benchmarks.md. Its pid is
// usually the highest, so in pid order that hash would start last and run
// with the other cores idle.
func readOrder(pids []int, self int) []int {
	order := make([]int, 0, len(pids))
	k := slices.Index(pids, self)
	found := k >= 0
	if found {
		order = append(order, k)
	}
	for i := range pids {
		if !found || i != k {
			order = append(order, i)
		}
	}
	return order
}
