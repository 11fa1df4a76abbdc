package main

// libDir is the directory of Debian 12's shared libraries on x86_64.
const libDir = "/usr/lib/x86_64-linux-gnu/"

// The library lists follow what these programs map on Debian 12. libc and
// the dynamic loader are added to every dynamically linked program.
var (
	systemdLibs = []string{"/usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so", "libseccomp.so.2.5.4", "libselinux.so.1", "libmount.so.1.1.0", "libcap.so.2.66", "libcrypt.so.1.1.0", "libgcrypt.so.20.4.1", "liblzma.so.5.4.1", "libzstd.so.1.5.4", "liblz4.so.1.9.4", "libpcre2-8.so.0.11.2", "libblkid.so.1.1.0", "libkmod.so.2.4.0", "libaudit.so.1.0.0", "libpam.so.0.85.1", "libacl.so.1.1.2301", "libapparmor.so.1.8.3", "libcap-ng.so.0.0.0", "libgpg-error.so.0.33.1", "libm.so.6"}
	sshdLibs    = []string{"libcrypto.so.3", "libz.so.1.2.13", "libwrap.so.0.7.6", "libaudit.so.1.0.0", "libpam.so.0.85.1", "libsystemd.so.0.35.0", "libselinux.so.1", "libgssapi_krb5.so.2.2", "libkrb5.so.3.3", "libcom_err.so.2.1", "libcrypt.so.1.1.0", "libpcre2-8.so.0.11.2", "libnsl.so.2.0.1", "libcap-ng.so.0.0.0", "libk5crypto.so.3.1", "libkrb5support.so.0.1", "libkeyutils.so.1.10", "libresolv.so.2", "libtirpc.so.3.0.0", "libgcrypt.so.20.4.1", "liblzma.so.5.4.1", "libzstd.so.1.5.4", "liblz4.so.1.9.4", "libcap.so.2.66", "libgpg-error.so.0.33.1"}
	nginxLibs   = []string{"libcrypt.so.1.1.0", "libpcre2-8.so.0.11.2", "libssl.so.3", "libcrypto.so.3", "libz.so.1.2.13"}
	pgLibs      = []string{"libzstd.so.1.5.4", "liblz4.so.1.9.4", "libxml2.so.2.9.14", "libpam.so.0.85.1", "libssl.so.3", "libcrypto.so.3", "libgssapi_krb5.so.2.2", "libz.so.1.2.13", "libm.so.6", "libldap-2.5.so.0.1.11", "libicui18n.so.72.1", "libicuuc.so.72.1", "libsystemd.so.0.35.0", "liblber-2.5.so.0.1.11", "libstdc++.so.6.0.30", "libgcc_s.so.1", "libicudata.so.72.1", "libkrb5.so.3.3", "libk5crypto.so.3.1", "libcom_err.so.2.1", "libsasl2.so.2.0.25", "libgnutls.so.30.34.3", "liblzma.so.5.4.1", "libcap.so.2.66", "libgcrypt.so.20.4.1"}
	pythonLibs  = []string{"libm.so.6", "libz.so.1.2.13", "libexpat.so.1.8.10", "/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so", "libssl.so.3", "libcrypto.so.3", "/usr/lib/python3.11/lib-dynload/_hashlib.cpython-311-x86_64-linux-gnu.so", "/usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so", "/usr/lib/python3.11/lib-dynload/_bz2.cpython-311-x86_64-linux-gnu.so", "libbz2.so.1.0.4", "/usr/lib/python3.11/lib-dynload/_lzma.cpython-311-x86_64-linux-gnu.so", "liblzma.so.5.4.1", "/usr/lib/python3.11/lib-dynload/_uuid.cpython-311-x86_64-linux-gnu.so", "libuuid.so.1.3.0", "/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so", "libffi.so.8.1.2", "/usr/lib/python3/dist-packages/psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so", "libpq.so.5.15", "libgssapi_krb5.so.2.2", "libldap-2.5.so.0.1.11", "libkrb5.so.3.3", "libk5crypto.so.3.1", "libcom_err.so.2.1", "libkrb5support.so.0.1", "liblber-2.5.so.0.1.11", "libsasl2.so.2.0.25", "libgnutls.so.30.34.3"}
	javaLibs    = []string{"libz.so.1.2.13", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libjli.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so", "libstdc++.so.6.0.30", "libm.so.6", "libgcc_s.so.1", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libjimage.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libjava.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libzip.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libnio.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libnet.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libmanagement.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libextnet.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libsctp.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libverify.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libprefs.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libj2pkcs11.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libmanagement_ext.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libawt.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libawt_headless.so", "/usr/lib/jvm/java-17-openjdk-amd64/lib/libfontmanager.so", "libfreetype.so.6.18.3", "libpng16.so.16.39.0", "libharfbuzz.so.0.60000.0", "libbrotlidec.so.1.0.9", "libglib-2.0.so.0.7400.6", "libgraphite2.so.3.2.1", "libbrotlicommon.so.1.0.9", "libpcre2-8.so.0.11.2"}
	phpLibs     = []string{"libargon2.so.1", "libresolv.so.2", "libxml2.so.2.9.14", "libssl.so.3", "libcrypto.so.3", "libpcre2-8.so.0.11.2", "libsodium.so.23.3.0", "libz.so.1.2.13", "libm.so.6", "libicuuc.so.72.1", "liblzma.so.5.4.1", "libicudata.so.72.1", "libstdc++.so.6.0.30", "libgcc_s.so.1", "/usr/lib/php/20220829/opcache.so", "/usr/lib/php/20220829/pdo.so", "/usr/lib/php/20220829/pdo_mysql.so", "/usr/lib/php/20220829/mysqlnd.so", "/usr/lib/php/20220829/curl.so", "libcurl.so.4.8.0", "/usr/lib/php/20220829/mbstring.so", "libonig.so.5.3.0", "/usr/lib/php/20220829/intl.so", "libicui18n.so.72.1", "/usr/lib/php/20220829/gd.so", "libgd.so.3.0.11"}
	redisLibs   = []string{"libm.so.6", "libsystemd.so.0.35.0", "libssl.so.3", "libcrypto.so.3", "liblzma.so.5.4.1", "libzstd.so.1.5.4", "liblz4.so.1.9.4", "libcap.so.2.66", "libgcrypt.so.20.4.1", "libgpg-error.so.0.33.1"}
	nodeLibs    = []string{"libnode.so.108", "libuv.so.1.0.0", "libcares.so.2.5.4", "libnghttp2.so.14.24.1", "libbrotlidec.so.1.0.9", "libbrotlienc.so.1.0.9", "libcrypto.so.3", "libssl.so.3", "libicui18n.so.72.1", "libicuuc.so.72.1", "libz.so.1.2.13", "libstdc++.so.6.0.30", "libm.so.6", "libgcc_s.so.1", "libbrotlicommon.so.1.0.9", "libicudata.so.72.1"}
	bashLibs    = []string{"libtinfo.so.6.4"}
	toolLibs    = []string{"libselinux.so.1", "libpcre2-8.so.0.11.2", "libtinfo.so.6.4", "libacl.so.1.1.2301", "libgpm.so.2", "libpython3.11.so.1.0", "libm.so.6", "libz.so.1.2.13", "libexpat.so.1.8.10", "libsodium.so.23.3.0"}
	dbusLibs    = []string{"libexpat.so.1.8.10", "libsystemd.so.0.35.0", "libselinux.so.1", "libaudit.so.1.0.0", "libapparmor.so.1.8.3", "libcap-ng.so.0.0.0", "libcap.so.2.66", "libgcrypt.so.20.4.1", "liblz4.so.1.9.4", "liblzma.so.5.4.1", "libzstd.so.1.5.4", "libpcre2-8.so.0.11.2", "libgpg-error.so.0.33.1"}
	rsyslogLibs = []string{"libz.so.1.2.13", "libestr.so.0.0.0", "libfastjson.so.4.3.0", "libsystemd.so.0.35.0", "libuuid.so.1.3.0", "/usr/lib/x86_64-linux-gnu/rsyslog/lmnet.so", "/usr/lib/x86_64-linux-gnu/rsyslog/imuxsock.so", "/usr/lib/x86_64-linux-gnu/rsyslog/imklog.so", "libcap.so.2.66", "libgcrypt.so.20.4.1", "liblz4.so.1.9.4", "liblzma.so.5.4.1", "libzstd.so.1.5.4", "libgpg-error.so.0.33.1"}
	polkitLibs  = []string{"libpolkit-gobject-1.so.0.0.0", "libglib-2.0.so.0.7400.6", "libgobject-2.0.so.0.7400.6", "libgio-2.0.so.0.7400.6", "libexpat.so.1.8.10", "libmozjs-102.so.102.15.1", "libsystemd.so.0.35.0", "libpam.so.0.85.1", "libstdc++.so.6.0.30", "libm.so.6", "libgcc_s.so.1", "libffi.so.8.1.2", "libpcre2-8.so.0.11.2", "libgmodule-2.0.so.0.7400.6", "libz.so.1.2.13", "libmount.so.1.1.0", "libselinux.so.1", "libblkid.so.1.1.0"}
)

