package regex

import (
	"context"
	"testing"
)

func newRegex(t *testing.T, pattern string, flags RegexFlags, text string) Regex {
	t.Helper()
	r := CreateRegex(0)
	ctx := context.Background()
	if err := r.SetRegexString(ctx, pattern, flags); err != nil {
		t.Fatalf("SetRegexString(%q): %v", pattern, err)
	}
	if err := r.SetMatchString(ctx, text); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestIndexOfCountsCharacters(t *testing.T) {
	ctx := context.Background()
	r := newRegex(t, "w", RegexFlags_None, "héllo wörld")
	if got, _ := r.IndexOf(ctx, 1, 1, false); got != 7 {
		t.Errorf("IndexOf start = %d, want 7", got)
	}
	if got, _ := r.IndexOf(ctx, 1, 1, true); got != 8 {
		t.Errorf("IndexOf end = %d, want 8", got)
	}
	if got, _ := r.IndexOf(ctx, 8, 1, false); got != 0 {
		t.Errorf("IndexOf past the match = %d, want 0", got)
	}
}

func TestOccurrences(t *testing.T) {
	ctx := context.Background()
	r := newRegex(t, "dog", RegexFlags_None, "dog cat dog")
	if got, _ := r.IndexOf(ctx, 1, 2, false); got != 9 {
		t.Errorf("second occurrence at %d, want 9", got)
	}
	if ok, _ := r.Matches(ctx, 0, 3); ok {
		t.Errorf("Matches found a third occurrence")
	}
	if s, ok, _ := r.Substring(ctx, 2, 1); !ok || s != "dog" {
		t.Errorf("Substring from 2 = %q, %v; want dog", s, ok)
	}
}

func TestReplace(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		pattern, text, replacement string
		position, occurrence       int
		want                       string
	}{
		{"b", "abc abc abc", "X", 1, 0, "aXc aXc aXc"},
		{"b", "abc abc abc", "X", 1, 2, "abc aXc abc"},
		{"b", "abc abc abc", "X", 5, 0, "abc aXc aXc"},
		{"(a)(b)", "ab ab", "$2$1", 1, 0, "ba ba"},
		{"é", "éé", "e", 2, 0, "ée"},
		{"x", "abc", "y", 9, 0, "abc"},
	}
	for _, c := range cases {
		r := newRegex(t, c.pattern, RegexFlags_None, c.text)
		got, err := r.Replace(ctx, c.replacement, c.position, c.occurrence)
		if err != nil || got != c.want {
			t.Errorf("Replace(%q in %q by %q, %d, %d) = %q, %v; want %q", c.pattern, c.text, c.replacement, c.position, c.occurrence, got, err, c.want)
		}
	}
}

func TestFlags(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		pattern string
		flags   RegexFlags
		text    string
		want    bool
	}{
		{"^A", RegexFlags_None, "abc", false},
		{"^A", RegexFlags_Case_Insensitive, "abc", true},
		{"^b", RegexFlags_None, "a\nb", false},
		{"^b", RegexFlags_Multiline, "a\nb", true},
		{"a.b", RegexFlags_None, "a\nb", false},
		{"a.b", RegexFlags_Dot_All, "a\nb", true},
		{"a.b", RegexFlags_Literal, "axb", false},
		{"a.b", RegexFlags_Literal, "a.b", true},
		{"a b # comment", RegexFlags_Comments, "ab", true},
	}
	for _, c := range cases {
		r := newRegex(t, c.pattern, c.flags, c.text)
		if got, err := r.Matches(ctx, 0, 0); err != nil || got != c.want {
			t.Errorf("Matches(%q, flags %d, %q) = %v, %v; want %v", c.pattern, c.flags, c.text, got, err, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	r := CreateRegex(0)
	if _, err := r.Matches(ctx, 0, 0); !ErrRegexNotYetSet.Is(err) {
		t.Errorf("Matches before SetRegexString: %v, want ErrRegexNotYetSet", err)
	}
	if err := r.SetRegexString(ctx, "(?=x)", RegexFlags_None); !ErrInvalidRegex.Is(err) {
		t.Errorf("lookahead: %v, want ErrInvalidRegex", err)
	}
	if err := r.SetRegexString(ctx, "x", RegexFlags_None); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Matches(ctx, 0, 0); !ErrMatchNotYetSet.Is(err) {
		t.Errorf("Matches before SetMatchString: %v, want ErrMatchNotYetSet", err)
	}
}
