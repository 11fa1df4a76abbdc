package main

import (
	"fmt"
	"net/netip"
	"strconv"
)

// Programs that only run inside containers, whose images install their
// own interpreters and servers under /usr/local.
var (
	progContainerPy    = &program{comm: "gunicorn", exe: "/usr/local/bin/python3.12", libs: pythonLibs[:12], maps: 2.5, fds: 1, files: []string{"@deleted:/tmp/wgunicorn-{id}", "/dev/urandom", "@eventpoll"}}
	progContainerRedis = &program{comm: "redis-server", exe: "/usr/local/bin/redis-server", libs: redisLibs[:4], maps: 1.2, fds: 1.2, files: redisFiles, threads: progRedis.threads}
	progRsync          = &program{comm: "rsync", exe: "/usr/bin/rsync", libs: []string{"libacl.so.1.1.2301", "libz.so.1.2.13", "libpopt.so.0.0.2", "liblz4.so.1.9.4", "libzstd.so.1.5.4", "libxxhash.so.0.8.1", "libcrypto.so.3"}, maps: 1, fds: 0.6, files: []string{"/var/www/html/static/js/chunk-%x.js"}}
)

// buildBase creates what every host runs: systemd, kthreadd and the boot
// kernel threads, the core services and one administrator's SSH session.
func (b *builder) buildBase() {
	b.clock = 20 + b.rng.Float64()*30
	systemd := b.spawn(nil, progSystemd, "/sbin/init")
	systemd.pid, b.nextPID = 1, 1
	systemd.pgrp, systemd.session = 1, 1
	systemd.cgroup = "/init.scope"
	systemd.env = []string{"HOME=/", "TERM=linux", "BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64"}
	systemd.stdio = [3]string{"/dev/null", "/dev/null", "/dev/null"}
	b.pid1 = systemd

	b.spawnKernelThread("kthreadd")
	for _, name := range b.bootKernelThreads() {
		b.spawnKernelThread(name)
	}

	// Processes of the initramfs used the pids up to here and exited.
	b.nextPID = max(b.nextPID, 250+b.rng.IntN(80))
	b.clock = 300 + b.rng.Float64()*100
	b.journald = b.service(progJournald, "systemd-journald.service", uidRoot, 0, "/", "/usr/lib/systemd/systemd-journald")
	b.journald.seccomp = 2
	b.unixListen(journalSock, 1, priorityListener, systemd, b.journald)
	b.unixListen("/run/systemd/journal/socket", 2, priorityListener, systemd, b.journald)
	b.unixListen("/run/systemd/journal/dev-log", 2, priorityListener, systemd, b.journald)
	b.unixListen("/run/systemd/notify", 2, priorityListener, systemd)
	b.unixListen("/run/systemd/private", 1, priorityListener, systemd)
	b.unixListen("/run/systemd/userdb/io.systemd.DynamicUser", 1, priorityListener, systemd)

	udevd := b.service(progUdevd, "systemd-udevd.service", uidRoot, 0, "/", "/usr/lib/systemd/systemd-udevd")
	b.unixListen("/run/udev/control", 5, priorityListener, systemd, udevd)
	networkd := b.service(progNetworkd, "systemd-networkd.service", uidNetwork, uidNetwork, "/", "/usr/lib/systemd/systemd-networkd")
	networkd.seccomp, networkd.capEff = 2, 0x3c00 // CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE, CAP_NET_BROADCAST
	b.addSocket(&socket{proto: "packet", ns: networkd.ns.net, etherType: 0x0003, iface: 2, uid: uidNetwork, priority: priorityListener}, networkd)
	resolved := b.service(progResolved, "systemd-resolved.service", uidResolve, uidResolve, "/", "/usr/lib/systemd/systemd-resolved")
	resolved.seccomp = 2
	for _, stub := range []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 53}), netip.AddrFrom4([4]byte{127, 0, 0, 54})} {
		b.udp(netip.AddrPortFrom(stub, 53), netip.AddrPort{}, priorityListener, resolved)
		b.listen(stub, 53, priorityListener, resolved)
	}
	timesyncd := b.service(progTimesyncd, "systemd-timesyncd.service", uidTimesync, uidTimesync, "/", "/usr/lib/systemd/systemd-timesyncd")
	timesyncd.seccomp, timesyncd.capEff = 2, 1<<25 // CAP_SYS_TIME
	b.addThreads(timesyncd, -1)
	gateway := b.h.hostNS.net.addr4.As4()
	gateway[3] = 1
	b.udp(netip.AddrPortFrom(b.h.hostNS.net.addr4, b.ephemeralPort()), netip.AddrPortFrom(netip.AddrFrom4(gateway), 123), priorityListener, timesyncd)

	b.dbus = b.service(progDbus, "dbus.service", uidMessagebus, 107, "/nonexistent", "/usr/bin/dbus-daemon", "--system", "--address=systemd:", "--nofork", "--nopidfile", "--systemd-activation", "--syslog-only")
	b.unixListen(dbusSock, 1, priorityListener, systemd, b.dbus)
	logind := b.service(progLogind, "systemd-logind.service", uidRoot, 0, "/", "/usr/lib/systemd/systemd-logind")
	logind.seccomp = 2
	for _, client := range []*process{systemd, networkd, resolved, timesyncd, logind} {
		b.unixPair(dbusSock, priorityStream, client, b.dbus)
	}

	b.cron = b.service(progCron, "cron.service", uidRoot, 0, "/root", "/usr/sbin/cron", "-f")
	b.rsyslogd = b.service(progRsyslogd, "rsyslog.service", uidRoot, 0, "/root", "/usr/sbin/rsyslogd", "-n", "-iNONE")
	b.addThreads(b.rsyslogd, -1)
	b.unixListen("/run/systemd/journal/syslog", 2, priorityListener, b.rsyslogd)
	for _, log := range []string{"/var/log/syslog", "/var/log/auth.log", "/var/log/kern.log", "/var/log/cron.log"} {
		size := int64(200_000 + b.rng.IntN(40_000_000))
		b.rsyslogd.files = append(b.rsyslogd.files, fdSpec{target: log, flags: 02102001, pos: size, size: size, nlink: 1, mntID: 29, ino: pathInode(log)})
	}

	b.sshd = b.service(progSshd, "ssh.service", uidRoot, 0, "/root", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups")
	b.listen(netip.IPv4Unspecified(), 22, priorityListener, b.sshd)
	b.listen(netip.IPv6Unspecified(), 22, priorityListener, b.sshd)

	getty := b.serviceWithoutJournal(progAgetty, "getty@tty1.service", uidRoot, 0, "/root", "/sbin/agetty", "-o", "-p -- \\u", "--noclear", "-", "linux")
	getty.stdio = [3]string{"/dev/tty1", "/dev/tty1", "/dev/tty1"}
	getty.ttyNr = 4<<8 | 1
	getty.env = replaceEnv(getty.env, "TERM", "linux")

	b.fallback = append(b.fallback, udevd, logind, b.cron, b.rsyslogd, b.sshd)
	b.adminBash = b.session(b.humans[0], 3)
}

