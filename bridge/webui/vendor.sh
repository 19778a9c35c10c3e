#!/usr/bin/env bash
# Fetches the WebUI's third-party libraries (uPlot, pinned in
# bridge/webui/vendor/package-lock.json) and copies the files the pages
# load into bridge/webui/static/vendor/, which the bridge embeds. Both
# node_modules and static/vendor are git-ignored: the libraries are never
# kept in the repository. `make build` runs this before building the
# bridge; a bridge built without it says so on the pages that need them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

note() { printf 'webui vendor: %s\n' "$*" >&2; }

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}

if ! command -v npm >/dev/null; then
  note "installing nodejs npm from Debian"
  apt_install nodejs npm
fi

dist=vendor/node_modules/uplot/dist
# npm ci again when node_modules is missing (or lacks uPlot) or is older
# than the lock file.
if [[ ! -d vendor/node_modules || vendor/package-lock.json -nt vendor/node_modules || ! -f $dist/uPlot.iife.min.js ]]; then
  note "installing uPlot (npm ci)"
  (cd vendor && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch vendor/node_modules
fi

mkdir -p static/vendor
for f in uPlot.iife.min.js uPlot.min.css; do
  cmp -s "$dist/$f" "static/vendor/$f" || cp "$dist/$f" "static/vendor/$f"
done
