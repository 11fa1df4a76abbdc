#!/usr/bin/env bash
# Runs every fuzz target of the repository for a long time, through
# .ci/fuzz-smoke, at the lowest CPU priority (nice -n 19). One line per
# target is appended to a TSV results file, with the date, package, target,
# fuzz time, execution count from the fuzzer's last "execs:" line, result,
# and how many targets and workers ran at once. The result is ok, fail, or
# ok-after-deadline-race, which .ci/fuzz-smoke explains.
#
# Usage: bench/fuzz-long.sh [RESULTS]
#   RESULTS   TSV file to append to (default docs/fuzzing-runs.tsv in the
#             repository)
#   FUZZTIME      time per target, as for go test -fuzztime (default 10m)
#   FUZZ_JOBS     targets at once (default 1); FUZZ_WORKERS, workers per
#                 target (default GOMAXPROCS). 32 targets one at a time take
#                 about 5.5 hours; FUZZ_JOBS=4 FUZZ_WORKERS=1 about 1.5.
#
# It exits 1 when any target failed. go test writes each failing input to
# <package>/testdata/fuzz/<target>/.
set -euo pipefail

# With autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled), nice
# orders processes only within their session: the run would still take
# half the CPU from the session that started it. So it runs in a session of
# its own, whose autogroup it sets to nice 19 as well.
if [[ -z ${FUZZ_LONG_SESSION:-} ]]; then
  FUZZ_LONG_SESSION=1 exec setsid --wait "$0" "$@"
fi
echo 19 >/proc/self/autogroup 2>/dev/null || true

root=$(cd "$(dirname "$0")/.." && pwd)

results=${1:-$root/docs/fuzzing-runs.tsv}
if [[ $results != /* ]]; then
  results=$PWD/$results
fi

FUZZTIME=${FUZZTIME:-10m} FUZZ_RESULTS=$results exec nice -n 19 "$root/.ci/fuzz-smoke"
