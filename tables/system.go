package tables

import (
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql/types"
)

// system has one row that describes the host and the source of the rows.
func init() {
	register(&rowTable[*Reader]{
		name:    "system",
		comment: "one row: the host, and where and when the rows were read",
		columns: []column[*Reader]{
			{Column{"hostname", types.LongText, "host name (sys/kernel/hostname)"}, kernelText("sys/kernel/hostname")},
			{Column{"kernel_release", types.LongText, "kernel release, as uname -r (sys/kernel/osrelease)"}, kernelText("sys/kernel/osrelease")},
			{Column{"kernel_version", types.LongText, "kernel build version, as uname -v (sys/kernel/version)"}, kernelText("sys/kernel/version")},
			{Column{"architecture", types.LongText, "machine, as uname -m; NULL for a copied tree"}, func(r *Reader) any {
				arch := r.Src.Describe().Architecture
				return orNull(arch, arch != "")
			}},
			{Column{"boot_time", types.DatetimeMaxPrecision, "boot time in UTC (btime in /proc/stat)"}, func(r *Reader) any { return orNull(r.BootTime()) }},
			{Column{"pid_max", types.Int64, "largest pid plus one (sys/kernel/pid_max)"}, func(r *Reader) any {
				text, ok := r.kernelValue("sys/kernel/pid_max")
				if !ok {
					return nil
				}
				n, err := parseInt(text)
				return orNull(n, err == nil)
			}},
			{Column{"source", types.LongText, "live, tree, snapshot, or the collector format of an imported collection: uac or catscale"}, func(r *Reader) any { return r.Src.Describe().Kind }},
			{Column{"location", types.LongText, "the procfs root, snapshot file or collection read"}, func(r *Reader) any { return r.Src.Describe().Location }},
			{Column{"read_time", types.DatetimeMaxPrecision, "when the source was opened, in UTC; the capture start for a snapshot or collection, NULL when a collection does not record it"}, func(r *Reader) any {
				at := r.Src.Describe().ReadTime
				return orNull(at.UTC().Truncate(time.Microsecond), !at.IsZero())
			}},
			{Column{"capture_end", types.DatetimeMaxPrecision, "when a snapshot's or collection's capture finished, in UTC; NULL for live sources"}, func(r *Reader) any {
				end := r.Src.Describe().CaptureEnd
				return orNull(end.UTC().Truncate(time.Microsecond), !end.IsZero())
			}},
			{Column{"collector", types.LongText, "program and version that captured a snapshot or collection, such as UAC 3.3.0; NULL for live sources"}, func(r *Reader) any {
				c := r.Src.Describe().Collector
				return orNull(c, c != "")
			}},
			{Column{"lossy", types.JSON, "what the collector changed or dropped, naming the columns affected, as a JSON array of sentences; empty for procsql's own sources"}, func(r *Reader) any {
				return jsonArray(r.Src.Describe().Lossy)
			}},
			{Column{"problems", types.JSON, "integrity problems found when the collection was opened, such as files that do not match the collector's hash list, as a JSON array; empty when none"}, func(r *Reader) any {
				return jsonArray(r.Src.Describe().Problems)
			}},
		},
		items: func(r *Reader, f Filter, emit func(*Reader) error) error { return emit(r) },
	})
}

func kernelText(name string) func(*Reader) any {
	return func(r *Reader) any { return orNull(r.kernelValue(name)) }
}

// kernelValue reads a one-line file such as sys/kernel/hostname.
func (r *Reader) kernelValue(name string) (string, bool) {
	data, ok := r.readFile(name)
	if !ok {
		return "", false
	}
	return strings.TrimSpace(string(data)), true
}

func parseInt(text string) (int64, error) {
	return strconv.ParseInt(text, 10, 64)
}
