#!/usr/bin/env bash
# Installs headless Chromium for the playground's browser test (playground/browsertest).
#
#   bash scripts/install-browser.sh
#
# Does nothing when /usr/bin/chromium (or $PGHBA_CHROMIUM) is already there, so it is safe to run
# on every test run. Otherwise installs Debian's chromium package with apt-get, non-interactively
# (no stdin needed): as root directly, else through sudo -n when that works. When it cannot
# install, it says so and exits 0 unless CI=true, where it exits 1 (the browser test would
# then fail anyway).
set -euo pipefail

bin=${PGHBA_CHROMIUM:-/usr/bin/chromium}
if [[ -x "$bin" ]]; then
	printf 'install-browser: %s already installed (%s)\n' "$bin" "$("$bin" --version 2>/dev/null || echo 'version unknown')" >&2
	exit 0
fi

fail() {
	printf 'install-browser: %s\n' "$*" >&2
	if [[ "${CI:-}" == true ]]; then
		exit 1
	fi
	exit 0
}

if [[ $(id -u) -eq 0 ]]; then
	sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	sudo=(sudo -n)
else
	fail "cannot install chromium: not root and no password-less sudo; the browser test will skip"
fi
command -v apt-get >/dev/null || fail "cannot install chromium: no apt-get on this machine"

export DEBIAN_FRONTEND=noninteractive
printf 'install-browser: installing chromium with apt-get\n' >&2
"${sudo[@]}" apt-get update -q </dev/null >&2
"${sudo[@]}" apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core </dev/null >&2
[[ -x /usr/bin/chromium ]] || fail "apt-get install chromium finished but /usr/bin/chromium is missing"
printf 'install-browser: %s\n' "$(/usr/bin/chromium --version 2>/dev/null || echo 'chromium installed')" >&2
