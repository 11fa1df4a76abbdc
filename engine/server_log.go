package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dolthub/vitess/go/mysql"
	vtlog "github.com/dolthub/vitess/go/vt/log"
)

// vitess, the protocol layer of go-mysql-server v0.20.0, logs each
// malformed packet, unknown command and failed read through its log
// package. That package writes every line to the standard library's
// logger, with the packet's bytes, a panic's stack or the text of a
// statement that does not parse. procsql sends those lines to the log of
// the running server instead, one line per call site per logInterval, and
// leaves out the arguments that may hold client data.

// vitessLogServer is the server whose log receives vitess's lines; nil
// drops them.
var vitessLogServer atomic.Pointer[Server]

var redirectVitessOnce sync.Once

// redirectVitessLog points vitess's log functions at logVitess.
func redirectVitessLog() {
	redirectVitessOnce.Do(func() {
		vtlog.Info = func(args ...any) {}
		vtlog.Infof = func(string, ...any) {}
		vtlog.Warning = func(args ...any) { logVitess("", args) }
		vtlog.Warningf = func(format string, args ...any) { logVitess(format, args) }
		vtlog.Error = func(args ...any) { logVitess("", args) }
		vtlog.Errorf = func(format string, args ...any) { logVitess(format, args) }
	})
}

// droppedVitessLines are the call sites, by function, whose lines another
// log line already covers: the connection's abort, the statement's failure
// or the rejected login.
var droppedVitessLines = []string{
	"(*Listener).handleConnectionError",
	"(*Listener).handleConnectionWarning",
}

// droppedVitessFormats start the messages that repeat a failure that the
// handler logs itself, with the statement's literals redacted.
var droppedVitessFormats = []string{
	"unable to prepare query",
	"ComInitDB failed",
	"failed to set the database",
	"Error authenticating user",
}

// maxVitessDetail bounds one argument of a vitess line, in bytes.
const maxVitessDetail = 200

// logVitess logs one vitess line. format is empty for vitess's
// fmt.Print-style calls.
func logVitess(format string, args []any) {
	s := vitessLogServer.Load()
	if s == nil {
		return
	}

	// runtime.Caller(2) is the vitess function that called the log
	// function above.
	pc, file, line, _ := runtime.Caller(2)
	caller := ""
	if f := runtime.FuncForPC(pc); f != nil {
		caller = f.Name()
	}
	if vitessLineCovered(s, caller, format, args) {
		return
	}

	s.events.Log(slog.LevelWarn, fmt.Sprintf("protocol error at %s:%d", file, line), "protocol error",
		"detail", formatVitessLine(format, args), "source", caller)
}

// vitessLineCovered reports whether another line of the log covers the
// vitess line that caller logs.
func vitessLineCovered(s *Server, caller, format string, args []any) bool {
	for _, dropped := range droppedVitessLines {
		if strings.HasSuffix(caller, dropped) {
			return true
		}
	}
	for _, dropped := range droppedVitessFormats {
		if strings.HasPrefix(format, dropped) {
			return true
		}
	}
	for _, arg := range args {
		err, ok := arg.(error)
		if !ok {
			continue
		}
		// The guard logged the rejected packet or the idle timeout
		// already, and a read that fails at its deadline during a
		// shutdown is how Shutdown ends idle connections.
		if causedBy(err, errPacketRejected) || causedBy(err, errIdleTimeout) || (causedBy(err, os.ErrDeadlineExceeded) && s.isClosing()) {
			return true
		}
	}
	return false
}

// causedBy reports whether err or an error it wraps is target. It follows
// the Cause method of vitess's wrapped errors as well as Unwrap.
func causedBy(err, target error) bool {
	for err != nil {
		if errors.Is(err, target) {
			return true
		}
		wrapper, ok := err.(interface{ Cause() error })
		if !ok {
			return false
		}
		err = wrapper.Cause()
	}
	return false
}

// formatVitessLine formats a vitess line on one line, with its arguments
// made safe by safeVitessArg.
func formatVitessLine(format string, args []any) string {
	safe := make([]any, len(args))
	for i, arg := range args {
		safe[i] = safeVitessArg(arg)
	}
	var text string
	if format == "" {
		text = fmt.Sprint(safe...)
	} else {
		text = fmt.Sprintf(format, safe...)
	}
	return oneLine(errors.New(text)).Error()
}

// safeVitessArg returns arg as it may appear in the log. Strings and errors
// may quote a statement, so they are cut before the parser's "near" or a
// "statement: ", and to maxVitessDetail bytes. Byte slices, such as a packet's contents, become
// their length.
func safeVitessArg(arg any) any {
	switch v := arg.(type) {
	case *mysql.Conn:
		return fmt.Sprintf("connection %d (%s)", v.ConnectionID, remoteAddr(v))
	case []byte:
		return fmt.Sprintf("<%d bytes>", len(v))
	case error:
		return cutDetail(v.Error())
	case string:
		return cutDetail(v)
	case fmt.Stringer:
		return cutDetail(v.String())
	}
	return arg
}

// detailCuts start the parts of vitess's messages that quote a statement:
// a parser error's context, and the text of a prepared statement.
var detailCuts = []string{" near ", "statement: "}

func cutDetail(text string) string {
	for _, cut := range detailCuts {
		if i := strings.Index(text, cut); i >= 0 {
			text = text[:i]
		}
	}
	if len(text) > maxVitessDetail {
		text = text[:maxVitessDetail] + "..."
	}
	return text
}
