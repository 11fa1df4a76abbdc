package engine

import (
	"context"
	"sync"
	"time"

	"github.com/procsql/procsql/source"
	"github.com/procsql/procsql/tables"
)

type statementKey struct{}

// statement is the set of readers of one statement: one tables.Reader per
// source, made when a table first reads that source. A statement that
// touches one host leaves the others unread. start is the captured_at of
// live sources.
type statement struct {
	sources []*hostSource
	open    func(i int) source.Source // the cache that source i is read through
	start   time.Time

	mu      sync.Mutex
	readers []*tables.Reader
}

func newStatement(sources []*hostSource, open func(i int) source.Source) *statement {
	return &statement{
		sources: sources,
		open:    open,
		start:   time.Now().UTC().Truncate(time.Microsecond),
		readers: make([]*tables.Reader, len(sources)),
	}
}

// reader returns the Reader of source i, making it on first use.
func (st *statement) reader(i int) *tables.Reader {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.readers[i] == nil {
		st.readers[i] = tables.NewReader(st.open(i))
	}
	return st.readers[i]
}

// warnings returns the read failures and notes of every source that the
// statement read. With several sources each line starts with the host
// label, as in "web1: 3 reads of environ failed (EACCES), ...".
func (st *statement) warnings() []string {
	st.mu.Lock()
	readers := append([]*tables.Reader(nil), st.readers...)
	st.mu.Unlock()
	var out []string
	for i, r := range readers {
		if r == nil {
			continue
		}
		for _, w := range r.Warnings() {
			if len(st.sources) > 1 {
				w = st.sources[i].host + ": " + w
			}
			out = append(out, w)
		}
	}
	return out
}

// statementFrom returns the statement state that Engine.Query or the server
// stored in ctx. A context made elsewhere gets a new state, whose reads are
// then consistent within each table scan only.
func statementFrom(ctx context.Context, sources []*hostSource) *statement {
	if st, ok := ctx.Value(statementKey{}).(*statement); ok {
		return st
	}
	return newStatement(sources, func(i int) source.Source { return source.NewCache(sources[i].src) })
}
