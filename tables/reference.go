package tables

import (
	"fmt"
	"strings"
)

// Reference renders every table and column as Markdown, for the table
// reference in docs/tables.md.
func Reference() string {
	var b strings.Builder
	for _, t := range All() {
		fmt.Fprintf(&b, "## %s\n\n%s.", t.Name(), upperFirst(t.Comment()))
		if keys := t.KeyColumns(); len(keys) > 0 {
			fmt.Fprintf(&b, " Lookups on %s read only the matching rows.", strings.Join(keys, " and "))
		}
		b.WriteString("\n\n| column | type | description |\n|---|---|---|\n")
		for _, c := range t.Columns() {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", c.Name, strings.ToUpper(c.Type.String()), strings.ReplaceAll(c.Comment, "|", `\|`))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
