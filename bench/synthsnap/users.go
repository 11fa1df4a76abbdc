package main

import "fmt"

// User ids of the service accounts, as a Debian 12 install assigns them.
const (
	uidRoot       = 0
	uidWWW        = 33
	uidMessagebus = 100
	uidSshd       = 101
	uidPostgres   = 105
	uidRedis      = 106
	uidPolkitd    = 995
	uidResolve    = 996
	uidTimesync   = 997
	uidNetwork    = 998
	uidShop       = 990
	uidBilling    = 991
	uidNotify     = 992
	uidETL        = 993
	firstHuman    = 1000
)

// humanNames name the interactive users. Hosts with more users get
// numbered accounts after these.
var humanNames = []string{"admin", "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "wendy"}

// buildUsers fills /etc/passwd and /etc/group: Debian's system accounts,
// the service accounts the programs run as, and one interactive user per
// 150 processes (at least 4, at most 60).
func (b *builder) buildUsers() {
	sys := func(name string, uid, gid int, gecos, home, shell string) {
		b.h.users = append(b.h.users, user{name: name, uid: uid, gid: gid, gecos: gecos, home: home, shell: shell})
	}
	nologin := "/usr/sbin/nologin"
	sys("root", 0, 0, "root", "/root", "/bin/bash")
	sys("daemon", 1, 1, "daemon", "/usr/sbin", nologin)
	sys("bin", 2, 2, "bin", "/bin", nologin)
	sys("sys", 3, 3, "sys", "/dev", nologin)
	sys("sync", 4, 65534, "sync", "/bin", "/bin/sync")
	sys("games", 5, 60, "games", "/usr/games", nologin)
	sys("man", 6, 12, "man", "/var/cache/man", nologin)
	sys("lp", 7, 7, "lp", "/var/spool/lpd", nologin)
	sys("mail", 8, 8, "mail", "/var/mail", nologin)
	sys("news", 9, 9, "news", "/var/spool/news", nologin)
	sys("uucp", 10, 10, "uucp", "/var/spool/uucp", nologin)
	sys("proxy", 13, 13, "proxy", "/bin", nologin)
	sys("www-data", uidWWW, uidWWW, "www-data", "/var/www", nologin)
	sys("backup", 34, 34, "backup", "/var/backups", nologin)
	sys("list", 38, 38, "Mailing List Manager", "/var/list", nologin)
	sys("irc", 39, 39, "ircd", "/run/ircd", nologin)
	sys("_apt", 42, 65534, "", "/nonexistent", nologin)
	sys("nobody", 65534, 65534, "nobody", "/nonexistent", nologin)
	sys("messagebus", uidMessagebus, 107, "", "/nonexistent", nologin)
	sys("sshd", uidSshd, 65534, "", "/run/sshd", nologin)
	sys("postgres", uidPostgres, 111, "PostgreSQL administrator,,,", "/var/lib/postgresql", "/bin/bash")
	sys("redis", uidRedis, 112, "", "/var/lib/redis", nologin)
	sys("shop", uidShop, uidShop, "shop web application", "/opt/shop", nologin)
	sys("billing", uidBilling, uidBilling, "billing service", "/opt/billing", nologin)
	sys("notify", uidNotify, uidNotify, "notification service", "/srv/notify", nologin)
	sys("etl", uidETL, uidETL, "nightly exports", "/opt/etl", nologin)
	sys("polkitd", uidPolkitd, uidPolkitd, "polkit", "/nonexistent", nologin)
	sys("systemd-resolve", uidResolve, uidResolve, "systemd Resolver", "/", nologin)
	sys("systemd-timesync", uidTimesync, uidTimesync, "systemd Time Synchronization", "/", nologin)
	sys("systemd-network", uidNetwork, uidNetwork, "systemd Network Management", "/", nologin)
	sys("systemd-coredump", 999, 999, "systemd Core Dumper", "/", nologin)

	count := min(max(b.cfg.procs/150, 4), 60)
	for i := range count {
		name := fmt.Sprintf("user%02d", i)
		if i < len(humanNames) {
			name = humanNames[i]
		}
		u := user{name: name, uid: firstHuman + i, gid: firstHuman + i, gecos: name + ",,,", home: "/home/" + name, shell: "/bin/bash", groupNames: []string{"users"}}
		if i == 0 || i%7 == 3 {
			u.groupNames = append(u.groupNames, "sudo", "adm")
		}
		b.h.users = append(b.h.users, u)
		b.humans = append(b.humans, u)
	}

	for _, g := range []group{{name: "root", gid: 0}, {name: "daemon", gid: 1}, {name: "bin", gid: 2}, {name: "sys", gid: 3},
		{name: "adm", gid: 4}, {name: "tty", gid: 5}, {name: "disk", gid: 6}, {name: "lp", gid: 7}, {name: "mail", gid: 8},
		{name: "news", gid: 9}, {name: "uucp", gid: 10}, {name: "man", gid: 12}, {name: "proxy", gid: 13}, {name: "kmem", gid: 15},
		{name: "sudo", gid: 27}, {name: "www-data", gid: uidWWW}, {name: "backup", gid: 34}, {name: "list", gid: 38},
		{name: "irc", gid: 39}, {name: "shadow", gid: 42}, {name: "utmp", gid: 43}, {name: "games", gid: 60},
		{name: "users", gid: 100}, {name: "systemd-journal", gid: 101}, {name: "messagebus", gid: 107}, {name: "ssl-cert", gid: 110},
		{name: "postgres", gid: 111}, {name: "redis", gid: 112}, {name: "docker", gid: 113}, {name: "shop", gid: uidShop},
		{name: "billing", gid: uidBilling}, {name: "notify", gid: uidNotify}, {name: "etl", gid: uidETL}, {name: "polkitd", gid: uidPolkitd},
		{name: "systemd-resolve", gid: uidResolve}, {name: "systemd-timesync", gid: uidTimesync},
		{name: "systemd-network", gid: uidNetwork}, {name: "systemd-coredump", gid: 999}, {name: "nogroup", gid: 65534}} {
		b.h.groups = append(b.h.groups, g)
	}
	for _, u := range b.humans {
		b.h.groups = append(b.h.groups, group{name: u.name, gid: u.gid})
		for _, name := range u.groupNames {
			for i := range b.h.groups {
				if b.h.groups[i].name == name {
					b.h.groups[i].members = append(b.h.groups[i].members, u.name)
				}
			}
		}
	}
}

// userByID returns the passwd entry of uid, or nil.
func (b *builder) userByID(uid int) *user {
	for i := range b.h.users {
		if b.h.users[i].uid == uid {
			return &b.h.users[i]
		}
	}
	return nil
}
