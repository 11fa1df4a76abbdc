// Command serveload drives concurrent MySQL clients against `procsql serve`
// for a fixed time and reports queries per second, latency percentiles per
// query kind, errors and the server's peak resident memory.
//
// Each client holds one connection and runs a weighted random mix of full
// table scans, prepared pid lookups, joins and hunt views. Rows are read to
// the end and discarded; serveload prints none of them. It connects only to
// a loopback IP address or a unix socket, so it cannot load another host.
//
// Run it through bench/serve.sh, which starts the server inside fresh PID,
// mount and network namespaces, so that the server reads only the processes
// the benchmark starts.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Limits on -clients and -duration, so that a typo cannot start thousands
// of connections or run for hours.
const (
	maxClients  = 1024
	maxDuration = 10 * time.Minute
)

// passwordEnv is the environment variable that procsql serve also reads
// its password from.
const passwordEnv = "PROCSQL_PASSWORD"

// maxErrorMessages is how many distinct error messages the report lists.
const maxErrorMessages = 5

// defaultHunts are hunt views that join or scan the main tables without
// probing every possible pid, so their cost follows the process count. Three
// of them call REGEXP_LIKE on a column.
const defaultHunts = "deleted_executable,fake_kernel_thread,orphan_socket,reverse_shell,unusual_listener"

type options struct {
	addr         string
	user         string
	password     string
	clients      int
	duration     time.Duration
	queryTimeout time.Duration
	serverPID    int
	hunts        []string
	mix          string
	seed         uint64
	json         bool
}

func main() {
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "serveload:", err)
		os.Exit(2)
	}
	rep, err := run(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serveload:", err)
		os.Exit(1)
	}
	if opts.json {
		err = writeJSON(os.Stdout, rep)
	} else {
		err = writeText(os.Stdout, rep)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "serveload: write report:", err)
		os.Exit(1)
	}
	if rep.Errors > 0 {
		fmt.Fprintf(os.Stderr, "serveload: %d queries failed\n", rep.Errors)
		os.Exit(1)
	}
	if rep.Interrupted {
		// 130 is the shells' status for a program that SIGINT ended.
		fmt.Fprintln(os.Stderr, "serveload: interrupted before the end of -duration")
		os.Exit(130)
	}
}

func parseFlags(args []string) (options, error) {
	var opts options
	var hunts string
	fs := flag.NewFlagSet("serveload", flag.ExitOnError)
	fs.StringVar(&opts.addr, "addr", "127.0.0.1:3306", "server `address`: a loopback host:port such as 127.0.0.1:3306 or [::1]:3306, or a unix socket path")
	fs.StringVar(&opts.user, "user", "procsql", "user `name` to log in with")
	fs.StringVar(&opts.password, "password", "", "`password` to log in with; prefer the "+passwordEnv+" environment variable, because ps shows command lines")
	fs.IntVar(&opts.clients, "clients", 64, fmt.Sprintf("number of concurrent clients, each with its own connection (1 to %d)", maxClients))
	fs.DurationVar(&opts.duration, "duration", 30*time.Second, "how long clients start new queries, at most "+maxDuration.String()+". Running queries then finish")
	fs.DurationVar(&opts.queryTimeout, "query-timeout", 2*time.Minute, "fail a query that takes longer than this `duration`")
	fs.IntVar(&opts.serverPID, "server-pid", 0, "`pid` of the procsql serve process, whose peak RSS (VmHWM) is read at the end, or 0 to skip it")
	fs.StringVar(&hunts, "hunts", defaultHunts, "comma-separated hunt `ids`. Each view hunt_<id> becomes a query kind with the weight that -mix gives kind hunt")
	fs.StringVar(&opts.mix, "mix", "", "comma-separated `kind=weight` pairs that replace the default weights of those kinds. Weight 0 turns a kind off")
	fs.Uint64Var(&opts.seed, "seed", 1, "`seed` of the random query mix. Client i uses seed+i")
	fs.BoolVar(&opts.json, "json", false, "print the report as JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return opts, fmt.Errorf("unexpected argument %q: serveload takes only flags", fs.Arg(0))
	}
	passwordSet := false
	fs.Visit(func(f *flag.Flag) { passwordSet = passwordSet || f.Name == "password" })
	if !passwordSet {
		opts.password = os.Getenv(passwordEnv)
	}

	if opts.clients < 1 || opts.clients > maxClients {
		return opts, fmt.Errorf("-clients %d is out of range: give 1 to %d", opts.clients, maxClients)
	}
	if opts.duration <= 0 || opts.duration > maxDuration {
		return opts, fmt.Errorf("-duration %s is out of range: give more than 0 and at most %s", opts.duration, maxDuration)
	}
	if opts.queryTimeout <= 0 {
		return opts, fmt.Errorf("-query-timeout %s is invalid: give a positive duration such as 2m", opts.queryTimeout)
	}
	if opts.serverPID < 0 {
		return opts, fmt.Errorf("-server-pid %d is invalid: give the server's pid, or 0 to skip its memory", opts.serverPID)
	}
	for _, id := range strings.Split(hunts, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !huntIDPattern.MatchString(id) {
			return opts, fmt.Errorf("-hunts: invalid hunt id %q: ids contain only lower-case letters, digits and underscores", id)
		}
		opts.hunts = append(opts.hunts, id)
	}
	return opts, nil
}

