package export_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/procsql/procsql/export"
	"github.com/procsql/procsql/export/internal/exporttest"
	"github.com/procsql/procsql/queries"
)

// timesketchDatetime is ISO 8601 with a zone, as Timesketch's import reads
// the datetime field.
var timesketchDatetime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$`)

// timelineEvent is one decoded line of a timeline, with its keys in order.
type timelineEvent struct {
	keys   []string
	fields map[string]any
}

func readTimeline(t *testing.T, path string) []timelineEvent {
	t.Helper()
	keys, values := readJSONL(t, path)
	events := make([]timelineEvent, len(values))
	for i := range values {
		events[i] = timelineEvent{keys: keys[i], fields: values[i]}
	}
	return events
}

// checkEventFields checks the fields that Timesketch requires and the
// ones the export adds to every event.
func checkEventFields(t *testing.T, n int, e timelineEvent, host string) time.Time {
	t.Helper()
	if len(e.keys) < 5 || strings.Join(e.keys[:5], ",") != "message,datetime,timestamp,timestamp_desc,data_type" {
		t.Errorf("event %d starts with keys %v, want message, datetime, timestamp, timestamp_desc, data_type", n, e.keys)
	}
	message, _ := e.fields["message"].(string)
	if message == "" {
		t.Errorf("event %d has message %v, want text", n, e.fields["message"])
	}
	datetime, _ := e.fields["datetime"].(string)
	if !timesketchDatetime.MatchString(datetime) {
		t.Errorf("event %d datetime %q is not ISO 8601 with microseconds and zone", n, datetime)
	}
	at, err := time.Parse(time.RFC3339Nano, datetime)
	if err != nil {
		t.Errorf("event %d datetime %q: %v", n, datetime, err)
	}
	if stamp, _ := e.fields["timestamp"].(json.Number); stamp.String() != fmt.Sprint(at.UnixMicro()) {
		t.Errorf("event %d timestamp %v, want %d, the datetime in microseconds", n, e.fields["timestamp"], at.UnixMicro())
	}
	if e.fields["host"] != host {
		t.Errorf("event %d host %v, want %s", n, e.fields["host"], host)
	}
	if _, ok := e.fields["captured_at"].(string); !ok {
		t.Errorf("event %d captured_at %v, want a time", n, e.fields["captured_at"])
	}
	return at
}

func TestTimelineOfHuntTrees(t *testing.T) {
	hunts, err := queries.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	trees, err := filepath.Glob("../testdata/hunts/*/positive")
	if err != nil {
		t.Fatal(err)
	}
	trees = append(trees, hostTree)
	totalHits := 0
	for _, tree := range trees {
		t.Run(tree, func(t *testing.T) {
			eng, ctx := exporttest.OpenTree(t, tree)
			dir := t.TempDir()
			report := exporttest.Export(t, eng, ctx, export.Options{Format: export.Timesketch, Dir: dir, Host: "fixture-host", Hunts: hunts})
			if len(report.Files) != 1 || report.Files[0].Path != filepath.Join(dir, "timeline.jsonl") {
				t.Fatalf("report files %+v, want only timeline.jsonl", report.Files)
			}
			events := readTimeline(t, report.Files[0].Path)
			if report.Files[0].Rows != int64(len(events)) {
				t.Errorf("report counts %d events, the file has %d", report.Files[0].Rows, len(events))
			}
			st := exporttest.SystemStamp(t, eng, ctx, "fixture-host")

			starts := map[string]time.Time{}
			hits := map[string][]timelineEvent{}
			for n, e := range events {
				at := checkEventFields(t, n, e, "fixture-host")
				switch e.fields["timestamp_desc"] {
				case "Process start":
					if e.fields["data_type"] != "procsql:process:start" {
						t.Errorf("event %d: data_type %v", n, e.fields["data_type"])
					}
					starts[fmt.Sprint(e.fields["pid"])] = at
				case "Hunt hit":
					if e.fields["data_type"] != "procsql:hunt:hit" {
						t.Errorf("event %d: data_type %v", n, e.fields["data_type"])
					}
					if !at.Equal(st.CapturedAt) {
						t.Errorf("hunt hit %d at %v, want the capture time %v", n, at, st.CapturedAt)
					}
					id := fmt.Sprint(e.fields["hunt"])
					hits[id] = append(hits[id], e)
				default:
					t.Errorf("event %d: timestamp_desc %v", n, e.fields["timestamp_desc"])
				}
			}

			processes := exporttest.Query(t, eng, ctx, "SELECT pid, start_time FROM processes WHERE start_time IS NOT NULL")
			if len(starts) != len(processes.Rows) {
				t.Errorf("%d process start events, want one for each of %d processes with a start time", len(starts), len(processes.Rows))
			}
			for _, row := range processes.Rows {
				if at, ok := starts[fmt.Sprint(row[0])]; !ok || !at.Equal(row[1].(time.Time)) {
					t.Errorf("start event of pid %v at %v (found %v), want %v", row[0], at, ok, row[1])
				}
			}

			for _, h := range hunts {
				res := exporttest.Query(t, eng, ctx, h.SQL)
				if len(hits[h.ID]) != len(res.Rows) {
					t.Errorf("hunt %s: %d hit events, want %d", h.ID, len(hits[h.ID]), len(res.Rows))
					continue
				}
				totalHits += len(res.Rows)
				for i, e := range hits[h.ID] {
					message := e.fields["message"].(string)
					if !strings.HasPrefix(message, "Hunt hit "+h.ID+" ["+h.Severity+"] "+h.Title+": ") {
						t.Errorf("hunt %s hit %d: message %q does not name the hunt", h.ID, i, message)
					}
					if pid := columnOf(res.Columns, res.Rows[i], "pid"); pid != nil && !strings.Contains(message, fmt.Sprintf("pid %v", pid)) {
						t.Errorf("hunt %s hit %d: message %q does not name pid %v", h.ID, i, message, pid)
					}
					if e.fields["hunt_severity"] != h.Severity || e.fields["hunt_title"] != h.Title {
						t.Errorf("hunt %s hit %d: severity %v, title %v", h.ID, i, e.fields["hunt_severity"], e.fields["hunt_title"])
					}
				}
			}
		})
	}
	if totalHits < len(trees)-2 {
		t.Errorf("the positive trees gave %d hits in all, want about one per tree at least", totalHits)
	}
}

func columnOf(columns []string, row []any, name string) any {
	for i, c := range columns {
		if c == name {
			return row[i]
		}
	}
	return nil
}
