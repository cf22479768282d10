"""Benchmark: CPU per instrument-tick of the whole tick path, in process, without clients.

Usage: .venv/bin/python bench/tick_path.py [--extra-symbols 0 1800 9800] [--ticks 20] [--warmup 5]

For each universe size: a throwaway MariaDB seeded with 201 + N instruments (2 days of history), the app
(threading mode, SIM_ALWAYS_OPEN) with the tick path wired as `start_services` wires it (the simulator, the tick
bus with the live-price cache and the live board's listener, the Socket.IO fan-out, the alert engine with no
alerts, the order matcher and the tick writer), and the periodic work that grows with the universe: the fan-out
pass (no client is connected, so nothing is sent), the `market_views` job every MOVERS_INTERVAL_S (the hot
caches: movers, indices, sectors, then `movers_update`, with the live board's filing of what ticked since the
last recompute) and the writer's flush every QUOTE_WRITE_INTERVAL_S. Ticks come once a second of wall time (so
caches expire as in production). Each stage is timed with the thread's CPU time (`time.thread_time`); the figures
are µs of CPU per instrument-tick (per stock quote published) and the longest step between two of the app's
pauses: how long one green thread would hold the event loop (a bus subscriber's steps are part of the publishing
step).
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from harness import migrated_database

from backend.app import create_app
from backend.seed import seed_market
from backend.settings import Settings
from services.alerts.engine import AlertEngine
from services.market import live_board as live_board_module
from services.market import market_clock
from services.market_data import provider
from services.market_data.universe import load_universe
from services.realtime import feed_jobs, payloads
from services.realtime import tick_writer as tick_writer_module
from services.realtime.fanout import Fanout
from services.realtime.tick_writer import TickWriter
from services.trading import matcher
from utils.timeutil import IST


class Meter:
    """CPU seconds per stage, and the longest step of each: the CPU between two pauses (where a green thread lets
    the others run), i.e. how long the stage would hold the event loop at once."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.longest: dict[str, float] = defaultdict(float)
        self._running: list[list] = []  # stages being timed (nested: the bus's subscribers), with their step start

    def time(self, stage: str, work: Callable[[], object]) -> object:
        """Run `work`, charging its thread CPU time to `stage`."""
        started = time.thread_time()
        self._running.append([stage, started])
        try:
            return work()
        finally:
            ended = time.thread_time()
            self.cpu[stage] += ended - started
            self.pause()
            self._running.pop()

    def pause(self) -> None:
        """A step of every running stage ends here (the app's `pause`, patched in while measuring)."""
        now = time.thread_time()
        for running in self._running:
            self.longest[running[0]] = max(self.longest[running[0]], now - running[1])
            running[1] = now

    def wrap(self, stage: str, callback: Callable) -> Callable:
        """`callback`, timed under `stage` on every call."""
        return lambda *args: self.time(stage, lambda: callback(*args))


def measure(extra_symbols: int, ticks: int, warmup: int) -> tuple[int, Meter, float]:
    """Seed, wire and tick; return the number of stock quotes published while measuring, the meter and the
    process CPU seconds of the measured ticks."""
    with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp) / "db", "bench_tick_path") as db:
        seed_market(
            db.config(), seed=7, extra_symbols=extra_symbols, days=2, now=datetime(2026, 11, 20, 9, 30, tzinfo=IST)
        )
        settings = Settings.load(
            app_env="development",
            database_url=db.url(),
            socketio_async_mode="threading",
            log_level="WARNING",
            sim_always_open=True,
            _env_file=None,
        )
        app = create_app(settings)
        try:
            return run(app, settings, ticks, warmup)
        finally:
            app.extensions["db"].close()


