package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
)

// ServerConfig sets how a Server listens, who may connect and the limits
// that every query runs under. Clients cannot change any of it.
type ServerConfig struct {
	// Listen is host:port for TCP, or a path for a unix socket (any value
	// that contains a slash).
	Listen string
	// User and Password are the one account clients log in with. With an
	// empty Password there is no authentication, which Listen allows only on
	// loopback addresses and unix sockets.
	User     string
	Password string
	// TLS, when set, lets clients encrypt, and RequireTLS rejects those
	// that do not.
	TLS        *tls.Config
	RequireTLS bool
	// QueryTimeout stops a query that runs longer; 0 means no limit.
	QueryTimeout time.Duration
	// MaxRows fails a query whose result has more rows; 0 means no limit.
	// Results are held in memory until complete, so that a query over a
	// limit can still fail cleanly, and this bounds that memory.
	MaxRows int
	// MaxResultBytes fails a query whose held result takes more bytes: its
	// values, and the 32 bytes for each value and 24 for each row that the
	// server holds with them. 0 means no limit. It bounds the same memory
	// as MaxRows. It also bounds one value and a session's user variables,
	// to at most DefaultMaxValueBytes.
	MaxResultBytes int64
	// MaxMemoryBytes is the heap size above which the server cancels the
	// longest-running statement. The held results of all statements may
	// take half of it. 0 means 4 times MaxResultBytes plus 256 MiB, or no
	// limit when MaxResultBytes is 0, and a negative value means no limit.
	// Serve also sets 1.5 times it as the runtime's soft memory limit,
	// unless GOMEMLIMIT is set, so that garbage does not double the
	// process's memory.
	MaxMemoryBytes int64
	// MaxConnections rejects clients beyond this many at once with MySQL
	// error 1040; 0 means no limit.
	MaxConnections int
	// IdleTimeout closes a logged-in connection that sends no command for
	// this long, with MySQL error 4031; 0 means no limit.
	IdleTimeout time.Duration
	// Logger receives the listening address, connections, disconnections
	// and errors. Nil discards them.
	Logger *slog.Logger
}

// Server serves an Engine's tables over the MySQL protocol.
type Server struct {
	eng      *Engine
	cfg      ServerConfig
	log      *slog.Logger
	gms      *server.Server
	listener *connListener
	sessions sync.Map // connection id (uint32) → sql.Session

	// loginRejected marks connections whose login failed and was logged,
	// so their abort is not logged again.
	loginRejected sync.Map // connection id (uint32) → true
	// events writes the lines about rejected logins and packets, aborted
	// connections, vitess's own lines and the memory guard: one line per
	// kind and logInterval.
	events *limitedLog
	// activity writes the lines about connections and statements:
	// activityBurst lines per kind and logInterval.
	activity *limitedLog
	memory   *memoryGuard // nil without a memory limit
	// spooledBytes counts the result bytes that statements hold.
	spooledBytes atomic.Int64
	// maxValueBytes bounds one value and the user variables of a session.
	maxValueBytes int64

	// stop ends running queries when a shutdown's grace period is over.
	stop     context.Context
	stopNow  context.CancelFunc
	mu       sync.Mutex
	closing  bool
	running  int
	finished chan struct{} // closed once closing and no query runs
}

// NewServer opens cfg.Listen and prepares a server on it. Serve starts
// accepting clients.
func (e *Engine) NewServer(cfg ServerConfig) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.User == "" {
		cfg.User = "procsql"
	}
	if cfg.RequireTLS && cfg.TLS == nil {
		return nil, errors.New("RequireTLS needs a TLS configuration with a certificate")
	}
	if cfg.IdleTimeout < 0 {
		return nil, fmt.Errorf("IdleTimeout %s is negative: give 0 for no limit", cfg.IdleTimeout)
	}
	// The system variables are global to the process, and every procsql
	// server sets the same values.
	boundSystemVariables()
	if err := sql.SystemVariables.AssignValues(map[string]any{"version": serverVersion, "version_comment": "procsql"}); err != nil {
		return nil, fmt.Errorf("set server version: %w", err)
	}
	redirectVitessLog()

	ln, err := listen(cfg.Listen, cfg.Password != "")
	if err != nil {
		return nil, err
	}
	if cfg.Password != "" {
		if err := e.addUser(cfg.User, cfg.Password); err != nil {
			ln.Close()
			return nil, err
		}
	} else if ln.Addr().Network() == "tcp" {
		log.Warn("no password: every local user can connect and read what this server reads, every process's environment included when it runs as root; set PROCSQL_PASSWORD or listen on a unix socket", "address", ln.Addr().String())
	}
	stop, stopNow := context.WithCancel(context.Background())
	s := &Server{eng: e, cfg: cfg, log: log, stop: stop, stopNow: stopNow, finished: make(chan struct{})}
	s.events = newLimitedLog(log, logInterval, 1)
	s.activity = newLimitedLog(log, logInterval, activityBurst)
	s.maxValueBytes = DefaultMaxValueBytes
	if cfg.MaxResultBytes > 0 {
		s.maxValueBytes = min(s.maxValueBytes, cfg.MaxResultBytes)
	}
	memoryLimit := cfg.MaxMemoryBytes
	if memoryLimit == 0 {
		memoryLimit = defaultMaxMemory(cfg.MaxResultBytes)
	}
	if memoryLimit > 0 {
		s.memory = newMemoryGuard(memoryLimit, s.events)
	}
	s.listener = newConnListener(ln, cfg.MaxConnections, s.events, s.guardConfig)
	wrap := func(h mysql.Handler) (mysql.Handler, error) { return &handler{inner: h, srv: s}, nil }
	s.gms, err = server.NewServerWithHandler(s.gmsConfig(), e.sql, sql.NewContext, s.newSession, nil, wrap)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("start MySQL server on %s: %w", cfg.Listen, err)
	}
	return s, nil
}

