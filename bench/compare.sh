#!/usr/bin/env bash
# Compares procsql with ps, lsof and ss, and with bench/floor, a program that
# makes only the /proc system calls that each procsql table makes. Inside
# fresh PID, mount and network namespaces it starts bench/loadgen, so every
# tool reads only the processes the benchmark starts, and bench/timeit runs
# the commands of each comparison alternately. It prints the machine, the
# exact commands, Markdown tables with the median, min and max of wall time
# and peak RSS, and each target with PASS or MISS.
#
# Usage: sudo bench/compare.sh            (PROCESSES=1000 RUNS=7 by default)
#        PROCESSES=2000 RUNS=9 sudo bench/compare.sh
#        sudo bench/compare.sh -write     (or WRITE=1: also add the results
#                                          to docs/benchmarks.md)
# LOOKUP_SIZES ("100 10000") sets the process counts of the pid lookup,
# HUNT_RUNS (RUNS) the runs of each hunt, and HUNT_PROCS (10000) and
# HUNT_SOCKETS (20000) the size of the synthetic snapshot the hunts read.
# Missing peers (ps, lsof, ss, jq, zstd) are installed with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${PROCSQL_BENCH_INSIDE:-}" != 1 ]; then
  write=${WRITE:-0}
  for arg in "$@"; do
    case "$arg" in
      -write) write=1 ;;
      *) echo "compare.sh: unknown argument $arg: the only argument is -write" >&2; exit 2 ;;
    esac
  done
  [ "$(id -u)" = 0 ] || { echo "compare.sh: run as root: it creates namespaces with unshare and may install packages" >&2; exit 1; }

  missing=()
  for pair in ps:procps lsof:lsof ss:iproute2 ip:iproute2 unshare:util-linux jq:jq zstd:zstd; do
    command -v "${pair%%:*}" > /dev/null || missing+=("${pair#*:}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "compare.sh: installing ${missing[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  fi

  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir "$work/bin"
  for tool in cmd/procsql bench/loadgen bench/floor bench/timeit; do
    go build -o "$work/bin/" "./$tool"
  done
  synth_note=
  if [ ! -d bench/synthsnap ]; then
    synth_note="bench/synthsnap does not exist yet, so the hunts were not timed"
  elif ! go build -o "$work/bin/" ./bench/synthsnap 2> "$work/synthsnap.build"; then
    synth_note="bench/synthsnap does not build, so the hunts were not timed: $(head -n 3 "$work/synthsnap.build" | tr '\n' ' ')"
  fi

  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
  {
    echo "### $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, kernel $(uname -r), $(go version | cut -d' ' -f3)"
    echo
    echo "\`sudo bench/compare.sh\` (PROCESSES=${PROCESSES:-1000} RUNS=${RUNS:-7} LOOKUP_SIZES=\"${LOOKUP_SIZES:-100 10000}\" HUNT_RUNS=${HUNT_RUNS:-${RUNS:-7}}), built from commit $commit."
    echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)."
    echo "Peers: $(ps --version | head -n 1), lsof $(lsof -v 2>&1 | sed -n 's/^ *revision: *//p'), $(ss -V)."
    echo
  } | tee "$work/report.md"

  # The inside run gets a minimal environment, so the processes it starts
  # and captures carry none of the caller's variables.
  env -i PATH="$work/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" LANG=C.UTF-8 \
    PROCSQL_BENCH_INSIDE=1 WORK="$work" PROCESSES="${PROCESSES:-1000}" RUNS="${RUNS:-7}" \
    LOOKUP_SIZES="${LOOKUP_SIZES:-100 10000}" HUNT_RUNS="${HUNT_RUNS:-${RUNS:-7}}" \
    HUNT_PROCS="${HUNT_PROCS:-10000}" HUNT_SOCKETS="${HUNT_SOCKETS:-20000}" SYNTH_NOTE="$synth_note" \
    unshare --pid --fork --mount-proc --net bash "$0" | tee -a "$work/report.md"

  if [ "$write" = 1 ]; then
    # The results go at the end of the "Compared with ps, lsof and ss"
    # section, which is added at the end of the file when missing.
    heading="## Compared with ps, lsof and ss"
    awk -v heading="$heading" -v report="$work/report.md" '
      BEGIN { while ((getline line < report) > 0) text = text line "\n" }
      /^## / && inside && !done { printf "%s\n", text; done = 1 }
      /^## / { inside = ($0 == heading); if (inside) found = 1 }
      { print }
      END {
        if (!found) printf "\n%s\n\n", heading
        if (!done) printf "\n%s", text
      }' docs/benchmarks.md > "$work/benchmarks.md"
    cat "$work/benchmarks.md" > docs/benchmarks.md
    echo "compare.sh: added the results to docs/benchmarks.md" >&2
  fi
  exit
fi

# Inside the namespaces. Binaries are on PATH from $WORK/bin.
ip link set lo up
cd "$WORK"

lg_pid=
lg_in=
# start_loadgen starts loadgen with $1 processes and sets loadgen_pids to
# the pids it prints. It returns non-zero, with loadgen's error in
# $WORK/loadgen.err, when the processes could not all be started.
start_loadgen() {
  coproc LOADGEN { loadgen -n "$1" -timeout 60m 2> "$WORK/loadgen.err"; }
  lg_pid=$LOADGEN_PID
  lg_in=${LOADGEN[1]}
  local ready=
  read -r ready loadgen_pids <&"${LOADGEN[0]}" || true
  if [ "$ready" != ready ]; then
    stop_loadgen
    return 1
  fi
}

# stop_loadgen closes loadgen's stdin, which makes it stop its processes,
# and waits for it. It touches only the loadgen this script started.
stop_loadgen() {
  if [ -n "$lg_pid" ]; then
    eval "exec ${lg_in}>&-"
    wait "$lg_pid" 2> /dev/null || true
    lg_pid=
  fi
}
trap stop_loadgen EXIT

# field prints column $3 of the line named $2 in the timeit TSV file $1:
# 3 median ms, 4 min ms, 5 max ms, 6 median RSS KiB, 7 max RSS KiB.
field() { awk -F'\t' -v name="$2" -v col="$3" '$1 == name { print $col }' "$1"; }

# ms prints the median wall time in ms of the line named $2 in the TSV file
# $1, rounded to 0.1 ms.
ms() { awk -F'\t' -v name="$2" '$1 == name { printf "%.1f", $3 }' "$1"; }

# divide prints $1 / $2 with two decimals.
divide() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# verdict prints PASS when the comparison $1 $2 $3 is true (operator < or
# <=), and MISS otherwise.
verdict() {
  awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
    if (a == "") { print "not measured"; exit }
    if (a == "n/a") { print "MISS (no figure)"; exit }
    ok = (op == "<") ? (a + 0 < b + 0) : (a + 0 <= b + 0)
    print ok ? "PASS" : "MISS"
  }'
}

# stats prints "median (min to max)" of the numbers on stdin.
stats() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } printf "%s (%s to %s)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

