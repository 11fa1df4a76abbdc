package engine

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
)

// estimatedRows are the row counts the planner assumes for each table, in
// the proportions of a typical server (500 processes, about 20 descriptors
// and 100 mappings each). They only rank join plans, so they need not be
// exact. go-mysql-server v0.20.0 otherwise assumes a table of one row,
// which makes a hash join, with a full scan of both sides, look cheaper than
// reading the few rows of each pid or socket inode through the key index.
var estimatedRows = map[string]uint64{
	"processes":       500,
	"threads":         2000,
	"fds":             10000,
	"environ":         10000,
	"maps":            50000,
	"modules":         200,
	"sys_modules":     200,
	"sockets":         2000,
	"process_sockets": 2000,
	"pid_probe":       500,
	"ld_so_preload":   1,
	"system":          1,
	"meminfo":         50,
	HuntsTable:        40,
}

// defaultEstimatedRows is assumed for a table missing from estimatedRows.
const defaultEstimatedRows = 1000

// statsProvider gives the planner estimatedRows for each loaded source.
// procsql keeps no statistics: ANALYZE TABLE and histogram requests find
// none.
type statsProvider struct {
	sources int // loaded sources, whose rows every table except hunts holds
}

var _ sql.StatsProvider = statsProvider{}

func (p statsProvider) RowCount(_ *sql.Context, _ string, table sql.Table) (uint64, error) {
	name := strings.ToLower(table.Name())
	if name == HuntsTable {
		return estimatedRows[name], nil
	}
	n, ok := estimatedRows[name]
	if !ok {
		n = defaultEstimatedRows
	}
	return n * uint64(max(p.sources, 1)), nil
}

func (statsProvider) DataLength(_ *sql.Context, _ string, table sql.Table) (uint64, error) {
	return 0, nil
}

func (statsProvider) GetTableStats(*sql.Context, string, sql.Table) ([]sql.Statistic, error) {
	return nil, nil
}

func (statsProvider) AnalyzeTable(*sql.Context, sql.Table, string) error { return nil }

func (statsProvider) SetStats(*sql.Context, sql.Statistic) error { return sql.ErrReadOnly.New() }

func (statsProvider) GetStats(*sql.Context, sql.StatQualifier, []string) (sql.Statistic, bool) {
	return nil, false
}

func (statsProvider) DropStats(*sql.Context, sql.StatQualifier, []string) error {
	return sql.ErrReadOnly.New()
}

func (statsProvider) DropDbStats(*sql.Context, string, bool) error { return sql.ErrReadOnly.New() }
