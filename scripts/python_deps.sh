#!/usr/bin/env bash
# Create the virtualenv (when missing) and install pinned requirements into it, one progress line per step.
#   scripts/python_deps.sh <venv> <requirements file>
# uv installs pinned requirements in seconds. It is pinned here and installed into the venv from the package
# registry (one wheel, with the system's pip, else the venv's own); the venv gets pip too, for the developers'
# `pip install`. When uv cannot be had (offline, an unsupported platform) or with USE_UV=0, plain pip installs
# the same pins, more slowly; pip also honours your pip configuration (a private index, say).
set -euo pipefail
venv=$1
requirements=$2
UV_VERSION=0.13.9
PIP_VERSION=26.3
py=$venv/bin/python

if [ ! -x "$py" ]; then
  echo "==> creating the Python environment in $venv"
  python3 -m venv --without-pip "$venv"  # pip comes with the packages (ensurepip alone takes seconds)
fi
venv_pip() {  # the venv's own pip, bootstrapped when missing
  "$py" -m pip --version >/dev/null 2>&1 || "$py" -m ensurepip --upgrade >/dev/null
  "$py" -m pip "$@"
}
have_uv() {
  [ "${USE_UV:-1}" != 0 ] || return 1
  "$venv/bin/uv" --version 2>/dev/null | grep -q "^uv $UV_VERSION " && return 0
  echo "==> installing uv $UV_VERSION (the fast installer) into $venv"
  python3 -m pip --python "$py" install -q --disable-pip-version-check "uv==$UV_VERSION" >/dev/null 2>&1 \
    || venv_pip install -q --disable-pip-version-check "uv==$UV_VERSION" >/dev/null 2>&1
}
if have_uv; then
  echo "==> installing the pinned Python packages of $requirements with uv"
  "$venv/bin/uv" pip install --quiet --python "$py" -r "$requirements" "pip==$PIP_VERSION"
  # uv leaves the bytecode to the first imports, which cannot write it where PYTHONDONTWRITEBYTECODE is set (then
  # every start compiles again: seconds). Compiled here in the background, at low priority and in a session of its
  # own (a Ctrl-C of make run does not stop it), while the app starts: the first start is not slowed down.
  site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  setsid -f nice -n 19 "$py" -m compileall -q -j 0 "$site" >/dev/null 2>&1 </dev/null
else
  echo "==> installing the pinned Python packages of $requirements with pip (a minute or so; uv is faster)"
  venv_pip install -q --disable-pip-version-check -r "$requirements"
fi
