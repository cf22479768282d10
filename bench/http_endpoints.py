"""Benchmark: market-data endpoints under gunicorn + gevent, driven by wrk at 64 connections.

Usage: .venv/bin/python bench/http_endpoints.py [--extra-symbols 1800] [--days 250] [--duration 3] [--rounds 3]
                                     [--connections 64]
Starts a throwaway MariaDB (like the tests), migrates and seeds it (2,001 instruments, ~500k daily
and ~750k one-minute candles by default), starts gunicorn with the gevent worker (gunicorn.conf.py:
one worker, no control socket) against it, and runs wrk against each endpoint after a warm-up,
in interleaved rounds. Prints the medians of req/s, p50/p99 latency and the worker's CPU time per
request per endpoint, with the app's trivial JSON endpoint (/health) as the ceiling, and the floor:
bench/floor_app.py, a bare Flask app on the same gunicorn settings (what the stack allows at all). Other work on the
machine shows as noise in req/s and latency; the load average is printed beside each line.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder would come first on sys.path; the repository root must (for backend, bench).
ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from datetime import datetime  # noqa: E402
from statistics import median  # noqa: E402

from backend.db import connect  # noqa: E402
from backend.local_mariadb import LocalMariaDB, free_port  # noqa: E402
from backend.migrate import migrate  # noqa: E402
from backend.seed import seed_market  # noqa: E402
from utils.timeutil import IST  # noqa: E402

FLOOR = "floor: bare Flask, same stack"
ENDPOINTS = [
    ("ceiling: /health", "/health"),
    ("detail (one symbol)", "/stocks/detail/RELIANCE"),
    ("movers-all", "/stocks/movers-all"),
    ("search q=bank", "/stocks/search?q=bank"),
    ("indices/all", "/indices/all"),
    ("history day", "/stocks/history/RELIANCE?interval=day"),
    ("detail (2,000 symbols rotating)", "ROTATE"),
]
_ROTATE_LUA = """
local symbols = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/stocks/detail/" .. symbols[(n %% #symbols) + 1])
end
"""
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def run_wrk(url: str, connections: int, duration: int, script: str | None = None) -> dict:
    """One wrk run: req/s, p50, p99 (ms), requests, non-2xx responses and socket timeouts."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", script]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
    }


def seed_database(server: LocalMariaDB, extra_symbols: int, days: int) -> str:
    """Migrate and seed; returns a one-line summary."""
    conn = connect(server.config())
    migrate(conn)
    conn.close()
    now = datetime(2026, 11, 20, 16, 0, tzinfo=IST)  # after the close: a full session of minutes per stock
    started = time.perf_counter()
    report = seed_market(server.config(), seed=1, extra_symbols=extra_symbols, days=days, now=now)
    return (
        f"{report.stocks:,} instruments, {report.daily_rows:,} daily + {report.minute_rows:,} minute candles "
        f"(seeded in {time.perf_counter() - started:.1f} s)"
    )


def start_gunicorn(database_url: str, port: int, workdir: Path, app: str = "backend.wsgi:app") -> subprocess.Popen:
    """gunicorn with gunicorn.conf.py (gevent, 1 worker, no control socket) serving `app` on 127.0.0.1:port."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "APP_ENV": "development",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": "1",
        "HOME": str(workdir),
    }
    with open(workdir / f"gunicorn-{port}.log", "w") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket", app],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not answer /health within 30 s; see gunicorn.log")


def worker_pid(master: int) -> int:
    """The gunicorn worker's pid (the master's only child)."""
    return int(Path(f"/proc/{master}/task/{master}/children").read_text().split()[0])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, args: argparse.Namespace, script: str | None, worker: int) -> dict:
    """One wrk run plus the server worker's CPU time per request and the machine's load."""
    cpu_before = cpu_seconds(worker)
    result = run_wrk(url, args.connections, args.duration, script)
    result["cpu_ms"] = (cpu_seconds(worker) - cpu_before) * 1000 / max(result["requests"], 1)
    result["load"] = os.getloadavg()[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extra-symbols", type=int, default=1800)
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {FLOOR: [], **{name: [] for name, _ in ENDPOINTS}}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        server = LocalMariaDB(workdir / "db", database="bench_http").start()
        servers: list[subprocess.Popen] = []
        try:
            summary = seed_database(server, args.extra_symbols, args.days)
            port, floor_port = free_port(), free_port()
            servers.append(start_gunicorn(server.config().url(), port, workdir))
            servers.append(start_gunicorn(server.config().url(), floor_port, workdir, "bench.floor_app:app"))
            workers = {FLOOR: worker_pid(servers[1].pid)} | {name: worker_pid(servers[0].pid) for name, _ in ENDPOINTS}
            base = f"http://127.0.0.1:{port}"
            symbols = ["RELIANCE", "TCS", "INFY"] + [f"SYN{i:05d}" for i in range(1, args.extra_symbols + 1)]
            lua = workdir / "rotate.lua"
            lua.write_text(_ROTATE_LUA % ", ".join(f'"{s}"' for s in symbols))
            targets = [(FLOOR, f"http://127.0.0.1:{floor_port}/health", None)]
            targets += [
                (name, base + ("/" if path == "ROTATE" else path), str(lua) if path == "ROTATE" else None)
                for name, path in ENDPOINTS
            ]
            for _name, url, script in targets:
                with urllib.request.urlopen(url if not script else base + "/stocks/detail/TCS", timeout=60):
                    pass  # first request alone: lazy imports (the exchange calendar) and the pool
                run_wrk(url, args.connections, 2, script)  # warm-up: caches and code paths under load
            for _ in range(args.rounds):  # rounds interleave endpoints, so a burst of outside load hits all
                for name, url, script in targets:
                    runs[name].append(measure(url, args, script, workers[name]))
        finally:
            for process in servers:
                process.terminate()
                process.wait(20)
            server.stop()
    report(args, summary, runs)


def report(args: argparse.Namespace, summary: str, runs: dict[str, list[dict]]) -> None:
    """Print the command, the set-up and one line per endpoint (medians over the rounds)."""
    print(
        f"command: python bench/http_endpoints.py --extra-symbols {args.extra_symbols} --days {args.days} "
        f"--duration {args.duration} --rounds {args.rounds} --connections {args.connections}"
    )
    print(f"database: {summary}")
    print(
        f"server: gunicorn -c gunicorn.conf.py (gevent, 1 worker); load: wrk -t1 -c{args.connections} "
        f"-d{args.duration}s --latency per endpoint and round, after a warm-up; medians of {args.rounds} rounds"
    )
    ceiling = runs[ENDPOINTS[0][0]]  # the app's own trivial endpoint; the floor row is the stack without the app
    print(
        f"{'endpoint':34} {'req/s':>7} {'of ceiling':>10} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10} "
        f"{'errors':>6} {'load1':>5}"
    )
    for name, results in runs.items():
        ratio = median(r["rps"] / c["rps"] for r, c in zip(results, ceiling, strict=True))
        print(
            f"{name:34} {median(r['rps'] for r in results):7.0f} {ratio:10.0%} "
            f"{median(r['p50'] for r in results):7.1f} {median(r['p99'] for r in results):7.1f} "
            f"{median(r['cpu_ms'] for r in results):10.2f} {sum(r['errors'] + r['timeouts'] for r in results):6d} "
            f"{sum(r['load'] for r in results) / len(results):5.1f}"
        )


if __name__ == "__main__":
    main()
