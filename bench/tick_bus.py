"""Benchmark: the cost of carrying ticks between processes on the Redis tick bus, per quote and per process.

Usage:
  .venv/bin/python bench/tick_bus.py codec [--instruments 10001] [--ticks 60]
  .venv/bin/python bench/tick_bus.py processes [--extra-symbols 9800] [--seconds 30]

`codec`: a session of random-walk quotes (each instrument's high and low move as its price makes them), encoded by
the leader and decoded by one follower tick after tick (services/realtime/tick_codec.py); prints µs of CPU per quote
for each side and the message's bytes per quote. `processes`: a throwaway MariaDB seeded with 201 + N instruments,
a redis-server, then two app servers (gunicorn, one gevent worker each, `FORCE_MARKET_OPEN=1`, the same REDIS_URL):
the first leads (simulator, writer, publish), the second follows (decodes every batch for its live cache, board,
fan-out, alerts and matcher). With no client and no request, prints each worker's and Redis's CPU in ms a second.
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import redis
from flask import Flask
from harness import children, cpu_seconds, migrated_database, redis_server, server_env

from backend.extensions import socketio
from backend.local_app import LocalApp
from backend.seed import seed_market
from services.market.live_price_cache import Quote
from services.realtime.tick_bus import TickBatch
from services.realtime.tick_codec import Decoder, encode
from utils.timeutil import IST


def session(instruments: int, ticks: int, seed: int = 1) -> list[TickBatch]:
    """`ticks` batches of every instrument's quote, one a second from mid-morning (each instrument's day range so far
    up to 2 % either side of its open), prices moving by whole paise."""
    rng = random.Random(seed)
    opens = [rng.randrange(5_000, 500_000) for _ in range(instruments)]
    highs = [p + rng.randrange(0, p // 50 + 1) for p in opens]
    lows = [p - rng.randrange(0, p // 50 + 1) for p in opens]
    paise = [rng.randrange(low, high + 1) for low, high in zip(lows, highs, strict=True)]
    start = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
    batches = []
    for n in range(ticks):
        at, quotes = start + timedelta(seconds=n), []
        for i in range(instruments):
            paise[i] += rng.randrange(-paise[i] // 500, paise[i] // 500 + 1)
            highs[i], lows[i] = max(highs[i], paise[i]), min(lows[i], paise[i])
            price = [Decimal(p).scaleb(-2) for p in (paise[i], opens[i], opens[i], highs[i], lows[i])]
            quotes.append(Quote(f"SYN{i:05d}", *price, 1_000 * n + i, at, "simulator"))
        batches.append(TickBatch("stocks", tuple(quotes), at))
    return batches


def codec(args: argparse.Namespace) -> None:
    socketio.init_app(Flask(__name__), async_mode="threading")  # the decoder's pauses: a plain switch here
    batches = session(args.instruments, args.ticks)
    gc.collect()
    gc.freeze()  # the session is long-lived, as the app's start-up objects are (services/runtime/lifecycle.py)
    started = time.process_time()
    messages = [encode(batch, "bench") for batch in batches]
    encoded = time.process_time()
    decoder, decoding = Decoder(), 0.0
    for message, batch in zip(messages, batches, strict=True):
        before = time.process_time()
        decoded = decoder.decode(message)[1]
        decoding += time.process_time() - before
        assert decoded == batch  # and dropped, as the live cache drops a quote the next tick replaces
    quotes = args.instruments * args.ticks
    moved = sum(
        (q.day_high, q.day_low) != (p.day_high, p.day_low)
        for earlier, later in zip(batches, batches[1:], strict=False)
        for p, q in zip(earlier.quotes, later.quotes, strict=True)
    )
    print(f"command: python bench/tick_bus.py codec --instruments {args.instruments} --ticks {args.ticks}")
    print(
        f"encode {(encoded - started) / quotes * 1e6:.2f} µs/quote, decode {decoding / quotes * 1e6:.2f} µs/quote, "
        f"{sum(map(len, messages)) / quotes:.0f} bytes/quote (at 1 Hz, 1 µs/quote is {args.instruments / 1000:.0f} ms "
        f"of CPU a second); the day's high or low moved in {moved / quotes:.0%} of the quotes"
    )


def processes(args: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        migrated_database(Path(tmp) / "db", "bench_tick_bus") as db,
        redis_server(Path(tmp)) as redis_url,
    ):
        seed_market(db.config(), seed=1, extra_symbols=args.extra_symbols, days=2, now=datetime.now(IST))
        env = {**server_env(db.url(), Path(tmp)), "REDIS_URL": redis_url, "FORCE_MARKET_OPEN": "1"}
        leader = LocalApp(env, Path(tmp) / "leader.log").start()  # alone on the database: it leads
        follower = LocalApp(env, Path(tmp) / "follower.log").start()
        try:
            time.sleep(args.settle)
            workers = {"leader": children(leader.pid)[0], "follower": children(follower.pid)[0]}
            client = redis.Redis.from_url(redis_url)

            def redis_cpu() -> float:
                info = client.info("cpu")
                return info["used_cpu_user"] + info["used_cpu_sys"]

            before = {name: cpu_seconds(pid) for name, pid in workers.items()} | {"redis": redis_cpu()}
            time.sleep(args.seconds)
            after = {name: cpu_seconds(pid) for name, pid in workers.items()} | {"redis": redis_cpu()}
        finally:
            follower.stop()
            leader.stop()
    print(f"command: python bench/tick_bus.py processes --extra-symbols {args.extra_symbols} --seconds {args.seconds}")
    print(f"{201 + args.extra_symbols:,} instruments ticking at 1 Hz, no clients; CPU over {args.seconds} s:")
    for name in before:
        print(f"  {name:9} {(after[name] - before[name]) / args.seconds * 1000:6.1f} ms/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    modes = parser.add_subparsers(dest="mode", required=True)
    one = modes.add_parser("codec")
    one.add_argument("--instruments", type=int, default=10_001)
    one.add_argument("--ticks", type=int, default=60)
    many = modes.add_parser("processes")
    many.add_argument("--extra-symbols", type=int, default=9800)
    many.add_argument("--seconds", type=int, default=30)
    many.add_argument("--settle", type=int, default=20, help="seconds after start-up before measuring")
    args = parser.parse_args()
    (codec if args.mode == "codec" else processes)(args)


if __name__ == "__main__":
    main()
