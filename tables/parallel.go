package tables

import (
	"runtime"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
)

// batchSize is how many processes are read before their rows are emitted. It
// bounds the rows held in memory while keeping every worker busy.
const batchSize = 64

// scanProcesses calls read for every pid on several goroutines and emits the
// rows in pid order. Reading /proc is mostly system calls, so workers beyond
// the number of CPUs still help while others wait in the kernel.
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
	results := make([][]sql.Row, batchSize)
	errs := make([]error, batchSize)
	for start := 0; start < len(pids); start += batchSize {
		batch := pids[start:min(start+batchSize, len(pids))]
		var wg sync.WaitGroup
		next := make(chan int)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					results[i], errs[i] = read(batch[i])
				}
			}()
		}
		for i := range batch {
			next <- i
		}
		close(next)
		wg.Wait()
		for i := range batch {
			if errs[i] != nil {
				return errs[i]
			}
			for _, row := range results[i] {
				if err := emit(row); err != nil {
					return err
				}
			}
			results[i] = nil
		}
	}
	return nil
}