// bootKernelThreads returns the names of the kernel threads that start with
// the kernel, before any user-space service.
func (b *builder) bootKernelThreads() []string {
	var names []string
	names = append(names, kernelThreadNames[:9]...)
	for cpu := range b.cfg.cpus {
		for _, pattern := range perCPUKernelThreads {
			names = append(names, fmt.Sprintf(pattern, cpu))
		}
	}
	names = append(names, kernelThreadNames[9:]...)
	for i := range b.cfg.cpus / 2 {
		names = append(names, fmt.Sprintf("kworker/u%d:%d-events_unbound", 2*b.cfg.cpus, i))
	}
	return names
}

// lateKernelThreadName returns the name of a worker the kernel started
// long after boot.
func (b *builder) lateKernelThreadName(i int) string {
	if i%3 == 0 {
		return fmt.Sprintf("kworker/u%d:%d-flush-254:0", 2*b.cfg.cpus, b.cfg.cpus/2+i)
	}
	return fmt.Sprintf("kworker/%d:%d-events", b.rng.IntN(b.cfg.cpus), 3+i/b.cfg.cpus)
}

// session creates an SSH login of u: the privileged sshd monitor, the
// user's sshd, a login shell, and often a command running in it. It creates
// at most limit processes, the systemd user manager included on the user's
// first login, and returns the shell (nil when limit left no room for it).
func (b *builder) session(u user, limit int) *process {
	if b.userManagers[u.uid] == nil && limit >= 4 {
		m := b.spawn(b.pid1, progUserSd, "/usr/lib/systemd/systemd", "--user")
		b.setUser(m, u.uid, u.gid)
		m.cgroup = fmt.Sprintf("/user.slice/user-%d.slice/user@%d.service/init.scope", u.uid, u.uid)
		m.env = b.buildEnv([]string{"LANG=en_US.UTF-8", userPath, "HOME=" + u.home, "LOGNAME=" + u.name, "USER=" + u.name, "SHELL=" + u.shell,
			fmt.Sprintf("XDG_RUNTIME_DIR=/run/user/%d", u.uid), fmt.Sprintf("DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/%d/bus", u.uid)}, nil)
		m.stdio = [3]string{"/dev/null", "/dev/null", "/dev/null"}
		b.unixListen(fmt.Sprintf("/run/user/%d/bus", u.uid), 1, priorityStream, m)
		b.userManagers[u.uid] = m
		b.fallback = append(b.fallback, m)
		limit--
	}

	sessionID := len(b.h.procs)
	priv := b.spawn(b.sshd, progSshd, "sshd: "+u.name+" [priv]")
	priv.pgrp, priv.session = priv.pid, priv.pid
	priv.cgroup = fmt.Sprintf("/user.slice/user-%d.slice/session-%d.scope", u.uid, sessionID)
	client := netip.AddrPortFrom(b.clientAddr(false), b.ephemeralPort())
	local := netip.AddrPortFrom(b.h.hostNS.net.addr4, 22)
	conn := b.connect(local, client, prioritySession, priv)
	if limit < 2 {
		return nil
	}

	pty, ttyNr := b.newPTY()
	userSshd := b.spawn(priv, progSshd, "sshd: "+u.name+"@"+pty[len("/dev/"):])
	b.setUser(userSshd, u.uid, u.gid)
	userSshd.sockets = append(userSshd.sockets, conn.inode)
	if limit < 3 {
		return nil
	}

	bash := b.spawn(userSshd, progBash, "-bash")
	b.setUser(bash, u.uid, u.gid)
	bash.pgrp, bash.session, bash.ttyNr = bash.pid, bash.pid, ttyNr
	bash.stdio = [3]string{pty, pty, pty}
	bash.ttyFD = pty
	bash.cwd = u.home
	clientField := client.Addr().String() + " " + strconv.Itoa(int(client.Port()))
	bash.env = b.buildEnv([]string{"SHELL=/bin/bash", "PWD=" + u.home, "LOGNAME=" + u.name, "XDG_SESSION_TYPE=tty", "MOTD_SHOWN=pam",
		"HOME=" + u.home, "LANG=en_US.UTF-8", "SSH_CONNECTION=" + clientField + " " + local.Addr().String() + " 22", "XDG_SESSION_CLASS=user",
		"TERM=xterm-256color", "USER=" + u.name, "SHLVL=1", "XDG_SESSION_ID=" + strconv.Itoa(sessionID),
		fmt.Sprintf("XDG_RUNTIME_DIR=/run/user/%d", u.uid), "SSH_CLIENT=" + clientField + " 22", userPath,
		fmt.Sprintf("DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/%d/bus", u.uid), "MAIL=/var/mail/" + u.name, "SSH_TTY=" + pty},
		[]string{"EDITOR=vim", "PAGER=less", "HISTCONTROL=ignoreboth", "LESSOPEN=| /usr/bin/lesspipe %s", "LESSCLOSE=/usr/bin/lesspipe %s %s", "GOPATH=" + u.home + "/go"})

	if limit >= 4 && b.rng.IntN(10) < 7 {
		b.sessionCommand(bash)
	}
	return bash
}

