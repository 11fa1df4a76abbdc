package tables

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
)

func TestReadOrderPutsSelfFirst(t *testing.T) {
	for _, c := range []struct {
		pids []int
		self int
		want []int
	}{
		{[]int{1, 5, 9, 12}, 12, []int{3, 0, 1, 2}},
		{[]int{1, 5, 9, 12}, 5, []int{1, 0, 2, 3}},
		{[]int{1, 5, 9, 12}, 1, []int{0, 1, 2, 3}},
		{[]int{1, 5, 9, 12}, 7, []int{0, 1, 2, 3}},
		{nil, 7, []int{}},
	} {
		if got := readOrder(c.pids, c.self); !slices.Equal(got, c.want) {
			t.Errorf("readOrder(%v, %d) = %v, want %v", c.pids, c.self, got, c.want)
		}
	}
}

// TestScanProcessesEmitsInPIDOrder reads many pids on several workers and
// checks that the rows come out in pid order, every pid once.
func TestScanProcessesEmitsInPIDOrder(t *testing.T) {
	pids := make([]int, 3*window)
	for i := range pids {
		pids[i] = 10 + 2*i
	}
	var mu sync.Mutex
	var readPIDs []int
	read := func(pid int) ([]sql.Row, error) {
		mu.Lock()
		readPIDs = append(readPIDs, pid)
		mu.Unlock()
		return []sql.Row{{pid, 0}, {pid, 1}}, nil
	}
	var emitted []sql.Row
	if err := scanProcesses(pids, read, func(row sql.Row) error {
		emitted = append(emitted, row)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(emitted) != 2*len(pids) {
		t.Fatalf("emitted %d rows, want %d", len(emitted), 2*len(pids))
	}
	for i, row := range emitted {
		if row[0] != pids[i/2] || row[1] != i%2 {
			t.Fatalf("row %d = %v, want pid %d part %d", i, row, pids[i/2], i%2)
		}
	}
	if len(readPIDs) != len(pids) {
		t.Errorf("read %d pids, want %d", len(readPIDs), len(pids))
	}
}

func TestScanProcessesStopsOnError(t *testing.T) {
	pids := make([]int, 100)
	for i := range pids {
		pids[i] = i + 1
	}
	failure := errors.New("read failed")
	read := func(pid int) ([]sql.Row, error) {
		if pid == 50 {
			return nil, failure
		}
		return []sql.Row{{pid}}, nil
	}
	var emitted int
	err := scanProcesses(pids, read, func(sql.Row) error {
		emitted++
		return nil
	})
	if !errors.Is(err, failure) {
		t.Errorf("scanProcesses error = %v, want the read's error", err)
	}
	if emitted != 49 {
		t.Errorf("emitted %d rows before the failing pid, want 49", emitted)
	}
}
