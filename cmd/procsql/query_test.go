package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runApp runs procsql with args and returns stdout, stderr and the error.
func runApp(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := newApp(strings.NewReader(""), &stdout, &stderr)
	err := a.run(context.Background(), args)
	return stdout.String(), stderr.String(), err
}

const parenthesesTree = "../../testdata/cases/02-stat-comm-with-parentheses"

func TestQueryCSVOutput(t *testing.T) {
	stdout, stderr, err := runApp(t, "--proc", parenthesesTree, "query", "SELECT pid, name FROM processes ORDER BY pid")
	if err != nil {
		t.Fatal(err)
	}
	want := "pid,name\n7001,svc (v2) main\n7002,report-(weekly-\n7003,x) Z 1 1 1 0 -\n7004,)\n"
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
}

func TestQueryJSONOutput(t *testing.T) {
	stdout, _, err := runApp(t, "--proc", parenthesesTree, "--format", "json", "query", "SELECT pid, name, kernel_thread, exe FROM processes WHERE pid = 7004")
	if err != nil {
		t.Fatal(err)
	}
	want := "[\n  {\n    \"pid\": 7004,\n    \"name\": \")\",\n    \"kernel_thread\": false,\n    \"exe\": null\n  }\n]\n"
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
}

func TestQueryJSONLinesOutput(t *testing.T) {
	stdout, _, err := runApp(t, "--proc", parenthesesTree, "--format", "jsonl", "query", "SELECT pid FROM processes WHERE pid IN (7001, 7002) ORDER BY pid")
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"pid\":7001}\n{\"pid\":7002}\n"; stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
}

func TestQueryTableEscapesControlCharacters(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "5"), 0o755); err != nil {
		t.Fatal(err)
	}
	stat := "5 (evil\x1b[2J\n) S 1 5 5 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 1000000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	if err := os.WriteFile(filepath.Join(root, "5", "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runApp(t, "--proc", root, "--format", "table", "query", "SELECT pid, name FROM processes")
	if err != nil {
		t.Fatal(err)
	}
	want := "pid  name\n---  -------------\n5    evil\\x1b[2J\\n\n(1 row)\n"
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
}

func TestQueryWarningLine(t *testing.T) {
	stdout, stderr, err := runApp(t, "--proc", "../../testdata/cases/29-permission-denied-other-user", "query", "SELECT pid, exe FROM processes ORDER BY pid")
	if err != nil {
		t.Fatal(err)
	}
	if want := "pid,exe\n1234,\n5678,/usr/bin/bash\n"; stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	if want := "warning: 1 read of exe failed (EACCES), so the values from it are NULL or missing\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
}

func TestQueryErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"write statement", []string{"--proc", parenthesesTree, "query", "DELETE FROM processes"}, "DELETE statements are rejected because procsql is read-only"},
		{"syntax error", []string{"--proc", parenthesesTree, "query", "SELEC 1"}, "syntax error at position 6 near 'SELEC'"},
		{"unknown table", []string{"--proc", parenthesesTree, "query", "SELECT * FROM procs"}, "table not found: procs"},
		{"missing root", []string{"--proc", "/nonexistent/proc", "query", "SELECT 1"}, `open procfs root "/nonexistent/proc"`},
		{"invalid format", []string{"--format", "xml", "query", "SELECT 1"}, `invalid format "xml": use one of table, csv, json, jsonl`},
		{"missing statement", []string{"query"}, "query takes one SQL statement as one argument, got 0"},
		{"empty statement", []string{"--proc", parenthesesTree, "query", " ; "}, "empty query"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, _, err := runApp(t, c.args...)
			if err == nil {
				t.Fatalf("no error, stdout %q", stdout)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing on error", stdout)
			}
		})
	}
}

func TestHelpNamesEveryFlag(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"query", "--help"}, {"shell", "--help"}} {
		stdout, _, err := runApp(t, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, flag := range []string{"--proc directory", "--format format"} {
			if !strings.Contains(stdout, flag) {
				t.Errorf("%v help lacks %q:\n%s", args, flag, stdout)
			}
		}
	}
}

func TestQuerySetPrintsNothing(t *testing.T) {
	for _, format := range []string{"table", "csv", "json", "jsonl"} {
		stdout, stderr, err := runApp(t, "--proc", parenthesesTree, "--format", format, "query", "SET @x = 1")
		if err != nil {
			t.Fatal(err)
		}
		if stdout != "" || stderr != "" {
			t.Errorf("%s: stdout %q, stderr %q, want nothing", format, stdout, stderr)
		}
	}
}
