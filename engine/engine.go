package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/sirupsen/logrus"

	"github.com/procsql/procsql/queries"
	"github.com/procsql/procsql/source"
)

// Engine runs SQL over the tables of one or more sources, such as the
// snapshots of several hosts. Every table read from a source ends with the
// host and captured_at columns, and holds the rows of every source.
type Engine struct {
	sources []*hostSource
	sql     *sqle.Engine
}

// Option changes how New builds an Engine.
type Option func(*options)

type options struct {
	hunts []queries.Hunt
}

// WithHunts adds the hunts table and one view per hunt, hunt_<id>, to the
// engine's database.
func WithHunts(hunts []queries.Hunt) Option {
	return func(o *options) { o.hunts = hunts }
}

// New returns an Engine over src. The engine is read-only: statements that
// would change data fail with an error. It fails when src is nil or two
// hunts share an id.
func New(src source.Source, opts ...Option) (*Engine, error) {
	return NewMulti([]source.Source{src}, opts...)
}

// NewMulti returns an Engine over several sources, whose rows every table
// holds together, in the order of srcs. It reads each source's host name
// to label its rows (see labelSources) and otherwise reads nothing until a
// statement needs it. It fails when srcs is empty or two hunts share an id.
func NewMulti(srcs []source.Source, opts ...Option) (*Engine, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	sources, err := newHostSources(srcs, time.Now())
	if err != nil {
		return nil, err
	}
	// go-mysql-server logs through the global logrus logger. procsql returns
	// every query error to its caller, so the library's own lines would only
	// repeat them on stderr.
	logrus.SetOutput(io.Discard)
	db, err := newDatabase(sources, o.hunts)
	if err != nil {
		return nil, err
	}
	e := sqle.NewDefault(&provider{db: db})
	e.ReadOnly.Store(true)
	e.Analyzer.Catalog.StatsProvider = statsProvider{sources: len(sources)}
	addPushConditionsRule(e.Analyzer)
	return &Engine{sources: sources, sql: e}, nil
}

// Hosts returns the host label of each source, in load order: the values
// of the host column.
func (e *Engine) Hosts() []string {
	hosts := make([]string, len(e.sources))
	for i, s := range e.sources {
		hosts[i] = s.host
	}
	return hosts
}

// Live reports whether a source is a procfs mount, which changes between
// statements, rather than a capture or a copied tree, which does not.
func (e *Engine) Live() bool {
	for _, s := range e.sources {
		if s.live {
			return true
		}
	}
	return false
}

// Result is the complete outcome of one statement.
type Result struct {
	OK       bool // the statement returned no result set, as SET does
	Columns  []string
	Sources  []string // table or alias each column comes from, "" for expressions
	Types    []sql.Type
	Rows     []sql.Row
	Warnings []string // read failures and notes about the data, one line each
}

// NewSession returns a context for a sequence of statements on this engine,
// with procsql as the current database.
func (e *Engine) NewSession(ctx context.Context) *sql.Context {
	session := sql.NewBaseSession()
	sctx := sql.NewContext(ctx, sql.WithSession(session))
	sctx.SetCurrentDatabase(DatabaseName)
	return sctx
}

type sharedReadsKey struct{}

// sharedReads is the set of caches that ShareReads stores in a context,
// one per source of engine, each made when a statement first reads its
// source.
type sharedReads struct {
	engine *Engine
	mu     sync.Mutex
	caches []*source.Cache
}

// cache returns the cache of source i, making it on first use.
func (s *sharedReads) cache(i int) *source.Cache {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.caches[i] == nil {
		s.caches[i] = source.NewCache(s.engine.sources[i].src)
	}
	return s.caches[i]
}

// ShareReads returns a context under which the statements that Query runs
// on this engine read through one cache per source. Each /proc file is
// then read at most once for all of them, and they all see the same version
// of it, as the tables of one statement do. The caches keep what they read
// for as long as the context is in use, so use it for a batch of statements,
// such as the hunts of one procsql hunt run, not for a long session.
func (e *Engine) ShareReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, sharedReadsKey{}, &sharedReads{engine: e, caches: make([]*source.Cache, len(e.sources))})
}

