package engine

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/procsql/procsql/queries"
)

// HuntsTable is the name of the table that lists the hunts.
const HuntsTable = "hunts"

// HuntView returns the name of the view that runs the hunt with id.
func HuntView(id string) string { return "hunt_" + id }

// huntsTable lists the hunts the engine was given, so a MySQL client can
// find and read them without the procsql command line.
type huntsTable struct {
	hunts []queries.Hunt
}

var _ sql.CommentedTable = (*huntsTable)(nil)

var huntsSchema = sql.Schema{
	{Name: "id", Type: types.LongText, Source: HuntsTable, Comment: "hunt id; SELECT * FROM hunt_<id> runs it"},
	{Name: "title", Type: types.LongText, Source: HuntsTable, Comment: "one-line summary"},
	{Name: "severity", Type: types.LongText, Source: HuntsTable, Comment: "info, low, medium, high or critical"},
	{Name: "techniques", Type: types.LongText, Source: HuntsTable, Nullable: true, Comment: "MITRE ATT&CK technique ids, comma-separated"},
	{Name: "description", Type: types.LongText, Source: HuntsTable, Comment: "the sign of compromise the hunt finds"},
	{Name: "triage", Type: types.LongText, Source: HuntsTable, Comment: "how to judge a hit"},
	{Name: "false_positives", Type: types.LongText, Source: HuntsTable, Nullable: true, Comment: "known benign causes of a hit"},
	{Name: "sql", Type: types.LongText, Source: HuntsTable, Comment: "the hunt's SELECT statement"},
}

func (t *huntsTable) Name() string               { return HuntsTable }
func (t *huntsTable) String() string             { return HuntsTable }
func (t *huntsTable) Schema() sql.Schema         { return huntsSchema }
func (t *huntsTable) Collation() sql.CollationID { return sql.Collation_Default }
func (t *huntsTable) Comment() string {
	return "the bundled hunts; each also runs as the view hunt_<id>"
}
func (t *huntsTable) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return &partitionIter{parts: []sql.Partition{partition{}}}, nil
}

func (t *huntsTable) PartitionRows(*sql.Context, sql.Partition) (sql.RowIter, error) {
	rows := make([]sql.Row, 0, len(t.hunts))
	for _, h := range t.hunts {
		rows = append(rows, sql.Row{
			h.ID, h.Title, h.Severity, nullIfEmpty(strings.Join(h.Techniques, ", ")),
			h.Description, h.Triage, nullIfEmpty(h.FalsePositives), h.SQL,
		})
	}
	return sql.RowsToRowIter(rows...), nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// huntViews returns one view definition per hunt, keyed by lower-case name.
func huntViews(hunts []queries.Hunt) (map[string]sql.ViewDefinition, error) {
	views := make(map[string]sql.ViewDefinition, len(hunts))
	for _, h := range hunts {
		name := HuntView(h.ID)
		if _, dup := views[name]; dup {
			return nil, fmt.Errorf("two hunts have the id %q: give each hunt file a distinct name", h.ID)
		}
		views[name] = sql.ViewDefinition{
			Name:                name,
			TextDefinition:      h.SQL,
			CreateViewStatement: fmt.Sprintf("CREATE VIEW `%s` AS %s", name, h.SQL),
			SqlMode:             sql.DefaultSqlMode,
		}
	}
	return views, nil
}
