"""Query a procsql server with PyMySQL and print what it returns as JSON lines.

cmd/procsql/serve_test.go runs this script with Debian's /usr/bin/python3
and the python3-pymysql package, then asserts on the JSON objects that it
prints on stdout, one per line.

Modes:
  process: query one process by pid, one of its descriptors and the hunts
    table, and print the values with their Python types.
  login: log in and print CURRENT_USER(), or the error that the login raised.
  hold: log in and print a line. Keep the connection idle until stdin
    closes, then run SELECT 1 on it.
  stall: send a query through an unbuffered cursor and read none of its
    rows. Keep the connection open until stdin closes.
"""

import argparse
import json
import os
import sys

import pymysql
import pymysql.cursors


def report(document):
    print(json.dumps(document), flush=True)


def connect(args, **options):
    settings = {
        "user": args.user,
        "password": args.password,
        "database": "procsql",
        "connect_timeout": 10,
    }
    if args.socket:
        settings["unix_socket"] = args.socket
    else:
        settings["host"] = args.host
        settings["port"] = args.port
    settings.update(options)
    return pymysql.connect(**settings)


def type_name(value):
    return type(value).__name__


def check_process(args):
    conn = connect(args)
    with conn.cursor() as cursor:
        # PyMySQL quotes the parameter into the statement text on the client.
        cursor.execute(
            "SELECT pid, name, argv, cmdline_raw, start_time FROM processes WHERE pid = %s",
            (args.pid,),
        )
        rows = cursor.fetchall()
        if len(rows) != 1:
            sys.exit("processes has %d rows for pid %d, expected 1" % (len(rows), args.pid))
        pid, name, argv, cmdline_raw, start_time = rows[0]

        cursor.execute("SELECT path FROM fds WHERE pid = %s AND fd = %s", (args.pid, args.null_fd))
        paths = cursor.fetchall()
        if len(paths) != 1:
            sys.exit("fds has %d rows for pid %d fd %d, expected 1" % (len(paths), args.pid, args.null_fd))
        path = paths[0][0]

        cursor.execute("SELECT * FROM hunts")
        columns = [field[0] for field in cursor.description]
        hunts = cursor.fetchall()
    conn.close()

    report({
        "types": {
            "pid": type_name(pid),
            "name": type_name(name),
            "argv": type_name(argv),
            "cmdline_raw": type_name(cmdline_raw),
            "start_time": type_name(start_time),
            "path": type_name(path),
        },
        "pid": pid,
        "name": name,
        # The JSON column arrives as text, which the caller parses.
        "argv": json.loads(argv),
        "cmdline_raw_hex": cmdline_raw.hex(),
        "start_time": start_time.isoformat(),
        "path": path,
        "hunt_columns": columns,
        "hunt_ids": [row[columns.index("id")] for row in hunts],
    })


def check_login(args):
    try:
        conn = connect(args)
    except pymysql.err.MySQLError as error:
        report({"error": type_name(error), "code": error.args[0], "message": str(error.args[1])})
        return
    with conn.cursor() as cursor:
        cursor.execute("SELECT CURRENT_USER()")
        user = cursor.fetchone()[0]
    conn.close()
    report({"current_user": user})


def hold_connection(args):
    conn = connect(args)
    report({"connected": True})
    sys.stdin.read()
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1")
        value = cursor.fetchone()[0]
    conn.close()
    report({"value": value})


def stall_reading(args):
    # An unbuffered cursor reads the result header in execute and leaves the
    # rows unread, so the server blocks once the socket buffers are full.
    conn = connect(args, cursorclass=pymysql.cursors.SSCursor)
    cursor = conn.cursor()
    cursor.execute(args.query)
    report({"executed": True})
    sys.stdin.read()
    # By now the server has closed the connection. Exit without the cursor's
    # cleanup, which would try to read the rest of the result and fail.
    os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["process", "login", "hold", "stall"])
    parser.add_argument("--host", default="127.0.0.1", help="server address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3306, help="server TCP port (default 3306)")
    parser.add_argument("--socket", help="server unix socket path, used instead of --host and --port")
    parser.add_argument("--user", default="procsql", help="user name to log in with (default procsql)")
    parser.add_argument("--password", default="", help="password to log in with (default none)")
    parser.add_argument("--pid", type=int, help="process mode: pid of the process to query")
    parser.add_argument("--null-fd", type=int, help="process mode: descriptor of that process whose path is NULL, such as a pipe")
    parser.add_argument("--query", help="stall mode: the statement to send")
    args = parser.parse_args()

    if args.mode == "process":
        if args.pid is None or args.null_fd is None:
            parser.error("process mode needs --pid and --null-fd")
        check_process(args)
    elif args.mode == "login":
        check_login(args)
    elif args.mode == "hold":
        hold_connection(args)
    else:
        if not args.query:
            parser.error("stall mode needs --query")
        stall_reading(args)


if __name__ == "__main__":
    main()
