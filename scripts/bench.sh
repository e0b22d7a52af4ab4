#!/usr/bin/env bash
# Reproduces BENCHMARKS.md and the README's figures block: pghba's benchmarks, and PostgreSQL 15
# reading the same two files (tenant and realistic, issue 20) next to pghba, in one run.
#
#   bash scripts/bench.sh                  # writes BENCHMARKS.md and the README figures block
#   CHECK=1 bash scripts/bench.sh          # reruns, fails if a README figure differs by more
#                                          # than 20% from the rerun; writes nothing but the
#                                          # rerun's row in the runs table of $OUT
#   OUT=/tmp/b.md README= bash scripts/bench.sh   # elsewhere, README untouched
#
# Steps:
#   1. go test -bench in ./hba: BenchmarkMatch, BenchmarkMatchNoMatch, BenchmarkMatchParallel
#      (BENCHTIME each), BenchmarkLoad/shape=* and BenchmarkLoadSingleCore/shape=* (LOADTIME,
#      default 20 loads: the steady state of a process that reloads); in ./hba/audit:
#      BenchmarkDiff1000 and BenchmarkDiff10000 (5 runs each); COUNT times each, raw output in
#      $WORK/bench.txt;
#   2. go run ./internal/gen/benchmd: starts a throwaway PostgreSQL 15 cluster (internal/pgtest,
#      /usr/lib/postgresql/15/bin; as root the server runs as OS user postgres, ssl = on), and for
#      each shape installs the file (with its @files) as its pg_hba.conf and times PGRUNS rounds of
#      the pg_hba_file_rules view query, a reload and pghba's Parser.Load of the same path;
#   3. renders the report, with the machine (CPU model, cores, Go, date, load average), into $OUT
#      and the ratios into the block of $README (or, with CHECK=1, compares them with it).
#
# The 1-minute load average is sampled every 5 s during the whole run ($WORK/loadavg.txt); if it
# went over 1 the script prints a WARNING and the report says so.
#
# Environment: COUNT (default 5), PGRUNS (default 5), OUT (default BENCHMARKS.md), README
# (default README.md; empty: leave it alone), CHECK (1: check README instead of writing),
# BENCHTIME (default 1s), LOADTIME (default 20x), WORK (default a temp dir).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

COUNT=${COUNT:-5}
PGRUNS=${PGRUNS:-5}
OUT=${OUT:-BENCHMARKS.md}
README=${README-README.md}
CHECK=${CHECK:-}
BENCHTIME=${BENCHTIME:-1s}
LOADTIME=${LOADTIME:-20x}
WORK=${WORK:-$(mktemp -d /tmp/pghba-bench.XXXXXX)}
mkdir -p "$WORK"

# Load average sampler, stopped by its PID when the script exits.
: >"$WORK/loadavg.txt"
(while :; do cat /proc/loadavg >>"$WORK/loadavg.txt"; sleep 5; done) &
SAMPLER=$!
trap 'kill "$SAMPLER" 2>/dev/null || true' EXIT

echo "==> go test -bench (count $COUNT), raw output in $WORK/bench.txt" >&2
go test ./hba/ -run '^$' -bench '^Benchmark(Match|MatchNoMatch|MatchParallel)$' \
	-benchtime "$BENCHTIME" -count "$COUNT" | tee "$WORK/bench.txt" >&2
go test ./hba/ -run '^$' -bench '^BenchmarkLoad(SingleCore)?$/^shape=' \
	-benchtime "$LOADTIME" -count "$COUNT" | tee -a "$WORK/bench.txt" >&2
go test ./hba/audit/ -run '^$' -bench '^BenchmarkDiff(1000|10000)$' \
	-benchtime 5x -count "$COUNT" | tee -a "$WORK/bench.txt" >&2

args=(-gobench "$WORK/bench.txt" -runs "$PGRUNS" -loadavg "$WORK/loadavg.txt")
if [ -n "$CHECK" ]; then
	echo "==> PostgreSQL 15; checking ${README:-README.md} against this run" >&2
	cat /proc/loadavg >>"$WORK/loadavg.txt"
	status=0
	go run ./internal/gen/benchmd "${args[@]}" -check "${README:-README.md}" -record "$OUT" || status=$?
else
	echo "==> PostgreSQL 15, $OUT${README:+ and $README}" >&2
	status=0
	go run ./internal/gen/benchmd "${args[@]}" -out "$OUT" ${README:+-readme "$README"} || status=$?
	[ "$status" = 0 ] && echo "==> wrote $OUT${README:+ and the figures block of $README}" >&2
fi

max=$(awk 'BEGIN { m = 0 } { if ($1 + 0 > m) m = $1 + 0 } END { print m }' "$WORK/loadavg.txt")
if awk -v m="$max" 'BEGIN { exit !(m > 1) }'; then
	echo "WARNING: the 1-minute load average reached $max during the run (over 1): the machine was not quiet; figures are noisy" >&2
fi
exit "$status"