// Descriptor notation for program.files: "@eventpoll", "@eventfd",
// "@timerfd", "@signalfd", "@inotify" and "@pidfd" are anonymous inodes,
// "@pipe" is a pipe, "@deleted:<path>" a deleted file and "+<path>" a log
// opened for appending. "%d" or "%x" in an entry is a decimal or hex
// number drawn anew for every copy, and such entries repeat once the list is
// used up. "{id}" is a hex number too, in an entry used once.
var (
	daemonFiles   = []string{"@eventpoll", "@signalfd", "@inotify", "@timerfd", "@pipe", "@pipe", "/dev/urandom", "@eventfd"}
	systemdFiles  = []string{"/dev/kmsg", "@eventpoll", "@signalfd", "@inotify", "@timerfd", "/proc/1/mountinfo", "/proc/swaps", "/sys/fs/cgroup", "@inotify", "/dev/autofs", "@pidfd%d", "/sys/fs/cgroup/system.slice/unit-%x.service", "@inotify%d"}
	journaldFiles = []string{"/dev/kmsg", "@eventpoll", "@signalfd", "@inotify", "@timerfd", "/var/log/journal/3f2a9c1e8b7d4e05a6c1d2b3e4f50617/system.journal", "/var/log/journal/3f2a9c1e8b7d4e05a6c1d2b3e4f50617/user-1000@%x-000000000000%x.journal"}
	rsyslogFiles  = []string{"/proc/kmsg", "@pipe", "@pipe"} // and the logs that buildBase opens

	nginxFiles  = []string{"+/var/log/nginx/access.log", "+/var/log/nginx/error.log", "@eventpoll", "@eventfd", "/var/www/html/static/js/chunk-%x.js"}
	phpFiles    = []string{"+/var/log/php8.2-fpm.log", "@eventpoll", "/dev/urandom", "/var/lib/php/sessions/sess_%x"}
	pgFiles     = []string{"@pipe", "@pipe", "@eventpoll", "+/var/log/postgresql/postgresql-15-main.log", "/var/lib/postgresql/15/main/base/16384/%d"}
	javaFiles   = []string{"/usr/lib/jvm/java-17-openjdk-amd64/lib/modules", "/opt/billing/lib/billing-service.jar", "+/var/log/billing/billing.log", "@eventpoll", "@pipe", "@pipe", "/dev/random", "/dev/urandom", "/opt/billing/lib/dependency-%d.jar"}
	pythonFiles = []string{"+/var/log/shop/gunicorn.log", "@deleted:/tmp/wgunicorn-{id}", "/dev/urandom", "@eventpoll", "/opt/shop/app/static/img-%x.png"}
	redisFiles  = []string{"@pipe", "@pipe", "@eventpoll", "+/var/log/redis/redis-server.log", "/var/lib/redis/dump.rdb"}
	nodeFiles   = []string{"@eventpoll", "@eventfd", "@pipe", "@pipe", "/dev/null", "+/var/log/notify/notify.log", "/srv/notify/node_modules/.cache/chunk-%x.json"}
	goFiles     = []string{"@eventpoll", "@pipe", "@pipe", "/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db", "/run/containerd/io.containerd.runtime.v2.task/moby/%x/log"}
	toolFiles   = []string{"/dev/tty", "@pipe"}
	noFiles     []string
)

