"""Benchmark: the Upstox V3 feed path, from the loopback feed to Socket.IO clients.

Usage: .venv/bin/python bench/upstox_stream.py [--instruments 2000] [--hz 5] [--per-message 100]
                                              [--clients 1000] [--procs 4] [--duration 30] [--warmup 20]

1. decode + publish: frames like the feed's (`--per-message` full-mode instruments each) decoded into quotes
   and published on an in-process tick bus with the live-price cache subscribed; CPU microseconds per tick.
2. end to end: a throwaway MariaDB seeded with `--instruments` keys (9 indices, the rest stocks), the loopback
   Upstox fake (tests/realtime/fake_upstox.py) in a process of its own streaming every subscribed instrument
   `--hz` times a second, `--per-message` instruments to a frame, and the production server (gunicorn, one
   gevent worker, MARKET_DATA_PROVIDER=upstox, PRICES_BATCH_INTERVAL_MS=0) streaming all of them
   (UPSTOX_STREAM_MOVERS covers every stock). Node socket.io-client processes (bench/fanout_client.js) connect
   `--clients` clients in batch mode, 20 symbols each. Prints feed frames and ticks per second, server CPU
   per tick, and tick (exchange timestamp `ltt`) -> client receipt latency p50/p99.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
from fanout import SYMBOLS_PER_CLIENT, percentile, start_clients
from harness import ROOT, children, cpu_seconds, migrated_database

from backend.db import connect
from backend.local_app import LocalApp
from backend.seed import seed_market
from controller.sql import execute, fetch_all
from utils.timeutil import IST

INDICES = 9
REFERENCE_STOCKS = 201


def measure_decode_publish(instruments: int, per_message: int, rounds: int) -> float:
    """CPU microseconds to decode one tick from a feed frame and publish it (live-price cache subscribed)."""
    from services.market.live_price_cache import LivePriceCache
    from services.market_data import upstox_codec
    from services.market_data import upstox_feed_v3_pb2 as pb
    from services.realtime.tick_bus import InProcessTickBus, TickBatch
    from tests.realtime.fake_upstox_feed import full_feed, now_ms, response

    names = {f"NSE_EQ|B{n:05d}": ("stocks", f"B{n:05d}") for n in range(instruments)}
    keys = list(names)
    frames = []
    for first in range(0, instruments, per_message):
        feeds = {
            key: full_feed(100 + random.random(), 100.0, 1000, now_ms()) for key in keys[first : first + per_message]
        }
        frames.append(response(pb.live_feed, feeds))
    cache = LivePriceCache("stocks")
    bus = InProcessTickBus()
    bus.subscribe(lambda batch: cache.update(batch.quotes), "live_price_cache")
    now = datetime.now(UTC)
    started = time.process_time()
    for _ in range(rounds):
        for frame in frames:
            update = upstox_codec.decode(frame, names, lambda kind, symbol: None, now)
            bus.publish(TickBatch("stocks", tuple(update.quotes["stocks"])))
    return (time.process_time() - started) / (rounds * instruments) * 1e6


def serve_fake(prices_file: str, hz: float, per_message: int) -> None:
    """The loopback Upstox (REST, authorise, feed) streaming on its own; prints its URL, runs until SIGTERM."""
    from tests.realtime.fake_upstox import FakeUpstoxServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    with FakeUpstoxServer() as server:
        server.state.prices.update({k: tuple(v) for k, v in json.loads(Path(prices_file).read_text()).items()})
        server.feed.stream_hz, server.feed.per_message = hz, per_message
        print(server.url, flush=True)
        signal.pause()  # until the benchmark terminates it


def metric(url: str, name: str) -> float:
    """One unlabelled (or first) sample of a metric on the server's /metrics."""
    for line in requests.get(url + "/metrics", timeout=10).text.splitlines():
        if line.startswith(name):
            return float(line.split()[-1])
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instruments", type=int, default=2000, help="streamed keys, 9 of them indices")
    parser.add_argument("--hz", type=float, default=5.0, help="ticks per second per instrument")
    parser.add_argument("--per-message", type=int, default=100, help="instruments per feed frame")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--procs", type=int, default=4, help="Node load-generator processes")
    parser.add_argument("--duration", type=int, default=30, help="measured seconds")
    parser.add_argument("--warmup", type=int, default=20, help="seconds for clients to connect before measuring")
    parser.add_argument("--serve-fake", nargs=3, metavar=("PRICES", "HZ", "PER_MESSAGE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake(args.serve_fake[0], float(args.serve_fake[1]), int(args.serve_fake[2]))
        return
    per_tick_us = measure_decode_publish(args.instruments, args.per_message, rounds=20)
    if not (ROOT / "bench" / "node_modules" / "socket.io-client").exists():
        subprocess.run(["npm", "ci", "--prefix", str(ROOT / "bench"), "--no-audit", "--no-fund"], check=True)
    with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp) / "db", "bench_upstox") as db:
        run(args, db, Path(tmp), per_tick_us)


