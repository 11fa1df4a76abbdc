package engine

import (
	"sync"
	"time"
)

// logLimiter lets one log line through per interval and counts the lines it
// held back, so that a client repeating a failure in a loop cannot flood the
// log.
type logLimiter struct {
	interval time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether a line may be logged now and, if so, how many lines
// were held back since the last one.
func (l *logLimiter) allow() (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := time.Now(); l.last.IsZero() || now.Sub(l.last) >= l.interval {
		l.last = now
		suppressed, l.suppressed = l.suppressed, 0
		return true, suppressed
	}
	l.suppressed++
	return false, 0
}

// keyedLogLimiter is a logLimiter for each of a fixed set of keys, such as
// the call sites of a library's log calls, so that one repeated failure
// does not hide the first line of another.
type keyedLogLimiter struct {
	interval time.Duration

	mu       sync.Mutex
	limiters map[string]*logLimiter
}

// allow reports whether a line for key may be logged now and, if so, how
// many lines for key were held back since the last one.
func (k *keyedLogLimiter) allow(key string) (ok bool, suppressed int) {
	k.mu.Lock()
	limiter, found := k.limiters[key]
	if !found {
		if k.limiters == nil {
			k.limiters = map[string]*logLimiter{}
		}
		limiter = &logLimiter{interval: k.interval}
		k.limiters[key] = limiter
	}
	k.mu.Unlock()
	return limiter.allow()
}
