#!/usr/bin/env bash
# Runs the benchmark suite: `make bench` (after `make up`), or with
# BENCH_SMOKE=1 the short run that only checks it works. Installs what it
# needs that `make up` did not: wrk and nginx from Debian,
# configurable-http-proxy from bench/package-lock.json. Results go to
# bench/results/ (smoke runs: bench/results/smoke/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=/usr/local/go/bin:$PATH

note() { printf 'bench: %s\n' "$*" >&2; }

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx)
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  note "installing ${missing[*]} from Debian"
  apt_install "${missing[@]}"
fi

chp=bench/node_modules/configurable-http-proxy/package.json
if ! grep -q '"version": "5.3.0"' "$chp" 2>/dev/null; then
  note "installing configurable-http-proxy (npm ci)"
  (cd bench && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

[[ -x bin/det ]] || { note "bin/det is missing: run 'make up' (make bench does)"; exit 1; }

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/benchrun" ./bench/cmd/benchrun

args=(run -repo .)
[[ -n ${BENCH_SMOKE:-} ]] && args+=(-smoke)
"$bin/benchrun" "${args[@]}" "$@"