def run(args: argparse.Namespace, db, tmp: Path, per_tick_us: float) -> None:
    conn = connect(db.config())
    extra = max(args.instruments - INDICES - REFERENCE_STOCKS, 0)
    seed_market(db.config(), seed=7, extra_symbols=extra, days=5, now=datetime(2026, 11, 20, 9, 30, tzinfo=IST))
    execute(conn, "UPDATE stocks SET instrument_key = CONCAT('NSE_EQ|', symbol) WHERE instrument_key IS NULL")
    rows = fetch_all(
        conn,
        "SELECT s.symbol, s.instrument_key, q.ltp, q.prev_close, q.volume FROM stocks s "
        "JOIN stock_quotes q USING (stock_id) ORDER BY s.symbol",
    )
    rows = rows[: args.instruments - INDICES]
    index_rows = fetch_all(
        conn, "SELECT i.name, i.instrument_key, q.ltp, q.prev_close FROM indices i JOIN index_quotes q USING (index_id)"
    )
    prices = {
        r["instrument_key"]: [r["symbol"], float(r["ltp"]), float(r["ltp"] - r["prev_close"]), int(r["volume"])]
        for r in rows
    }
    prices |= {
        r["instrument_key"]: [r["name"], float(r["ltp"]), float(r["ltp"] - r["prev_close"]), 0] for r in index_rows
    }
    (tmp / "prices.json").write_text(json.dumps(prices))
    fake = subprocess.Popen(
        [sys.executable, __file__, "--serve-fake", str(tmp / "prices.json"), str(args.hz), str(args.per_message)],
        stdout=subprocess.PIPE,
        text=True,
    )
    fake_url = fake.stdout.readline().strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_", "SOCKETIO_", "UPSTOX_"))}
    env.update(
        DATABASE_URL=db.url(),
        LOG_LEVEL="WARNING",
        MARKET_DATA_PROVIDER="upstox",
        UPSTOX_ACCESS_TOKEN="bench-token",
        UPSTOX_BASE_URL=fake_url,
        UPSTOX_STREAM_MOVERS=str(args.instruments),  # every stock is a candidate: all of them are streamed
        UPSTOX_FEED_TARGETS_INTERVAL_S="1",
        PRICES_BATCH_INTERVAL_MS="0",
        WORKER_CONNECTIONS=str(args.clients + 200),
        ENABLE_STARTUP_REFRESH="0",
        NEWS_FEEDS="",
    )
    server = LocalApp(env, tmp / "app.log")
    url = server.env["ALLOWED_ORIGINS"] = server.url
    server.start(timeout_s=60)
    try:
        symbols = [r["symbol"] for r in rows]
        started = time.time()
        [worker] = children(server.pid)
        measure_from = (started + args.warmup) * 1000
        measure_to = measure_from + args.duration * 1000
        procs = start_clients(tmp, url, args.clients, args.procs, "batch", symbols, measure_from, measure_to)
        time.sleep(max(measure_from / 1000 - time.time(), 0))
        frames0, ticks0 = metric(url, "upstox_feed_messages_total"), metric(url, 'ticks_total{kind="stocks"}')
        server_cpu0, fake_cpu0 = cpu_seconds(worker), cpu_seconds(fake.pid)
        time.sleep(args.duration)
        server_cpu = (cpu_seconds(worker) - server_cpu0) / args.duration
        fake_cpu = (cpu_seconds(fake.pid) - fake_cpu0) / args.duration
        frames = (metric(url, "upstox_feed_messages_total") - frames0) / args.duration
        ticks = (metric(url, 'ticks_total{kind="stocks"}') - ticks0) / args.duration
        subscribed = metric(url, 'upstox_feed_subscribed_keys{mode="full"}')
        results = []
        for process, _, _ in procs:
            process.send_signal(signal.SIGUSR2)
        for process, _, out in procs:
            process.wait()
            results.append(json.loads(out.read_text()))
    finally:
        server.stop()
        fake.terminate()
        fake.wait(timeout=10)
        conn.close()
    report(args, results, per_tick_us, frames, ticks, subscribed, server_cpu, fake_cpu)


def report(args, results, per_tick_us, frames, ticks, subscribed, server_cpu, fake_cpu) -> None:
    histogram = [sum(r["latency"][i] for r in results) for i in range(len(results[0]["latency"]))]
    print(
        f"command: python bench/upstox_stream.py --instruments {args.instruments} --hz {args.hz:g} "
        f"--per-message {args.per_message} --clients {args.clients} --procs {args.procs} --duration {args.duration}"
    )
    print(f"decode + publish (in process, live-price cache subscribed): {per_tick_us:.1f} µs CPU per tick")
    print(
        f"feed: {subscribed:.0f} keys in full mode; {frames:,.0f} frames/s of up to {args.per_message} ticks; "
        f"{ticks:,.0f} stock ticks/s published (offered: {args.instruments * args.hz:,.0f}/s, conflated per 50 ms)"
    )
    print(
        f"clients: {sum(r['connected'] for r in results)} connected, {sum(r['subscribed'] for r in results)} "
        f"subscribed (batch mode, {SYMBOLS_PER_CLIENT} symbols), errors {sum(r['errors'] for r in results)}, "
        f"dropped {sum(r['disconnects'] for r in results)}; "
        f"{sum(r['counts']['price_updates'] for r in results) / args.duration:,.0f} price_updates/s"
    )
    print(
        f"tick (ltt) -> client latency: p50 {percentile(histogram, 0.5)} ms, p99 {percentile(histogram, 0.99)} ms "
        f"(target: FANOUT_INTERVAL_MS 250 + 100)"
    )
    per_tick = server_cpu / ticks * 1e6 if ticks else float("nan")
    print(
        f"server CPU (1 gevent worker): {server_cpu:.2f} cores = {per_tick:.0f} µs per published tick "
        f"(decode, publish, fan-out, matcher, writer); fake Upstox: {fake_cpu:.2f} cores"
    )
    print("load average (1/5/15 min) at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