// Programs of a Debian 12 server. Their maps and fds weights are relative
// to each other: a JVM maps and opens far more than a shell.
var (
	progSystemd    = &program{comm: "systemd", exe: "/usr/lib/systemd/systemd", libs: systemdLibs, maps: 2.5, fds: 5, files: systemdFiles}
	progJournald   = &program{comm: "systemd-journal", exe: "/usr/lib/systemd/systemd-journald", libs: systemdLibs[:6], maps: 1.2, fds: 4, files: journaldFiles}
	progUdevd      = &program{comm: "systemd-udevd", exe: "/usr/lib/systemd/systemd-udevd", libs: systemdLibs, maps: 2, fds: 1, files: daemonFiles}
	progNetworkd   = &program{comm: "systemd-network", exe: "/usr/lib/systemd/systemd-networkd", libs: systemdLibs[:8], maps: 1.3, fds: 1, files: daemonFiles}
	progResolved   = &program{comm: "systemd-resolve", exe: "/usr/lib/systemd/systemd-resolved", libs: systemdLibs[:8], maps: 1.3, fds: 1.2, files: daemonFiles}
	progTimesyncd  = &program{comm: "systemd-timesyn", exe: "/usr/lib/systemd/systemd-timesyncd", libs: systemdLibs[:6], maps: 1.2, fds: 1, files: daemonFiles, threads: []string{"sd-resolve"}}
	progLogind     = &program{comm: "systemd-logind", exe: "/usr/lib/systemd/systemd-logind", libs: systemdLibs[:8], maps: 1.3, fds: 1.5, files: daemonFiles}
	progUserSd     = &program{comm: "systemd", exe: "/usr/lib/systemd/systemd", libs: systemdLibs, maps: 2.5, fds: 1.5, files: systemdFiles}
	progDbus       = &program{comm: "dbus-daemon", exe: "/usr/bin/dbus-daemon", libs: dbusLibs, maps: 1.3, fds: 1, files: daemonFiles}
	progCron       = &program{comm: "cron", exe: "/usr/sbin/cron", libs: []string{"libpam.so.0.85.1", "libselinux.so.1", "libaudit.so.1.0.0", "libpcre2-8.so.0.11.2", "libcap-ng.so.0.0.0"}, maps: 0.8, fds: 0.5, files: daemonFiles}
	progRsyslogd   = &program{comm: "rsyslogd", exe: "/usr/sbin/rsyslogd", libs: rsyslogLibs, maps: 1.5, fds: 1, files: rsyslogFiles, threads: []string{"in:imuxsock", "in:imklog", "rs:main Q:Reg"}}
	progSshd       = &program{comm: "sshd", exe: "/usr/sbin/sshd", libs: sshdLibs, maps: 2.3, fds: 0.5, files: daemonFiles}
	progAgetty     = &program{comm: "agetty", exe: "/usr/sbin/agetty", libs: nil, maps: 0.5, fds: 0.3, files: noFiles}
	progPolkitd    = &program{comm: "polkitd", exe: "/usr/lib/polkit-1/polkitd", libs: polkitLibs, maps: 2.5, fds: 1, files: daemonFiles, threads: []string{"gmain", "gdbus", "JS Helper", "JS Helper"}}
	progContainerd = &program{comm: "containerd", exe: "/usr/bin/containerd", static: true, maps: 0.6, fds: 2, files: goFiles, threads: []string{"containerd", "containerd", "containerd", "containerd", "containerd", "containerd", "containerd", "containerd", "containerd", "containerd", "containerd", "containerd"}}
	progDockerd    = &program{comm: "dockerd", exe: "/usr/sbin/dockerd", static: true, maps: 0.6, fds: 2, files: goFiles, threads: []string{"dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd", "dockerd"}}
	progShim       = &program{comm: "containerd-shim", exe: "/usr/bin/containerd-shim-runc-v2", static: true, maps: 0.5, fds: 1, files: goFiles, threads: []string{"containerd-shim", "containerd-shim", "containerd-shim", "containerd-shim", "containerd-shim", "containerd-shim", "containerd-shim", "containerd-shim", "containerd-shim", "containerd-shim"}}
	progNginx      = &program{comm: "nginx", exe: "/usr/sbin/nginx", libs: nginxLibs, maps: 1, fds: 1.2, files: nginxFiles}
	progPhpFpm     = &program{comm: "php-fpm8.2", exe: "/usr/sbin/php-fpm8.2", libs: phpLibs, maps: 2.8, fds: 0.8, files: phpFiles}
	progPostgres   = &program{comm: "postgres", exe: "/usr/lib/postgresql/15/bin/postgres", libs: pgLibs, maps: 2.6, fds: 1.5, files: pgFiles}
	progGunicorn   = &program{comm: "gunicorn", exe: "/usr/bin/python3.11", libs: pythonLibs, maps: 3, fds: 1, files: pythonFiles}
	progJava       = &program{comm: "java", exe: "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", libs: javaLibs, maps: 5, fds: 5, files: javaFiles, jit: "rwxp", threads: javaThreads}
	progRedis      = &program{comm: "redis-server", exe: "/usr/bin/redis-server", libs: redisLibs, maps: 1.3, fds: 1.2, files: redisFiles, threads: []string{"bio_close_file", "bio_aof", "bio_lazy_free", "jemalloc_bg_thd"}}
	progNode       = &program{comm: "node", exe: "/usr/bin/node", libs: nodeLibs, maps: 3, fds: 1.5, files: nodeFiles, jit: "r-xp", threads: []string{"node", "node", "node", "node", "node", "libuv-worker", "libuv-worker", "libuv-worker", "libuv-worker"}}
	progBash       = &program{comm: "bash", exe: "/usr/bin/bash", libs: bashLibs, maps: 0.8, fds: 0, files: noFiles}
	progDash       = &program{comm: "sh", exe: "/usr/bin/dash", libs: nil, maps: 0.5, fds: 0, files: noFiles}
	progVim        = &program{comm: "vim", exe: "/usr/bin/vim.basic", libs: toolLibs, maps: 1.8, fds: 0.2, files: toolFiles}
	progTop        = &program{comm: "top", exe: "/usr/bin/top", libs: []string{"libproc2.so.0.0.1", "libtinfo.so.6.4", "libsystemd.so.0.35.0", "libncursesw.so.6.4"}, maps: 0.9, fds: 0.2, files: toolFiles}
	progLess       = &program{comm: "less", exe: "/usr/bin/less", libs: bashLibs, maps: 0.6, fds: 0.2, files: toolFiles}
	progTail       = &program{comm: "tail", exe: "/usr/bin/tail", libs: nil, maps: 0.5, fds: 0.2, files: []string{"@inotify"}}
	progSleep      = &program{comm: "sleep", exe: "/usr/bin/sleep", libs: nil, maps: 0.5, fds: 0, files: noFiles}
	progPython     = &program{comm: "python3", exe: "/usr/bin/python3.11", libs: pythonLibs, maps: 2.5, fds: 0.4, files: []string{"/dev/urandom", "@pipe"}}
	progUnattended = &program{comm: "unattended-upgr", exe: "/usr/bin/python3.11", libs: pythonLibs, maps: 2.5, fds: 0.5, files: []string{"@eventpoll", "/var/log/unattended-upgrades/unattended-upgrades-shutdown.log"}, threads: []string{"gmain"}}
	progIrqbalance = &program{comm: "irqbalance", exe: "/usr/sbin/irqbalance", libs: []string{"libcap-ng.so.0.0.0", "libglib-2.0.so.0.7400.6", "libnuma.so.1.0.0", "libm.so.6", "libpcre2-8.so.0.11.2"}, maps: 1, fds: 0.5, files: daemonFiles, threads: []string{"gmain"}}
	progSSH        = &program{comm: "ssh", exe: "/usr/bin/ssh", libs: sshdLibs[:6], maps: 1.5, fds: 0.2, files: toolFiles}
	progGit        = &program{comm: "git", exe: "/usr/bin/git", libs: []string{"libpcre2-8.so.0.11.2", "libz.so.1.2.13"}, maps: 0.7, fds: 0.3, files: toolFiles}
)

