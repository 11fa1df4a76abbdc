// Package engine serves procsql's tables through go-mysql-server: the
// database and its provider, the table adapter with projection and index
// pushdown, and query execution with one consistent read per query.
package engine

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/procsql/procsql/source"
	"github.com/procsql/procsql/tables"
)

// DatabaseName is the one database procsql serves.
const DatabaseName = "procsql"

// database exposes every registered table. It has no write interfaces, so
// statements that create or change tables fail in the analyzer.
type database struct {
	tables map[string]*table
	names  []string
}

var _ sql.Database = (*database)(nil)

func newDatabase(src source.Source) *database {
	db := &database{tables: map[string]*table{}}
	for _, t := range tables.All() {
		db.tables[t.Name()] = newTable(t, src)
		db.names = append(db.names, t.Name())
	}
	return db
}

func (db *database) Name() string { return DatabaseName }

// GetTableInsensitive implements sql.Database.
func (db *database) GetTableInsensitive(_ *sql.Context, name string) (sql.Table, bool, error) {
	t, ok := db.tables[strings.ToLower(name)]
	if !ok {
		return nil, false, nil
	}
	return t, true, nil
}

// GetTableNames implements sql.Database.
func (db *database) GetTableNames(*sql.Context) ([]string, error) {
	return append([]string(nil), db.names...), nil
}

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