// newStatement returns the state of one statement run under ctx, which
// reads through the caches of ShareReads when ctx has them, and through new
// caches otherwise.
func (e *Engine) newStatement(ctx context.Context) *statement {
	open := func(i int) source.Source { return source.NewCache(e.sources[i].src) }
	if shared, ok := ctx.Value(sharedReadsKey{}).(*sharedReads); ok && shared.engine == e {
		// The Tracker makes damaged data fail only the statement that
		// read it, even when statements share a cache.
		open = func(i int) source.Source { return source.Track(shared.cache(i)) }
	}
	return newStatement(e.sources, open)
}

// Query runs one statement in session and reads all of its rows. Each call
// reads through fresh caches of the sources, or through the caches of
// ShareReads when session was made from its context, so every table in the
// statement reads the same version of each /proc file.
func (e *Engine) Query(session *sql.Context, query string) (*Result, error) {
	query = strings.TrimSpace(query)
	query = strings.TrimRight(query, ";")
	if query == "" {
		return nil, errors.New("empty query: give one SQL statement, for example SELECT * FROM processes")
	}
	st := e.newStatement(session)
	base := context.WithValue(session, statementKey{}, st)
	ctx := session.WithContext(base)
	ctx = ctx.WithQuery(query)
	if err := checkReadOnly(ctx, query); err != nil {
		return nil, explain(err)
	}

	schema, iter, _, err := e.sql.Query(ctx, query)
	if err != nil {
		return nil, explain(err)
	}
	res := &Result{}
	if types.IsOkResultSchema(schema) || len(schema) == 0 {
		// SET and SELECT ... INTO @var return an OK packet, not rows.
		res.OK = true
		for {
			_, err := iter.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				iter.Close(ctx)
				return nil, explain(err)
			}
		}
		if err := iter.Close(ctx); err != nil {
			return nil, explain(err)
		}
		e.addWarnings(session, res, st)
		return res, nil
	}
	for _, col := range schema {
		res.Columns = append(res.Columns, col.Name)
		res.Sources = append(res.Sources, col.Source)
		res.Types = append(res.Types, col.Type)
	}
	for {
		row, err := iter.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			iter.Close(ctx)
			return nil, explain(err)
		}
		res.Rows = append(res.Rows, row)
	}
	if err := iter.Close(ctx); err != nil {
		return nil, explain(err)
	}
	e.addWarnings(session, res, st)
	return res, nil
}

// addWarnings copies the query's read failures to the result and to the
// session, where SHOW WARNINGS finds them.
func (e *Engine) addWarnings(session *sql.Context, res *Result, st *statement) {
	res.Warnings = st.warnings()
	for _, w := range res.Warnings {
		session.Session.Warn(&sql.Warning{Level: "Warning", Code: 1105, Message: w})
	}
}

// explain adds the next step to the errors that users hit most often and
// keeps every message on one line.
func explain(err error) error {
	err = oneLine(err)
	if sql.ErrReadOnly.Is(err) {
		return fmt.Errorf("statement rejected because procsql is read-only; run SELECT, SHOW, DESCRIBE or EXPLAIN: %w", err)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("query canceled: %w", err)
	}
	if msg := err.Error(); strings.Contains(msg, "syntax error") && strings.Contains(msg, "near 'system'") {
		return fmt.Errorf("%w: SYSTEM is a reserved word in MySQL, so quote the table name as `system`", err)
	}
	return err
}

// oneLine removes the parser's "Code: INVALID_ARGUMENT" line, a repeated
// "error: " prefix and line breaks, so an error prints as one line.
func oneLine(err error) error {
	clean := strings.TrimPrefix(err.Error(), "Code: INVALID_ARGUMENT\n")
	clean = strings.TrimPrefix(clean, "error: ")
	clean = strings.Join(strings.Fields(strings.ReplaceAll(clean, "\n", " ")), " ")
	// Always wrap: some parser errors format themselves over several lines
	// with %v even when Error() is one line.
	return &cleanError{msg: clean, err: err}
}

// cleanError is an error with a reworded message that still unwraps to the
// original, so errors.Is and the error kinds of go-mysql-server keep working.
type cleanError struct {
	msg string
	err error
}

func (e *cleanError) Error() string { return e.msg }
func (e *cleanError) Unwrap() error { return e.err }