// gmsConfig returns the go-mysql-server configuration for s. The listener
// already applies the connection limit, and the login applies RequireTLS,
// because the vitess check rejects without a MySQL error number or a log
// line. vitess gets the TLS configuration only to offer TLS in its
// greeting: the connection guard ends TLS before vitess reads a request for
// it.
func (s *Server) gmsConfig() server.Config {
	return server.Config{
		Listener:         s.listener,
		Version:          serverVersion,
		TLSConfig:        s.cfg.TLS,
		ConnWriteTimeout: writeTimeout,
		ProtocolListenerFactory: func(c server.Config, lc mysql.ListenerConfig, sel server.ServerEventListener) (server.ProtocolListener, error) {
			lc.AuthServer = &loggingAuth{AuthServer: lc.AuthServer, srv: s}
			return server.MySQLProtocolListenerFactory(c, lc, sel)
		},
	}
}

// boundSystemVariables caps the system variables that let a client make
// the server build larger values: group_concat_max_len at the value limit,
// and max_allowed_packet, which clients read to size what they send, at
// what the server accepts.
func boundSystemVariables() {
	sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{
		&sql.MysqlSystemVariable{
			Name:    "group_concat_max_len",
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
			Dynamic: true,
			Type:    types.NewSystemUintType("group_concat_max_len", 4, DefaultMaxValueBytes),
			Default: uint64(1024),
		},
		&sql.MysqlSystemVariable{
			Name:    "max_allowed_packet",
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
			Dynamic: true,
			Type:    types.NewSystemUintType("max_allowed_packet", 1024, maxPacketBytes),
			Default: int64(maxPacketBytes),
		},
	})
}

// serverVersion is the version clients see as @@version and in the
// greeting. MySQL 8.0 clients and drivers pick their dialect from it, and
// go-mysql-server v0.20.0 reports 8.0.31 by default.
const serverVersion = "8.0.31"

// logInterval is the interval of the log's rate limits: one line per kind
// about rejected logins, packets and connections, and activityBurst lines
// per kind about connections and failed statements.
const logInterval = 10 * time.Second

// activityBurst is the number of lines per kind and logInterval about
// connections and failed statements. It lets the log show every line of
// ordinary use, and a count of the rest in a burst.
const activityBurst = 20

// writeTimeout closes the connection of a client that stops reading a
// result, so it cannot hold a query's memory for ever.
const writeTimeout = time.Minute

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Serve accepts clients until Shutdown. It returns nil after Shutdown, and
// an error if it stopped accepting clients without one.
func (s *Server) Serve() error {
	s.log.Info("listening", "address", s.Addr().String(), "network", s.Addr().Network(),
		"authentication", s.cfg.Password != "", "tls", s.cfg.TLS != nil)
	vitessLogServer.Store(s)
	if s.memory != nil {
		ctx, stopMemory := context.WithCancel(s.stop)
		defer stopMemory()
		go s.memory.run(ctx)
		// The soft limit is above the guard's, so that the collector
		// does not slow the statement that the guard is about to cancel.
		if os.Getenv("GOMEMLIMIT") == "" {
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(s.memory.limit + s.memory.limit/2))
		}
	}
	if err := s.gms.Start(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closing {
		return fmt.Errorf("server on %s stopped accepting clients without a shutdown", s.Addr())
	}
	return nil
}

