package engine

import (
	"errors"
	"strings"
	"testing"
)

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

// TestRedactForLogKeepsNoLiteral checks the messages of failures that
// quote a literal's value in another form than the query's: with its white
// space collapsed, or a hex or bit literal printed in upper case or as the
// bytes it stands for.
func TestRedactForLogKeepsNoLiteral(t *testing.T) {
	cases := []struct{ query, message string }{
		{"SELECT CAST('hunter2  topsecret' AS JSON)", "expression 'convert('hunter2  topsecret', json)': couldn't convert to json"},
		{"SELECT CAST('hunter2  topsecret' AS JSON)", "expression 'convert('hunter2 topsecret', json)': couldn't convert to json"},
		{"SELECT * FROM environ WHERE value REGEXP '(hunter2\ttopsecret'", "missing closing ): `(hunter2\ttopsecret`"},
		{"SELECT 1 + INTERVAL 'hunter2  topsecret' DAY", "'hunter2 \n topsecret' is not a valid value for 'bigint'"},
		{"SELECT CAST(X'68756e746572322d746f70736563726574' AS JSON)", "expression 'convert(0x68756E746572322D746F70736563726574, json)': failed"},
		{"SELECT CAST(x'68756e746572322d746f70736563726574' AS JSON)", "Invalid JSON text: \"hunter2-topsecret\""},
		{"SELECT CAST(0x68756e746572322d746f70736563726574 AS JSON)", "expression 'convert(0x68756E746572322D746F70736563726574, json)': failed"},
		{"SELECT CAST(0x68756e746572322d746f70736563726574 AS JSON)", "Invalid JSON text: \"hunter2-topsecret\""},
		{"SELECT CAST(b'011010000111010101101110' AS JSON)", "Invalid JSON text: \"hun\""},
		{"SELECT CAST(0b011010000111010101101110 AS JSON)", "Invalid JSON text: \"hun\", 0B011010000111010101101110"},
	}
	for _, c := range cases {
		text, msg := redactForLog(c.query, errors.New(c.message), nil)
		for _, secret := range []string{"hunter2", "topsecret", "68756e74", "746f70", "hun", "0110100001110101"} {
			if strings.Contains(strings.ToLower(msg), secret) {
				t.Errorf("%s: message %q contains %q", c.query, msg, secret)
			}
			if strings.Contains(strings.ToLower(text), secret) {
				t.Errorf("%s: query %q contains %q", c.query, text, secret)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: message %q has more than one line", c.query, msg)
		}
	}
}

func TestDecodeRadix(t *testing.T) {
	cases := []struct {
		digits string
		radix  byte
		want   string
	}{
		{"68756e74", 'x', "hunt"},
		{"68756E74", 'X', "hunt"},
		{"1", 'x', "\x01"},
		{"zz", 'x', ""},
		{"0110100001110101", 'b', "hu"},
		{"1", 'b', "\x01"},
		{"012", 'b', ""},
	}
	for _, c := range cases {
		if got := decodeRadix(c.digits, c.radix); got != c.want {
			t.Errorf("decodeRadix(%q, %q) = %q, want %q", c.digits, c.radix, got, c.want)
		}
	}
}