targets=()
# target adds a row to the targets table: description, measured text,
# value, operator, limit.
target() { targets+=("| $1 | $2 | $(verdict "$3" "$4" "$5") |"); }

# compare runs timeit with $1 as the TSV file name, $2 as the baseline and
# the remaining arguments (flags first, then NAME=COMMAND pairs), and prints
# its Markdown table. A failed run is reported and the benchmark goes on.
compare() {
  local tsv=$1 baseline=$2
  shift 2
  timeit -runs "$RUNS" -format markdown -baseline "$baseline" -tsv "$WORK/$tsv" "$@" ||
    echo "Some runs above failed (timeit lists them on stderr), so their figures are incomplete."
}

echo "Binaries: procsql, floor, loadgen, timeit (and synthsnap) built with go build into \$WORK/bin, which is first on PATH."
echo "Each table: $RUNS measured runs per command after one warm-up run, alternating between the commands;"
echo "ratios divide each median by that of the command named in the column header. RSS is the peak resident set size that wait4 reports."
echo

echo "+ loadgen -n $PROCESSES"
start_loadgen "$PROCESSES" || { echo "compare.sh: loadgen could not start $PROCESSES processes: $(cat "$WORK/loadgen.err")" >&2; exit 1; }
total=$(ls -d /proc/[0-9]* | wc -l)
echo
echo "The next four tables ran with $PROCESSES loadgen processes, $total processes in the namespace."
echo "The last column holds the rows of each query and the lines of each tool; floor prints one count."
echo "floor -what processes counted $(floor -what processes) processes, -what fds $(floor -what fds) descriptors, -what sockets $(floor -what sockets) sockets."
echo