// sessionCommand starts the foreground command of an interactive shell.
func (b *builder) sessionCommand(bash *process) {
	var p *process
	switch b.rng.IntN(8) {
	case 0:
		p = b.spawn(bash, progVim, "vim", "notes/todo.md")
	case 1:
		p = b.spawn(bash, progTop, "top")
	case 2:
		p = b.spawn(bash, progLess, "less", "/var/log/syslog")
	case 3:
		p = b.spawn(bash, progTail, "tail", "-f", "/var/log/nginx/access.log")
	case 4:
		p = b.spawn(bash, progPython, "python3", "scripts/report.py", "--month", "11")
	case 5:
		p = b.spawn(bash, progGit, "git", "log", "--oneline")
	case 6:
		p = b.spawn(bash, progSSH, "ssh", "deploy@10.20.0.31")
		local := netip.AddrPortFrom(b.h.hostNS.net.addr4, b.ephemeralPort())
		b.connect(local, netip.MustParseAddrPort("10.20.0.31:22"), prioritySession, p)
	default:
		p = b.spawn(bash, progSleep, "sleep", strconv.Itoa(60*(1+b.rng.IntN(30))))
	}
	p.pgrp = p.pid
	p.env = replaceEnv(bash.env, "_", p.exe)
}

// processGroup is a kind of process group that the population repeats. add
// creates at most limit processes and returns how many it created, 0 when
// the host has no room for another group of its kind.
type processGroup struct {
	weight int
	add    func(b *builder, limit int) int
}

