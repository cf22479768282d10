"""What the benchmarks share: a migrated throwaway MariaDB, Redis, wrk runs, CPU meters from /proc.

The scripts import it as a sibling module (`python bench/x.py` puts bench/ on sys.path); importing it
also puts the repository root on sys.path, so the scripts can import the app's packages after it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from backend.db import connect  # noqa: E402
from backend.local_mariadb import LocalMariaDB, free_port  # noqa: E402
from backend.migrate import migrate  # noqa: E402

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@contextmanager
def migrated_database(tmp: Path, name: str) -> Iterator[LocalMariaDB]:
    """A MariaDB server in `tmp` with database `name`, migrated; stopped when the block ends."""
    server = LocalMariaDB(tmp, database=name).start()
    try:
        conn = connect(server.config())
        try:
            migrate(conn)
        finally:
            conn.close()
        yield server
    finally:
        server.stop()


def server_env(database_url: str, home: Path) -> dict[str, str]:
    """The environment of a benchmarked gunicorn: this database, one worker, quiet logs, `home` for its files."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "APP_ENV": "development",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": "1",
        "HOME": str(home),
    }


@contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """A redis-server without persistence on a free loopback port; yields its URL."""
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp)]
    process = subprocess.Popen(["redis-server", *args], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        else:
            raise SystemExit("redis-server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def children(pid: int) -> list[int]:
    """Direct children of a process."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def cpu_seconds(pid: int, descendants: bool = False) -> float:
    """User + system CPU time a process (and, with `descendants`, its living descendants) has used so far."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _CLK_TCK
            if descendants:
                todo += children(current)
        except (FileNotFoundError, ProcessLookupError):  # it ended meanwhile
            continue
    return total


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS_MS[unit]


def run_wrk(url: str, connections: int, duration: float, script: str | None = None, threads: int = 1) -> dict:
    """One wrk run: req/s, p50 and p99 (ms), requests, non-2xx responses and socket timeouts."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency", url]
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


def wrk_summary(result: dict) -> str:
    """One line of a run_wrk result."""
    line = f"{result['rps']:>8,.0f} req/s  p50 {result['p50']:>7.1f} ms  p99 {result['p99']:>7.1f} ms"
    return line + (f"  non-2xx {result['errors']}" if result["errors"] else "")


def wrk_medians_table(runs: dict[str, list[dict]], ceiling: str, width: int = 12) -> list[str]:
    """Lines of a table of interleaved wrk rounds: medians of req/s, share of `ceiling`'s, p50, p99, CPU per
    request (`cpu_ms`), errors and the load average, one row per name."""
    lines = [
        f"{'endpoint':{width}} {'req/s':>7} {'of ' + ceiling:>12} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10} "
        f"{'errors':>6} {'load1':>5}"
    ]
    for name, results in runs.items():
        ratio = median(r["rps"] / c["rps"] for r, c in zip(results, runs[ceiling], strict=True))
        lines.append(
            f"{name:{width}} {median(r['rps'] for r in results):7.0f} {ratio:12.0%} "
            f"{median(r['p50'] for r in results):7.1f} {median(r['p99'] for r in results):7.1f} "
            f"{median(r['cpu_ms'] for r in results):10.3f} {sum(r['errors'] + r['timeouts'] for r in results):6d} "
            f"{sum(r['load'] for r in results) / len(results):5.1f}"
        )
    return lines
