package tables

import (
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/procsql/procsql/procfile"
)

// environ has one row per environment variable, from /proc/<pid>/environ.
// The file holds the environment the process started with; changes made with
// setenv after exec are not visible there.
func init() {
	register(&rowTable[envItem]{
		name:    "environ",
		comment: "one row per environment variable a process started with",
		keys:    []string{"pid"},
		notNull: []string{"pid", "name"},
		columns: []column[envItem]{
			{Column{"pid", types.Int32, "process id"}, func(it envItem) any { return int32(it.pid) }},
			{Column{"name", types.LongText, "variable name"}, func(it envItem) any { return it.v.Name }},
			{Column{"value", types.LongText, "variable value; a byte that is not valid UTF-8 appears as \\xNN"}, func(it envItem) any { return it.v.Value }},
			{Column{"value_raw", types.LongBlob, "variable value with its exact bytes"}, func(it envItem) any { return []byte(it.v.Value) }},
		},
		process: func(r *Reader, pid int, emit func(envItem) error) error {
			vars, _ := newProcess(r, pid).Environ()
			for _, v := range vars {
				if err := emit(envItem{pid, v}); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

type envItem struct {
	pid int
	v   procfile.EnvVar
}
