"""Benchmark: market-data endpoints under gunicorn + gevent, driven by wrk at 64 connections.

Usage: .venv/bin/python bench/http_endpoints.py [--extra-symbols 1800] [--days 250] [--duration 3] [--rounds 3]
                                     [--connections 64] [--feed-apart]
Starts a throwaway MariaDB (like the tests), migrates and seeds it (2,001 instruments, ~500k daily
and ~750k one-minute candles by default), starts gunicorn with the gevent worker (gunicorn.conf.py:
one worker, no control socket) against it, and runs wrk against each endpoint after a warm-up,
in interleaved rounds. Prints the medians of req/s, p50/p99 latency and the worker's CPU time per
request per endpoint, with the app's trivial JSON endpoint (/health) as the ceiling, and the floor:
bench/floor_app.py, a bare Flask app on the same gunicorn settings (what the stack allows at all). Other work on the
machine shows as noise in req/s and latency; the load average is printed beside each line. With `--feed-apart` a
redis-server and a second app server start first: that one leads (the feed, the writer) and serves no requests, and
the measured worker follows over the Redis tick bus, as a web worker does beside a leader.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from statistics import median

from harness import children, cpu_seconds, migrated_database, redis_server, run_wrk

from backend.local_app import LocalApp
from backend.local_mariadb import LocalMariaDB
from backend.seed import seed_market
from utils.timeutil import IST

FLOOR = "floor: bare Flask, same stack"
ENDPOINTS = [
    ("ceiling: /health", "/health"),
    ("detail (one symbol)", "/stocks/detail/RELIANCE"),
    ("movers-all", "/stocks/movers-all"),
    ("search q=bank", "/stocks/search?q=bank"),
    ("indices/all", "/indices/all"),
    ("history day", "/stocks/history/RELIANCE?interval=day"),
    ("detail (every symbol rotating)", "ROTATE"),
]
_ROTATE_LUA = """
local symbols = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/stocks/detail/" .. symbols[(n %% #symbols) + 1])
end
"""


def seed_database(server: LocalMariaDB, extra_symbols: int, days: int) -> str:
    """Seed; returns a one-line summary."""
    now = datetime(2026, 11, 20, 16, 0, tzinfo=IST)  # after the close: a full session of minutes per stock
    started = time.perf_counter()
    report = seed_market(server.config(), seed=1, extra_symbols=extra_symbols, days=days, now=now)
    return (
        f"{report.stocks:,} instruments, {report.daily_rows:,} daily + {report.minute_rows:,} minute candles "
        f"(seeded in {time.perf_counter() - started:.1f} s)"
    )


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
    parser.add_argument("--feed-apart", action="store_true", help="the leader in its own server, over Redis")
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {FLOOR: [], **{name: [] for name, _ in ENDPOINTS}}
    with (
        tempfile.TemporaryDirectory() as tmp,
        migrated_database(Path(tmp) / "db", "bench_http") as server,
        ExitStack() as stack,
    ):
        workdir = Path(tmp)
        env = {
            **os.environ,
            "DATABASE_URL": server.config().url(),
            "APP_ENV": "development",
            "LOG_LEVEL": "WARNING",
            "WEB_CONCURRENCY": "1",
            "HOME": str(workdir),
        }
        floor = LocalApp(env, workdir / "floor.log", "bench.floor_app:app")
        if args.feed_apart:
            env["REDIS_URL"] = stack.enter_context(redis_server(workdir))
        app = LocalApp(env, workdir / "app.log")
        # with --feed-apart the leader starts first: alone on the database, it leads, and the measured app follows
        servers = ([LocalApp(env, workdir / "leader.log")] if args.feed_apart else []) + [app, floor]
        try:
            summary = seed_database(server, args.extra_symbols, args.days)
            for started in servers:
                started.start()
            workers = {FLOOR: children(floor.pid)[0]} | {name: children(app.pid)[0] for name, _ in ENDPOINTS}
            base = app.url
            symbols = ["RELIANCE", "TCS", "INFY"] + [f"SYN{i:05d}" for i in range(1, args.extra_symbols + 1)]
            lua = workdir / "rotate.lua"
            lua.write_text(_ROTATE_LUA % ", ".join(f'"{s}"' for s in symbols))
            targets = [(FLOOR, f"{floor.url}/health", None)]
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
            for started in servers:
                started.stop()
    report(args, summary, runs)


def report(args: argparse.Namespace, summary: str, runs: dict[str, list[dict]]) -> None:
    """Print the command, the set-up and one line per endpoint (medians over the rounds)."""
    print(
        f"command: python bench/http_endpoints.py --extra-symbols {args.extra_symbols} --days {args.days} "
        f"--duration {args.duration} --rounds {args.rounds} --connections {args.connections}"
        + (" --feed-apart" if args.feed_apart else "")
    )
    print(f"database: {summary}")
    following = "; it follows a leader apart" if args.feed_apart else ""
    print(
        f"server: gunicorn -c gunicorn.conf.py (gevent, 1 worker{following}); load: wrk -t1 -c{args.connections} "
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
    # the framework-overhead figure, round by round: one round's share moves by several points on a shared machine
    shares = [c["rps"] / f["rps"] for c, f in zip(ceiling, runs[FLOOR], strict=True)]
    print(
        f"/health of the floor, per round: {', '.join(f'{s:.0%}' for s in shares)} (median {median(shares):.0%}); "
        f"worker CPU per request {median(c['cpu_ms'] for c in ceiling) * 1000:.0f} µs, "
        f"the floor's {median(f['cpu_ms'] for f in runs[FLOOR]) * 1000:.0f} µs"
    )


if __name__ == "__main__":
    main()
