"""Benchmark: the scanner (issue "universe scanner", docs/SCANS.md) on a real gunicorn + gevent server.

Usage: .venv/bin/python bench/scan.py [--extra-symbols 2000] [--days 520] [--warm-runs 5] [--health-seconds 10]
       .venv/bin/python bench/scan.py --days 1300 --range-years 5 --warm-runs 3 --health-seconds 0   # 5-year scan

Starts a throwaway MariaDB, migrates and seeds it (201 reference + `--extra-symbols` synthetic instruments with
`--days` daily candles; 2,001 × 520 ≈ two years by default), starts gunicorn (gevent, 1 worker) against it,
registers a user and connects a Socket.IO client (python-socketio) to the user's room. Then:

1. cold: the first LC-preset scan over the last `--range-years` (a fresh scan process, no panel): time from
   POST /scans to `scan_done` received by the client;
2. warm: `--warm-runs` more of the same scan (the scan process holds the panel): median and max;
3. /health p99 at a fixed rate: wrk finds /health's maximum, then a paced client (wrk with a fixed delay between
   the requests of each of 16 keep-alive connections, so about half the maximum rate) runs `--health-seconds`
   without a scan, then again while scans run back to back; prints both p99s and their ratio (the issue's bar:
   ≤ 1.5×). wrk2 is not packaged here: the pacing is per connection and latency counts from each send.

Other work on the machine shows as noise: run it on a quiet machine for figures; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import median

import requests
import socketio
from harness import migrated_database, run_wrk

from backend.local_app import LocalApp
from backend.seed import seed_market
from utils.timeutil import IST

SERVER_ENV = {
    "APP_ENV": "test",
    "LOG_LEVEL": "WARNING",
    "WEB_CONCURRENCY": "1",
    "SIM_ALWAYS_OPEN": "1",
    "NEWS_FEEDS": "",
    "SCAN_MAX_ACTIVE_PER_USER": "100",
}


class ScanClient:
    """A signed-in user: HTTP calls and a Socket.IO connection that records when each scan_done arrives."""

    def __init__(self, url: str) -> None:
        self.url = url
        email = f"bench-{os.getpid()}@example.com"
        body = {"email": email, "password": "benchmark password 1", "name": "Bench"}
        token = requests.post(f"{url}/auth/register", json=body, timeout=30).json()["data"]["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.done: dict[int, tuple[float, dict]] = {}
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("scan_done", lambda data: self.done.__setitem__(data["scan_id"], (time.perf_counter(), data)))
        self.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def universe(self) -> dict:
        return requests.get(f"{self.url}/scans/universe", headers=self.headers, timeout=30).json()["data"]

    def scan(self, body: dict, timeout_s: float = 300) -> tuple[float, dict]:
        """POST /scans → scan_done: (seconds, the scan_done payload)."""
        started = time.perf_counter()
        response = requests.post(f"{self.url}/scans", json=body, headers=self.headers, timeout=30)
        response.raise_for_status()
        scan_id = response.json()["data"]["scan_id"]
        deadline = time.monotonic() + timeout_s
        while scan_id not in self.done:
            if time.monotonic() > deadline:
                raise RuntimeError(f"scan {scan_id} did not finish within {timeout_s} s")
            time.sleep(0.002)
        finished, payload = self.done[scan_id]
        return finished - started, payload


def paced_p99(url: str, rate: float, seconds: float, connections: int = 16) -> tuple[float, int]:
    """(p99 ms, requests) of /health at about `rate` req/s: wrk with a per-connection delay between requests (a paced
    client in C; a Python one would need most of a core at these rates). Latency counts from each send."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f"function delay() return {1000.0 * connections / rate:.3f} end\n")
    try:
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", script.name]
        out = subprocess.run([*cmd, f"{url}/health"], check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(script.name)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", out, re.M)
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    return float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)], requests_done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extra-symbols", type=int, default=1800)
    parser.add_argument("--days", type=int, default=520, help="daily candles per instrument (520 ≈ 2 years)")
    parser.add_argument("--range-years", type=float, default=1.0, help="the scan's date range, ending at the data")
    parser.add_argument("--warm-runs", type=int, default=5)
    parser.add_argument("--health-seconds", type=float, default=10.0, help="0 skips the /health scenario")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp) / "db", "bench_scan") as server:
        now = datetime(2026, 11, 20, 16, 0, tzinfo=IST)  # after the close: the day's candle is complete
        report = seed_market(server.config(), seed=1, extra_symbols=args.extra_symbols, days=args.days, now=now)
        print(f"seeded {report.stocks:,} instruments, {report.daily_rows:,} daily candles in {report.seconds:.1f} s")
        env = {**os.environ, **SERVER_ENV, "DATABASE_URL": server.url()}
        app = LocalApp(env, Path(tmp) / "gunicorn.log").start(timeout_s=120)
        try:
            run(app.url, args)
        finally:
            app.stop()


def run(url: str, args: argparse.Namespace) -> None:
    client = ScanClient(url)
    try:
        universe = client.universe()
        last = date.fromisoformat(universe["last_date"])
        body = {
            "preset": "lc_frontside_d2_extended",
            "start_date": (last - timedelta(days=round(365.25 * args.range_years))).isoformat(),
            "end_date": last.isoformat(),
        }
        print(f"command: python bench/scan.py {' '.join(sys.argv[1:])}")
        print(
            f"universe: {universe['instrument_count']} instruments, {universe['first_date']} – {universe['last_date']}"
        )
        cold, payload = client.scan(body)
        print(
            f"cold  LC scan {body['start_date']} – {body['end_date']}: {cold:.2f} s  ({payload['results_found']} rows)"
        )
        warm = [client.scan(body)[0] for _ in range(args.warm_runs)]
        if warm:
            print(f"warm  LC scan: median {median(warm):.2f} s, max {max(warm):.2f} s over {len(warm)} runs")
        if args.health_seconds > 0:
            health(url, client, body, args.health_seconds)
    finally:
        client.sio.disconnect()


def health(url: str, client: ScanClient, body: dict, seconds: float) -> None:
    ceiling = run_wrk(f"{url}/health", 64, 5)
    rate = ceiling["rps"] / 2
    print(f"/health maximum (wrk -c64, 5 s): {ceiling['rps']:,.0f} req/s; paced at {rate:,.0f} req/s")
    quiet_p99, quiet_n = paced_p99(url, rate, seconds)
    running = threading.Event()
    scans = []

    def keep_scanning() -> None:
        while not running.is_set():
            scans.append(client.scan(body)[0])

    worker = threading.Thread(target=keep_scanning, daemon=True)
    worker.start()
    busy_p99, busy_n = paced_p99(url, rate, seconds)
    running.set()
    worker.join(300)
    print(f"/health p99 without a scan: {quiet_p99:.1f} ms ({quiet_n} requests)")
    print(f"/health p99 with scans running: {busy_p99:.1f} ms ({busy_n} requests, {len(scans)} scans)")
    print(f"ratio: {busy_p99 / quiet_p99:.2f}×  (load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