// Shutdown stops accepting clients, then waits for running queries to end
// until ctx is done, when it cancels those still running. Queries that
// arrive meanwhile fail with MySQL error 1053. Last it ends every
// connection: at its next read when all queries ended, or at once after a
// cancellation, which also ends results blocked on clients that stopped
// reading. It returns ctx's error when it had to cancel queries.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		if s.running == 0 {
			close(s.finished)
		}
	}
	running := s.running
	s.mu.Unlock()
	s.gms.Close()
	s.log.Info("stopped accepting clients", "running_queries", running)
	defer vitessLogServer.CompareAndSwap(s, nil)

	var err error
	select {
	case <-s.finished:
		// A result may still be on its way to the client, so end each
		// connection at its next read rather than at once, and wait for
		// that: a caller that exits once Shutdown returns would otherwise
		// cut off a result that vitess has not yet written out.
		s.listener.endIdle()
		s.listener.waitDrained(cancelWait)
		s.flushLogs()
		return nil
	case <-ctx.Done():
		err = ctx.Err()
		s.stopNow()
		// Canceled queries return at their next context check. Their
		// handlers end before vitess writes error 1053 to the client, so
		// each connection ends at its next read, after that write, and
		// only those still open after cancelWait are closed at once.
		s.waitFinished(cancelWait)
		s.listener.endIdle()
		s.listener.waitDrained(cancelWait)
	}
	closed := s.listener.closeAll()
	if !s.waitFinished(cancelWait) {
		s.log.Warn("queries still running after cancellation", "waited", (2 * cancelWait).String())
	}
	s.log.Warn("canceled running queries at the end of the grace period", "closed_connections", closed)
	s.flushLogs()
	return err
}

// flushLogs writes the counts of the log lines that the rate limits held
// back.
func (s *Server) flushLogs() {
	s.activity.Close()
	s.events.Close()
}

// waitFinished waits up to d for the running queries to end during a
// shutdown, and reports whether they did.
func (s *Server) waitFinished(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-s.finished:
		return true
	case <-timer.C:
		return false
	}
}

// cancelWait bounds each wait of Shutdown for canceled queries to return:
// first for those that check their context, then, after the connections
// close, for those blocked writing to a client that stopped reading.
const cancelWait = time.Second

// begin counts a query as running, or returns false during shutdown.
func (s *Server) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.running++
	return true
}

func (s *Server) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	if s.closing && s.running == 0 {
		close(s.finished)
	}
}

// newSession builds the session of a connection, in the procsql database
// unless the client named another, and keeps it so that read warnings can
// be added to it.
func (s *Server) newSession(_ context.Context, c *mysql.Conn, addr string) (sql.Session, error) {
	client := sql.Client{Address: remoteHost(c), User: c.User, Capabilities: c.Capabilities}
	if u, ok := c.UserData.(sql.MysqlConnectionUser); ok {
		client.Address, client.User = u.Host, u.User
	}
	sess := newServerSession(sql.NewBaseSessionWithClientServer(addr, client, c.ConnectionID), s.maxValueBytes)
	if sess.GetCurrentDatabase() == "" {
		sess.SetCurrentDatabase(DatabaseName)
	}
	s.sessions.Store(c.ConnectionID, sess)
	return sess, nil
}

// isClosing reports whether Shutdown has begun.
func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// guardConfig returns the configuration of the packetGuard of conn.
func (s *Server) guardConfig(conn net.Conn) guardConfig {
	client := addrString(conn.RemoteAddr())
	return guardConfig{
		tls:         s.cfg.TLS,
		idleTimeout: s.cfg.IdleTimeout,
		logRejected: func(kind string, args ...any) {
			attrs := append([]any{"reason", kind, "client", client}, args...)
			s.events.Log(slog.LevelWarn, "packet rejected: "+kind, "packet rejected; closing the connection", attrs...)
		},
		logIdle: func() {
			s.activity.Info("closed an idle connection", "client", client, "idle_timeout", s.cfg.IdleTimeout.String())
		},
	}
}

func remoteHost(c *mysql.Conn) string {
	addr := c.RemoteAddr()
	if addr == nil {
		return ""
	}
	if host, _, err := net.SplitHostPort(addr.String()); err == nil {
		return host
	}
	return "localhost"
}

// listen opens a TCP address or, for a value with a slash, a unix socket
// that only this user can connect to. Without authentication, it rejects
// TCP addresses other than loopback.
func listen(addr string, authenticated bool) (net.Listener, error) {
	if addr == "" {
		return nil, errors.New("no listen address: give --listen 127.0.0.1:3306 or a unix socket path")
	}
	if strings.Contains(addr, "/") {
		return listenUnix(addr)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: give host:port, such as 127.0.0.1:3306, or a unix socket path: %w", addr, err)
	}
	if !authenticated && !isLoopback(host) {
		return nil, fmt.Errorf("listening on %s without a password is rejected, because anyone who reaches it could read every process's environment: set the PROCSQL_PASSWORD environment variable, or listen on 127.0.0.1 or a unix socket", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// isLoopback reports whether host names only loopback addresses. An empty
// host or an unspecified address listens on every interface.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
