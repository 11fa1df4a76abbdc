package engine

import (
	"encoding/hex"
	"errors"
	"strings"

	"github.com/procsql/procsql/internal/sqltext"
)

// redactForLog returns query and the message of err, its failure, as the
// log shows them: the query with its literals replaced by ? and cut to
// maxLoggedQuery bytes, and the message, on one line, with the text of
// those literals and of params replaced by ?.
func redactForLog(query string, err error, params []string) (string, string) {
	text, removed := redactLiterals(query)
	removed = append(removed, params...)
	if len(text) > maxLoggedQuery {
		text = text[:maxLoggedQuery] + "..."
	}
	// oneLine collapses runs of white space, which would hide a literal
	// with two spaces or a tab from redactMessage. So the message is
	// redacted before oneLine, and again after, for the literals that the
	// message itself quoted with their white space collapsed.
	msg := redactMessage(err.Error(), removed)
	msg = oneLine(errors.New(msg)).Error()
	collapsed := make([]string, len(removed))
	for i, r := range removed {
		collapsed[i] = strings.Join(strings.Fields(r), " ")
	}
	return text, redactMessage(msg, collapsed)
}

// redactLiterals returns query with every quoted string and every hex or
// bit literal replaced by ?, and comments removed, so that a log line never
// holds a password (CREATE USER ... IDENTIFIED BY '...') or a secret an
// analyst searched for (WHERE value = '...'). Quoted identifiers, keywords
// and decimal numbers stay, and runs of white space become one space. It
// also returns the text inside each removed quoted string and comment, for
// redactMessage, and the bytes that each hex or bit literal stands for,
// because error messages may print those instead.
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
			if radix := literalRadix(query, from); radix != 0 {
				removed = append(removed, decodeRadix(inner, radix))
			}
			afterWord = false
		case kind == sqltext.Code && !afterWord && isRadixPrefix(query, from):
			// 0x... or 0b...: skip the whole number.
			end := from + 2
			for end < len(query) && sqltext.IsWordByte(query[end]) {
				end++
			}
			b.WriteString("?")
			digits := query[from+2 : end]
			removed = append(removed, digits, decodeRadix(digits, query[from+1]))
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
// statement around the failure. It ignores the case of ASCII letters,
// because messages print hex literals in upper case.
func redactMessage(msg string, removed []string) string {
	for _, text := range removed {
		if len(text) >= minRedacted {
			msg = replaceFold(msg, text, "?")
		}
	}
	return msg
}

// replaceFold replaces every occurrence of old in s by repl, ignoring the
// case of ASCII letters.
func replaceFold(s, old, repl string) string {
	lowerS, lowerOld := asciiLower(s), asciiLower(old)
	if !strings.Contains(lowerS, lowerOld) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(lowerS, lowerOld)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s, lowerS = s[i+len(old):], lowerS[i+len(old):]
	}
}

// asciiLower returns s with ASCII letters in lower case and every other
// byte unchanged, so that byte offsets stay the same.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// literalRadix returns 'x' or 'b' when the quoted literal at i is a hex
// (X'...') or bit (B'...') literal, and 0 otherwise.
func literalRadix(query string, i int) byte {
	if i < 1 || (i >= 2 && sqltext.IsWordByte(query[i-2])) {
		return 0
	}
	switch query[i-1] {
	case 'x', 'X':
		return 'x'
	case 'b', 'B':
		return 'b'
	}
	return 0
}

// decodeRadix returns the bytes that the hex (radix 'x') or binary ('b')
// digits stand for, as MySQL reads them: padded with zeros on the left to
// whole bytes. It returns "" for digits it cannot decode.
func decodeRadix(digits string, radix byte) string {
	switch radix {
	case 'x', 'X':
		if len(digits)%2 == 1 {
			digits = "0" + digits
		}
		decoded, err := hex.DecodeString(digits)
		if err != nil {
			return ""
		}
		return string(decoded)
	case 'b', 'B':
		if pad := len(digits) % 8; pad != 0 {
			digits = strings.Repeat("0", 8-pad) + digits
		}
		decoded := make([]byte, 0, len(digits)/8)
		for i := 0; i < len(digits); i += 8 {
			var v byte
			for _, c := range digits[i : i+8] {
				if c != '0' && c != '1' {
					return ""
				}
				v = v<<1 | byte(c-'0')
			}
			decoded = append(decoded, v)
		}
		return string(decoded)
	}
	return ""
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
