package main

import (
	"slices"
	"strings"
	"unicode"

	"github.com/procsql/procsql/output"
	"github.com/procsql/procsql/tables"
)

// sqlKeywords are the keywords and functions that Tab completes, written in
// upper case.
var sqlKeywords = []string{
	"ALL", "AND", "AS", "ASC", "AVG", "BETWEEN", "BY", "CASE", "CAST",
	"COALESCE", "CONCAT", "COUNT", "CROSS", "DESC", "DESCRIBE", "DISTINCT",
	"ELSE", "END", "EXISTS", "EXPLAIN", "FALSE", "FROM", "FROM_UNIXTIME",
	"GROUP", "GROUP_CONCAT", "HAVING", "HEX", "IFNULL", "IN", "INNER", "IS",
	"JOIN", "LEFT", "LENGTH", "LIKE", "LIMIT", "LOWER", "MAX", "MIN", "NOT",
	"NULL", "OFFSET", "ON", "OR", "ORDER", "OUTER", "REGEXP", "RIGHT",
	"SELECT", "SHOW", "SUBSTRING", "SUM", "TABLES", "THEN", "TRUE", "UNION",
	"UPPER", "USING", "WHEN", "WHERE", "WITH",
}

// completer implements readline.AutoCompleter. It completes the word before
// the cursor, matching case-insensitively, from table names, column names
// and SQL keywords, and at the start of a line from the dot commands and
// their arguments.
type completer struct {
	identifiers []string // table and column names, sorted and unique
	tableNames  []string
	keywords    []string // sorted, without words that are also identifiers
	huntIDs     []string // completed after .hunt
}

func newCompleter(all []tables.Table, huntIDs []string) *completer {
	c := &completer{huntIDs: huntIDs}
	for _, t := range all {
		c.tableNames = append(c.tableNames, t.Name())
		c.identifiers = append(c.identifiers, t.Name())
		for _, col := range t.Columns() {
			c.identifiers = append(c.identifiers, col.Name)
		}
	}
	slices.Sort(c.identifiers)
	c.identifiers = slices.Compact(c.identifiers)

	for _, k := range sqlKeywords {
		isIdentifier := slices.ContainsFunc(c.identifiers, func(id string) bool { return strings.EqualFold(id, k) })
		if !isIdentifier {
			c.keywords = append(c.keywords, k)
		}
	}
	slices.Sort(c.keywords)
	return c
}

// Do returns the text that each candidate adds after the cursor, and the
// length in runes of the word it completes, as readline.AutoCompleter
// requires. readline can only insert text, so a candidate keeps the case
// that the user typed and adds the rest of the word.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	before := string(line[:pos])
	trimmed := strings.TrimLeftFunc(before, unicode.IsSpace)
	if strings.HasPrefix(trimmed, ".") {
		return c.completeDotCommand(trimmed)
	}

	start := pos
	for start > 0 && isWordRune(line[start-1]) {
		start--
	}
	prefix := string(line[start:pos])
	if prefix == "" {
		// Listing every name on an empty word would flood the screen.
		return nil, 0
	}

	var suffixes [][]rune
	suffixes = appendMatches(suffixes, prefix, c.identifiers)
	keywordCase := strings.ToUpper
	if strings.ToLower(prefix) == prefix {
		keywordCase = strings.ToLower
	}
	for _, k := range c.keywords {
		if hasPrefixFold(k, prefix) {
			suffixes = append(suffixes, []rune(keywordCase(k))[len([]rune(prefix)):])
		}
	}
	return suffixes, len([]rune(prefix))
}

// completeDotCommand completes a dot command name, the argument of .schema,
// .mode and .timer, or any argument of .hunt.
func (c *completer) completeDotCommand(text string) ([][]rune, int) {
	fields := strings.Fields(text)
	endsInSpace := strings.TrimRightFunc(text, unicode.IsSpace) != text
	if len(fields) == 1 && !endsInSpace {
		names := []string{".exit", ".help", ".hunt", ".hunts", ".mode", ".quit", ".schema", ".tables", ".timer"}
		return appendMatches(nil, fields[0], names), len([]rune(fields[0]))
	}

	if fields[0] == ".hunt" {
		prefix := ""
		if !endsInSpace {
			prefix = fields[len(fields)-1]
		}
		return appendMatches(nil, prefix, c.huntIDs), len([]rune(prefix))
	}

	// Complete the first argument only.
	prefix := ""
	switch {
	case len(fields) == 2 && !endsInSpace:
		prefix = fields[1]
	case len(fields) == 1 && endsInSpace:
	default:
		return nil, 0
	}
	var choices []string
	switch fields[0] {
	case ".schema":
		choices = c.tableNames
	case ".mode":
		choices = output.Formats
	case ".timer":
		choices = []string{"off", "on"}
	}
	return appendMatches(nil, prefix, choices), len([]rune(prefix))
}

// appendMatches appends, for each word that starts with prefix ignoring case,
// the part of the word after the prefix.
func appendMatches(suffixes [][]rune, prefix string, words []string) [][]rune {
	n := len([]rune(prefix))
	for _, w := range words {
		if hasPrefixFold(w, prefix) {
			suffixes = append(suffixes, []rune(w)[n:])
		}
	}
	return suffixes
}

func hasPrefixFold(word, prefix string) bool {
	w, p := []rune(word), []rune(prefix)
	return len(w) >= len(p) && strings.EqualFold(string(w[:len(p)]), prefix)
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
