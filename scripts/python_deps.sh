#!/usr/bin/env bash
# Create the virtualenv (when missing) and install pinned requirements into it, one progress line per step.
#   scripts/python_deps.sh <venv> <requirements file>
# uv installs pinned requirements in seconds: it is pinned here and installed into the venv from the package
# registry with pip (one wheel). When it cannot be had (offline, an unsupported platform) or USE_UV=0, plain pip
# installs the same pins, more slowly; pip also honours your pip configuration (a private index, say).
set -euo pipefail
venv=$1
requirements=$2
UV_VERSION=0.13.9
if [ ! -x "$venv/bin/python" ]; then
  echo "==> creating the Python environment in $venv"
  python3 -m venv "$venv"
fi
have_uv() {
  [ "${USE_UV:-1}" != 0 ] || return 1
  "$venv/bin/uv" --version 2>/dev/null | grep -q "^uv $UV_VERSION\b" && return 0
  echo "==> installing uv $UV_VERSION (the fast installer) into $venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION" >/dev/null 2>&1
}
if have_uv; then
  echo "==> installing the pinned Python packages of $requirements with uv"
  "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" -r "$requirements"
else
  echo "==> installing the pinned Python packages of $requirements with pip (a minute or so; USE_UV=1 is faster)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
fi
