#!/usr/bin/env bash
# Installs Microsoft's SARIF validator, the npm package @microsoft/sarif-multitool-linux (pinned
# below), into the cache directory, as scripts/test.sh installs the PostgreSQL binaries:
#
#   bash scripts/install-sarif.sh
#
# The command lands in $PGHBA_CACHE/sarif/node_modules/.bin/sarif-multitool-linux, where the
# lint SARIF test (cmd/pghba, TestSARIFValidator) finds it; PGHBA_SARIF_MULTITOOL names another.
# PGHBA_CACHE defaults as in scripts/test.sh. Nothing is done when the pinned version is there.
#
# It also installs pre-commit, for the pre-commit hook's test (cmd/pghba, TestPreCommitHook),
# from Debian's packages when it is missing and this runs as root with apt-get; elsewhere it only
# says so (pip install pre-commit), and that test skips.
set -euo pipefail

if ! command -v pre-commit >/dev/null; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		printf '==> pre-commit: installing the Debian package\n' >&2
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pre-commit </dev/null >&2; then
			apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pre-commit </dev/null >&2
		fi
	else
		printf '==> pre-commit: not installed (pip install pre-commit); the pre-commit hook test will skip\n' >&2
	fi
fi

version=5.7.0
if [[ -z "${PGHBA_CACHE:-}" ]]; then
	if [[ $(id -u) -eq 0 ]]; then
		PGHBA_CACHE=/var/cache/pghba
	else
		PGHBA_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/pghba"
	fi
fi
dir="$PGHBA_CACHE/sarif"
bin="$dir/node_modules/.bin/sarif-multitool-linux"
if [[ -x "$bin" && "$(cat "$dir/.pghba-version" 2>/dev/null)" == "$version" ]]; then
	printf '==> SARIF multitool: %s already in %s\n' "$version" "$dir" >&2
	exit 0
fi
printf '==> SARIF multitool: installing @microsoft/sarif-multitool-linux@%s into %s\n' "$version" "$dir" >&2
rm -rf "$dir"
mkdir -p "$dir"
npm install --prefix "$dir" --no-audit --no-fund --no-progress --loglevel=error \
	"@microsoft/sarif-multitool-linux@$version" </dev/null >&2
[[ -x "$bin" ]] || { printf 'install-sarif.sh: no %s after npm install\n' "$bin" >&2; exit 1; }
chmod -R a+rX "$dir"
echo "$version" >"$dir/.pghba-version"
