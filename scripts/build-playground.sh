#!/usr/bin/env bash
# Builds the browser playground into OUTDIR, a folder of static files with index.html at its top:
#
#   bash scripts/build-playground.sh OUTDIR
#
# OUTDIR gets the page (playground/site), main.wasm (playground/wasm built with GOOS=js
# GOARCH=wasm) and the wasm_exec.js of the Go toolchain that built it (the two must match).
# Serve OUTDIR with any static file server, or: go run ./playground/serve -dir OUTDIR
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
	echo "usage: bash scripts/build-playground.sh OUTDIR" >&2
	exit 2
fi
out=$1
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mkdir -p "$out"
goroot=$(go env GOROOT)
execjs=""
for f in "$goroot/lib/wasm/wasm_exec.js" "$goroot/misc/wasm/wasm_exec.js"; do
	if [[ -f "$f" ]]; then
		execjs=$f
		break
	fi
done
[[ -n "$execjs" ]] || { echo "build-playground: no wasm_exec.js under $goroot/lib/wasm or $goroot/misc/wasm" >&2; exit 1; }

GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o "$out/main.wasm.tmp" ./playground/wasm
mv "$out/main.wasm.tmp" "$out/main.wasm"
cp "$execjs" "$out/wasm_exec.js"
cp playground/site/index.html playground/site/app.js playground/site/worker.js playground/site/style.css "$out/"
touch "$out/.nojekyll" # GitHub Pages: serve the files as they are
printf 'build-playground: %s (main.wasm %d bytes, %d gzipped)\n' "$out" \
	"$(wc -c <"$out/main.wasm")" "$(gzip -9 -c "$out/main.wasm" | wc -c)" >&2
