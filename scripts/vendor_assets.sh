#!/usr/bin/env bash
# Install the pinned front-end libraries (package-lock.json) with `npm ci` when node_modules is out of
# date, then copy their browser ES-module builds into routes/static/vendor/ (gitignored; no CDN).
set -euo pipefail
cd "$(dirname "$0")/.."

installed=node_modules/.package-lock.json   # written by npm ci; newer than the lock file when up to date
if [ ! -f "$installed" ] || [ package-lock.json -nt "$installed" ] || [ package.json -nt "$installed" ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js (apt-get install npm)" >&2; exit 1; }
  echo "==> installing the pinned front-end libraries (npm ci)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  touch "$installed"
else
  echo "==> front-end libraries up to date"
fi

vendor=routes/static/vendor
mkdir -p "$vendor"
copy() {  # copy <source> <name>: only when the vendored copy differs
  cmp -s "$1" "$vendor/$2" || cp "$1" "$vendor/$2"
}
copy node_modules/socket.io-client/dist/socket.io.esm.min.js socket.io.esm.min.js
copy node_modules/socket.io-client/LICENSE socket.io-client.LICENSE.txt
copy node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.mjs lightweight-charts.js
copy node_modules/lightweight-charts/LICENSE lightweight-charts.LICENSE.txt
