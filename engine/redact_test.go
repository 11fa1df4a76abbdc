package engine

import "testing"

func TestRedactLiterals(t *testing.T) {
	cases := []struct{ query, want string }{
		{"CREATE USER a IDENTIFIED BY 's3cret'", "CREATE USER a IDENTIFIED BY ?"},
		{"ALTER USER procsql IDENTIFIED BY \"pw\"", "ALTER USER procsql IDENTIFIED BY ?"},
		{"SET PASSWORD = 'it''s'", "SET PASSWORD = ?"},
		{`SELECT * FROM environ WHERE value = 'a\'b' AND pid = 42`, "SELECT * FROM environ WHERE value = ? AND pid = 42"},
		{"SELECT X'68756e74', 0x68756e74, 0b101, b'1'", "SELECT X?, ?, ?, b?"},
		{"SELECT `we'ird` FROM t -- 'secret'\nWHERE a = 1 # 'x'", "SELECT `we'ird` FROM t WHERE a = 1"},
		{"SELECT /* 'secret' */ 1", "SELECT 1"},
		{"SELECT 'unterminated", "SELECT ?"},
		{"SELECT col0x FROM t", "SELECT col0x FROM t"},
	}
	for _, c := range cases {
		if got, _ := redactLiterals(c.query); got != c.want {
			t.Errorf("redactLiterals(%q) = %q, want %q", c.query, got, c.want)
		}
	}
}

func TestRedactMessage(t *testing.T) {
	query := "SELECT * FROM environ WHERE value = 'hunter2' AND x = 'ab' /* note */ AND"
	_, removed := redactLiterals(query)
	msg := "syntax error at position 71 near 'hunter2' AND x = 'ab' /* note */ AND"
	want := "syntax error at position 71 near '?' AND x = 'ab' ? AND"
	if got := redactMessage(msg, removed); got != want {
		t.Errorf("redactMessage = %q, want %q", got, want)
	}
}

func TestRedactMessageEscapedLiteral(t *testing.T) {
	for _, query := range []string{
		"SELECT REGEXP_LIKE('a', 'it''s hunter3(')",
		`SELECT REGEXP_LIKE('a', 'it\'s hunter3(')`,
	} {
		_, removed := redactLiterals(query)
		msg := "pattern \"it's hunter3(\" is invalid"
		if got := redactMessage(msg, removed); got != "pattern \"?\" is invalid" {
			t.Errorf("%s: redactMessage = %q, want the decoded literal replaced", query, got)
		}
	}
}
