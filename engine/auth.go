package engine

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/vitess/go/mysql"
)

// addUser turns on go-mysql-server's privilege checks with one account that
// may read everything and change nothing. The account lives in memory only.
func (e *Engine) addUser(user, password string) error {
	if strings.ContainsAny(user, "'`\\@") || user == "" {
		return errors.New("user name " + quoteName(user) + " is not usable: give a plain name such as procsql")
	}
	db := e.sql.Analyzer.Catalog.MySQLDb
	// go-mysql-server persists the privilege tables on every change, and it
	// needs a persister before the first account exists.
	db.SetPersister(discardPersister{})
	ed := db.Editor()
	defer ed.Close()
	privileges := mysql_db.NewPrivilegeSet()
	// SHOW VIEW lets clients read the hunt views' definitions, and PROCESS
	// lets them list running queries. go-mysql-server v0.20.0 rebuilds a view
	// from its CREATE VIEW statement on every read, so it checks CREATE VIEW
	// too. The database still rejects creating views.
	privileges.AddGlobalStatic(sql.PrivilegeType_Select, sql.PrivilegeType_ShowView, sql.PrivilegeType_Process, sql.PrivilegeType_CreateView)
	ed.PutUser(&mysql_db.User{
		User:                user,
		Host:                "%",
		PrivilegeSet:        privileges,
		Plugin:              "mysql_native_password",
		AuthString:          nativePasswordHash(password),
		PasswordLastChanged: time.Now().UTC(),
	})
	db.SetEnabled(true)
	return nil
}

// nativePasswordHash is the mysql_native_password form of a password:
// "*" and the upper-case hex of SHA1(SHA1(password)).
func nativePasswordHash(password string) string {
	first := sha1.Sum([]byte(password))
	second := sha1.Sum(first[:])
	return "*" + strings.ToUpper(hex.EncodeToString(second[:]))
}

func quoteName(s string) string { return "\"" + s + "\"" }

type discardPersister struct{}

func (discardPersister) Persist(*sql.Context, []byte) error { return nil }

// loggingAuth logs each login, within the server's rate limits. The
// password never reaches the log. With the server's RequireTLS it rejects
// logins over connections without TLS.
type loggingAuth struct {
	mysql.AuthServer
	srv *Server
}

func (a *loggingAuth) AuthMethods() []mysql.AuthMethod {
	methods := a.AuthServer.AuthMethods()
	out := make([]mysql.AuthMethod, len(methods))
	for i, m := range methods {
		out[i] = &loggingAuthMethod{AuthMethod: m, auth: a}
	}
	return out
}

type loggingAuthMethod struct {
	mysql.AuthMethod
	auth *loggingAuth
}

// erSecureTransportRequired is MySQL's error for a connection without TLS
// to a server that requires it (ER_SECURE_TRANSPORT_REQUIRED).
const erSecureTransportRequired = 3159

// HandleUser accepts every user for password methods, so that an unknown
// user fails the password check with MySQL error 1045 like a wrong
// password. go-mysql-server v0.20.0 otherwise drops the connection, which
// clients report as a malformed packet.
func (m *loggingAuthMethod) HandleUser(c *mysql.Conn, user string) bool {
	markTLS(c)
	if m.Name() == mysql.MysqlNativePassword {
		return true
	}
	return m.AuthMethod.HandleUser(c, user)
}

func (m *loggingAuthMethod) HandleAuthPluginData(c *mysql.Conn, user string, serverData, clientData []byte, remote net.Addr) (mysql.Getter, error) {
	var getter mysql.Getter
	var err error
	srv := m.auth.srv
	markTLS(c)
	if srv.cfg.RequireTLS && !c.TLSEnabled() {
		err = mysql.NewSQLError(erSecureTransportRequired, mysql.SSNetError,
			"connections without TLS are rejected by this server (--require-tls): connect with TLS, for example mariadb --ssl")
	} else {
		getter, err = m.AuthMethod.HandleAuthPluginData(c, user, serverData, clientData, remote)
	}
	overLimit := false
	if err == nil {
		// loginDone logs its own line when too many clients are logged in.
		err = srv.listener.loginDone(c)
		overLimit = err != nil
	}
	if err != nil {
		srv.loginRejected.Store(c.ConnectionID, true)
		if overLimit {
			return nil, err
		}
		srv.events.Warn("login rejected", "connection", c.ConnectionID, "client", addrString(remote), "user", user, "error", err.Error())
		return nil, err
	}
	srv.activity.Info("client connected", "connection", c.ConnectionID, "client", addrString(remote), "user", user, "tls", c.TLSEnabled())
	return getter, nil
}