// groups are the repeated process groups, weighted so that a 10,000-process
// host is mostly web and database workers, containers and logins.
var groups = []processGroup{
	{22, func(b *builder, limit int) int {
		return b.countNew(func() { b.session(b.humans[b.rng.IntN(len(b.humans))], limit) })
	}},
	{20, (*builder).container},
	{12, (*builder).phpPool},
	{8, (*builder).postgres},
	{10, (*builder).gunicornApp},
	{10, (*builder).cronJob},
	{4, (*builder).javaService},
	{4, (*builder).nodeService},
}

// singletons are the services that exist once per host, created before the
// repeated groups.
var singletons = []func(b *builder, limit int) int{
	(*builder).hostNginx,
	(*builder).redisServer,
	func(b *builder, limit int) int {
		p := b.service(progPolkitd, "polkit.service", uidPolkitd, uidPolkitd, "/", "/usr/lib/polkit-1/polkitd", "--no-debug")
		b.addThreads(p, -1)
		b.unixPair(dbusSock, priorityStream, p, b.dbus)
		b.fallback = append(b.fallback, p)
		return 1
	},
	func(b *builder, limit int) int {
		p := b.service(progIrqbalance, "irqbalance.service", uidRoot, 0, "/root", "/usr/sbin/irqbalance", "--foreground")
		b.addThreads(p, -1)
		b.fallback = append(b.fallback, p)
		return 1
	},
	func(b *builder, limit int) int {
		p := b.service(progUnattended, "unattended-upgrades.service", uidRoot, 0, "/root", "/usr/bin/python3", "/usr/share/unattended-upgrades/unattended-upgrade-shutdown", "--wait-for-signal")
		b.addThreads(p, -1)
		return 1
	},
}

// countNew runs add and returns how many processes it created.
func (b *builder) countNew(add func()) int {
	before := len(b.h.procs)
	add()
	return len(b.h.procs) - before
}

