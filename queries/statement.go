package queries

import (
	"strings"
	"unicode"
)

// statement returns the SQL that follows the header, which starts at
// lines[start], without surrounding blanks and without one final semicolon.
// It rejects text that contains more than one statement or does not start with
// SELECT, WITH or a parenthesis. An empty result means there is no SQL.
// The returned *ParseError carries the line but not the file.
func statement(lines []string, start int) (string, *ParseError) {
	text := strings.Join(lines[start:], "\n")
	lineAt := func(offset int) int {
		return start + 1 + strings.Count(text[:offset], "\n")
	}

	separators := topLevelSemicolons(text)
	body := text
	if n := len(separators); n > 0 {
		last := separators[n-1]
		if strings.TrimSpace(stripComments(text[last+1:])) == "" {
			body = text[:last]
			separators = separators[:n-1]
		}
	}
	if len(separators) > 0 {
		return "", &ParseError{Line: lineAt(separators[0]), Msg: "more than one statement: a hunt file must contain exactly one SELECT statement"}
	}
	if strings.TrimSpace(stripComments(body)) == "" {
		return "", nil
	}

	first, offset := firstWord(body)
	if first != "(" && !strings.EqualFold(first, "SELECT") && !strings.EqualFold(first, "WITH") {
		return "", &ParseError{Line: lineAt(offset), Msg: "the SQL starts with " + quote(first) + ": a hunt file must contain exactly one SELECT statement"}
	}
	return strings.TrimSpace(body), nil
}

func quote(s string) string {
	return `"` + s + `"`
}

// tokenKind classifies the parts of SQL text that sqlScanner returns.
type tokenKind int

const (
	codeByte tokenKind = iota // one byte of code
	quoted                    // a string literal or quoted identifier
	comment
)

// sqlScanner walks SQL text and separates code from string literals, quoted
// identifiers and comments. It follows the MySQL lexical rules. Inside a
// string, a quote is escaped by doubling it or by a backslash, and inside a
// quoted identifier a backtick is escaped by doubling it. Comments start
// with "-- ", "#" or "/*".
type sqlScanner struct {
	text string
	i    int
}

// next returns the kind and offsets of the part at the scanner's position,
// or done at the end of the text.
func (s *sqlScanner) next() (kind tokenKind, from, to int, done bool) {
	if s.i >= len(s.text) {
		return 0, 0, 0, true
	}
	t := s.text
	from = s.i
	switch {
	case t[from] == '\'' || t[from] == '"' || t[from] == '`':
		kind, s.i = quoted, skipQuoted(t, from)
	case t[from] == '#' || isDashComment(t, from):
		kind, s.i = comment, len(t)
		if end := strings.IndexByte(t[from:], '\n'); end >= 0 {
			s.i = from + end
		}
	case strings.HasPrefix(t[from:], "/*"):
		kind, s.i = comment, len(t)
		if end := strings.Index(t[from+2:], "*/"); end >= 0 {
			s.i = from + 2 + end + 2
		}
	default:
		kind, s.i = codeByte, from+1
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

// topLevelSemicolons returns the offsets of the semicolons outside strings,
// quoted identifiers and comments.
func topLevelSemicolons(text string) []int {
	var out []int
	s := sqlScanner{text: text}
	for {
		kind, from, _, done := s.next()
		if done {
			return out
		}
		if kind == codeByte && text[from] == ';' {
			out = append(out, from)
		}
	}
}

// stripComments returns text with each comment replaced by a space.
func stripComments(text string) string {
	var b strings.Builder
	s := sqlScanner{text: text}
	for {
		kind, from, to, done := s.next()
		if done {
			return b.String()
		}
		if kind == comment {
			b.WriteByte(' ')
		} else {
			b.WriteString(text[from:to])
		}
	}
}

// firstWord returns the first token of code in text and its offset: a word,
// or a single byte such as "(" when the code starts with punctuation.
func firstWord(text string) (string, int) {
	s := sqlScanner{text: text}
	start := -1
	for {
		kind, from, to, done := s.next()
		if done {
			break
		}
		isWord := kind == codeByte && isWordByte(text[from])
		switch {
		case start >= 0 && !isWord:
			return text[start:from], start
		case start >= 0 || kind == comment || (kind == codeByte && unicode.IsSpace(rune(text[from]))):
			continue
		case isWord:
			start = from
		default:
			return text[from:to], from
		}
	}
	if start < 0 {
		return "", 0
	}
	return text[start:], start
}

func isWordByte(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}
