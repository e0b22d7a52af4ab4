#!/usr/bin/env bash
# The side-by-side connection benchmark of issue 19: PostgreSQL 15 directly, the pghba proxy
# (examples/proxy) and PgBouncer (auth_type = hba, the same pg_hba.conf), at 1, 16 and 64
# concurrent clients, accepted (trust, scram-sha-256) and refused (no entry, reject) connections,
# pg_hba.conf files of 10, 1,000 and 10,000 rules. Writes examples/BENCHMARKS.md.
#
#   bash scripts/bench-proxy.sh [loadgen flags, e.g. -cell 3s -clients 1,16]
#
# Not part of CI (scripts/test.sh does not run it). A full run takes about 5-8 minutes. It
# installs haproxy and pgbouncer when missing (scripts/install-proxy-deps.sh), builds the proxy
# and the load generator (examples/loadgen) into a temporary directory, and runs everything on
# loopback with random ports: its own PostgreSQL 15 cluster (/usr/lib/postgresql/15/bin, as OS
# user postgres when run as root), its own PgBouncer and proxy processes; no system service.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-proxy-deps.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd examples && go build -o "$tmp/proxy" ./proxy && go build -o "$tmp/loadgen" ./loadgen)
"$tmp/loadgen" -proxy "$tmp/proxy" -out examples/BENCHMARKS.md "$@"
printf 'bench-proxy: wrote examples/BENCHMARKS.md\n' >&2
