// Package sqltext scans SQL text by MySQL's lexical rules, to tell code
// from string literals, quoted identifiers and comments without parsing.
package sqltext

import (
	"strings"
	"unicode"
)

// Kind classifies the parts of SQL text that a Scanner returns.
type Kind int

const (
	Code    Kind = iota // one byte of code
	Quoted              // a string literal or quoted identifier
	Comment             // a "-- ", "#" or "/* */" comment
)

// Scanner walks SQL text and separates code from string literals, quoted
// identifiers and comments. Inside a string, a quote is escaped by doubling
// it or by a backslash, and inside a quoted identifier a backtick is escaped
// by doubling it. Comments start with "-- ", "#" or "/*".
type Scanner struct {
	text string
	i    int
}

// NewScanner returns a Scanner at the start of text.
func NewScanner(text string) *Scanner { return &Scanner{text: text} }

// Next returns the kind and offsets of the part at the scanner's position,
// or done at the end of the text.
func (s *Scanner) Next() (kind Kind, from, to int, done bool) {
	if s.i >= len(s.text) {
		return 0, 0, 0, true
	}
	t := s.text
	from = s.i
	switch {
	case t[from] == '\'' || t[from] == '"' || t[from] == '`':
		kind, s.i = Quoted, skipQuoted(t, from)
	case t[from] == '#' || isDashComment(t, from):
		kind, s.i = Comment, len(t)
		if end := strings.IndexByte(t[from:], '\n'); end >= 0 {
			s.i = from + end
		}
	case strings.HasPrefix(t[from:], "/*"):
		kind, s.i = Comment, len(t)
		if end := strings.Index(t[from+2:], "*/"); end >= 0 {
			s.i = from + 2 + end + 2
		}
	default:
		kind, s.i = Code, from+1
	}
	return kind, from, s.i, false
}

// skipQuoted returns the offset after the quoted part that starts at i.
func skipQuoted(t string, i int) int {
	q := t[i]
	for j := i + 1; j < len(t); j++ {
		switch {
		case t[j] == '\\' && q != '`':
			j++
		case t[j] == q && j+1 < len(t) && t[j+1] == q:
			j++
		case t[j] == q:
			return j + 1
		}
	}
	return len(t)
}

// isDashComment reports a MySQL "--" comment at i, which needs a blank or the
// end of the text after the dashes.
func isDashComment(t string, i int) bool {
	if !strings.HasPrefix(t[i:], "--") {
		return false
	}
	return i+2 == len(t) || unicode.IsSpace(rune(t[i+2]))
}

// IsWordByte reports whether c can be part of an unquoted word: a letter,
// a digit or an underscore.
func IsWordByte(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}