// hostNginx creates the host's web server: a root master and one worker
// per CPU, all holding the listening sockets on 80 and 443.
func (b *builder) hostNginx(limit int) int {
	master := b.service(progNginx, "nginx.service", uidRoot, 0, "/root", "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;")
	holders := []*process{master}
	for range min(b.cfg.cpus, limit-1) {
		w := b.spawn(master, progNginx, "nginx: worker process")
		b.setUser(w, uidWWW, uidWWW)
		w.servePort = 443
		holders = append(holders, w)
		b.web = append(b.web, w)
		b.proxyClients = append(b.proxyClients, w)
	}
	for _, addr := range []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()} {
		b.listen(addr, 80, priorityListener, holders...)
		b.listen(addr, 443, priorityListener, holders...)
	}
	b.fallback = append(b.fallback, master)
	return len(holders)
}

// redisServer creates the host's Redis, listening on loopback.
func (b *builder) redisServer(limit int) int {
	p := b.service(progRedis, "redis-server.service", uidRedis, 112, "/var/lib/redis", "/usr/bin/redis-server 127.0.0.1:6379")
	b.addThreads(p, -1)
	b.listen(netip.MustParseAddr("127.0.0.1"), 6379, priorityListener, p)
	b.listen(netip.IPv6Loopback(), 6379, priorityListener, p)
	p.servePort = 6379
	b.redis = append(b.redis, p)
	return 1
}

// phpPool adds a PHP-FPM pool of workers, creating the master first.
func (b *builder) phpPool(limit int) int {
	created := 0
	if b.phpMaster == nil {
		b.phpMaster = b.service(progPhpFpm, "php8.2-fpm.service", uidRoot, 0, "/root", "php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)")
		b.fallback = append(b.fallback, b.phpMaster)
		created++
	}
	name := "www"
	if b.phpPools > 0 {
		name = fmt.Sprintf("site%02d", b.phpPools)
	}
	b.phpPools++
	path := "/run/php/php8.2-fpm-" + name + ".sock"
	holders := []*process{b.phpMaster}
	for range min(5+b.rng.IntN(16), limit-created) {
		w := b.spawn(b.phpMaster, progPhpFpm, "php-fpm: pool "+name)
		b.setUser(w, uidWWW, uidWWW)
		w.servePath = path
		holders = append(holders, w)
		b.phpWorkers = append(b.phpWorkers, w)
		b.appClients = append(b.appClients, w)
		created++
	}
	b.unixListen(path, 1, priorityListener, holders...)
	return created
}

// maxBackends is the max_connections of the synthetic clusters.
const maxBackends = 400

// postgres adds database backends, to a new cluster for the first group and
// now and then later (at most three clusters), or else to a cluster with
// room. It creates nothing when all three clusters are full.
func (b *builder) postgres(limit int) int {
	created := 0
	var open []*process
	for _, postmaster := range b.pgClusters {
		if b.pgBackendCount[postmaster.pid] < maxBackends {
			open = append(open, postmaster)
		}
	}
	var postmaster *process
	if len(b.pgClusters) == 0 || len(b.pgClusters) < 3 && (len(open) == 0 || b.rng.IntN(5) == 0) {
		port := uint16(5432 + len(b.pgClusters))
		cluster := "main"
		if len(b.pgClusters) > 0 {
			cluster = fmt.Sprintf("reports%d", len(b.pgClusters))
		}
		dataDir := "/var/lib/postgresql/15/" + cluster
		postmaster = b.service(progPostgres, "postgresql@15-"+cluster+".service", uidPostgres, 111, "/var/lib/postgresql",
			"/usr/lib/postgresql/15/bin/postgres", "-D", dataDir, "-c", "config_file=/etc/postgresql/15/"+cluster+"/postgresql.conf")
		postmaster.cwd = dataDir
		postmaster.env = withEnv(postmaster.env, "PGSYSCONFDIR=/etc/postgresql-common", "PG_GRANDPARENT_PID="+strconv.Itoa(postmaster.pid-1), "PG_OOM_ADJUST_FILE=/proc/self/oom_score_adj")
		postmaster.servePort = port
		b.pgTitles[postmaster.pid] = "15/" + cluster
		b.listen(netip.MustParseAddr("127.0.0.1"), port, priorityListener, postmaster)
		b.listen(netip.IPv6Loopback(), port, priorityListener, postmaster)
		b.unixListen(fmt.Sprintf("/var/run/postgresql/.s.PGSQL.%d", port), 1, priorityListener, postmaster)
		b.pgClusters = append(b.pgClusters, postmaster)
		created++
		for _, role := range []string{"checkpointer", "background writer", "walwriter", "autovacuum launcher", "logical replication launcher"} {
			if created == limit {
				break
			}
			b.spawn(postmaster, progPostgres, "postgres: 15/"+cluster+": "+role)
			created++
		}
	} else if len(open) > 0 {
		postmaster = open[b.rng.IntN(len(open))]
	} else {
		return 0
	}
	title := b.pgTitles[postmaster.pid]
	count := min(4+b.rng.IntN(17), limit-created, maxBackends-b.pgBackendCount[postmaster.pid])
	for range count {
		db := []string{"shop", "billing", "reports"}[b.rng.IntN(3)]
		peer := b.ephemeralPort()
		backend := b.spawn(postmaster, progPostgres, fmt.Sprintf("postgres: %s: %s %s 127.0.0.1(%d) idle", title, db, db, peer))
		backend.servePort, backend.peerPort = postmaster.servePort, peer
		b.pgBackends = append(b.pgBackends, backend)
		created++
	}
	b.pgBackendCount[postmaster.pid] += count
	return created
}

