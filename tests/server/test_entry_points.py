"""The entry points as an operator runs them: a configuration error is one line and a non-zero exit (gunicorn
stops instead of respawning its worker), and Ctrl-C of `python -m backend up` (`make run`) ends cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from backend.local_mariadb import free_port
from tests.server.conftest import ROOT, server_env
from tests.waiting import wait_for

NOWHERE = "mysql://app:secret@127.0.0.1:1/market"  # never connected to: the settings fail first
UPSTOX_WITHOUT_TOKEN = {"MARKET_DATA_PROVIDER": "upstox", "UPSTOX_ACCESS_TOKEN": ""}
WEAK_SECRET = {"APP_ENV": "production", "JWT_SECRET_KEY": "short"}
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "backend.wsgi:app"]


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_", "JWT_", "UPSTOX_"))}
    return {**env, "DATABASE_URL": NOWHERE, "PORT": str(free_port()), "HOST": "127.0.0.1", **settings}


@pytest.mark.parametrize("command", [["up"], ["migrate"], ["seed"]])
def test_a_configuration_error_is_one_line_and_a_non_zero_exit(command):
    done = subprocess.run(
        [sys.executable, "-m", "backend", *command],
        cwd=ROOT,
        env=_env(**UPSTOX_WITHOUT_TOKEN),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "configuration error: MARKET_DATA_PROVIDER=upstox needs UPSTOX_ACCESS_TOKEN "
        "(or PROVIDER_TOKEN_KEY to set it at run time)\n"
    )
    assert done.stdout == ""


def test_gunicorn_with_a_weak_production_secret_stops_instead_of_respawning_its_worker():
    started = time.monotonic()
    done = subprocess.run(GUNICORN, cwd=ROOT, env=_env(**WEAK_SECRET), capture_output=True, text=True, timeout=60)
    took = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode != 0 and took < 20, (done.returncode, took)
    app_lines = [line for line in output.splitlines() if not line.startswith("[")]  # gunicorn's own are "[date] ..."
    assert app_lines == ["configuration error: JWT_SECRET_KEY must be set to a random string of at least 32 characters"]
    assert output.count("Booting worker") == 1 and "Traceback" not in output
    print(f"gunicorn stopped after {took:.1f} s with exit code {done.returncode}")


def test_ctrl_c_of_up_shuts_down_cleanly(server_db, tmp_path):
    port = free_port()
    log = tmp_path / "up.log"
    env = server_env(server_db, PORT=str(port), HOST="127.0.0.1")  # seeded: `up` migrates and skips the seed
    with log.open("w") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "backend", "up"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(lambda: _answers(port) or up.poll() is not None, 60, interval_s=0.2)
            assert up.poll() is None, log.read_text()
            os.killpg(up.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
            assert up.wait(timeout=20) == 0
        finally:
            if up.poll() is None:
                os.killpg(up.pid, signal.SIGKILL)
                up.wait()
    output = log.read_text()
    assert "Traceback" not in output and "SystemExit" not in output, output
    assert "shutdown complete:" in output  # the services stopped and leadership was released on the way out


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False
