package tables

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/procsql/procsql/procfile"
	"github.com/procsql/procsql/source"
)

// modules has one row per loaded kernel module, from /proc/modules. A kernel
// built without module support has no such file: the table is then empty and
// the query carries a note that explains why.
func init() {
	register(&rowTable[procfile.Module]{
		name:    "modules",
		comment: "one row per loaded kernel module",
		columns: []column[procfile.Module]{
			{Column{"name", types.LongText, "module name"}, func(m procfile.Module) any { return m.Name }},
			{Column{"size", types.Uint64, "memory size in bytes"}, func(m procfile.Module) any { return m.Size }},
			{Column{"refcount", types.Int64, "reference count; NULL when the module cannot be unloaded (printed as -)"}, func(m procfile.Module) any {
				return orNull(m.RefCount, m.HasRefCount)
			}},
			{Column{"used_by", types.LongText, "modules that depend on this one, comma-separated; empty when none"}, func(m procfile.Module) any {
				return strings.Join(m.UsedBy, ",")
			}},
			{Column{"state", types.LongText, "Live, Loading or Unloading"}, func(m procfile.Module) any { return m.State }},
			{Column{"address", types.Uint64, "load address; NULL when kptr_restrict hides it (printed as zero)"}, func(m procfile.Module) any {
				return orNull(m.Address, m.HasAddress)
			}},
			{Column{"taint", types.LongText, "taint letters such as P (proprietary), O (out-of-tree), E (unsigned); empty when untainted"}, func(m procfile.Module) any {
				return m.Taint
			}},
		},
		items: func(r *Reader, f Filter, emit func(procfile.Module) error) error {
			data, err := r.Src.ReadFile("modules")
			if errors.Is(err, fs.ErrNotExist) {
				// A copied tree that lacks the file tells nothing about the
				// kernel, but ENOENT from a kernel, live or recorded, does.
				if errors.Is(err, source.ErrNotCollected) {
					r.Note("modules is empty: the source has no modules file")
				} else {
					r.Note("modules is empty: this kernel has no /proc/modules (built without loadable module support)")
				}
				return nil
			}
			if err != nil {
				r.recordFailure("modules", err)
				return nil
			}
			mods, err := procfile.ParseModules(data)
			if err != nil {
				r.recordFailure("modules", err)
			}
			for _, m := range mods {
				if err := emit(m); err != nil {
					return err
				}
			}
			return nil
		},
	})
}
