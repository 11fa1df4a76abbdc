package tables

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql/types"
)

// sys_modules has one row per directory under /sys/module. The kernel lists
// loadable modules there as well as built-in code with parameters, and a
// rootkit that unlinks itself from /proc/modules often remains here, so a
// row with a refcount but no match in modules deserves a look.
func init() {
	register(&rowTable[sysModule]{
		name:    "sys_modules",
		comment: "one row per entry of /sys/module: loaded modules and built-in code with parameters",
		columns: []column[sysModule]{
			{Column{"name", types.LongText, "module name"}, func(m sysModule) any { return m.name }},
			{Column{"refcount", types.Int64, "reference count (refcnt); NULL for built-in code, which has no refcnt file"}, func(m sysModule) any {
				return m.attr("refcnt", true)
			}},
			{Column{"state", types.LongText, "initstate: live, coming or going; NULL for built-in code"}, func(m sysModule) any {
				return m.attr("initstate", false)
			}},
			{Column{"taint", types.LongText, "taint letters (taint file); empty when untainted"}, func(m sysModule) any {
				return m.attr("taint", false)
			}},
			{Column{"core_size", types.Int64, "size of the module's core section in bytes (coresize); NULL for built-in code"}, func(m sysModule) any {
				return m.attr("coresize", true)
			}},
		},
		items: func(r *Reader, f Filter, emit func(sysModule) error) error {
			names, err := r.Src.HostDir("sys/module")
			if errors.Is(err, fs.ErrNotExist) {
				r.Note("sys_modules is empty: /sys/module is not available to this source")
				return nil
			}
			if err != nil {
				r.recordFailure("sys/module", err)
				return nil
			}
			for _, name := range names {
				if err := emit(sysModule{r: r, name: name}); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

type sysModule struct {
	r    *Reader
	name string
}

// attr reads /sys/module/<name>/<file>, as an integer when numeric is set.
func (m sysModule) attr(file string, numeric bool) any {
	path := "sys/module/" + m.name + "/" + file
	data, err := m.r.Src.HostFile(path)
	if err != nil {
		m.r.recordFailure(path, err)
		return nil
	}
	text := strings.TrimSpace(string(data))
	if !numeric {
		return text
	}
	n, err := strconv.ParseInt(text, 10, 64)
	return orNull(n, err == nil)
}
