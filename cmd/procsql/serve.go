package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/procsql/procsql/engine"
)

// serveOptions are the flags of procsql serve.
type serveOptions struct {
	listen         string
	user           string
	password       string
	tlsCert        string
	tlsKey         string
	requireTLS     bool
	queryTimeout   time.Duration
	maxRows        int
	maxResultMiB   int64
	maxConnections int
	idleTimeout    time.Duration
	grace          time.Duration
	huntsDir       string
}

// Environment variables that set the account, so that the password need not
// appear in the command line that ps shows.
const (
	userEnv     = "PROCSQL_USER"
	passwordEnv = "PROCSQL_PASSWORD"
)

func (a *app) serveCommand() *cobra.Command {
	opts := serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the tables to MySQL clients",
		Long: `Serve the tables, the hunts table and one view per hunt (hunt_<id>) over the
MySQL protocol, read-only, to any MySQL client or driver.

Without a password, the server listens on loopback or a unix socket only and
accepts any user name. Set the password in the ` + passwordEnv + ` environment
variable (and the user, procsql by default, in ` + userEnv + `) to require a
login; that is needed to listen on other addresses.

Each statement reads /proc afresh and consistently, and runs under the
limits below, which clients cannot lift. Results are held in memory until the
statement ends, so a statement over a limit fails with a MySQL error and the
connection stays usable. Fixed limits also bound one value (64 MiB, JSON
documents included), a client's packet (4 MiB, over TLS too), the long data
of a connection's prepared statements (4 MiB in all), a statement's shape
(10,000 IN values, nesting 256 deep) and prepared statements (256 per
connection, 65,535 parameters in all). When the heap passes
4 x --max-result-mib + 256 MiB, the longest-running statement is canceled.
Server-side cursors are declined: a result is sent at once. A connection
idle for --idle-timeout is closed with MySQL error 4031.

Logs go to stderr, at most 20 lines per kind every 10 s about connections
and failed statements, and one line per kind about rejected logins and
packets; a count of the lines left out follows each interval.

On SIGINT or SIGTERM the server stops accepting clients, lets running
statements end within --grace, and exits 0.`,
		Example: `  procsql serve
  mariadb -h 127.0.0.1 -P 3306 -u procsql procsql -e "SELECT * FROM hunt_deleted_executable"
  PROCSQL_PASSWORD=s3cret procsql serve --listen 0.0.0.0:3306 --tls-cert cert.pem --tls-key key.pem
  procsql --snapshot host1.procsql serve --listen /run/procsql.sock`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("user") {
				if v, ok := os.LookupEnv(userEnv); ok {
					opts.user = v
				}
			}
			if !cmd.Flags().Changed("password") {
				opts.password = os.Getenv(passwordEnv)
			}
			return a.runServe(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.listen, "listen", "127.0.0.1:3306", "`address` to listen on: host:port, or a unix socket path")
	f.StringVar(&opts.user, "user", "procsql", "user `name` clients log in with (or set "+userEnv+")")
	f.StringVar(&opts.password, "password", "", "`password` clients log in with; prefer "+passwordEnv+", because ps shows command lines")
	f.StringVar(&opts.tlsCert, "tls-cert", "", "PEM certificate `file` for TLS")
	f.StringVar(&opts.tlsKey, "tls-key", "", "PEM private key `file` for TLS")
	f.BoolVar(&opts.requireTLS, "require-tls", false, "reject clients that do not use TLS")
	f.DurationVar(&opts.queryTimeout, "query-timeout", time.Minute, "stop a statement that runs longer than this `duration` (0: no limit)")
	f.IntVar(&opts.maxRows, "max-rows", 1000000, "fail a statement whose result has more `rows` than this (0: no limit)")
	f.Int64Var(&opts.maxResultMiB, "max-result-mib", 512, "fail a statement whose result values add up to more than this many `MiB` (0: no limit)")
	f.IntVar(&opts.maxConnections, "max-connections", 100, "reject clients beyond this `number` at once (0: no limit)")
	f.DurationVar(&opts.idleTimeout, "idle-timeout", 10*time.Minute, "close a logged-in connection that sends no statement for this `duration` (0: no limit)")
	f.DurationVar(&opts.grace, "grace", 10*time.Second, "on SIGINT or SIGTERM, let running statements end within this `duration`")
	f.StringVar(&opts.huntsDir, "hunts", "", "`directory` of extra hunt files (.sql) to serve beside the built-in hunts")
	return cmd
}

func (a *app) runServe(ctx context.Context, opts serveOptions) error {
	if opts.queryTimeout < 0 || opts.maxRows < 0 || opts.maxResultMiB < 0 || opts.maxConnections < 0 || opts.idleTimeout < 0 || opts.grace < 0 {
		return errors.New("--query-timeout, --max-rows, --max-result-mib, --max-connections, --idle-timeout and --grace take 0 or more")
	}
	if opts.requireTLS && opts.tlsCert == "" {
		return errors.New("--require-tls needs a certificate: give --tls-cert and --tls-key")
	}
	var tlsConfig *tls.Config
	if opts.tlsCert != "" || opts.tlsKey != "" {
		if opts.tlsCert == "" || opts.tlsKey == "" {
			return errors.New("TLS needs both --tls-cert and --tls-key")
		}
		cert, err := tls.LoadX509KeyPair(opts.tlsCert, opts.tlsKey)
		if err != nil {
			return fmt.Errorf("load TLS certificate %s and key %s: %w", opts.tlsCert, opts.tlsKey, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	logger := slog.New(slog.NewTextHandler(a.stderr, nil))

	eng, err := a.openEngine(ctx, opts.huntsDir)
	if err != nil {
		return err
	}
	srv, err := eng.NewServer(engine.ServerConfig{
		Listen:         opts.listen,
		User:           opts.user,
		Password:       opts.password,
		TLS:            tlsConfig,
		RequireTLS:     opts.requireTLS,
		QueryTimeout:   opts.queryTimeout,
		MaxRows:        opts.maxRows,
		MaxResultBytes: opts.maxResultMiB << 20,
		MaxConnections: opts.maxConnections,
		IdleTimeout:    opts.idleTimeout,
		Logger:         logger,
	})
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", opts.grace.String())
	graceCtx, cancel := context.WithTimeout(context.Background(), opts.grace)
	defer cancel()
	srv.Shutdown(graceCtx)
	<-served
	logger.Info("stopped")
	return nil
}