// gunicornApp adds a Python web application: a gunicorn master and its
// workers, listening on loopback behind nginx.
func (b *builder) gunicornApp(limit int) int {
	port := uint16(8000 + b.apps)
	b.apps++
	workers := min(2+b.rng.IntN(8), limit-1)
	argv := []string{"/opt/shop/venv/bin/python3", "/opt/shop/venv/bin/gunicorn", "--workers", strconv.Itoa(workers), "--bind", fmt.Sprintf("127.0.0.1:%d", port), "shop.wsgi:application"}
	master := b.service(progGunicorn, fmt.Sprintf("shop-%d.service", port), uidShop, uidShop, "/opt/shop", argv...)
	master.cwd = "/opt/shop/app"
	master.env = withEnv(master.env, "PYTHONUNBUFFERED=1", "DJANGO_SETTINGS_MODULE=shop.settings.production", "VIRTUAL_ENV=/opt/shop/venv")
	holders := []*process{master}
	for range workers {
		w := b.spawn(master, progGunicorn, argv...)
		w.servePort = port
		holders = append(holders, w)
		b.appClients = append(b.appClients, w)
		b.upstreams = append(b.upstreams, w)
	}
	b.listen(netip.MustParseAddr("127.0.0.1"), port, priorityListener, holders...)
	return len(holders)
}

// javaService adds a Spring service on a JVM with a few dozen threads.
func (b *builder) javaService(limit int) int {
	port := uint16(8080 + b.apps)
	b.apps++
	p := b.service(progJava, fmt.Sprintf("billing-%d.service", port), uidBilling, uidBilling, "/opt/billing",
		"/usr/bin/java", "-Xms2g", "-Xmx2g", "-XX:+UseG1GC", "-Dserver.port="+strconv.Itoa(int(port)), "-Dspring.profiles.active=prod", "-jar", "/opt/billing/lib/billing-service.jar")
	p.cwd = "/opt/billing"
	p.env = withEnv(p.env, "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64", "JAVA_OPTS=-Xms2g -Xmx2g -XX:+UseG1GC")
	if b.rng.IntN(4) == 0 {
		p.preload = libDir + "libjemalloc.so.2"
		p.env = withEnv(p.env, "LD_PRELOAD="+p.preload)
	}
	b.addThreads(p, len(javaThreads)+b.rng.IntN(60))
	b.listen(netip.IPv6Unspecified(), port, priorityListener, p)
	p.servePort, p.acceptUID = port, uidBilling
	b.web = append(b.web, p)
	b.appClients = append(b.appClients, p)
	b.upstreams = append(b.upstreams, p)
	b.fallback = append(b.fallback, p)
	return 1
}