// huntIDPattern matches the ids that serveload puts into a view name. The
// check keeps a flag value from turning into SQL.
var huntIDPattern = regexp.MustCompile(`^[a-z0-9_]+$`)

// loopbackDialConfig returns the driver's network and address for addr, or
// an error unless addr is a loopback IP address with a port or a unix
// socket path. Host names such as localhost are rejected, because the
// resolver, not serveload, decides where they point.
func loopbackDialConfig(addr string) (network, address string, err error) {
	if strings.Contains(addr, "/") {
		return "unix", addr, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("-addr %q is invalid: give host:port such as 127.0.0.1:3306, or a unix socket path: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", "", fmt.Errorf("-addr %q is rejected: serveload connects only to a loopback IP address (127.0.0.1 or ::1) or a unix socket path", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", "", fmt.Errorf("-addr %q has an invalid port %q: give 1 to 65535", addr, port)
	}
	return "tcp", net.JoinHostPort(ip.String(), port), nil
}

// queryKind is one entry of the query mix.
type queryKind struct {
	name   string
	weight int
	// text is the statement. A statement with a ? is prepared once per
	// client and executed with a pid drawn from the sampled pids. The hunt
	// kind has no text: it stands for one kind per hunt view.
	text string
}

func (k queryKind) takesPID() bool { return strings.Contains(k.text, "?") }

// defaultKinds is the query mix. Pid lookups are the most frequent, as in
// an investigation that drills into single processes. Scans, joins and hunt
// views read every process and are rarer.
func defaultKinds() []queryKind {
	return []queryKind{
		{name: "scan_processes", weight: 1, text: "SELECT * FROM processes"},
		{name: "count_fds", weight: 1, text: "SELECT COUNT(*) FROM fds"},
		{name: "scan_sockets", weight: 1, text: "SELECT * FROM sockets"},
		{name: "pid_lookup", weight: 8, text: "SELECT pid, ppid, name, state, exe, cmdline, uid, rss_bytes, start_time FROM processes WHERE pid = ?"},
		{name: "join_fds", weight: 2, text: "SELECT p.pid, p.name, f.fd, f.type, f.path FROM processes p JOIN fds f ON f.pid = p.pid"},
		{name: "join_fds_pid", weight: 4, text: "SELECT p.pid, p.name, f.fd, f.type, f.path, f.inode FROM processes p JOIN fds f ON f.pid = p.pid WHERE p.pid = ?"},
		{name: "join_sockets", weight: 2, text: "SELECT p.pid, p.name, f.fd, s.protocol, s.local_address, s.local_port, s.remote_address, s.remote_port, s.state " +
			"FROM processes p JOIN fds f ON f.pid = p.pid JOIN sockets s ON s.inode = f.inode WHERE f.type = 'socket'"},
		{name: "hunt", weight: 1},
	}
}

// applyMix sets the weights named in mix, such as "hunt=0,scan_sockets=3".
func applyMix(kinds []queryKind, mix string) error {
	if mix == "" {
		return nil
	}
	for _, pair := range strings.Split(mix, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return fmt.Errorf("-mix: %q is not kind=weight", pair)
		}
		weight, err := strconv.Atoi(value)
		if err != nil || weight < 0 {
			return fmt.Errorf("-mix: weight %q of %s is invalid: give 0 or more", value, name)
		}
		i := slices.IndexFunc(kinds, func(k queryKind) bool { return k.name == name })
		if i < 0 {
			names := make([]string, len(kinds))
			for j, k := range kinds {
				names[j] = k.name
			}
			return fmt.Errorf("-mix: unknown kind %q: the kinds are %s", name, strings.Join(names, ", "))
		}
		kinds[i].weight = weight
	}
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	if total == 0 {
		return errors.New("-mix: every weight is 0: give at least one kind a positive weight")
	}
	return nil
}

func run(opts options) (*report, error) {
	kinds := defaultKinds()
	if err := applyMix(kinds, opts.mix); err != nil {
		return nil, err
	}
	network, address, err := loopbackDialConfig(opts.addr)
	if err != nil {
		return nil, err
	}
	if opts.serverPID > 0 {
		if err := checkServerPID(opts.serverPID); err != nil {
			return nil, err
		}
	}
	cfg := mysql.NewConfig()
	cfg.Net = network
	cfg.Addr = address
	cfg.User = opts.user
	cfg.Passwd = opts.password
	cfg.DBName = "procsql"
	cfg.Timeout = 10 * time.Second
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("configure the MySQL driver for %s: %w", opts.addr, err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(opts.clients)
	db.SetMaxIdleConns(opts.clients)

	setupCtx, cancelSetup := context.WithTimeout(context.Background(), opts.queryTimeout)
	defer cancelSetup()
	w, err := loadWorkload(setupCtx, db, opts.hunts, kinds)
	if err != nil {
		return nil, err
	}

	clients, err := connectClients(setupCtx, db, w, opts)
	if err != nil {
		return nil, err
	}
	cancelSetup()

	elapsed, interrupted := runClients(clients, opts.duration)
	for _, c := range clients {
		c.close()
	}

	rep := buildReport(opts, w, clients, elapsed)
	rep.Interrupted = interrupted
	if opts.serverPID > 0 {
		peak, err := serverPeakRSS(opts.serverPID)
		if err != nil {
			return nil, err
		}
		rep.ServerPeakRSSBytes = peak
	}
	return rep, nil
}

// connectClients opens one connection per client and prepares its
// statements. On an error it closes the connections it opened.
func connectClients(ctx context.Context, db *sql.DB, w *workload, opts options) ([]*client, error) {
	clients := make([]*client, opts.clients)
	for i := range clients {
		c, err := newClient(ctx, db, w, opts.seed+uint64(i), opts.queryTimeout)
		if err != nil {
			for _, open := range clients[:i] {
				open.close()
			}
			return nil, fmt.Errorf("connect client %d of %d to %s: %w", i+1, opts.clients, opts.addr, err)
		}
		clients[i] = c
	}
	return clients, nil
}

// runClients runs all clients at once until duration has passed and their
// last queries have finished. It returns the time that took and whether a
// signal stopped the run early.
func runClients(clients []*client, duration time.Duration) (time.Duration, bool) {
	// The first SIGINT or SIGTERM stops new queries and lets running ones
	// finish, so the report still covers what ran. A second one ends
	// serveload at once.
	interrupted, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	go func() {
		<-interrupted.Done()
		stopSignals()
	}()

	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(duration)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.run(interrupted, deadline)
		}()
	}
	wg.Wait()
	return time.Since(start), interrupted.Err() != nil
}

