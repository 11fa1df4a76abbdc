package engine

import (
	"context"
	"errors"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/dolthub/vitess/go/mysql"
)

// errMemoryLimit is the cause of a statement that the memory guard
// canceled.
var errMemoryLimit = errors.New("server memory limit reached")

// memoryGuard cancels statements while the server's heap is over its
// limit. The result limits bound what a statement returns, but not what
// it holds on the way. ORDER BY, GROUP BY, DISTINCT, GROUP_CONCAT and
// JSON_ARRAYAGG keep every row of their input, and a cross join makes that
// input grow until the query timeout. The guard cancels the statement that
// has run longest. When that statement is sending its result, it also
// closes the connection, because a write blocked on a client that does not
// read ignores the cancellation.
type memoryGuard struct {
	limit int64
	log   *limitedLog

	mu         sync.Mutex
	statements map[*runningStatement]struct{}
}

// runningStatement is a statement that the memory guard may cancel.
type runningStatement struct {
	conn     *mysql.Conn
	started  time.Time
	cancel   context.CancelCauseFunc
	sending  bool // spooled and being written to the client
	canceled bool
}

// Timing of the memory guard. The heap is read every memoryCheckInterval,
// which costs a few microseconds. Over the limit, the guard first runs the
// garbage collector, since the heap counts garbage until then, and after a
// cancellation it waits memoryCancelPause for the statement to free what
// it held.
const (
	memoryCheckInterval = 50 * time.Millisecond
	memoryCancelPause   = time.Second
)

// heapMetric is the runtime metric of heap memory in use by objects,
// garbage that the collector has not freed yet included.
const heapMetric = "/memory/classes/heap/objects:bytes"

func newMemoryGuard(limit int64, log *limitedLog) *memoryGuard {
	return &memoryGuard{limit: limit, log: log, statements: map[*runningStatement]struct{}{}}
}

// add registers a statement that cancel stops.
func (m *memoryGuard) add(conn *mysql.Conn, cancel context.CancelCauseFunc) *runningStatement {
	st := &runningStatement{conn: conn, started: time.Now(), cancel: cancel}
	m.mu.Lock()
	m.statements[st] = struct{}{}
	m.mu.Unlock()
	return st
}

func (m *memoryGuard) remove(st *runningStatement) {
	m.mu.Lock()
	delete(m.statements, st)
	m.mu.Unlock()
}

// markSending records that st has spooled its result and writes it now.
func (m *memoryGuard) markSending(st *runningStatement) {
	m.mu.Lock()
	st.sending = true
	m.mu.Unlock()
}

// run checks the heap until ctx is done.
func (m *memoryGuard) run(ctx context.Context) {
	ticker := time.NewTicker(memoryCheckInterval)
	defer ticker.Stop()
	sample := []metrics.Sample{{Name: heapMetric}}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if heapBytes(sample) <= m.limit {
			continue
		}
		// Two collections, because sync.Pool keeps what it held for one:
		// go-mysql-server pools each statement's result buffer.
		runtime.GC()
		runtime.GC()
		heap := heapBytes(sample)
		if heap <= m.limit {
			continue
		}
		if m.cancelOldest(heap) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(memoryCancelPause):
			}
		}
	}
}

func heapBytes(sample []metrics.Sample) int64 {
	metrics.Read(sample)
	return int64(sample[0].Value.Uint64())
}

// cancelOldest cancels the longest-running statement not canceled yet, and
// reports whether there was one.
func (m *memoryGuard) cancelOldest(heap int64) bool {
	m.mu.Lock()
	var oldest *runningStatement
	for st := range m.statements {
		if !st.canceled && (oldest == nil || st.started.Before(oldest.started)) {
			oldest = st
		}
	}
	if oldest == nil {
		m.mu.Unlock()
		return false
	}
	oldest.canceled = true
	sending := oldest.sending
	m.mu.Unlock()

	oldest.cancel(errMemoryLimit)
	if sending {
		oldest.conn.Close()
	}
	m.log.Warn("canceled a statement because the server's memory use is over its limit",
		"connection", oldest.conn.ConnectionID, "client", remoteAddr(oldest.conn), "heap_mib", heap>>20,
		"limit_mib", m.limit>>20, "closed_connection", sending)
	return true
}

// defaultMaxMemory returns the memory guard's limit for a server whose
// results may take maxResultBytes, or 0, no limit, when they are not
// limited. A result takes about three times its size while it is spooled,
// in go-mysql-server's buffer, which doubles as it grows, and in procsql's
// copy. The limit leaves room for one more result and for the server.
func defaultMaxMemory(maxResultBytes int64) int64 {
	if maxResultBytes <= 0 {
		return 0
	}
	return 4*maxResultBytes + 256<<20
}
