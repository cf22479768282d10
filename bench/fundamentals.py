"""Benchmark: the PEG table and the simulated crawl (docs/FUNDAMENTALS.md) on a real gunicorn + gevent server.

Usage: .venv/bin/python bench/fundamentals.py [--extra-symbols 1800] [--days 30] [--duration 5] [--rounds 3]
                                            [--connections 64] [--staleness-seconds 5]

Starts a throwaway MariaDB, migrates and seeds it (201 reference + `--extra-symbols` synthetic instruments, 2,001 by
default, with their simulated fundamentals), starts gunicorn (gevent, 1 worker) with the simulator ticking every
second and the market held open, so the PEG table is re-priced from the live cache as prices move. Then:

1. throughput: wrk -c`--connections` on /health, /fundamentals/peg?limit=50,
   /fundamentals/peg?sector=Financial%20Services&peg_max=1 and (for scale) /stocks/detail/RELIANCE, interleaved in
   `--rounds` rounds after a warm-up: req/s, p50/p99 and the worker's CPU per request, each as a share of /health's
   req/s in the same round (the issue's bar for the PEG queries: ≥ 90 %);
2. staleness: for `--staleness-seconds`, one client watches RELIANCE's live price (/stocks/detail, laid over per
   request) and, at each new price, times how long until the PEG table's book (/stocks/fundamentals/RELIANCE reads
   the same book as /fundamentals/peg) shows it, and checks its P/E is price over EPS (the bar: within one fan-out
   interval, FANOUT_INTERVAL_MS);
3. crawl: an administrator runs the seeded universe crawler job (simulated source, every instrument): the run's
   execution time and POST → completed (the bar: ≤ 10 s); and `python -m backend crawler-run --universe`, wall time.

Other work on the machine shows as noise: run it on a quiet machine for figures; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import requests
from harness import children, cpu_seconds, migrated_database, run_wrk, wrk_summary

from backend.local_app import LocalApp
from backend.seed import UNIVERSE_JOB, seed_market

ROOT = Path(__file__).resolve().parent.parent
FANOUT_MS = 250
ADMIN = "bench.admin@example.com"
SERVER_ENV = {
    "APP_ENV": "test",
    "LOG_LEVEL": "WARNING",
    "WEB_CONCURRENCY": "1",
    "SIM_ALWAYS_OPEN": "1",
    "SIM_TICK_INTERVAL_S": "1",
    "FANOUT_INTERVAL_MS": str(FANOUT_MS),
    "NEWS_FEEDS": "",
    "ADMIN_EMAILS": ADMIN,
}
TARGETS = [
    ("ceiling: /health", "/health"),
    ("peg ?limit=50", "/fundamentals/peg?limit=50"),
    ("peg ?sector=Financial Services&peg_max=1", "/fundamentals/peg?sector=Financial%20Services&peg_max=1"),
    ("reference: /stocks/detail/RELIANCE", "/stocks/detail/RELIANCE"),  # another cached endpoint, for scale
]


def throughput(url: str, worker: int, args: argparse.Namespace) -> dict[str, list[dict]]:
    """wrk on each target, interleaved in rounds; each run with the worker's CPU ms per request."""
    runs: dict[str, list[dict]] = {name: [] for name, _ in TARGETS}
    for _, path in TARGETS:
        run_wrk(url + path, args.connections, 2)  # warm-up: caches and code paths under load
    for _ in range(args.rounds):
        for name, path in TARGETS:
            before = cpu_seconds(worker)
            result = run_wrk(url + path, args.connections, args.duration)
            result["cpu_ms"] = (cpu_seconds(worker) - before) * 1000 / max(result["requests"], 1)
            result["load"] = os.getloadavg()[0]
            runs[name].append(result)
    return runs


def staleness(url: str, seconds: float, symbol: str = "RELIANCE") -> dict:
    """How long after a new live price shows in /stocks/detail (laid over per request) the PEG table's book shows it
    too (/stocks/fundamentals reads the same book as /fundamentals/peg): one lag per tick seen, in ms."""
    session = requests.Session()

    def detail() -> float:
        return session.get(f"{url}/stocks/detail/{symbol}", timeout=10).json()["data"]["currentPrice"]

    def priced() -> dict:
        return session.get(f"{url}/stocks/fundamentals/{symbol}", timeout=10).json()["data"]

    lags, wrong, deadline, last = [], 0, time.monotonic() + seconds, detail()
    while time.monotonic() < deadline:
        price = detail()
        if price == last:
            continue
        seen, last = time.perf_counter(), price
        while (row := priced())["price"] != price and time.perf_counter() - seen < 5:
            pass
        lags.append((time.perf_counter() - seen) * 1000)
        wrong += row["pe"] is not None and abs(row["price"] / row["eps_ttm"] - row["pe"]) > 0.01 * row["pe"] + 0.01
    return {"lags": lags or [float("nan")], "wrong": wrong}


