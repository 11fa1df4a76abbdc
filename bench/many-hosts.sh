#!/usr/bin/env bash
# Measures procsql on many hosts at once: opening HOSTS snapshots with one
# query, and running every bundled hunt over them, against the same on one
# snapshot. The snapshots come from bench/synthsnap with seeds 1 to HOSTS, so
# their host names are synth-1 to synth-HOSTS, and are written to a
# temporary directory that the script removes. Prints a Markdown table with
# the median wall time and the median peak RSS (/usr/bin/time -v) of RUNS
# runs of each command, and the memory per added host.
#
# Each command runs twice: as procsql runs by default, which for query and
# hunt sets GOGC=400 and a 2 GiB soft memory limit, and with GOGC=100, whose
# peak RSS follows the live data more closely.
#
# Usage: bench/many-hosts.sh        (HOSTS=50 PROCS=300 SOCKETS=600 RUNS=3)
#        HOSTS=20 PROCS=1000 bench/many-hosts.sh
set -euo pipefail
cd "$(dirname "$0")/.."

hosts=${HOSTS:-50}
procs=${PROCS:-300}
sockets=${SOCKETS:-600}
runs=${RUNS:-3}
[ "$hosts" -ge 2 ] || { echo "many-hosts.sh: HOSTS must be 2 or more, got $hosts" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "many-hosts.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/procsql" ./cmd/procsql
go build -o "$work/synthsnap" ./bench/synthsnap

mkdir "$work/snaps"
start=$(date +%s)
seq 1 "$hosts" | xargs -P "$(nproc)" -I{} \
  "$work/synthsnap" -procs "$procs" -sockets "$sockets" -seed {} -o "$work/snaps/host{}.procsql" \
  > /dev/null 2> "$work/synthsnap.log" || { cat "$work/synthsnap.log" >&2; exit 1; }
made=$(($(date +%s) - start))
size=$(du -sm "$work/snaps" | cut -f1)

echo "# $(date -u +%Y-%m-%d) on $(nproc) cores, kernel $(uname -r), $(go version | cut -d' ' -f3)"
echo "# $hosts snapshots of $procs processes and $sockets sockets each ($size MiB in all, made in ${made}s by bench/synthsnap)"
echo
echo "| sources | command | GC | wall s | peak RSS MiB |"
echo "|---|---|---|---|---|"

# median prints the middle of the numbers on stdin.
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# measure LABEL COMMAND GOGC ARGS... runs procsql with ARGS RUNS times, prints
# a table row and stores the median peak RSS in KiB in $rss. Exit status 1
# of procsql hunt means hits, not a failure.
measure() {
  local label=$1 command=$2 gogc=$3
  shift 3
  : > "$work/secs"
  : > "$work/kib"
  for _ in $(seq "$runs"); do
    local status=0
    if [ "$gogc" = default ]; then
      /usr/bin/time -v -o "$work/time" "$work/procsql" "$@" > /dev/null 2> "$work/stderr" || status=$?
    else
      GOGC=$gogc /usr/bin/time -v -o "$work/time" "$work/procsql" "$@" > /dev/null 2> "$work/stderr" || status=$?
    fi
    if [ "$status" -gt 1 ]; then
      echo "many-hosts.sh: procsql $* exited with status $status:" >&2
      cat "$work/stderr" "$work/time" >&2
      exit 1
    fi
    awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$work/time" >> "$work/secs"
    awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time" >> "$work/kib"
  done
  rss=$(median < "$work/kib")
  echo "| $label | $command | $gogc | $(median < "$work/secs") | $((rss / 1024)) |"
}

one=$work/snaps/host1.procsql
for gogc in default 100; do
  measure 1 "open, SELECT COUNT(*) FROM system" "$gogc" --snapshot "$one" query 'SELECT COUNT(*) FROM `system`'
  measure "$hosts" "open, SELECT COUNT(*) FROM system" "$gogc" --snapshot "$work/snaps" query 'SELECT COUNT(*) FROM `system`'
  measure 1 "hunt (all $(ls queries/*.sql | wc -l) hunts)" "$gogc" --snapshot "$one" hunt
  rss_one=$rss
  measure "$hosts" "hunt (all $(ls queries/*.sql | wc -l) hunts)" "$gogc" --snapshot "$work/snaps" hunt
  echo "| | peak RSS per added host, hunt | $gogc | | $(( (rss - rss_one) / (hosts - 1) / 1024 )) |"
done