// javaThreads are the threads of a HotSpot JVM serving requests.
var javaThreads = []string{"java", "GC Thread#0", "G1 Main Marker", "G1 Conc#0", "G1 Refine#0", "G1 Service", "VM Periodic Tas", "VM Thread", "Reference Handl", "Finalizer", "Signal Dispatch", "Service Thread", "Monitor Deflati", "C2 CompilerThre", "C1 CompilerThre", "Notification Th", "Common-Cleaner", "GC Thread#1", "GC Thread#2", "GC Thread#3", "Catalina-utilit", "Catalina-utilit", "container-0", "http-nio-8080-B", "http-nio-8080-P", "http-nio-8080-A"}

// kernelThreadNames are the kernel threads of a Debian 6.1 kernel that do
// not belong to one CPU.
var kernelThreadNames = []string{"rcu_gp", "rcu_par_gp", "slub_flushwq", "netns", "mm_percpu_wq", "rcu_tasks_kthread", "rcu_tasks_rude_kthread", "rcu_tasks_trace_kthread", "rcu_preempt", "kdevtmpfs", "inet_frag_wq", "kauditd", "khungtaskd", "oom_reaper", "writeback", "kcompactd0", "ksmd", "khugepaged", "kintegrityd", "kblockd", "blkcg_punt_bio", "tpm_dev_wq", "edac-poller", "devfreq_wq", "kswapd0", "kthrotld", "acpi_thermal_pm", "mld", "ipv6_addrconf", "kstrp", "zswap-shrink", "ata_sff", "scsi_eh_0", "scsi_tmf_0", "jbd2/vda1-8", "ext4-rsv-conver", "cryptd"}

// perCPUKernelThreads are created once per CPU, with the CPU number appended.
var perCPUKernelThreads = []string{"cpuhp/%d", "migration/%d", "ksoftirqd/%d", "kworker/%d:0H-events_highpri", "kworker/%d:1-events", "kworker/%d:2-mm_percpu_wq"}