// nodeService adds a Node.js service listening on loopback.
func (b *builder) nodeService(limit int) int {
	port := uint16(3000 + b.apps)
	b.apps++
	p := b.service(progNode, fmt.Sprintf("notify-%d.service", port), uidNotify, uidNotify, "/srv/notify", "node", "/srv/notify/server.js")
	p.cwd = "/srv/notify"
	p.env = withEnv(p.env, "NODE_ENV=production", "PORT="+strconv.Itoa(int(port)))
	b.addThreads(p, -1)
	b.listen(netip.MustParseAddr("127.0.0.1"), port, priorityListener, p)
	p.servePort = port
	b.appClients = append(b.appClients, p)
	b.upstreams = append(b.upstreams, p)
	return 1
}

// cronJob runs a job from cron: the CRON child, its shell and the command,
// and now and then a finished child that the shell has not reaped yet.
func (b *builder) cronJob(limit int) int {
	child := b.spawn(b.cron, progCron, "/usr/sbin/CRON", "-f")
	in, out := b.pipe(), b.pipe()
	child.files = append(child.files, fdSpec{target: in, flags: 01, mntID: 14, size: -1}, fdSpec{target: out, flags: 0, mntID: 14, size: -1})
	if limit < 2 {
		return 1
	}

	var jobUser *user
	var command []string
	var prog *program
	switch b.rng.IntN(3) {
	case 0:
		jobUser = b.userByID(uidETL)
		prog = progPython
		command = []string{"/usr/bin/python3", "/opt/etl/export.py", "--since", "yesterday"}
	case 1:
		jobUser = b.userByID(uidRoot)
		prog = progRsync
		command = []string{"/usr/bin/rsync", "-a", "--delete", "/var/www/", "/srv/backup/www/"}
	default:
		jobUser = &b.humans[b.rng.IntN(len(b.humans))]
		prog = progSleep
		command = []string{"sleep", strconv.Itoa(30 + b.rng.IntN(600))}
	}
	shell := b.spawn(child, progDash, "/bin/sh", "-c", joinArgs(command)+" >> /var/log/cron-jobs.log 2>&1")
	b.setUser(shell, jobUser.uid, jobUser.gid)
	shell.cwd = jobUser.home
	shell.stdio = [3]string{in, out, out}
	shell.env = b.buildEnv([]string{"HOME=" + jobUser.home, "LOGNAME=" + jobUser.name, "PATH=/usr/bin:/bin", "SHELL=/bin/sh", "PWD=" + jobUser.home, "LANG=C.UTF-8"}, nil)
	if limit < 3 {
		return 2
	}

	job := b.spawn(shell, prog, command...)
	job.env = replaceEnv(shell.env, "_", job.exe)
	created := 3
	if limit >= 4 && b.rng.IntN(6) == 0 {
		z := b.spawn(shell, progSleep, "sleep", "1")
		z.zombie, z.state = true, 'Z'
		created++
	}
	return created
}

