package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/sirupsen/logrus"

	"github.com/procsql/procsql/queries"
	"github.com/procsql/procsql/source"
	"github.com/procsql/procsql/tables"
)

// Engine runs SQL over the tables of one source.
type Engine struct {
	src source.Source
	sql *sqle.Engine
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
// would change data fail with an error. It fails only when two hunts share
// an id.
func New(src source.Source, opts ...Option) (*Engine, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	// go-mysql-server logs through the global logrus logger. procsql returns
	// every query error to its caller, so the library's own lines would only
	// repeat them on stderr.
	logrus.SetOutput(io.Discard)
	db, err := newDatabase(src, o.hunts)
	if err != nil {
		return nil, err
	}
	e := sqle.NewDefault(&provider{db: db})
	e.ReadOnly.Store(true)
	e.Analyzer.Catalog.StatsProvider = statsProvider{}
	addPushConditionsRule(e.Analyzer)
	return &Engine{src: src, sql: e}, nil
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

type readerKey struct{}

// readerFrom returns the query's Reader. A context not made by Engine.Query
// gets a fresh Reader over src, so its reads are consistent within each table
// scan only.
func readerFrom(ctx context.Context, src source.Source) *tables.Reader {
	if r, ok := ctx.Value(readerKey{}).(*tables.Reader); ok {
		return r
	}
	return tables.NewReader(source.NewCache(src))
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

// sharedReads is the cache that ShareReads stores in a context, with the
// engine whose source it reads.
type sharedReads struct {
	engine *Engine
	cache  *source.Cache
}

// ShareReads returns a context under which the statements that Query runs
// on this engine read through one cache of the source. Each /proc file is
// then read at most once for all of them, and they all see the same version
// of it, as the tables of one statement do. The cache keeps what it read for
// as long as the context is in use, so use it for a batch of statements,
// such as the hunts of one procsql hunt run, not for a long session.
func (e *Engine) ShareReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, sharedReadsKey{}, &sharedReads{engine: e, cache: source.NewCache(e.src)})
}

// statementCache returns the cache a statement run under ctx reads through:
// the one of ShareReads, or a new one.
func (e *Engine) statementCache(ctx context.Context) *source.Cache {
	if shared, ok := ctx.Value(sharedReadsKey{}).(*sharedReads); ok && shared.engine == e {
		return shared.cache
	}
	return source.NewCache(e.src)
}

// Query runs one statement in session and reads all of its rows. Each call
// reads through a fresh cache of the source, or through the cache of
// ShareReads when session was made from its context, so every table in the
// statement reads the same version of each /proc file.
func (e *Engine) Query(session *sql.Context, query string) (*Result, error) {
	query = strings.TrimSpace(query)
	query = strings.TrimRight(query, ";")
	if query == "" {
		return nil, errors.New("empty query: give one SQL statement, for example SELECT * FROM processes")
	}
	// The Tracker makes damaged data fail only the statement that read it,
	// even when statements share the cache of ShareReads.
	reader := tables.NewReader(source.Track(e.statementCache(session)))
	base := context.WithValue(session, readerKey{}, reader)
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
		e.addWarnings(session, res, reader)
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
	e.addWarnings(session, res, reader)
	return res, nil
}

// addWarnings copies the query's read failures to the result and to the
// session, where SHOW WARNINGS finds them.
func (e *Engine) addWarnings(session *sql.Context, res *Result, reader *tables.Reader) {
	res.Warnings = reader.Warnings()
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
