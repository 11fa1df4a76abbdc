package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// limitedLog writes log lines through a slog.Logger, at most burst lines of
// each kind per interval, so that a client repeating a failure or a
// connection in a loop cannot flood the log. It counts the lines it holds
// back and writes their number, by kind, in a "suppressed log lines" line
// when the kind's interval ends, from a timer, so that no count waits for a
// next line that may never come. Close writes the counts still pending.
type limitedLog struct {
	logger   *slog.Logger
	interval time.Duration
	burst    int

	mu     sync.Mutex
	kinds  map[string]*logKind
	timer  *time.Timer // runs flushDue; nil while no count is pending
	closed bool
}

// logKind is the state of one kind of line in the current interval.
type logKind struct {
	start      time.Time // of the current interval
	written    int
	suppressed int
	level      slog.Level // of the suppressed lines
}

func newLimitedLog(logger *slog.Logger, interval time.Duration, burst int) *limitedLog {
	return &limitedLog{logger: logger, interval: interval, burst: max(burst, 1), kinds: map[string]*logKind{}}
}

// Log writes a line of kind with msg and args, unless burst lines of kind
// were written in the current interval, in which case it counts the line.
// After Close it writes every line.
func (l *limitedLog) Log(level slog.Level, kind, msg string, args ...any) {
	if !l.allow(level, kind) {
		return
	}
	l.logger.Log(context.Background(), level, msg, args...)
}

// Info logs at slog.LevelInfo with msg as the kind.
func (l *limitedLog) Info(msg string, args ...any) { l.Log(slog.LevelInfo, msg, msg, args...) }

// Warn logs at slog.LevelWarn with msg as the kind.
func (l *limitedLog) Warn(msg string, args ...any) { l.Log(slog.LevelWarn, msg, msg, args...) }

// allow reports whether a line of kind may be written now, and counts it
// otherwise.
func (l *limitedLog) allow(level slog.Level, kind string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return true
	}
	now := time.Now()
	k, ok := l.kinds[kind]
	if !ok {
		k = &logKind{start: now}
		l.kinds[kind] = k
	}
	if now.Sub(k.start) >= l.interval {
		// The timer writes a finished interval's count, but it may not
		// have run yet.
		l.writeSuppressed(kind, k)
		k.start, k.written = now, 0
	}
	if k.written < l.burst {
		k.written++
		return true
	}
	k.suppressed++
	k.level = level
	if l.timer == nil {
		l.timer = time.AfterFunc(k.start.Add(l.interval).Sub(now), l.flushDue)
	}
	return false
}

// flushDue writes the counts of the kinds whose interval has ended, and
// sets the timer again for the earliest interval still counting.
func (l *limitedLog) flushDue() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = nil
	if l.closed {
		return
	}
	now := time.Now()
	var next time.Time
	for kind, k := range l.kinds {
		if k.suppressed == 0 {
			continue
		}
		end := k.start.Add(l.interval)
		if !now.Before(end) {
			l.writeSuppressed(kind, k)
			continue
		}
		if next.IsZero() || end.Before(next) {
			next = end
		}
	}
	if !next.IsZero() {
		l.timer = time.AfterFunc(next.Sub(now), l.flushDue)
	}
}

// Close writes every pending count. Later lines are all written, because
// nothing would write their counts.
func (l *limitedLog) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	for kind, k := range l.kinds {
		l.writeSuppressed(kind, k)
	}
}

// writeSuppressed writes the count of kind's held-back lines, if any, and
// resets it. The caller holds l.mu, which also keeps the count lines in
// order.
func (l *limitedLog) writeSuppressed(kind string, k *logKind) {
	if k.suppressed == 0 {
		return
	}
	l.logger.Log(context.Background(), k.level, "suppressed log lines", "kind", kind, "lines", k.suppressed,
		"since", k.start.Format(time.RFC3339), "max_lines", l.burst, "per", l.interval.String())
	k.suppressed = 0
}
