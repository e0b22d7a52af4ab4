#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: pghba's benchmarks and PostgreSQL 15 parsing the same file, in one run.
#
#   bash scripts/bench.sh            # writes BENCHMARKS.md
#   OUT=/tmp/b.md bash scripts/bench.sh
#
# Steps:
#   1. go test -bench for BenchmarkMatch, BenchmarkMatchNoMatch, BenchmarkLoad and
#      BenchmarkMatchParallel in ./hba, COUNT times each (raw output kept in $WORK/bench.txt);
#   2. go run ./internal/gen/benchmd: starts a throwaway PostgreSQL 15 cluster (internal/pgtest,
#      binaries from /usr/lib/postgresql/15/bin; as root the server runs as OS user postgres),
#      writes the same generated 100,000-rule file as its pg_hba.conf (never reloaded) and times
#      `EXPLAIN (ANALYZE, TIMING OFF) SELECT count(*) FROM pg_hba_file_rules` PGRUNS times;
#   3. renders the table, with the machine (CPUs, model, Go version, load average), into $OUT.
#
# Environment: COUNT (default 5), PGRUNS (default 5), OUT (default BENCHMARKS.md),
# BENCHTIME (default 1s; BenchmarkLoad always runs 20 loads per count: the steady state of a
# process that reloads, not the page faults of its first loads), WORK (default a temp dir).
# The machine is shared: figures move with its load, which the report states.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

COUNT=${COUNT:-5}
PGRUNS=${PGRUNS:-5}
OUT=${OUT:-BENCHMARKS.md}
BENCHTIME=${BENCHTIME:-1s}
WORK=${WORK:-$(mktemp -d /tmp/pghba-bench.XXXXXX)}

echo "==> go test -bench (count $COUNT), raw output in $WORK/bench.txt" >&2
go test ./hba/ -run '^$' -bench '^Benchmark(Match|MatchNoMatch|MatchParallel)$' \
	-benchtime "$BENCHTIME" -count "$COUNT" | tee "$WORK/bench.txt" >&2
go test ./hba/ -run '^$' -bench '^BenchmarkLoad$' -benchtime 20x -count "$COUNT" | tee -a "$WORK/bench.txt" >&2

echo "==> PostgreSQL 15 and $OUT" >&2
go run ./internal/gen/benchmd -gobench "$WORK/bench.txt" -rules 100000 -runs "$PGRUNS" -out "$OUT"
echo "==> wrote $OUT" >&2
