package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestRegexpLikeValues(t *testing.T) {
	eng := newTreeEngine(t)
	cases := []struct {
		expr string
		want string
	}{
		{"REGEXP_LIKE('abc', '^a')", "1"},
		{"REGEXP_LIKE('abc', '^A')", "0"},
		{"REGEXP_LIKE('abc', '^A', 'i')", "1"},
		{"REGEXP_LIKE('abc', '^A', 'ic')", "0"},
		{"REGEXP_LIKE('abc', '^A', 'ci')", "1"},
		{"REGEXP_LIKE('a\\nb', '^b')", "0"},
		{"REGEXP_LIKE('a\\nb', '^b', 'm')", "1"},
		{"REGEXP_LIKE('a\\nb', 'a.b')", "0"},
		{"REGEXP_LIKE('a\\nb', 'a.b', 'n')", "1"},
		{"REGEXP_LIKE(NULL, 'a')", "<nil>"},
		{"REGEXP_LIKE('a', NULL)", "<nil>"},
		{"REGEXP_LIKE('a', 'a', NULL)", "<nil>"},
		{"REGEXP_LIKE('/usr/bin/bash', '/(ba|da|z)?sh$')", "1"},
	}
	for _, c := range cases {
		res, err := eng.Query(eng.NewSession(context.Background()), "SELECT "+c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got := fmt.Sprint(res.Rows[0][0]); got != c.want {
			t.Errorf("%s = %s, want %s", c.expr, got, c.want)
		}
	}
}

func TestRegexpLikeOnColumn(t *testing.T) {
	eng := newTreeEngine(t)
	res, err := eng.Query(eng.NewSession(context.Background()),
		"SELECT pid FROM processes WHERE REGEXP_LIKE(name, '^svc \\\\(v[0-9]\\\\)', 'c') ORDER BY pid")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || fmt.Sprint(res.Rows[0][0]) != "7001" {
		t.Errorf("rows = %v, want pid 7001, named \"svc (v2) main\"", res.Rows)
	}
}

func TestRegexpLikeErrors(t *testing.T) {
	eng := newTreeEngine(t)
	cases := []struct {
		expr string
		want string
	}{
		{"REGEXP_LIKE('a', '(?=a)')", "RE2"},
		{"REGEXP_LIKE('a', '')", "pattern is empty"},
		{"REGEXP_LIKE('a', 'a', 'x')", `match type "x" is invalid`},
		{"REGEXP_LIKE('a')", "REGEXP_LIKE"},
	}
	for _, c := range cases {
		_, err := eng.Query(eng.NewSession(context.Background()), "SELECT "+c.expr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.expr, err, c.want)
		}
	}
}
