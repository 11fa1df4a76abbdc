// Package regex is procsql's stand-in for github.com/dolthub/go-icu-regex,
// which go-mysql-server uses for REGEXP, REGEXP_LIKE, REGEXP_INSTR,
// REGEXP_SUBSTR and REGEXP_REPLACE. The original runs ICU compiled to
// WebAssembly and compiles that module when the program starts, which cost
// every procsql command about 0.26 s on a 2-core machine. This package keeps
// the original's API and evaluates with Go's regexp package instead, so it
// starts at once.
//
// Patterns use RE2 syntax, which shares with ICU the character classes,
// anchors, alternation, groups and quantifiers, but has no lookaround and
// no backreferences: those fail with ErrInvalidRegex. Positions count
// characters (runes), from 1, as MySQL's functions do. A replacement refers
// to groups as $1 or ${1}, as in ICU.
package regex

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/src-d/go-errors.v1"
)

// Regex is a compiled pattern and the text it applies to. Set the pattern,
// then the text, then call the other methods.
type Regex interface {
	// SetRegexString compiles pattern with flags.
	SetRegexString(ctx context.Context, pattern string, flags RegexFlags) error
	// SetMatchString sets the text that later calls search.
	SetMatchString(ctx context.Context, text string) error
	// IndexOf returns the 1-based character position of the start of the
	// occurrence-th match at or after character start (1-based), or the
	// position after its end when endIndex is set, or 0 without such a match.
	IndexOf(ctx context.Context, start int, occurrence int, endIndex bool) (int, error)
	// Matches reports whether there is an occurrence-th match at or after
	// the 0-based character start.
	Matches(ctx context.Context, start int, occurrence int) (bool, error)
	// Replace returns the text with the occurrence-th match at or after
	// character position (1-based) replaced, or every such match when
	// occurrence is 0.
	Replace(ctx context.Context, replacement string, position int, occurrence int) (string, error)
	// Substring returns the occurrence-th match at or after character start
	// (1-based), and whether there is one.
	Substring(ctx context.Context, start int, occurrence int) (string, bool, error)
	// StringBufferSize returns 0: this implementation keeps no buffers.
	StringBufferSize() uint32
	// Close releases the pattern and text.
	Close() error
}

var (
	// ErrRegexNotYetSet is returned by calls made before SetRegexString.
	ErrRegexNotYetSet = errors.NewKind("SetRegexString must be called before any other function")
	// ErrMatchNotYetSet is returned by calls made before SetMatchString.
	ErrMatchNotYetSet = errors.NewKind("SetMatchString must be called as there is nothing to match against")
	// ErrInvalidRegex is returned for a pattern that does not compile.
	ErrInvalidRegex = errors.NewKind("the given regular expression is invalid: %s")
)

// ShouldPanic is kept for API compatibility and has no effect: this
// implementation holds no resources that need Close and has no finalizer.
var ShouldPanic = true

// SetRegexLeakHandler is kept for API compatibility. A Regex that is never
// closed leaks nothing here, so the handler is never called.
func SetRegexLeakHandler(func()) {}

// RegexFlags change how a pattern matches, with the values ICU gives them.
type RegexFlags uint32

const (
	RegexFlags_None RegexFlags = 0
	// RegexFlags_Unix_Lines makes only \n end a line; Go's regexp has no
	// other line end, so it changes nothing.
	RegexFlags_Unix_Lines       RegexFlags = 1
	RegexFlags_Case_Insensitive RegexFlags = 2
	// RegexFlags_Comments allows white space and # comments in the pattern.
	RegexFlags_Comments RegexFlags = 4
	// RegexFlags_Multiline makes ^ and $ match at line starts and ends.
	RegexFlags_Multiline RegexFlags = 8
	// RegexFlags_Literal treats the pattern as plain text.
	RegexFlags_Literal RegexFlags = 16
	// RegexFlags_Dot_All makes . match line ends too.
	RegexFlags_Dot_All RegexFlags = 32
	// RegexFlags_Unicode_Word is accepted and ignored.
	RegexFlags_Unicode_Word RegexFlags = 256
	// RegexFlags_Error_On_Unknown_Escapes is accepted; RE2 always rejects
	// unknown escapes.
	RegexFlags_Error_On_Unknown_Escapes RegexFlags = 512
)

// CreateRegex returns an empty Regex. The buffer size is ignored.
func CreateRegex(uint32) Regex { return &goRegex{} }