def run(app, settings: Settings, ticks: int, warmup: int) -> tuple[int, Meter, float]:
    meter = Meter()
    with app.app_context():
        bus = app.extensions["tick_bus"]
        fanout = Fanout(app, settings.fanout_interval_ms / 1000, settings.prices_batch_interval_ms / 1000)
        alerts = AlertEngine(app)
        alerts.sync()
        writer = TickWriter(load_universe, market_clock.calendar().is_trading_day)
        # subscribed as Realtime.start and _start_writer subscribe them
        for name, callback in (
            ("fanout", fanout.on_batch),
            ("alerts", alerts.on_batch),
            ("order_matcher", matcher.tick_subscriber(app)),
            ("tick_writer", writer.on_batch),
        ):
            bus.subscribe(callback, name)
        bus._subscribers = [(name, meter.wrap(f"bus: {name}", cb)) for name, cb in bus._subscribers]
        for module in (live_board_module, tick_writer_module):
            module.pause = meter.pause  # a step ends where the app lets other green threads run
        provider().pauses.pause = meter.pause
        live_board_module.live_board("NSE")
        market_views = feed_jobs.MarketViews()
        views_every = round(feed_jobs.market_views_interval_s(settings))
        stocks_published = 0
        gc.collect()
        threshold = gc.get_threshold()
        gc.freeze()  # as start_services does (services/runtime/lifecycle.py)
        gc.set_threshold(10_000, 10, 10)
        cpu0 = 0.0
        for n in range(warmup + ticks):
            if n == warmup:  # the measurement starts: forget the warm-up's figures
                meter.cpu.clear()
                meter.longest.clear()
                stocks_published = 0
                cpu0 = time.process_time()
            started = time.monotonic()
            quotes = meter.time("simulator", lambda: provider().quotes(list(payloads.directory().stock_ids)))
            stocks_published += meter.time("publish (filter, bus)", partial(feed_jobs.publish_new, "stocks", quotes))
            meter.time("index quotes", feed_jobs.poll_index_quotes)
            meter.time("fanout pass (no clients)", fanout.emit_pending)
            if n % views_every == 0:
                meter.time("market views (files the board)", market_views)
            if n % int(settings.quote_write_interval_s) == 0:
                meter.time("writer flush", writer.flush)
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        cpu = time.process_time() - cpu0
        gc.unfreeze()
        gc.set_threshold(*threshold)
    # the bus's time includes its subscribers': report the filter and the batch alone
    meter.cpu["publish (filter, bus)"] -= sum(v for k, v in meter.cpu.items() if k.startswith("bus: "))
    return stocks_published, meter, cpu


def report(extra_symbols: int, published: int, meter: Meter, process_cpu: float, ticks: int) -> None:
    print(f"\n--extra-symbols {extra_symbols}: {published:,} stock quotes published in {ticks} ticks")
    print(f"{'stage':32} {'µs/instrument-tick':>18} {'longest step ms':>16}")
    for stage, seconds in meter.cpu.items():
        print(f"{stage:32} {seconds / published * 1e6:18.2f} {meter.longest[stage] * 1000:16.1f}")
    total = sum(meter.cpu.values())
    print(f"{'total (stages)':32} {total / published * 1e6:18.2f}")
    print(
        f"{'process CPU (all threads)':32} {process_cpu / published * 1e6:18.2f}   "
        f"= {process_cpu / ticks:.3f} cores at 1 Hz"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extra-symbols", type=int, nargs="+", default=[0, 1800, 9800])
    parser.add_argument("--ticks", type=int, default=20, help="measured ticks (one a second)")
    parser.add_argument("--warmup", type=int, default=5, help="ticks before measuring")
    args = parser.parse_args()
    print(
        f"command: python bench/tick_path.py --extra-symbols {' '.join(map(str, args.extra_symbols))} "
        f"--ticks {args.ticks} --warmup {args.warmup}"
    )
    for extra in args.extra_symbols:
        published, meter, cpu = measure(extra, args.ticks, args.warmup)
        report(extra, published, meter, cpu, args.ticks)


if __name__ == "__main__":
    main()