// workload is the query mix and the pids and hunt ids that all clients
// draw their queries from.
type workload struct {
	// kinds has one kind per hunt view in place of the hunt kind.
	kinds []queryKind
	// cumulative[i] is the sum of the weights of kinds[0..i].
	cumulative []int
	pids       []int64
	hunts      []string
}

// loadWorkload samples the pids and checks the hunt ids through one
// connection, before the clients start.
func loadWorkload(ctx context.Context, db *sql.DB, hunts []string, kinds []queryKind) (*workload, error) {
	w := &workload{}
	if err := w.samplePIDs(ctx, db); err != nil {
		return nil, err
	}

	huntKind := slices.IndexFunc(kinds, func(k queryKind) bool { return k.name == "hunt" })
	huntWeight := kinds[huntKind].weight
	w.kinds = slices.Delete(slices.Clone(kinds), huntKind, huntKind+1)
	if huntWeight > 0 {
		if err := w.checkHunts(ctx, db, hunts); err != nil {
			return nil, err
		}
	}
	for _, id := range w.hunts {
		name := "hunt_" + id
		w.kinds = append(w.kinds, queryKind{name: name, weight: huntWeight, text: "SELECT * FROM `" + name + "`"})
	}

	total := 0
	for _, k := range w.kinds {
		total += k.weight
		w.cumulative = append(w.cumulative, total)
	}
	return w, nil
}

