package engine

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/procsql/procsql/source"
)

// The columns that the engine appends to every table read from a source,
// after the table's own columns, so that rows of several hosts can be
// distinguished and joined per host.
const (
	// HostColumn holds the label of the row's source: its host name, made
	// unique among the loaded sources by labelSources.
	HostColumn = "host"
	// CapturedAtColumn holds when the row's source was read: the capture
	// start of a snapshot, the statement's start for the live /proc.
	CapturedAtColumn = "captured_at"
)

// hostSource is one loaded source and the values of the host and
// captured_at columns of its rows.
type hostSource struct {
	src  source.Source
	host string
	// live is set for a procfs mount, which each statement reads afresh,
	// so its captured_at is the statement's start rather than capturedAt.
	live       bool
	capturedAt time.Time // UTC, truncated to microseconds like DATETIME(6)
}

// capturedAtFor returns the captured_at value of s's rows in a statement
// that started at start.
func (s *hostSource) capturedAtFor(start time.Time) time.Time {
	if s.live {
		return start
	}
	return s.capturedAt
}

// newHostSources describes each source and gives it a label that no other
// source in srcs has. opened is the time the sources were loaded, used as
// captured_at of a source that reports no read time.
func newHostSources(srcs []source.Source, opened time.Time) ([]*hostSource, error) {
	if len(srcs) == 0 {
		return nil, fmt.Errorf("no source to query: give at least one /proc directory, tree or snapshot")
	}
	out := make([]*hostSource, len(srcs))
	for i, src := range srcs {
		if src == nil {
			return nil, fmt.Errorf("source %d of %d is nil", i+1, len(srcs))
		}
		desc := src.Describe()
		read := desc.ReadTime
		if read.IsZero() {
			// NOTE: a source without a read time gets the load time, so
			// captured_at stays NOT NULL; system.read_time shows the gap.
			read = opened
		}
		out[i] = &hostSource{
			src:        src,
			host:       hostname(src),
			live:       desc.Kind == "live",
			capturedAt: read.UTC().Truncate(time.Microsecond),
		}
	}
	labelSources(out)
	return out, nil
}

// hostname returns the host name that the system table reports for src,
// from sys/kernel/hostname, or the source's location when the source has
// no host name, so that every row still names where it came from.
func hostname(src source.Source) string {
	if data, err := src.ReadFile("sys/kernel/hostname"); err == nil {
		if name := strings.TrimSpace(string(data)); name != "" {
			return name
		}
	}
	if loc := src.Describe().Location; loc != "" {
		return loc
	}
	return "unknown"
}

// labelTimeLayout formats captured_at in a label: RFC 3339 in UTC, to the
// second.
const labelTimeLayout = "2006-01-02T15:04:05Z"

// labelSources makes the host labels unique. Sources that share a host name
// are labelled host@captured_at, such as web1@2026-12-04T19:29:22Z, and
// those that still share a label, such as two copies of one snapshot, get
// #1, #2 and so on appended in load order.
func labelSources(sources []*hostSource) {
	for _, group := range sameLabel(sources) {
		for _, s := range group {
			s.host = s.host + "@" + s.capturedAt.Format(labelTimeLayout)
		}
	}
	for _, group := range sameLabel(sources) {
		for n, s := range group {
			s.host = fmt.Sprintf("%s#%d", s.host, n+1)
		}
	}
}

// sameLabel returns the groups of two or more sources that share a label,
// each in load order.
func sameLabel(sources []*hostSource) [][]*hostSource {
	byLabel := map[string][]*hostSource{}
	var labels []string
	for _, s := range sources {
		if byLabel[s.host] == nil {
			labels = append(labels, s.host)
		}
		byLabel[s.host] = append(byLabel[s.host], s)
	}
	sort.Strings(labels)
	var groups [][]*hostSource
	for _, label := range labels {
		if len(byLabel[label]) > 1 {
			groups = append(groups, byLabel[label])
		}
	}
	return groups
}
