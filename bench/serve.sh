#!/usr/bin/env bash
# Measures `procsql serve` under concurrent MySQL clients. Inside fresh PID,
# mount and network namespaces it starts bench/loadgen, then procsql serve
# on 127.0.0.1, then bench/serveload with CLIENTS clients for DURATION, and
# prints serveload's report with the machine and the commands it ran. The
# server therefore reads only the processes the benchmark starts, and all
# traffic stays on the namespace's own loopback interface.
#
# Usage: sudo bench/serve.sh   (CLIENTS=64 DURATION=30s PROCESSES=1000 by default)
#        CLIENTS=16 DURATION=10s sudo bench/serve.sh
# Extra arguments go to serveload, such as -json or -mix hunt=0.
# Exits with serveload's status, which is non-zero when any query failed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${PROCSQL_BENCH_INSIDE:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "serve.sh: run as root: it creates namespaces with unshare" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  go build -o "$work/procsql" ./cmd/procsql
  go build -o "$work/loadgen" ./bench/loadgen
  go build -o "$work/serveload" ./bench/serveload
  echo "# $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, kernel $(uname -r), $(go version | cut -d' ' -f3)"
  echo "# built with go build from commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
  # The run uses no password, so a password in the caller's environment must
  # not reach the server or serveload.
  env -u PROCSQL_PASSWORD -u PROCSQL_USER \
    PROCSQL_BENCH_INSIDE=1 WORK="$work" CLIENTS="${CLIENTS:-64}" DURATION="${DURATION:-30s}" \
    PROCESSES="${PROCESSES:-1000}" PORT="${PORT:-3306}" \
    unshare --pid --fork --mount-proc --net bash "$0" "$@"
  exit
fi

ip link set lo up

server_pid=
loadgen_open=
# stop ends the server with SIGTERM, which lets running queries finish within
# its --grace, and closes loadgen's stdin, which stops its processes. It
# touches only the two pids this script started.
stop() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
  if [ -n "$loadgen_open" ]; then
    eval "exec ${LOADGEN[1]}>&-"
    wait "$LOADGEN_PID" 2>/dev/null || true
    loadgen_open=
  fi
}
trap stop EXIT

echo "+ $WORK/loadgen -n $PROCESSES -timeout 15m"
coproc LOADGEN { "$WORK/loadgen" -n "$PROCESSES" -timeout 15m; }
loadgen_open=1
read -r ready _ <&"${LOADGEN[0]}"
[ "$ready" = ready ] || { echo "serve.sh: loadgen did not start" >&2; exit 1; }

max_connections=$((CLIENTS + 16))
echo "+ $WORK/procsql serve --listen 127.0.0.1:$PORT --max-connections $max_connections"
"$WORK/procsql" serve --listen "127.0.0.1:$PORT" --max-connections "$max_connections" 2> "$WORK/serve.log" &
server_pid=$!
# The server opens its socket before it logs "listening", so clients that
# connect after that line only wait for the accept loop.
for _ in $(seq 100); do
  grep -q 'msg=listening' "$WORK/serve.log" && break
  kill -0 "$server_pid" 2>/dev/null || { echo "serve.sh: procsql serve exited:" >&2; cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.1
done
grep -q 'msg=listening' "$WORK/serve.log" || { echo "serve.sh: procsql serve did not start listening within 10 s" >&2; exit 1; }

echo "+ $WORK/serveload -addr 127.0.0.1:$PORT -clients $CLIENTS -duration $DURATION -server-pid $server_pid $*"
echo
status=0
"$WORK/serveload" -addr "127.0.0.1:$PORT" -clients "$CLIENTS" -duration "$DURATION" -server-pid "$server_pid" "$@" || status=$?

stop
# The server logs every failed query and rejected connection as a warning.
# The first few show where errors in the report come from.
warnings=$(grep -c 'level=WARN' "$WORK/serve.log" || true)
echo
echo "server log: $warnings warnings"
grep 'level=WARN' "$WORK/serve.log" | head -n 5 || true
exit "$status"
