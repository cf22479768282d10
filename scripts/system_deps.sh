#!/usr/bin/env bash
# Install the system packages a command needs, when they are missing (Debian/Ubuntu, as root).
#   scripts/system_deps.sh run    -> MariaDB server, npm (the dashboard's front-end libraries)
#   scripts/system_deps.sh test   -> MariaDB server, npm, Redis, Chromium + driver
#   scripts/system_deps.sh bench  -> the test set plus wrk and Node.js (Socket.IO load generators)
set -euo pipefail

want=(mariadb-server npm)
case "${1:-run}" in
  test) want+=(redis-server chromium chromium-driver) ;;
  bench) want+=(redis-server chromium chromium-driver wrk nodejs) ;;
esac

declare -A probe=(
  [mariadb-server]=mariadbd [redis-server]=redis-server [chromium]=chromium
  [chromium-driver]=chromedriver [wrk]=wrk [nodejs]=node [npm]=npm
)
missing=()
for pkg in "${want[@]}"; do
  bin=${probe[$pkg]}
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "==> system packages present: ${want[*]}"
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${missing[*]} (install them with your package manager)" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian package may start a system-wide server; the project runs its own, so stop it.
if pgrep -x mariadbd >/dev/null 2>&1 && [ -d /run/mysqld ]; then
  (service mariadb stop || pkill -x -f "/usr/sbin/mariadbd" || true) >/dev/null 2>&1
fi
if pgrep -f "redis-server .*:6379" >/dev/null 2>&1; then
  (service redis-server stop || true) >/dev/null 2>&1
fi
