package main

import "strings"

// splitter cuts input lines into SQL statements at each ";" outside quotes
// and comments, as the mysql client does. It follows MySQL's lexical rules.
// Strings in '...' and "..." take backslash escapes and doubled quotes, and
// `...` quotes an identifier. Comments start with "#", "/*", or "--" followed
// by whitespace or the line end.
type splitter struct {
	text strings.Builder // the unfinished statement without its comments

	quote          byte // quote character of the open string or identifier, or 0
	escaped        bool // the previous byte was a backslash inside a string
	inBlockComment bool
	keepComment    bool // the open block comment is /*! or /*+, which the parser reads
	hasCode        bool // text contains more than whitespace
}

// feed adds one input line, without its line ending, and returns the
// statements that the line completes, without their ";" and comments.
func (s *splitter) feed(line string) []string {
	var done []string
	for i := 0; i < len(line); i++ {
		c := line[i]
		var next byte
		if i+1 < len(line) {
			next = line[i+1]
		}

		switch {
		case s.inBlockComment:
			if s.keepComment {
				s.text.WriteByte(c)
			}
			if c == '*' && next == '/' {
				if s.keepComment {
					s.text.WriteByte('/')
				}
				s.inBlockComment = false
				i++
			}

		case s.quote != 0:
			s.text.WriteByte(c)
			switch {
			case s.escaped:
				s.escaped = false
			case c == '\\' && s.quote != '`':
				s.escaped = true
			case c == s.quote:
				s.quote = 0
			}

		case c == '\'' || c == '"' || c == '`':
			s.quote = c
			s.hasCode = true
			s.text.WriteByte(c)

		case c == '#' || (c == '-' && next == '-' && (i+2 == len(line) || isSpace(line[i+2]))):
			// The comment runs to the end of the line. A space keeps the
			// tokens on either side apart.
			s.text.WriteByte(' ')
			i = len(line)

		case c == '/' && next == '*':
			s.inBlockComment = true
			s.keepComment = i+2 < len(line) && (line[i+2] == '!' || line[i+2] == '+')
			if s.keepComment {
				s.text.WriteString("/*")
				s.hasCode = true
			} else {
				s.text.WriteByte(' ')
			}
			i++

		case c == ';':
			if s.hasCode {
				done = append(done, strings.TrimSpace(s.text.String()))
			}
			s.text.Reset()
			s.hasCode = false

		default:
			s.text.WriteByte(c)
			if !isSpace(c) {
				s.hasCode = true
			}
		}
	}

	if !s.hasCode {
		// The text contains only whitespace left from comments, so drop it.
		s.text.Reset()
		return done
	}
	// A backslash at the end of a line escapes the line break.
	s.escaped = false
	s.text.WriteByte('\n')
	return done
}

// pending reports whether an unfinished statement or comment is buffered, so
// the next line continues it.
func (s *splitter) pending() bool {
	return s.hasCode || s.inBlockComment
}

// flush returns the unfinished statement, if there is one, and clears the
// buffer. It is for the end of input, where a missing ";" is forgiven.
func (s *splitter) flush() (string, bool) {
	stmt, ok := strings.TrimSpace(s.text.String()), s.hasCode
	s.reset()
	return stmt, ok
}

// reset discards the unfinished statement.
func (s *splitter) reset() {
	*s = splitter{}
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}