type goRegex struct {
	re      *regexp.Regexp
	text    string
	hasText bool
}

func (r *goRegex) SetRegexString(_ context.Context, pattern string, flags RegexFlags) error {
	expr := pattern
	if flags&RegexFlags_Literal != 0 {
		expr = regexp.QuoteMeta(pattern)
	} else if flags&RegexFlags_Comments != 0 {
		expr = stripPatternComments(pattern)
	}
	var mode string
	if flags&RegexFlags_Case_Insensitive != 0 {
		mode += "i"
	}
	if flags&RegexFlags_Multiline != 0 {
		mode += "m"
	}
	if flags&RegexFlags_Dot_All != 0 {
		mode += "s"
	}
	if mode != "" {
		expr = "(?" + mode + ")" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return ErrInvalidRegex.New(err.Error())
	}
	r.re = re
	return nil
}

func (r *goRegex) SetMatchString(_ context.Context, text string) error {
	if r.re == nil {
		return ErrRegexNotYetSet.New()
	}
	r.text, r.hasText = text, true
	return nil
}

// match returns the byte offsets of the occurrence-th match that starts at
// or after rune index from (0-based), or nil.
func (r *goRegex) match(from, occurrence int) ([]int, error) {
	if r.re == nil {
		return nil, ErrRegexNotYetSet.New()
	}
	if !r.hasText {
		return nil, ErrMatchNotYetSet.New()
	}
	offset := byteOffset(r.text, from)
	if offset < 0 {
		return nil, nil
	}
	if occurrence < 1 {
		occurrence = 1
	}
	matches := r.re.FindAllStringIndex(r.text[offset:], occurrence)
	if len(matches) < occurrence {
		return nil, nil
	}
	m := matches[occurrence-1]
	return []int{m[0] + offset, m[1] + offset}, nil
}

func (r *goRegex) IndexOf(_ context.Context, start, occurrence int, endIndex bool) (int, error) {
	m, err := r.match(start-1, occurrence)
	if err != nil || m == nil {
		return 0, err
	}
	at := m[0]
	if endIndex {
		at = m[1]
	}
	return utf8.RuneCountInString(r.text[:at]) + 1, nil
}

func (r *goRegex) Matches(_ context.Context, start, occurrence int) (bool, error) {
	m, err := r.match(start, occurrence)
	return m != nil, err
}

func (r *goRegex) Substring(_ context.Context, start, occurrence int) (string, bool, error) {
	m, err := r.match(start-1, occurrence)
	if err != nil || m == nil {
		return "", false, err
	}
	return r.text[m[0]:m[1]], true, nil
}

func (r *goRegex) Replace(_ context.Context, replacement string, position, occurrence int) (string, error) {
	if r.re == nil {
		return "", ErrRegexNotYetSet.New()
	}
	if !r.hasText {
		return "", ErrMatchNotYetSet.New()
	}
	offset := byteOffset(r.text, position-1)
	if offset < 0 {
		return r.text, nil
	}
	head, tail := r.text[:offset], r.text[offset:]
	var b strings.Builder
	b.WriteString(head)
	last := 0
	for i, m := range r.re.FindAllStringSubmatchIndex(tail, -1) {
		if occurrence > 0 && i+1 != occurrence {
			continue
		}
		b.WriteString(tail[last:m[0]])
		b.Write(r.re.ExpandString(nil, replacement, tail, m))
		last = m[1]
		if occurrence > 0 {
			break
		}
	}
	b.WriteString(tail[last:])
	return b.String(), nil
}

func (r *goRegex) StringBufferSize() uint32 { return 0 }

func (r *goRegex) Close() error {
	r.re, r.text, r.hasText = nil, "", false
	return nil
}

// byteOffset returns the byte offset of rune index i in s, len(s) for the
// index just past the end, and -1 beyond that or for a negative index.
func byteOffset(s string, i int) int {
	if i < 0 {
		return -1
	}
	for offset := range s {
		if i == 0 {
			return offset
		}
		i--
	}
	if i == 0 {
		return len(s)
	}
	return -1
}

// stripPatternComments removes white space and # comments outside
// character classes and escapes, as ICU's comments flag does.
func stripPatternComments(pattern string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '\\' && i+1 < len(pattern):
			b.WriteByte(c)
			i++
			b.WriteByte(pattern[i])
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
		case c == '#':
			for i < len(pattern) && pattern[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
