package tables

import (
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/procsql/procsql/procfile"
)

// meminfo has one row per line of /proc/meminfo.
func init() {
	register(&rowTable[procfile.MeminfoEntry]{
		name:    "meminfo",
		comment: "one row per line of /proc/meminfo",
		columns: []column[procfile.MeminfoEntry]{
			{Column{"name", types.LongText, "field name, such as MemTotal"}, func(e procfile.MeminfoEntry) any { return e.Name }},
			{Column{"value_bytes", types.Uint64, "value in bytes for fields printed in kB; NULL for counts"}, func(e procfile.MeminfoEntry) any {
				return orNull(e.Value, e.Unit == "bytes")
			}},
			{Column{"value", types.Uint64, "value as printed: kB for sizes, a count for the HugePages_ fields"}, func(e procfile.MeminfoEntry) any {
				if e.Unit == "bytes" {
					return e.Value / 1024
				}
				return e.Value
			}},
		},
		items: func(r *Reader, f Filter, emit func(procfile.MeminfoEntry) error) error {
			data, ok := r.readFile("meminfo")
			if !ok {
				return nil
			}
			entries, err := procfile.ParseMeminfo(data)
			if err != nil {
				r.recordFailure("meminfo", err)
			}
			for _, e := range entries {
				if err := emit(e); err != nil {
					return err
				}
			}
			return nil
		},
	})
}
