package queries

import (
	"strings"
	"unicode"

	"github.com/procsql/procsql/internal/sqltext"
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

// topLevelSemicolons returns the offsets of the semicolons outside strings,
// quoted identifiers and comments.
func topLevelSemicolons(text string) []int {
	var out []int
	s := sqltext.NewScanner(text)
	for {
		kind, from, _, done := s.Next()
		if done {
			return out
		}
		if kind == sqltext.Code && text[from] == ';' {
			out = append(out, from)
		}
	}
}

// stripComments returns text with each comment replaced by a space.
func stripComments(text string) string {
	var b strings.Builder
	s := sqltext.NewScanner(text)
	for {
		kind, from, to, done := s.Next()
		if done {
			return b.String()
		}
		if kind == sqltext.Comment {
			b.WriteByte(' ')
		} else {
			b.WriteString(text[from:to])
		}
	}
}

// firstWord returns the first token of code in text and its offset: a word,
// or a single byte such as "(" when the code starts with punctuation.
func firstWord(text string) (string, int) {
	s := sqltext.NewScanner(text)
	start := -1
	for {
		kind, from, to, done := s.Next()
		if done {
			break
		}
		isWord := kind == sqltext.Code && sqltext.IsWordByte(text[from])
		switch {
		case start >= 0 && !isWord:
			return text[start:from], start
		case start >= 0 || kind == sqltext.Comment || (kind == sqltext.Code && unicode.IsSpace(rune(text[from]))):
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
