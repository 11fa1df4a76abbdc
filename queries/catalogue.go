package queries

import (
	"fmt"
	"strings"
)

// Catalogue renders hunts as a Markdown document: a table of every hunt's
// id, title, severity and techniques, how the hunts treat several hosts,
// then one section per hunt with its description, triage, false positives
// and SQL. Hunts appear in the order
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
	b.WriteString("\n" + manyHostsSection)

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

// manyHostsSection explains how the hunts behave on several sources and how
// to write a hunt that keeps that behaviour.
const manyHostsSection = "## Many hosts at once\n\n" +
	"Every hunt returns `host` as its first column, and every join in a hunt\n" +
	"matches `host` as well as `pid` or `inode`, as in\n" +
	"`JOIN fds f ON f.pid = p.pid AND f.host = p.host`. procsql reads several\n" +
	"snapshots at once when `--snapshot` is given more than once or names a\n" +
	"directory of snapshots. Each hunt then returns, for each host, exactly the\n" +
	"rows it returns on that host alone, and never pairs a process of one host\n" +
	"with a file or socket of another. Rows are ordered by host first. `procsql hunt`\n" +
	"counts the hits of each host after its summary line, and with\n" +
	"`--format json` or `jsonl` each hit carries its `host`.\n\n" +
	"Write your own hunts the same way: select `host`, and add\n" +
	"`AND x.host = y.host` to every join and `host` to every `GROUP BY` and\n" +
	"`PARTITION BY`. A join on `pid` or `inode` and `host` reads each key on\n" +
	"the matching host only. Questions across hosts are ordinary queries, such\n" +
	"as one deleted executable that runs on more than one host:\n\n" +
	"```sql\n" +
	"SELECT exe_sha256, COUNT(DISTINCT host) AS hosts,\n" +
	"  GROUP_CONCAT(DISTINCT CONCAT(host, ':', pid, ' ', name) SEPARATOR ', ') AS processes\n" +
	"FROM processes\n" +
	"WHERE exe_deleted = 1 AND exe_sha256 IS NOT NULL\n" +
	"GROUP BY exe_sha256\n" +
	"HAVING COUNT(DISTINCT host) > 1\n" +
	"```\n"
