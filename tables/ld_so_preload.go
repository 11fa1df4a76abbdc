package tables

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/dolthub/go-mysql-server/sql/types"
)

// ld_so_preload has one row per library that the host's /etc/ld.so.preload
// makes the dynamic loader load into every dynamically linked program. The
// file is normally absent, and userland rootkits write to it because it
// reaches every process at once.
func init() {
	register(&rowTable[preloadEntry]{
		name:    "ld_so_preload",
		comment: "one row per library listed in the host's /etc/ld.so.preload",
		notNull: []string{"line", "path"},
		columns: []column[preloadEntry]{
			{Column{"line", types.Int32, "line number in /etc/ld.so.preload"}, func(e preloadEntry) any { return int32(e.line) }},
			{Column{"path", types.LongText, "library path as written; the loader splits the file on spaces, tabs and newlines"}, func(e preloadEntry) any { return e.path }},
		},
		items: func(r *Reader, f Filter, emit func(preloadEntry) error) error {
			data, err := r.Src.HostFile("etc/ld.so.preload")
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				r.recordFailure("etc/ld.so.preload", err)
				return nil
			}
			for i, line := range strings.Split(string(data), "\n") {
				if comment := strings.IndexByte(line, '#'); comment >= 0 {
					line = line[:comment]
				}
				for _, path := range strings.Fields(line) {
					if err := emit(preloadEntry{line: i + 1, path: path}); err != nil {
						return err
					}
				}
			}
			return nil
		},
	})
}

type preloadEntry struct {
	line int
	path string
}
