"""What `make run` does, step by step, as a newcomer sees it: the Python packages installed with uv (or plain pip),
then `python -m backend up` saying each step and when the first page is ready, in a simulated session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from backend.local_mariadb import free_port
from tests.waiting import wait_for

UP_STEPS = [
    "==> applying migrations",
    "==> seeding the market (only when the database is empty)",
    "==> starting the server (gunicorn, gevent worker)",
]


def test_up_says_each_step_and_when_the_dashboard_is_ready(make_database, repo_root, tmp_path):
    config = make_database("test_make_run")  # empty: `up` migrates and seeds it
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": config.url(),
        "PORT": str(port),
        "APP_ENV": "test",
        "LOG_LEVEL": "WARNING",
        "NEWS_FEEDS": "",
        "WEB_CONCURRENCY": "1",
    }
    env.pop("SIM_ALWAYS_OPEN", None)
    log = tmp_path / "up.log"
    with log.open("w") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "backend", "up"], cwd=repo_root, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 90
        while "==> ready after" not in log.read_text():
            assert up.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        lines = [line for line in log.read_text().splitlines() if line.startswith("==> ")]
        assert lines[:3] == UP_STEPS and lines[3].startswith("==> ready after ")
        assert lines[3].endswith(f"s: dashboard at http://127.0.0.1:{port}/ (Ctrl-C stops)")
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200  # the first page
        status = requests.get(f"http://127.0.0.1:{port}/market/status", timeout=5).json()["data"]
        assert (status["session"], status["phase"]) == ("simulated", "open")  # make run's default
    finally:
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=30) is not None


@pytest.mark.parametrize(("use_uv", "installer"), [("1", "uv"), ("0", "pip")])
def test_python_packages_install_with_uv_or_plain_pip(repo_root, tmp_path, use_uv, installer):
    """scripts/python_deps.sh on a fresh venv: one line per step, the pins installed, pip usable in the venv, and the
    packages' bytecode compiled even where PYTHONDONTWRITEBYTECODE forbids the imports to write it (with uv: in the
    background, so restarts do not compile everything again)."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("cachetools==8.0.1\n")
    venv = tmp_path / "venv"
    env = {
        **os.environ,
        "USE_UV": use_uv,
        "PIP_NO_CACHE_DIR": "1",
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        ["bash", "scripts/python_deps.sh", str(venv), str(requirements)],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"==> creating the Python environment in {venv}"
    assert lines[-1].startswith(f"==> installing the pinned Python packages of {requirements} with {installer}")
    python = venv / "bin" / "python"
    check = "import cachetools, importlib.metadata as m; print(m.version('cachetools'))"
    assert subprocess.run([python, "-c", check], capture_output=True, text=True).stdout.strip() == "8.0.1"
    assert subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0
    assert (venv / "bin" / "uv").exists() is (installer == "uv")
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    wait_for(lambda: list((site / "cachetools" / "__pycache__").glob("__init__.*.pyc")), timeout_s=60)