// samplePIDs stores every pid of the processes table in w.pids.
func (w *workload) samplePIDs(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "SELECT pid FROM processes")
	if err != nil {
		return fmt.Errorf("sample pids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int64
		if err := rows.Scan(&pid); err != nil {
			return fmt.Errorf("sample pids: %w", err)
		}
		w.pids = append(w.pids, pid)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sample pids: %w", err)
	}
	if len(w.pids) == 0 {
		return errors.New("sample pids: the processes table is empty, so pid lookups have nothing to look up")
	}
	return nil
}

// checkHunts stores the hunt ids in w.hunts after checking that the server
// has each of them.
func (w *workload) checkHunts(ctx context.Context, db *sql.DB, hunts []string) error {
	known := map[string]bool{}
	rows, err := db.QueryContext(ctx, "SELECT id FROM hunts")
	if err != nil {
		return fmt.Errorf("list hunts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("list hunts: %w", err)
		}
		known[id] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list hunts: %w", err)
	}
	for _, id := range hunts {
		if !known[id] {
			return fmt.Errorf("-hunts: hunt %q is not in the server's hunts table (%d hunts): run SELECT id FROM hunts to list them", id, len(known))
		}
		if !slices.Contains(w.hunts, id) {
			w.hunts = append(w.hunts, id)
		}
	}
	if len(w.hunts) == 0 {
		return errors.New("-hunts is empty but the hunt kind has a weight: give hunt ids, or -mix hunt=0")
	}
	return nil
}

// client is one connection and the measurements of the queries it ran.
type client struct {
	conn     *sql.Conn
	work     *workload
	rng      *rand.Rand
	timeout  time.Duration
	prepared []*sql.Stmt // by kind index, nil for kinds without a pid
	stats    []kindStats // by kind index
	errs     errorCounts
}

// kindStats are one client's measurements of one query kind.
type kindStats struct {
	latencies []time.Duration // of successful queries
	rows      int64
	errors    int64
}

func newClient(ctx context.Context, db *sql.DB, w *workload, seed uint64, timeout time.Duration) (*client, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	c := &client{
		conn:     conn,
		work:     w,
		rng:      rand.New(rand.NewPCG(seed, 0x5e7e10ad)),
		timeout:  timeout,
		prepared: make([]*sql.Stmt, len(w.kinds)),
		stats:    make([]kindStats, len(w.kinds)),
	}
	for i, k := range w.kinds {
		if k.weight == 0 || !k.takesPID() {
			continue
		}
		stmt, err := conn.PrepareContext(ctx, k.text)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("prepare %s: %w", k.name, err)
		}
		c.prepared[i] = stmt
	}
	return c, nil
}

func (c *client) close() {
	for _, stmt := range c.prepared {
		if stmt != nil {
			stmt.Close()
		}
	}
	c.conn.Close()
}

// run starts queries until the deadline passes or stop is done. A query
// that is running then finishes and counts.
func (c *client) run(stop context.Context, deadline time.Time) {
	for stop.Err() == nil && time.Now().Before(deadline) {
		i := c.pick()
		began := time.Now()
		rows, err := c.query(i)
		took := time.Since(began)
		s := &c.stats[i]
		if err != nil {
			s.errors++
			c.errs.add(c.work.kinds[i].name + ": " + err.Error())
			continue
		}
		s.latencies = append(s.latencies, took)
		s.rows += rows
	}
}

// pick draws a kind index with probability proportional to its weight.
func (c *client) pick() int {
	cumulative := c.work.cumulative
	n := c.rng.IntN(cumulative[len(cumulative)-1])
	i, _ := slices.BinarySearch(cumulative, n+1)
	return i
}

