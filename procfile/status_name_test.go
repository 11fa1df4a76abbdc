package procfile

import "testing"

func TestUnescapeStatusName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"sleep", "sleep"},
		{`a\nb`, "a\nb"},
		{`back\\slash`, `back\slash`},
		{`\\n`, `\n`},
		{`tab	kept`, "tab\tkept"},
		{`odd\x`, `odd\x`},
		{`end\`, `end\`},
	} {
		if got := UnescapeStatusName(c.in); got != c.want {
			t.Errorf("UnescapeStatusName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