echo "**processes**"
echo
compare processes.tsv floor \
  procsql='procsql --format csv query "SELECT * FROM processes"' \
  ps='ps -eo pid,ppid,user,comm,args' \
  floor='floor -what processes' \
  procsql_ps_columns='procsql --format csv query "SELECT pid, ppid, user, name, cmdline FROM processes"' \
  floor_ps_columns='floor -what ps' \
  procsql_start='procsql --format csv query "SELECT 1"'
echo
p=$(field processes.tsv procsql 3)
ratio=$(divide "$p" "$(field processes.tsv floor 3)")
target "processes ≤ 1.5× floor" "${ratio}× ($(ms processes.tsv procsql) ms against $(ms processes.tsv floor) ms)" "$ratio" "<=" 1.5
ratio=$(divide "$p" "$(field processes.tsv ps 3)")
target "processes < ps" "${ratio}× ps ($(ms processes.tsv procsql) ms against $(ms processes.tsv ps) ms)" "$ratio" "<" 1

echo "**fds**"
echo
compare fds.tsv floor \
  procsql='procsql --format csv query "SELECT * FROM fds"' \
  lsof='lsof -n -P' \
  floor='floor -what fds'
echo
ratio=$(divide "$(field fds.tsv procsql 3)" "$(field fds.tsv lsof 3)")
target "fds ≤ 0.3× lsof" "${ratio}× ($(ms fds.tsv procsql) ms against $(ms fds.tsv lsof) ms)" "$ratio" "<=" 0.3

echo "**process_sockets**"
echo
compare sockets.tsv floor \
  procsql='procsql --format csv query "SELECT * FROM process_sockets"' \
  ss='ss -tanup; ss -xanp' \
  floor='floor -what sockets'
echo
ratio=$(divide "$(field sockets.tsv procsql 3)" "$(field sockets.tsv ss 3)")
target "process_sockets ≤ 1× ss" "${ratio}× ($(ms sockets.tsv procsql) ms against $(ms sockets.tsv ss) ms)" "$ratio" "<=" 1

echo "**snapshot capture**"
echo
mkdir "$WORK/stderr"
compare capture.tsv floor -stderr-dir "$WORK/stderr" \
  procsql='procsql snapshot -o capture.procsql --force' \
  floor='floor -what capture'
echo
# The summary ends in "capture window: START to END (1.318s)" or "(987ms)".
windows=$(sed -n 's/^capture window: .*(\([0-9.]*\)\(m\?s\))$/\1 \2/p' "$WORK"/stderr/procsql.*.stderr |
  awk '{ print ($2 == "s") ? $1 * 1000 : $1 }' | stats)
# Per-process windows of the last capture, from manifest.json: the time
# from the first to the last read of each process.
per_process=$(tar --zstd -xOf capture.procsql manifest.json |
  jq -r '.processes[] | "\(.start) \(.end)"' |
  awk '{
    split(substr($1, 12, length($1) - 12), a, ":"); split(substr($2, 12, length($2) - 12), b, ":")
    d = (b[1] * 3600 + b[2] * 60 + b[3]) - (a[1] * 3600 + a[2] * 60 + a[3])
    if (d < 0) d += 86400
    printf "%.2f\n", d * 1000
  }' | stats)
echo "Capture window over the runs, ms, median (min to max): $windows."
echo "Per-process window of the last capture, ms, median (min to max) over its processes: $per_process."
echo "$(tail -n +2 "$WORK/stderr/procsql.$RUNS.stderr" | head -n 1) ($(stat -c %s capture.procsql) bytes written)."
echo
ratio=$(divide "$(field capture.tsv procsql 3)" "$(field capture.tsv floor 3)")
target "capture ≤ 2× floor" "${ratio}× ($(ms capture.tsv procsql) ms against $(ms capture.tsv floor) ms)" "$ratio" "<=" 2
rss_mb=$(awk -v kib="$(field capture.tsv procsql 7)" 'BEGIN { printf "%.0f", kib * 1024 / 1e6 }')
target "snapshot RSS < 500 MB: capture of $PROCESSES processes" "$rss_mb MB, the highest of the runs" "$rss_mb" "<" 500
rm -f capture.procsql
stop_loadgen

