#!/usr/bin/env bash
# How long `make run` takes to serve the first page, as a newcomer meets it: a fresh clone, no venv, empty
# package caches (pip, uv, npm), no database under var/; then again warm (the same clone restarted).
#   bash bench/cold_start.sh [repository (default: this one)] [extra environment, e.g. USE_UV=0]
# Prints one line per run with the seconds from `make run` to GET / answering 200, and the load average.
# Needs MariaDB and npm installed (scripts/system_deps.sh run) and the package registries reachable.
set -uo pipefail
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
shift || true
work=$(mktemp -d /tmp/cold-start.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
git clone -q "$repo" "$work/clone"
mkdir -p "$work/cache"

run() {  # run <label> [VAR=value ...]: start make run, time the first page, stop it
  local label=$1 started pid
  shift
  started=$(date +%s.%N)
  (cd "$work/clone" && exec setsid env "$@" PIP_NO_CACHE_DIR=1 UV_CACHE_DIR="$work/cache/uv" \
    npm_config_cache="$work/cache/npm" PORT="$port" make run >"$work/$label.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 1500); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null)" = 200 ]; then
      printf '%s: first page after %.1f s (load average %s)\n' "$label" \
        "$(echo "$(date +%s.%N) - $started" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
      break
    fi
    sleep 0.2
  done
  kill -INT -- "-$pid" 2>/dev/null  # make's process group: the app stops gunicorn and its MariaDB
  wait "$pid" 2>/dev/null
  for _ in $(seq 1 300); do  # the next run must not meet this server still answering
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null)" = 000 ] && break
    sleep 0.2
  done
  while pgrep -f "$work/clone/var/mariadb" >/dev/null; do sleep 0.2; done  # and its MariaDB has stopped
  grep '^==> ' "$work/$label.log"
}
run cold "$@"
run warm "$@"
echo "logs and the clone in $work"