// query runs one query of kind i, reads every row and returns their count.
func (c *client) query(i int) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	var rows *sql.Rows
	var err error
	if stmt := c.prepared[i]; stmt != nil {
		pid := c.work.pids[c.rng.IntN(len(c.work.pids))]
		rows, err = stmt.QueryContext(ctx, pid)
	} else {
		rows, err = c.conn.QueryContext(ctx, c.work.kinds[i].text)
	}
	if err != nil {
		return 0, err
	}
	return drain(rows)
}

// drain reads every row of rows without converting the values.
func drain(rows *sql.Rows) (int64, error) {
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	values := make([]sql.RawBytes, len(columns))
	targets := make([]any, len(columns))
	for i := range values {
		targets[i] = &values[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, rows.Close()
}

// serverCommand is the command name (comm) that -server-pid must have, so
// that a mistyped pid does not report another program's memory.
const serverCommand = "procsql"

// checkServerPID returns an error unless pid is a running procsql process.
// It reads only that process's comm file.
func checkServerPID(pid int) error {
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return fmt.Errorf("read the command name of -server-pid %d: %w", pid, err)
	}
	if name := strings.TrimSpace(string(comm)); name != serverCommand {
		return fmt.Errorf("-server-pid %d is %q, not %s: give the pid of procsql serve, or 0 to skip its memory", pid, name, serverCommand)
	}
	return nil
}

// serverPeakRSS returns the VmHWM of pid in bytes. It reads only that
// process's status file.
func serverPeakRSS(pid int) (int64, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return 0, fmt.Errorf("read VmHWM of -server-pid %d: %w", pid, err)
	}
	for line := range strings.Lines(string(status)) {
		value, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("read VmHWM of -server-pid %d: invalid line %q in %s/status", pid, strings.TrimSpace(line), dir)
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read VmHWM of -server-pid %d: invalid value %q in %s/status: %w", pid, fields[0], dir, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("read VmHWM of -server-pid %d: %s/status has no VmHWM line, as for a kernel thread: give the pid of procsql serve", pid, dir)
}

// report is the result of a run. Latencies are of successful queries, in
// milliseconds.
type report struct {
	Address            string         `json:"address"`
	Clients            int            `json:"clients"`
	DurationSeconds    float64        `json:"duration_seconds"`
	ElapsedSeconds     float64        `json:"elapsed_seconds"`
	Interrupted        bool           `json:"interrupted"`
	SampledPIDs        int            `json:"sampled_pids"`
	Hunts              []string       `json:"hunts"`
	Queries            int64          `json:"queries"`
	QPS                float64        `json:"qps"`
	Errors             int64          `json:"errors"`
	ErrorMessages      []errorMessage `json:"error_messages"`
	Overall            kindReport     `json:"overall"`
	Kinds              []kindReport   `json:"kinds"`
	ServerPID          int            `json:"server_pid,omitempty"`
	ServerPeakRSSBytes int64          `json:"server_peak_rss_bytes,omitempty"`
}

type kindReport struct {
	Name         string  `json:"name"`
	Weight       int     `json:"weight"`
	Query        string  `json:"query,omitempty"`
	Queries      int64   `json:"queries"`
	QPS          float64 `json:"qps"`
	RowsPerQuery float64 `json:"rows_per_query"`
	Errors       int64   `json:"errors"`
	P50Ms        float64 `json:"p50_ms"`
	P90Ms        float64 `json:"p90_ms"`
	P99Ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
}

type errorMessage struct {
	Message string `json:"message"`
	Count   int64  `json:"count"`
}

func buildReport(opts options, w *workload, clients []*client, elapsed time.Duration) *report {
	rep := &report{
		Address:         opts.addr,
		Clients:         opts.clients,
		DurationSeconds: opts.duration.Seconds(),
		ElapsedSeconds:  elapsed.Seconds(),
		SampledPIDs:     len(w.pids),
		Hunts:           w.hunts,
		ServerPID:       opts.serverPID,
	}
	var all []time.Duration
	var allRows int64
	for i, k := range w.kinds {
		if k.weight == 0 {
			continue
		}
		var latencies []time.Duration
		var rows, errs int64
		for _, c := range clients {
			latencies = append(latencies, c.stats[i].latencies...)
			rows += c.stats[i].rows
			errs += c.stats[i].errors
		}
		kr := summarize(k.name, latencies, rows, errs, elapsed)
		kr.Weight = k.weight
		kr.Query = k.text
		rep.Kinds = append(rep.Kinds, kr)
		all = append(all, latencies...)
		allRows += rows
		rep.Errors += errs
	}
	rep.Overall = summarize("all", all, allRows, rep.Errors, elapsed)
	rep.Queries = rep.Overall.Queries
	rep.QPS = rep.Overall.QPS
	rep.ErrorMessages = distinctErrors(clients)
	if rep.ErrorMessages == nil {
		rep.ErrorMessages = []errorMessage{}
	}
	return rep
}

// summarize computes the counts and nearest-rank percentiles of one kind.
func summarize(name string, latencies []time.Duration, rows, errs int64, elapsed time.Duration) kindReport {
	slices.Sort(latencies)
	kr := kindReport{Name: name, Queries: int64(len(latencies)), Errors: errs}
	if len(latencies) == 0 {
		return kr
	}
	kr.QPS = float64(len(latencies)) / elapsed.Seconds()
	kr.RowsPerQuery = float64(rows) / float64(len(latencies))
	kr.P50Ms = milliseconds(percentile(latencies, 50))
	kr.P90Ms = milliseconds(percentile(latencies, 90))
	kr.P99Ms = milliseconds(percentile(latencies, 99))
	kr.MaxMs = milliseconds(latencies[len(latencies)-1])
	return kr
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

func milliseconds(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// errorCounts keeps the first maxErrorMessages distinct error messages and
// how often each occurred. Later distinct messages are dropped, so a server
// that fails every query cannot fill the memory.
type errorCounts struct {
	messages []errorMessage
}

func (e *errorCounts) add(msg string) {
	e.addCount(msg, 1)
}

func (e *errorCounts) addCount(msg string, count int64) {
	for i := range e.messages {
		if e.messages[i].Message == msg {
			e.messages[i].Count += count
			return
		}
	}
	if len(e.messages) < maxErrorMessages {
		e.messages = append(e.messages, errorMessage{Message: msg, Count: count})
	}
}

// distinctErrors merges the clients' error messages in client order.
func distinctErrors(clients []*client) []errorMessage {
	var merged errorCounts
	for _, c := range clients {
		for _, m := range c.errs.messages {
			merged.addCount(m.Message, m.Count)
		}
	}
	return merged.messages
}

func writeJSON(out io.Writer, rep *report) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func writeText(out io.Writer, rep *report) error {
	fmt.Fprintf(out, "%d clients, %gs of new queries (%.1fs until the last finished) against %s\n",
		rep.Clients, rep.DurationSeconds, rep.ElapsedSeconds, rep.Address)
	if rep.Interrupted {
		fmt.Fprintln(out, "interrupted: the run stopped early")
	}
	hunts := strings.Join(rep.Hunts, ", ")
	if hunts == "" {
		hunts = "none"
	}
	fmt.Fprintf(out, "%d pids sampled for lookups; hunts: %s\n\n", rep.SampledPIDs, hunts)

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tweight\tqueries\tqps\tp50 ms\tp90 ms\tp99 ms\tmax ms\trows/query\terrors\t")
	for _, k := range append(rep.Kinds, rep.Overall) {
		weight := strconv.Itoa(k.Weight)
		if k.Name == "all" {
			weight = ""
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t\n",
			k.Name, weight, k.Queries, k.QPS, k.P50Ms, k.P90Ms, k.P99Ms, k.MaxMs, k.RowsPerQuery, k.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(out)
	if rep.ServerPeakRSSBytes > 0 {
		fmt.Fprintf(out, "server peak RSS: %.0f MiB (VmHWM of pid %d)\n",
			float64(rep.ServerPeakRSSBytes)/(1<<20), rep.ServerPID)
	}
	fmt.Fprintf(out, "errors: %d\n", rep.Errors)
	for _, e := range rep.ErrorMessages {
		fmt.Fprintf(out, "  %d x %s\n", e.Count, e.Message)
	}
	_, err := fmt.Fprintln(out, "queries and latencies count successful queries only; percentiles are nearest-rank")
	return err
}
