// Package engine serves procsql's tables through go-mysql-server: the
// database and its provider, the table adapter with projection and index
// pushdown, query execution with one consistent read per query, and the
// MySQL-protocol server.
package engine

import (
	"sort"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/procsql/procsql/queries"
	"github.com/procsql/procsql/tables"
)

// DatabaseName is the one database procsql serves.
const DatabaseName = "procsql"

// database exposes every registered table, the hunts table and one view per
// hunt. Its write methods fail, so statements that create or change tables,
// views or routines fail even where the read-only check does not reach.
type database struct {
	tables map[string]sql.Table
	names  []string
	views  map[string]sql.ViewDefinition
}

var (
	_ sql.Database                = (*database)(nil)
	_ sql.ViewDatabase            = (*database)(nil)
	_ sql.TriggerDatabase         = (*database)(nil)
	_ sql.StoredProcedureDatabase = (*database)(nil)
	_ sql.EventDatabase           = (*database)(nil)
)

func newDatabase(sources []*hostSource, hunts []queries.Hunt) (*database, error) {
	views, err := huntViews(hunts)
	if err != nil {
		return nil, err
	}
	db := &database{tables: map[string]sql.Table{}, views: views}
	for _, t := range tables.All() {
		db.tables[t.Name()] = newTable(t, sources)
		db.names = append(db.names, t.Name())
	}
	db.tables[HuntsTable] = &huntsTable{hunts: hunts}
	db.names = append(db.names, HuntsTable)
	sort.Strings(db.names)
	return db, nil
}

func (db *database) Name() string { return DatabaseName }

// GetTableInsensitive implements sql.Database.
func (db *database) GetTableInsensitive(_ *sql.Context, name string) (sql.Table, bool, error) {
	t, ok := db.tables[strings.ToLower(name)]
	return t, ok, nil
}

// GetTableNames implements sql.Database.
func (db *database) GetTableNames(*sql.Context) ([]string, error) {
	return append([]string(nil), db.names...), nil
}

// GetViewDefinition implements sql.ViewDatabase.
func (db *database) GetViewDefinition(_ *sql.Context, name string) (sql.ViewDefinition, bool, error) {
	v, ok := db.views[strings.ToLower(name)]
	return v, ok, nil
}

// AllViews implements sql.ViewDatabase, in name order.
func (db *database) AllViews(*sql.Context) ([]sql.ViewDefinition, error) {
	out := make([]sql.ViewDefinition, 0, len(db.views))
	for _, v := range db.views {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (db *database) CreateView(*sql.Context, string, string, string) error {
	return sql.ErrReadOnly.New()
}
func (db *database) DropView(*sql.Context, string) error { return sql.ErrReadOnly.New() }

// The database has no triggers, stored procedures or events. go-mysql-server
// reads them for information_schema and when privileges are on, so the
// readers return empty lists and the writers fail.

func (db *database) GetTriggers(*sql.Context) ([]sql.TriggerDefinition, error) { return nil, nil }
func (db *database) CreateTrigger(*sql.Context, sql.TriggerDefinition) error {
	return sql.ErrReadOnly.New()
}
func (db *database) DropTrigger(*sql.Context, string) error { return sql.ErrReadOnly.New() }

func (db *database) GetStoredProcedure(*sql.Context, string) (sql.StoredProcedureDetails, bool, error) {
	return sql.StoredProcedureDetails{}, false, nil
}
func (db *database) GetStoredProcedures(*sql.Context) ([]sql.StoredProcedureDetails, error) {
	return nil, nil
}
func (db *database) SaveStoredProcedure(*sql.Context, sql.StoredProcedureDetails) error {
	return sql.ErrReadOnly.New()
}
func (db *database) DropStoredProcedure(*sql.Context, string) error { return sql.ErrReadOnly.New() }

func (db *database) GetEvent(*sql.Context, string) (sql.EventDefinition, bool, error) {
	return sql.EventDefinition{}, false, nil
}
func (db *database) GetEvents(*sql.Context) ([]sql.EventDefinition, interface{}, error) {
	return nil, nil, nil
}
func (db *database) SaveEvent(*sql.Context, sql.EventDefinition) (bool, error) {
	return false, sql.ErrReadOnly.New()
}
func (db *database) DropEvent(*sql.Context, string) error { return sql.ErrReadOnly.New() }
func (db *database) UpdateEvent(*sql.Context, string, sql.EventDefinition) (bool, error) {
	return false, sql.ErrReadOnly.New()
}
func (db *database) UpdateLastExecuted(*sql.Context, string, time.Time) error {
	return sql.ErrReadOnly.New()
}
func (db *database) NeedsToReloadEvents(*sql.Context, interface{}) (bool, error) { return false, nil }

// provider implements sql.DatabaseProvider for the single procsql database.
type provider struct {
	db *database
}

var _ sql.DatabaseProvider = (*provider)(nil)

func (p *provider) Database(_ *sql.Context, name string) (sql.Database, error) {
	if strings.EqualFold(name, DatabaseName) {
		return p.db, nil
	}
	return nil, sql.ErrDatabaseNotFound.New(name)
}

func (p *provider) HasDatabase(_ *sql.Context, name string) bool {
	return strings.EqualFold(name, DatabaseName)
}

func (p *provider) AllDatabases(*sql.Context) []sql.Database {
	return []sql.Database{p.db}
}
