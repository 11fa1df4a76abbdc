package engine

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log destination that the limiter's timer may write to
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLimitedLogWritesCountsOnTime logs a burst of lines of two kinds and
// then nothing. The timer must write each kind's count once its interval
// ends, without waiting for a next line.
func TestLimitedLogWritesCountsOnTime(t *testing.T) {
	var out lockedBuffer
	const interval = 200 * time.Millisecond
	log := newLimitedLog(slog.New(slog.NewTextHandler(&out, nil)), interval, 3)
	defer log.Close()
	for range 10 {
		log.Warn("query failed", "n", 1)
	}
	log.Info("client connected")
	if got := strings.Count(out.String(), `msg="query failed"`); got != 3 {
		t.Errorf("burst of 10 lines wrote %d, want 3", got)
	}
	if strings.Contains(out.String(), "suppressed log lines") {
		t.Errorf("count written before the interval ended:\n%s", out.String())
	}

	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "suppressed log lines") {
		if time.Now().After(deadline) {
			t.Fatalf("no count 5 s after a burst with an interval of %s:\n%s", interval, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	text := out.String()
	if !strings.Contains(text, `level=WARN msg="suppressed log lines" kind="query failed" lines=7 `) {
		t.Errorf("count line missing or wrong, want 7 held-back WARN lines of \"query failed\":\n%s", text)
	}
	if strings.Contains(text, `kind="client connected"`) {
		t.Errorf("count written for a kind with no held-back lines:\n%s", text)
	}

	// A new interval writes lines again.
	log.Warn("query failed", "n", 2)
	if got := strings.Count(out.String(), `msg="query failed"`); got != 4 {
		t.Errorf("after the interval, %d lines of the kind written, want 4", got)
	}
}

// TestLimitedLogCloseWritesCounts checks that Close writes the counts still
// pending, and that lines after Close are all written.
func TestLimitedLogCloseWritesCounts(t *testing.T) {
	var out lockedBuffer
	log := newLimitedLog(slog.New(slog.NewTextHandler(&out, nil)), time.Hour, 1)
	for range 5 {
		log.Warn("packet rejected")
	}
	log.Close()
	if !strings.Contains(out.String(), `msg="suppressed log lines" kind="packet rejected" lines=4 `) {
		t.Errorf("Close did not write the count of 4 held-back lines:\n%s", out.String())
	}
	log.Warn("packet rejected")
	log.Warn("packet rejected")
	if got := strings.Count(out.String(), `msg="packet rejected"`); got != 3 {
		t.Errorf("%d lines written in all, want 1 before Close and 2 after", got)
	}
}
