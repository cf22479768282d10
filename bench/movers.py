"""Benchmark: what a movers or sectors recompute costs as the universe grows (201, 2,001, 10,000 instruments).

Usage: .venv/bin/python bench/movers.py [--extra-symbols 0 1800 9800] [--days 2] [--repeat 200] [--idle-seconds 0]
For each universe size: a throwaway MariaDB, migrated and seeded; then, in process,
- closed market (database path): `compute_movers` for gainers, losers and most active, CPU and wall time per list and
  the MariaDB server's CPU per list (the index walk: no temporary table, no filesort);
- live feed (every stock with a fresh live quote, market forced open): `compute_movers` (the three lists) and
  `compute_sectors` from the live board, CPU per recompute; and what keeping the board costs: on the tick path, CPU
  per quote of a market-wide tick (the live cache's update, the board noting the quote; and a bare cache's), and
  the filing of a noted quote (done by the board's background drain, here by the next recompute);
- with `--idle-seconds N`: the hot-cache job with the market closed (the clock frozen on a Sunday), run at its
  scheduled interval for N seconds: the process's CPU per second (its background reloads included), what an idle
  worker spends on keeping the dashboards' caches warm.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from harness import cpu_seconds, migrated_database
from http_endpoints import seed_database

from backend.app import create_app
from backend.settings import Settings
from services.market import stock_views, universe_snapshot
from services.market.live_price_cache import LivePriceCache, Quote, stock_prices
from services.market.market_clock import set_clock
from services.runtime.app_jobs import every_process_jobs
from utils.timeutil import now_utc

KINDS = ("gainers", "losers", "active")
_SUNDAY = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # the market closed all day


def _per_call_ms(run, repeat: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per call of `run`."""
    cpu, wall = time.thread_time(), time.perf_counter()
    for _ in range(repeat):
        run()
    return (time.thread_time() - cpu) * 1000 / repeat, (time.perf_counter() - wall) * 1000 / repeat


def database_path(server, url: str, repeat: int) -> dict:
    """Closed market: the three movers lists from SQL, per list."""
    app = create_app(Settings.load(app_env="development", database_url=url, log_level="WARNING", _env_file=None))
    try:
        with app.app_context():
            for kind in KINDS:
                stock_views.compute_movers(kind, "NSE", False, 10)  # warm the pool
            mariadb = server.running_pid()
            db_cpu = cpu_seconds(mariadb)
            cpu, wall = _per_call_ms(
                lambda: [stock_views.compute_movers(kind, "NSE", False, 10) for kind in KINDS], repeat
            )
            db_ms = (cpu_seconds(mariadb) - db_cpu) * 1000 / repeat / len(KINDS)
    finally:
        app.extensions["db"].close()
    return {"cpu_ms": cpu / len(KINDS), "wall_ms": wall / len(KINDS), "db_ms": db_ms}


def _ticks(quotes: list[Quote], step: int = 1) -> list[Quote]:
    """A market-wide tick: every price `step` tenths of a percent up, volume up, quoted now."""
    at = now_utc()
    return [q._replace(ltp=q.ltp * (1000 + step) / 1000, volume=q.volume + 100 * step, as_of=at) for q in quotes]


def live_path(url: str, repeat: int) -> dict:
    """Live feed: recomputes from the board, and the board's cost per tick."""
    settings = Settings.load(
        app_env="development", database_url=url, log_level="WARNING", force_market_open=True, _env_file=None
    )
    app = create_app(settings)
    try:
        with app.app_context():
            rows = universe_snapshot.exchange_snapshot("NSE")
            quotes = [
                Quote(r.symbol, r.ltp, r.prev_close, r.day_open, r.day_high, r.day_low, r.volume, r.as_of) for r in rows
            ]
            stock_prices().update(_ticks(quotes))
            stock_views.compute_movers("gainers", "NSE", False, 10)  # builds the board
            movers_cpu, _ = _per_call_ms(
                lambda: [stock_views.compute_movers(kind, "NSE", False, 10) for kind in KINDS], repeat
            )
            sectors_cpu, _ = _per_call_ms(lambda: stock_views.compute_sectors("NSE"), repeat)
            ticks = [_ticks(quotes, step) for step in range(2, 7)]
            tick_ms, _ = _per_call_ms(lambda: [stock_prices().update(batch) for batch in ticks], 1)
            filing_ms, _ = _per_call_ms(lambda: stock_views.compute_movers("gainers", "NSE", False, 10), 1)
            bare = LivePriceCache("bare")
            bare_ms, _ = _per_call_ms(lambda: [bare.update(batch) for batch in ticks], 1)
    finally:
        app.extensions["db"].close()
    return {
        "movers_cpu_ms": movers_cpu / len(KINDS),
        "sectors_cpu_ms": sectors_cpu,
        "tick_us": tick_ms * 1000 / (len(ticks) * len(quotes)),  # the live cache's update, the board's note included
        "bare_tick_us": bare_ms * 1000 / (len(ticks) * len(quotes)),
        "filing_us": (filing_ms - movers_cpu / len(KINDS)) * 1000 / len(quotes),  # the last tick's quotes, filed
    }


def closed_hot_cache(url: str, seconds: float) -> float:
    """Closed market: the hot-cache job at its interval for `seconds`; the process's CPU ms per second."""
    settings = Settings.load(app_env="development", database_url=url, log_level="WARNING", _env_file=None)
    app = create_app(settings)
    [job] = [job for job in every_process_jobs(settings) if job.name == "hot_cache"]
    set_clock(app, lambda: _SUNDAY)
    try:
        with app.app_context():
            job.func()  # the first run loads everything
            time.sleep(job.interval_s)
            cpu, started = time.process_time(), time.monotonic()
            while time.monotonic() - started < seconds:
                job.func()
                time.sleep(job.interval_s)
            return (time.process_time() - cpu) * 1000 / (time.monotonic() - started)
    finally:
        app.extensions["db"].close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extra-symbols", type=int, nargs="+", default=[0, 1800, 9800])
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=0, help="also run the closed-market hot-cache job")
    args = parser.parse_args()
    print(
        f"command: python bench/movers.py --extra-symbols {' '.join(map(str, args.extra_symbols))} "
        f"--days {args.days} --repeat {args.repeat} --idle-seconds {args.idle_seconds:g}"
    )
    print(
        f"{'instruments':>11} | {'closed: CPU ms/list':>19} {'wall ms':>7} {'MariaDB CPU ms':>14} | "
        f"{'live: movers CPU ms/list':>24} {'sectors CPU ms':>14} | "
        f"{'tick µs/quote (noted, bare cache)':>33} {'filing µs/quote':>15}"
        + (f" | {'closed: hot-cache job CPU ms/s':>30}" if args.idle_seconds else "")
    )
    for extra in args.extra_symbols:
        with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp), "bench_movers") as server:
            seed_database(server, extra, args.days)
            url = server.config().url()
            closed = database_path(server, url, args.repeat)
            live = live_path(url, args.repeat)
            idle = closed_hot_cache(url, args.idle_seconds) if args.idle_seconds else None
        print(
            f"{201 + extra:>11,} | {closed['cpu_ms']:19.3f} {closed['wall_ms']:7.3f} {closed['db_ms']:14.3f} | "
            f"{live['movers_cpu_ms']:24.3f} {live['sectors_cpu_ms']:14.3f} | "
            f"{live['tick_us']:22.2f} {live['bare_tick_us']:10.2f} {live['filing_us']:15.1f}"
            + (f" | {idle:30.1f}" if idle is not None else "")
        )


if __name__ == "__main__":
    main()
