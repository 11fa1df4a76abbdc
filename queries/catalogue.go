package queries

import (
	"fmt"
	"strings"
)

// Catalogue renders hunts as a Markdown document: a table of every hunt's
// id, title, severity and techniques, then one section per hunt with its
// description, triage, false positives and SQL. Hunts appear in the order
// given.
func Catalogue(hunts []Hunt) string {
	var b strings.Builder
	b.WriteString("# Hunt catalogue\n\n")
	b.WriteString("<!-- Generated from the headers of the hunt files. Edit those, not this page. -->\n\n")
	b.WriteString("Each hunt is one SQL query over procsql's tables that looks for one sign of\n")
	b.WriteString("compromise; every row it returns is a hit. `procsql hunt` runs them all,\n")
	b.WriteString("`procsql hunt ID...` runs some, and `procsql hunt --list` lists them.\n")
	b.WriteString("In SQL, from the shell, `procsql query` or a client of `procsql serve`, the\n")
	b.WriteString("`hunts` table lists them and `SELECT * FROM hunt_ID` runs one.\n\n")

	b.WriteString("| id | title | severity | techniques |\n|---|---|---|---|\n")
	for _, h := range hunts {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", h.ID, h.ID, tableCell(markdownText(h.Title)), h.Severity, strings.Join(h.Techniques, ", "))
	}

	for _, h := range hunts {
		fmt.Fprintf(&b, "\n## %s\n\n", h.ID)
		fmt.Fprintf(&b, "**%s**\n\n", markdownText(h.Title))
		fmt.Fprintf(&b, "Severity: %s. ATT&CK: %s.\n\n", h.Severity, techniqueLinks(h.Techniques))
		fmt.Fprintf(&b, "%s\n\n", markdownText(h.Description))
		fmt.Fprintf(&b, "**Triage.** %s\n\n", markdownText(h.Triage))
		fmt.Fprintf(&b, "**False positives.** %s\n\n", markdownText(h.FalsePositives))
		fmt.Fprintf(&b, "```sql\n%s\n```\n", h.SQL)
	}
	return b.String()
}

// techniqueLinks links each ATT&CK id to its page, where a sub-technique
// such as T1055.009 lives at techniques/T1055/009.
func techniqueLinks(ids []string) string {
	links := make([]string, len(ids))
	for i, id := range ids {
		links[i] = fmt.Sprintf("[%s](https://attack.mitre.org/techniques/%s/)", id, strings.ReplaceAll(id, ".", "/"))
	}
	return strings.Join(links, ", ")
}

// markdownText escapes the characters of header text that Markdown would
// read as markup: "<" would start an HTML tag, as in /proc/<pid>/exe, and
// "*" could start emphasis, as in vmw_*.
func markdownText(s string) string {
	return strings.NewReplacer("<", "&lt;", "*", `\*`).Replace(s)
}

// tableCell escapes the pipe characters that would end a Markdown table cell.
func tableCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
