package engine

import (
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
)

// serverSession is the session of one client connection. It bounds the
// session state that a client can grow with statement after statement:
// go-mysql-server v0.20.0 keeps every user variable and every warning of a
// statement without a limit.
type serverSession struct {
	*sql.BaseSession
	maxVariableBytes int64

	mu            sync.Mutex
	variableBytes map[string]int64 // size of each user variable's value
	totalBytes    int64
}

var _ sql.Session = (*serverSession)(nil)

// Limits on a session's warnings. MySQL keeps max_error_count warnings
// (1024 by default) and counts the rest.
const (
	maxWarnings       = 1024
	maxWarningMessage = 1024 // bytes
)

func newServerSession(base *sql.BaseSession, maxVariableBytes int64) *serverSession {
	return &serverSession{BaseSession: base, maxVariableBytes: maxVariableBytes, variableBytes: map[string]int64{}}
}

// SetUserVariable implements sql.Session. It fails when the session's user
// variables would hold more than maxVariableBytes in all, or a JSON
// document nested deeper than maxJSONDepth.
func (s *serverSession) SetUserVariable(ctx *sql.Context, name string, value any, typ sql.Type) error {
	var size int64
	if doc, ok := value.(sql.JSONWrapper); ok {
		// A document that grows one level per statement could otherwise
		// nest deep enough to overflow the stack of whatever prints it.
		stats, err := measureJSON(doc, s.maxVariableBytes)
		if err != nil {
			return err
		}
		if err := checkJSONDepth("the value of @"+name, stats); err != nil {
			return err
		}
		size = stats.bytes
	} else {
		size = valueSize(value)
	}
	key := strings.ToLower(name)
	s.mu.Lock()
	total := s.totalBytes - s.variableBytes[key] + size
	if total > s.maxVariableBytes {
		s.mu.Unlock()
		return mysql.NewSQLError(erValueTooLarge, mysql.SSUnknownSQLState,
			"user variables of this session would hold %d bytes, more than the limit of %d bytes (%s): set unused ones to NULL",
			total, s.maxVariableBytes, formatMiB(s.maxVariableBytes))
	}
	s.totalBytes = total
	s.variableBytes[key] = size
	s.mu.Unlock()
	return s.BaseSession.SetUserVariable(ctx, name, value, typ)
}

// Warn implements sql.Session. It keeps the first maxWarnings warnings of a
// statement, each cut to maxWarningMessage bytes, because a conversion
// warning quotes the value, which may be as large as the value limit.
func (s *serverSession) Warn(warning *sql.Warning) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.BaseSession.WarningCount() >= maxWarnings {
		return
	}
	if len(warning.Message) > maxWarningMessage {
		cut := *warning
		cut.Message = cut.Message[:maxWarningMessage] + "..."
		warning = &cut
	}
	s.BaseSession.Warn(warning)
}