echo "**pid lookup**"
echo
# Each size needs its own loadgen, so the sizes run one after the other
# rather than alternately.
lookup_tsvs=()
lookup_labels=()
for size in $LOOKUP_SIZES; do
  started=$size
  # Halve the size until loadgen fits, and report each size that did not.
  until start_loadgen "$started"; do
    echo "loadgen could not start $started processes on this machine: $(tail -n 1 "$WORK/loadgen.err")"
    started=$((started / 2))
    [ "$started" -ge 1 ] || { echo "compare.sh: loadgen could not start any processes" >&2; exit 1; }
  done
  read -ra pids <<< "$loadgen_pids"
  pid=${pids[$((${#pids[@]} / 2))]}
  echo "With $started loadgen processes ($(ls -d /proc/[0-9]* | wc -l) in the namespace):"
  echo
  compare "lookup_$started.tsv" lookup \
    lookup="procsql --format csv query \"SELECT * FROM processes WHERE pid = $pid\""
  echo
  lookup_tsvs+=("lookup_$started.tsv")
  lookup_labels+=("$started")
  stop_loadgen
done
if [ "${#lookup_tsvs[@]}" -ge 2 ]; then
  ratio=$(divide "$(field "${lookup_tsvs[-1]}" lookup 3)" "$(field "${lookup_tsvs[0]}" lookup 3)")
  target "pid lookup among ${lookup_labels[-1]} ≤ 1.2× among ${lookup_labels[0]}" "${ratio}× ($(ms "${lookup_tsvs[-1]}" lookup) ms against $(ms "${lookup_tsvs[0]}" lookup) ms)" "$ratio" "<=" 1.2
fi

echo "**hunts on a synthetic snapshot**"
echo
if [ -n "$SYNTH_NOTE" ]; then
  echo "Skipped: $SYNTH_NOTE."
  echo
  target "each hunt < 1 s" "not measured: $SYNTH_NOTE" "" "<" 1000
  target "all hunts < 10 s" "not measured" "" "<" 10000
  target "snapshot RSS < 500 MB: loading the synthetic snapshot" "not measured" "" "<" 500
else
  echo "+ synthsnap -procs $HUNT_PROCS -sockets $HUNT_SOCKETS -seed 1 -o synth.procsql (the same program as go run ./bench/synthsnap)"
  synthsnap -procs "$HUNT_PROCS" -sockets "$HUNT_SOCKETS" -seed 1 -o synth.procsql > /dev/null
  echo "$(stat -c %s synth.procsql) bytes. procsql hunt exits 1 when a hunt matched, so statuses 0 and 1 count as success."
  echo
  # load opens the snapshot and runs a trivial query, the part of every
  # hunt run that does not depend on the hunt.
  hunt_args=(load='procsql --snapshot synth.procsql query "SELECT 1"' all="procsql --snapshot synth.procsql hunt")
  for id in $(procsql --format csv hunt --list | tail -n +2 | cut -d, -f1); do
    hunt_args+=("$id=procsql --snapshot synth.procsql hunt $id")
  done
  timeit -runs "$HUNT_RUNS" -format markdown -baseline load -allow-exit 0,1 -tsv "$WORK/hunts.tsv" "${hunt_args[@]}" ||
    echo "Some runs above failed (timeit lists them on stderr), so their figures are incomplete."
  echo
  slowest=$(awk -F'\t' '$1 != "all" && $1 != "load" && $3 + 0 > max + 0 { max = $3; name = $1 } END { print name }' "$WORK/hunts.tsv")
  slowest_ms=$(field hunts.tsv "$slowest" 3)
  over=$(awk -F'\t' '$1 != "all" && $1 != "load" && $3 + 0 >= 1000' "$WORK/hunts.tsv" | wc -l)
  target "each hunt < 1 s" "slowest $slowest at $(ms hunts.tsv "$slowest") ms; $over of $((${#hunt_args[@]} - 2)) at 1 s or more" "$slowest_ms" "<" 1000
  target "all hunts < 10 s" "$(ms hunts.tsv all) ms for one procsql hunt run of all" "$(field hunts.tsv all 3)" "<" 10000
  rss_mb=$(awk -v kib="$(field hunts.tsv load 7)" 'BEGIN { printf "%.0f", kib * 1024 / 1e6 }')
  target "snapshot RSS < 500 MB: loading the synthetic snapshot" "$rss_mb MB for the load command, the highest of the runs" "$rss_mb" "<" 500
  rm -f synth.procsql
fi

echo "**targets**"
echo
echo "| target | measured (medians) | result |"
echo "|---|---|---|"
printf '%s\n' "${targets[@]}"
