#!/usr/bin/env bash
# Measures `procsql snapshot` on processes started by bench/loadgen, inside
# fresh PID, mount and network namespaces so that only those processes are
# captured. Prints a Markdown table with the median, min and max of RUNS
# captures for each process count in COUNTS.
#
# Usage: sudo bench/capture.sh            (COUNTS="0 1000" RUNS=5 by default)
#        COUNTS="100 1000" RUNS=9 sudo bench/capture.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${PROCSQL_BENCH_INSIDE:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "capture.sh: run as root: it creates namespaces with unshare" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  go build -o "$work/procsql" ./cmd/procsql
  go build -o "$work/loadgen" ./bench/loadgen
  echo "# $(date -u +%Y-%m-%d) on $(nproc) cores, kernel $(uname -r), $(go version | cut -d' ' -f3)"
  PROCSQL_BENCH_INSIDE=1 WORK="$work" COUNTS="${COUNTS:-0 1000}" RUNS="${RUNS:-5}" \
    unshare --pid --fork --mount-proc --net bash "$0"
  exit
fi

ip link set lo up

# stats prints "median (min to max)" of the numbers on stdin.
stats() { sort -n | awk '{v[NR]=$1} END {printf "%s (%s to %s)", v[int((NR+1)/2)], v[1], v[NR]}'; }

echo "| processes | capture s | capture window ms | peak RSS MB | file KB | files stored |"
echo "|---|---|---|---|---|---|"
for n in $COUNTS; do
  if [ "$n" -gt 0 ]; then
    coproc LOADGEN { "$WORK/loadgen" -n "$n" -timeout 10m; }
    read -r ready _ <&"${LOADGEN[0]}"
    [ "$ready" = ready ] || { echo "loadgen did not start" >&2; exit 1; }
  fi
  : > "$WORK/seconds"; : > "$WORK/window"; : > "$WORK/rss"
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$WORK/procsql" snapshot -o "$WORK/s.procsql" --force 2> "$WORK/summary"
    read -r secs rss < "$WORK/time"
    echo "$secs" >> "$WORK/seconds"
    echo "$((rss / 1024))" >> "$WORK/rss"
    sed -n 's/.*(\([0-9.]*\)\(m\?s\))$/\1 \2/p' "$WORK/summary" | awk '{print ($2=="s") ? $1*1000 : $1}' >> "$WORK/window"
  done
  files=$(sed -n 's/.*files: \([0-9]*\),.*/\1/p' "$WORK/summary")
  size=$(( $(stat -c %s "$WORK/s.procsql") / 1024 ))
  echo "| $n started (+ the shell and procsql) | $(stats < "$WORK/seconds") | $(stats < "$WORK/window") | $(stats < "$WORK/rss") | $size | $files |"
  if [ "$n" -gt 0 ]; then
    eval "exec ${LOADGEN[1]}>&-"
    wait "$LOADGEN_PID" || true
  fi
done
rm -f "$WORK/s.procsql"