// container starts a Docker container: a containerd shim on the host and
// the container's processes in their own pid, mount and network
// namespaces. The first container also starts containerd and dockerd.
func (b *builder) container(limit int) int {
	created := 0
	if b.containerd == nil {
		b.containerd = b.service(progContainerd, "containerd.service", uidRoot, 0, "/root", "/usr/bin/containerd")
		b.addThreads(b.containerd, -1)
		b.unixListen("/run/containerd/containerd.sock", 1, priorityListener, b.containerd)
		b.unixListen("/run/containerd/containerd.sock.ttrpc", 1, priorityListener, b.containerd)
		b.fallback = append(b.fallback, b.containerd)
		created++
		if created == limit {
			return created
		}
		b.dockerd = b.service(progDockerd, "docker.service", uidRoot, 0, "/root", "/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock")
		b.addThreads(b.dockerd, -1)
		b.unixListen("/run/docker.sock", 1, priorityListener, b.pid1, b.dockerd)
		b.unixPair("/run/containerd/containerd.sock", priorityStream, b.dockerd, b.containerd)
		b.fallback = append(b.fallback, b.dockerd)
		created++
		if created == limit {
			return created
		}
	}
	id := b.hexID(64)
	shim := b.spawn(b.pid1, progShim, "/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", id, "-address", "/run/containerd/containerd.sock")
	shim.env = b.containerd.env
	shim.cgroup = "/system.slice/containerd.service"
	shim.stdio = [3]string{"/dev/null", "/dev/null", "/dev/null"}
	shim.cwd = containerDir + id
	b.addThreads(shim, -1)
	b.unixListen("/run/containerd/s/"+b.hexID(64), 1, priorityStream, shim)
	created++
	if created == limit {
		return created
	}

	b.nextIP++
	net := &netNamespace{inode: b.newNamespaceInode(), addr4: netip.AddrFrom4([4]byte{172, 17, byte(b.nextIP / 250), byte(2 + b.nextIP%250)})}
	b.h.netns = append(b.h.netns, net)
	ns := &namespaces{pid: b.newNamespaceInode(), mnt: b.newNamespaceInode(), net: net}
	enter := func(p *process, nsPID int) {
		p.ns, p.nsPID = ns, nsPID
		if net.leader == nil {
			net.leader = p
		}
	}
	output := b.pipe()
	shim.files = append(shim.files, fdSpec{target: output, flags: 0, mntID: 14, size: -1})
	hostname := "HOSTNAME=" + id[:12]
	cgroup := "/system.slice/docker-" + id + ".scope"

	var prog *program
	var argv []string
	var env []string
	var port uint16
	var workerUID int
	switch b.rng.IntN(4) {
	case 0, 1:
		prog, port, workerUID = progNginx, 80, uidWWW
		argv = []string{"nginx: master process nginx -g daemon off;"}
		env = []string{servicePath, hostname, "NGINX_VERSION=1.25.3", "NJS_VERSION=0.8.2", "PKG_RELEASE=1~bookworm", "HOME=/root"}
	case 2:
		prog, port, workerUID = progContainerPy, 8000, uidWWW
		argv = []string{"/usr/local/bin/python3", "/usr/local/bin/gunicorn", "-b", "0.0.0.0:8000", "app:app"}
		env = []string{"PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", hostname, "LANG=C.UTF-8", "GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305", "PYTHON_VERSION=3.12.1", "HOME=/root"}
	default:
		prog, port, workerUID = progContainerRedis, 6379, 999
		argv = []string{"redis-server *:6379"}
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", hostname, "GOSU_VERSION=1.17", "REDIS_VERSION=7.2.4", "HOME=/root"}
	}
	first := b.spawn(shim, prog, argv...)
	enter(first, 1)
	first.cgroup, first.seccomp, first.cwd = cgroup, 2, "/"
	first.env = env
	first.stdio = [3]string{"/dev/null", output, output}
	created++
	holders := []*process{first}
	if prog == progContainerRedis {
		b.setUser(first, workerUID, workerUID)
		b.addThreads(first, -1)
		b.web = append(b.web, first)
		first.servePort, first.acceptUID = port, workerUID
	} else {
		for i := range min(1+b.rng.IntN(4), limit-created) {
			w := b.spawn(first, prog, argv...)
			if prog == progNginx {
				w.argv = []string{"nginx: worker process"}
			}
			enter(w, 7+i)
			b.setUser(w, workerUID, workerUID)
			w.servePort = port
			holders = append(holders, w)
			b.web = append(b.web, w)
			created++
		}
	}
	b.listen(netip.IPv4Unspecified(), port, priorityListener, holders...)
	return created
}

// newNamespaceInode returns the inode of a namespace created after boot.
func (b *builder) newNamespaceInode() uint64 {
	b.nextNS += 1 + uint64(b.rng.IntN(3))
	return b.nextNS
}

// joinArgs joins a command for a shell's -c argument.
func joinArgs(argv []string) string {
	out := ""
	for i, a := range argv {
		if i > 0 {
			out += " "
		}
		out += a
	}
	return out
}