def crawl_via_job(url: str) -> dict:
    """Run the seeded universe job as an administrator; its execution time and POST → completed."""
    body = {"email": ADMIN, "password": "benchmark password 1", "name": "Bench admin"}
    token = requests.post(f"{url}/auth/register", json=body, timeout=30).json()["data"]["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    jobs = requests.get(f"{url}/admin/crawler-jobs", headers=headers, timeout=30).json()["data"]
    job_id = next(job["job_id"] for job in jobs if job["name"] == UNIVERSE_JOB)
    started = time.perf_counter()
    run = requests.post(f"{url}/admin/crawler-jobs/{job_id}/run", headers=headers, timeout=30).json()["data"]
    while True:
        runs = requests.get(f"{url}/admin/crawler-jobs/{job_id}/runs", headers=headers, timeout=30).json()["data"]
        current = next(r for r in runs if r["run_id"] == run["run_id"])
        if current["status"] in ("completed", "failed", "cancelled"):
            return {**current, "wall_s": time.perf_counter() - started}
        time.sleep(0.05)


def crawl_via_cli(database_url: str) -> tuple[float, str]:
    """`python -m backend crawler-run --universe --quiet`: wall seconds and its summary line."""
    env = {**os.environ, "DATABASE_URL": database_url, "APP_ENV": "test", "LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "backend", "crawler-run", "--universe", "--quiet"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, done.stdout.strip().splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extra-symbols", type=int, default=1800)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--staleness-seconds", type=float, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp) / "db", "bench_fundamentals") as server:
        started = time.perf_counter()
        report = seed_market(server.config(), seed=1, extra_symbols=args.extra_symbols, days=args.days)
        seeded = time.perf_counter() - started
        env = {**os.environ, **SERVER_ENV, "DATABASE_URL": server.config().url(), "HOME": tmp}
        app = LocalApp(env, Path(tmp) / "app.log").start()
        try:
            worker = children(app.pid)[0]
            requests.get(f"{app.url}/fundamentals/peg", timeout=60)  # the first read of the stored figures
            runs = throughput(app.url, worker, args)
            stale = staleness(app.url, args.staleness_seconds)
            job = crawl_via_job(app.url)
        finally:
            app.stop()
        cli_s, cli_summary = crawl_via_cli(server.config().url())
    print_report(args, report, seeded, runs, stale, job, cli_s, cli_summary)


def print_report(args, report, seeded, runs, stale, job, cli_s, cli_summary) -> None:
    """The command, the set-up and the figures."""
    print(
        f"command: python bench/fundamentals.py --extra-symbols {args.extra_symbols} --days {args.days} "
        f"--duration {args.duration} --rounds {args.rounds} --connections {args.connections} "
        f"--staleness-seconds {args.staleness_seconds:g}"
    )
    print(
        f"database: {report.stocks:,} instruments, fundamentals of {report.fundamentals:,} (seeded in {seeded:.1f} s); "
        f"server: gunicorn (gevent, 1 worker), simulator ticking every 1 s, FANOUT_INTERVAL_MS={FANOUT_MS}"
    )
    ceiling = runs[TARGETS[0][0]]
    print(
        f"{'endpoint':45} {'req/s':>7} {'of /health':>10} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10} {'load1':>5}"
    )
    for name, results in runs.items():
        ratio = median(r["rps"] / c["rps"] for r, c in zip(results, ceiling, strict=True))
        print(
            f"{name:45} {median(r['rps'] for r in results):7.0f} {ratio:10.0%} "
            f"{median(r['p50'] for r in results):7.1f} {median(r['p99'] for r in results):7.1f} "
            f"{median(r['cpu_ms'] for r in results):10.2f} {sum(r['load'] for r in results) / len(results):5.1f}"
        )
        print(f"{'':45} last round: {wrk_summary(results[-1])}")
    lags = stale["lags"]
    print(
        f"live price → PEG table: {len(lags)} ticks, lag median {median(lags):.0f} ms, max {max(lags):.0f} ms "
        f"(fan-out interval {FANOUT_MS} ms, plus the polling client's own request time); P/E ≠ price / EPS in "
        f"{stale['wrong']} of them"
    )
    print(
        f"crawl (job, simulated, whole universe): {job['status']}, {job['updated']:,} updated, {job['failed']} failed, "
        f"execution {job['execution_time_s']:.2f} s, POST → completed {job['wall_s']:.2f} s"
    )
    print(f"crawl (CLI, whole universe): {cli_s:.2f} s wall including start-up: {cli_summary}")


if __name__ == "__main__":
    main()
