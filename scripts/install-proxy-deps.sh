#!/usr/bin/env bash
# Installs what the proxy's PROXY-protocol tests and its benchmark need from Debian:
# haproxy (the PROXY-protocol sender in front of the proxy in examples/proxy tests) and
# pgbouncer (a subject of scripts/bench-proxy.sh).
#
#   bash scripts/install-proxy-deps.sh
#
# Another apt-get holding the dpkg lock is waited for (up to 5 minutes).
# Idempotent: a package already installed is left alone and nothing is printed. Quiet: apt's
# output is shown only when it fails. Never interactive (no stdin, DEBIAN_FRONTEND=noninteractive).
# The packages' own services are not started (a policy-rc.d that refuses them is in place while
# apt runs, unless the machine already has one): the tests and the benchmark start their own
# haproxy and pgbouncer on loopback with configuration files of their own.
#
# Not root, or no apt-get: prints what is missing and exits 0 when CI is not "true" (the tests
# then skip with a message), 1 when CI=true (the tests would fail anyway).
set -euo pipefail

pkgs=()
command -v haproxy >/dev/null 2>&1 || [[ -x /usr/sbin/haproxy ]] || pkgs+=(haproxy)
command -v pgbouncer >/dev/null 2>&1 || [[ -x /usr/sbin/pgbouncer ]] || pkgs+=(pgbouncer)
((${#pkgs[@]} == 0)) && exit 0

fail() {
	printf 'install-proxy-deps: %s\n' "$*" >&2
	if [[ "${CI:-}" == true ]]; then
		exit 1
	fi
	exit 0
}

[[ $(id -u) -eq 0 ]] || fail "not root: cannot install ${pkgs[*]} (install them, or run as root)"
command -v apt-get >/dev/null 2>&1 || fail "no apt-get: cannot install ${pkgs[*]}"

export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=1
fi
cleanup() { ((made_policy == 0)) || rm -f "$policy"; }
trap cleanup EXIT

log=$(mktemp)
apt_install() {
	apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${pkgs[@]}" </dev/null >"$log" 2>&1
}
if ! apt_install; then
	# The package lists may be missing or stale (a fresh container): update once, try again.
	if ! apt-get -o DPkg::Lock::Timeout=300 update -q </dev/null >>"$log" 2>&1 || ! apt_install; then
		cat "$log" >&2
		rm -f "$log"
		fail "apt-get install ${pkgs[*]} failed"
	fi
fi
rm -f "$log"
# A service some init system started anyway is none of ours to keep.
for p in "${pkgs[@]}"; do
	if command -v service >/dev/null 2>&1; then
		service "$p" stop </dev/null >/dev/null 2>&1 || true
	fi
done
