package engine

import (
	"strings"

	"github.com/procsql/procsql/internal/sqltext"
)

// redactLiterals returns query with every quoted string and every hex or
// bit literal replaced by ?, and comments removed, so that a log line never
// holds a password (CREATE USER ... IDENTIFIED BY '...') or a secret an
// analyst searched for (WHERE value = '...'). Quoted identifiers, keywords
// and decimal numbers stay, and runs of white space become one space. It
// also returns the text inside each removed quoted string and comment, for
// redactMessage.
func redactLiterals(query string) (string, []string) {
	var b strings.Builder
	var removed []string
	s := sqltext.NewScanner(query)
	afterWord := false // the previous byte of code ends a word
	for {
		kind, from, to, done := s.Next()
		if done {
			break
		}
		part := query[from:to]
		switch {
		case kind == sqltext.Comment:
			b.WriteByte(' ')
			removed = append(removed, part)
			afterWord = false
		case kind == sqltext.Quoted && part[0] != '`':
			b.WriteString("?")
			inner := strings.TrimSuffix(part[1:], part[:1])
			removed = append(removed, inner, unescapeLiteral(inner, part[0]))
			afterWord = false
		case kind == sqltext.Code && !afterWord && isRadixPrefix(query, from):
			// 0x... or 0b...: skip the whole number.
			end := from + 2
			for end < len(query) && sqltext.IsWordByte(query[end]) {
				end++
			}
			b.WriteString("?")
			s = sqltext.NewScanner(query[end:])
			query = query[end:]
			afterWord = false
		default:
			b.WriteString(part)
			afterWord = kind == sqltext.Code && sqltext.IsWordByte(part[0])
		}
	}
	return strings.Join(strings.Fields(b.String()), " "), removed
}

// minRedacted is the shortest removed text that redactMessage replaces.
// Shorter ones would garble messages and hold no useful secret.
const minRedacted = 3

// redactMessage replaces in an error message the texts that redactLiterals
// removed from its query, because parser and conversion errors quote the
// statement around the failure.
func redactMessage(msg string, removed []string) string {
	for _, text := range removed {
		if len(text) >= minRedacted {
			msg = strings.ReplaceAll(msg, text, "?")
		}
	}
	return msg
}

// unescapeLiteral returns the value of the text inside a string literal
// quoted with quote: a doubled quote is one quote, and a backslash escapes
// the next character as MySQL reads it.
func unescapeLiteral(inner string, quote byte) string {
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		switch {
		case c == quote && i+1 < len(inner) && inner[i+1] == quote:
			i++
		case c == '\\' && i+1 < len(inner):
			i++
			c = inner[i]
			switch c {
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'r':
				c = '\r'
			case '0':
				c = 0
			case 'Z':
				c = 26
			case 'b':
				c = '\b'
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// isRadixPrefix reports whether a 0x or 0b number literal starts at i.
func isRadixPrefix(query string, i int) bool {
	return query[i] == '0' && i+1 < len(query) && (query[i+1] == 'x' || query[i+1] == 'b')
}
