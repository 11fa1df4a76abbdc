package tables

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/procsql/procsql/procfile"
)

// maps has one row per memory mapping, from /proc/<pid>/maps. The
// rss_bytes, pss_bytes and swap_bytes columns read /proc/<pid>/smaps, which is
// slower for the kernel to produce, only when a query uses them.
func init() {
	register(&rowTable[mapItem]{
		name:    "maps",
		comment: "one row per memory mapping of a process",
		keys:    []string{"pid"},
		notNull: []string{"pid", "start", "end"},
		columns: mapColumns,
		process: readMappings,
	})
}

// mapItem is one mapping of a process. It is passed by value, so a scan
// allocates nothing per mapping beyond the row itself.
type mapItem struct {
	proc *mappedProcess
	m    *procfile.Mapping
}

// mappedProcess carries the smaps of one process, read once for all its rows.
type mappedProcess struct {
	*Process
	smaps lazy[map[uint64]procfile.SmapsEntry]
}

func (mp *mappedProcess) smapsEntry(m *procfile.Mapping) (procfile.SmapsEntry, bool) {
	entries, ok := mp.smaps.get(func() (map[uint64]procfile.SmapsEntry, bool) {
		data, ok := mp.r.readFile(mp.name("smaps"))
		if !ok {
			return nil, false
		}
		list, err := procfile.ParseSmaps(data)
		if err != nil {
			mp.r.recordFailure(mp.name("smaps"), err)
			return nil, false
		}
		byStart := make(map[uint64]procfile.SmapsEntry, len(list))
		for _, e := range list {
			byStart[e.Start] = e
		}
		return byStart, true
	})
	if !ok {
		return procfile.SmapsEntry{}, false
	}
	// A mapping that changed between the maps and smaps reads gets NULL
	// rather than another mapping's figures: the start address alone would
	// match one that was resized in place.
	e, found := entries[m.Start]
	if !found || e.End != m.End || e.Offset != m.Offset || e.Inode != m.Inode || e.Perms != m.Perms {
		return procfile.SmapsEntry{}, false
	}
	return e, true
}

func smapsBytes(key string) func(mapItem) any {
	return func(it mapItem) any {
		e, ok := it.proc.smapsEntry(it.m)
		if !ok {
			return nil
		}
		v, ok := e.Fields[key]
		return orNull(v, ok)
	}
}

var mapColumns = []column[mapItem]{
	{Column{"pid", types.Int32, "process id"}, func(it mapItem) any { return int32(it.proc.PID) }},
	{Column{"start", types.Uint64, "start address"}, func(it mapItem) any { return it.m.Start }},
	{Column{"end", types.Uint64, "end address, exclusive"}, func(it mapItem) any { return it.m.End }},
	{Column{"perms", types.LongText, "permissions: r, w, x and p (private) or s (shared)"}, func(it mapItem) any { return it.m.Perms }},
	{Column{"offset", types.Uint64, "offset into the file in bytes"}, func(it mapItem) any { return it.m.Offset }},
	{Column{"device", types.LongText, "device of the file as major:minor in hex"}, func(it mapItem) any { return it.m.Device }},
	{Column{"inode", types.Uint64, "inode of the file, 0 for anonymous mappings"}, func(it mapItem) any { return it.m.Inode }},
	{Column{"path", types.LongText, "file path or pseudo name without \" (deleted)\"; NULL for anonymous mappings"}, func(it mapItem) any {
		path, _ := procfile.SplitDeleted(it.m.Path)
		return orNull(unescapeMapsPath(path), path != "")
	}},
	{Column{"deleted", types.Boolean, "1 when the path ends in \" (deleted)\""}, func(it mapItem) any {
		_, deleted := procfile.SplitDeleted(it.m.Path)
		return boolValue(deleted)
	}},
	{Column{"kind", types.LongText, "file, anonymous, pseudo, anon_named or memfd"}, func(it mapItem) any { return procfile.MapPathKind(it.m.Path) }},
	{Column{"pseudo", types.LongText, "the bracketed name of a kernel pseudo mapping such as [heap], [stack] or [vdso]; NULL otherwise"}, func(it mapItem) any {
		return orNull(it.m.Path, procfile.MapPathKind(it.m.Path) == "pseudo")
	}},
	{Column{"size_bytes", types.Uint64, "end - start"}, func(it mapItem) any { return it.m.End - it.m.Start }},
	{Column{"rss_bytes", types.Uint64, "resident bytes (smaps Rss)"}, smapsBytes("Rss")},
	{Column{"pss_bytes", types.Uint64, "proportional set size in bytes (smaps Pss)"}, smapsBytes("Pss")},
	{Column{"swap_bytes", types.Uint64, "swapped-out bytes (smaps Swap)"}, smapsBytes("Swap")},
}

// readMappings emits the mappings of one process in address order.
func readMappings(r *Reader, pid int, emit func(mapItem) error) error {
	mp := &mappedProcess{Process: newProcess(r, pid)}
	data, ok := r.readFile(mp.name("maps"))
	if !ok {
		return nil
	}
	mappings, err := procfile.ParseMaps(data)
	if err != nil {
		r.recordFailure(mp.name("maps"), err)
	}
	for i := range mappings {
		if err := emit(mapItem{proc: mp, m: &mappings[i]}); err != nil {
			return err
		}
	}
	return nil
}

// unescapeMapsPath turns the kernel's "\012" back into the newline it
// escapes in maps paths, so maps.path equals fds.path for the same file.
//
// NOTE: the kernel does not escape backslashes, so a file whose name really
// contains the four characters \012 is shown with a newline instead.
func unescapeMapsPath(path string) string {
	return strings.ReplaceAll(path, `\012`, "\n")
}
