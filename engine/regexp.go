package engine

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// regexpLike is REGEXP_LIKE(expr, pattern[, match_type]) evaluated with Go's
// regexp package. go-mysql-server v0.20.0 compiles the pattern again for
// every row whenever expr is a column; here each distinct pattern and match
// type compiles once per statement. The other REGEXP functions reach Go's
// regexp through internal/icuregex, which replaces the ICU library
// that go-mysql-server uses.
//
// The pattern syntax is RE2, which covers what ICU has in common with it;
// lookaround and backreferences fail with an error that says so. As in
// MySQL, the match is case-insensitive when match_type ends with i after
// any c, or when the collation of the arguments is case-insensitive.
//
// NOTE: RE2 differs from MySQL's ICU in three known ways: $ matches only at
// the very end of the text, not before a final newline; \w, \d and \b are
// ASCII only; and only \n ends a line for the m match type.
type regexpLike struct {
	args []sql.Expression

	mu       sync.Mutex
	compiled map[string]*regexp.Regexp // by match type flags and pattern
	// last is the most recently compiled pattern. With a literal pattern it
	// is the only one, and reading it needs neither the lock nor a map key.
	last atomic.Pointer[compiledPattern]
}

type compiledPattern struct {
	pattern, matchType string
	re                 *regexp.Regexp
}

var (
	_ sql.Expression         = (*regexpLike)(nil)
	_ sql.CollationCoercible = (*regexpLike)(nil)
	_ sql.FunctionExpression = (*regexpLike)(nil)
)

// maxCompiledPatterns bounds the patterns one expression keeps compiled,
// for patterns that come from a column and so differ by row.
const maxCompiledPatterns = 1024

func newRegexpLike(args ...sql.Expression) (sql.Expression, error) {
	if len(args) != 2 && len(args) != 3 {
		return nil, sql.ErrInvalidArgumentNumber.New("REGEXP_LIKE", "2 or 3", len(args))
	}
	return &regexpLike{args: args, compiled: map[string]*regexp.Regexp{}}, nil
}

func (r *regexpLike) FunctionName() string { return "regexp_like" }
func (r *regexpLike) Description() string {
	return "returns whether a string matches a regular expression (RE2 syntax)"
}
func (r *regexpLike) Type() sql.Type             { return types.Boolean }
func (r *regexpLike) IsNullable() bool           { return true }
func (r *regexpLike) Children() []sql.Expression { return r.args }

func (r *regexpLike) Resolved() bool {
	for _, a := range r.args {
		if !a.Resolved() {
			return false
		}
	}
	return true
}

func (r *regexpLike) String() string {
	parts := make([]string, len(r.args))
	for i, a := range r.args {
		parts[i] = a.String()
	}
	return "REGEXP_LIKE(" + strings.Join(parts, ", ") + ")"
}

func (r *regexpLike) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	return newRegexpLike(children...)
}

// CollationCoercibility implements sql.CollationCoercible.
func (r *regexpLike) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	leftCollation, leftCoercibility := sql.GetCoercibility(ctx, r.args[0])
	rightCollation, rightCoercibility := sql.GetCoercibility(ctx, r.args[1])
	return sql.ResolveCoercibility(leftCollation, leftCoercibility, rightCollation, rightCoercibility)
}

// Eval returns 1 or 0, as MySQL does, or NULL when any argument is NULL.
func (r *regexpLike) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	var values [3]string
	for i, a := range r.args {
		v, err := a.Eval(ctx, row)
		if err != nil || v == nil {
			return nil, err
		}
		values[i], err = argumentText(ctx, v)
		if err != nil {
			return nil, err
		}
	}
	re, err := r.compile(ctx, values[1], values[2])
	if err != nil {
		return nil, err
	}
	if re.MatchString(values[0]) {
		return int8(1), nil
	}
	return int8(0), nil
}

// argumentText converts an argument value to text as LONGTEXT does. A valid
// UTF-8 string, which every procsql text column holds, converts to itself,
// so it is returned without the copies that LongText.Convert makes.
func argumentText(ctx *sql.Context, v any) (string, error) {
	if s, ok := v.(string); ok && utf8.ValidString(s) && int64(len(s)) <= types.LongText.MaxByteLength() {
		return s, nil
	}
	converted, _, err := types.LongText.Convert(ctx, v)
	if err != nil {
		return "", err
	}
	text, _, err := sql.Unwrap[string](ctx, converted)
	return text, err
}

func (r *regexpLike) compile(ctx *sql.Context, pattern, matchType string) (*regexp.Regexp, error) {
	if last := r.last.Load(); last != nil && last.pattern == pattern && last.matchType == matchType {
		return last.re, nil
	}
	key := matchType + "\x00" + pattern
	r.mu.Lock()
	re, ok := r.compiled[key]
	r.mu.Unlock()
	if ok {
		r.last.Store(&compiledPattern{pattern: pattern, matchType: matchType, re: re})
		return re, nil
	}
	if pattern == "" {
		return nil, fmt.Errorf("REGEXP_LIKE: the pattern is empty: give a regular expression")
	}
	collation, _ := r.CollationCoercibility(ctx)
	caseInsensitive := strings.HasSuffix(collation.String(), "_ci")
	var flags string
	for _, f := range matchType {
		switch f {
		case 'c':
			caseInsensitive = false
		case 'i':
			caseInsensitive = true
		case 'm':
			flags += "m"
		case 'n':
			flags += "s"
		case 'u':
			// Unix line endings only, the only kind Go's regexp has.
		default:
			return nil, fmt.Errorf("REGEXP_LIKE: match type %q is invalid: use the letters c, i, m, n and u", matchType)
		}
	}
	if caseInsensitive {
		flags += "i"
	}
	expr := pattern
	if flags != "" {
		expr = "(?" + flags + ")" + pattern
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("REGEXP_LIKE: pattern %q is invalid in RE2 syntax, which procsql uses (no lookaround or backreferences): %w", pattern, err)
	}
	r.mu.Lock()
	if len(r.compiled) < maxCompiledPatterns {
		r.compiled[key] = re
	}
	r.mu.Unlock()
	r.last.Store(&compiledPattern{pattern: pattern, matchType: matchType, re: re})
	return re, nil
}
