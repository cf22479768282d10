"""Benchmark: Socket.IO fan-out under gunicorn + gevent with the simulator ticking the whole universe at 1 Hz.

Usage: .venv/bin/python bench/fanout.py [--clients 1000] [--procs 4] [--duration 30] [--extra-symbols 1800]
                                       [--mode symbol|batch] [--prices-batch-ms 10000] [--workers 1]

Starts a throwaway MariaDB, seeds 201 + N instruments (5 days of history), starts the production
server (one gevent worker) with SIM_ALWAYS_OPEN=1, and runs Node socket.io-client load generators
(WebSocket transport, several processes), each client subscribed to 20 symbols plus the market-wide
streams. The simulator stops after warm-up + duration (SIM_MAX_TICKS), so every client must end with
the price the server persisted. Prints delivered messages/s, p50/p99 tick-to-receipt latency
(tick time = the quote's as_of), server and client CPU, and convergence. `--mode symbol` subscribes the
API's default way (one `price_update` per symbol per tick); `--mode batch` asks for one `price_updates`
list per fan-out pass. `--workers 2` runs two gevent workers behind a throwaway redis-server (REDIS_URL:
Socket.IO message queue and tick bus); one of them leads and ticks, both fan out to their own clients,
and the server CPU is the sum over the workers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

import requests
from harness import ROOT, children, cpu_seconds, migrated_database, redis_server

from backend.db import connect
from backend.local_app import LocalApp
from backend.local_mariadb import LocalMariaDB
from backend.seed import seed_market
from controller.sql import fetch_all
from utils.timeutil import IST

SYMBOLS_PER_CLIENT = 20
WRITER_METRICS = (
    "quote_writer_flush_seconds_count",
    "quote_writer_flush_seconds_sum",
    "quote_writer_flush_cpu_seconds_sum",
    "quote_writer_lag_seconds",
)
SETTLE_S = 5  # after the last tick: the writer flushes every 5 s, the fan-out drains


def percentile(histogram: list[int], fraction: float) -> int:
    """The value (ms) below which `fraction` of the samples of a 1-ms histogram fall."""
    total, running = sum(histogram), 0
    for value, count in enumerate(histogram):
        running += count
        if running >= fraction * total:
            return value
    return len(histogram) - 1


def ticks(url: str) -> float:
    """The server's ticks_total{kind="stocks"} counter."""
    for line in requests.get(url + "/metrics", timeout=10).text.splitlines():
        if line.startswith('ticks_total{kind="stocks"}'):
            return float(line.split()[-1])
    return 0.0


def metrics(url: str, *names: str) -> dict[str, float]:
    """Unlabelled samples of /metrics by name (0 when absent)."""
    found = dict.fromkeys(names, 0.0)
    for line in requests.get(url + "/metrics", timeout=10).text.splitlines():
        name, _, value = line.partition(" ")
        if name in found:
            found[name] = float(value)
    return found


def wait_for_the_last_tick(url: str, timeout_s: float = 120) -> None:
    """Wait until the simulator reached SIM_MAX_TICKS: the tick counter stops moving for 3 s."""
    deadline, last, still = time.monotonic() + timeout_s, -1.0, 0
    while time.monotonic() < deadline and still < 3:
        time.sleep(1)
        current = ticks(url)
        still = still + 1 if current == last else 0
        last = current


def start_clients(
    tmp: Path,
    url: str,
    clients: int,
    procs: int,
    mode: str,
    symbols: list[str],
    measure_from: float,
    measure_to: float,
    prices_batch_clients: int = 0,
) -> list[tuple[subprocess.Popen, Path, Path]]:
    """Node load generators (bench/fanout_client.js): `clients` over `procs` processes, each client subscribed to
    SYMBOLS_PER_CLIENT random symbols in `mode` (the first `prices_batch_clients` of them asking for `prices_batch`
    too); (process, config, result file) per process."""
    rng = random.Random(1)
    started = []
    for n in range(procs):
        count = clients // procs + (1 if n < clients % procs else 0)
        config, out = tmp / f"client{n}.json", tmp / f"client{n}.out.json"
        chosen = [rng.sample(symbols, min(SYMBOLS_PER_CLIENT, len(symbols))) for _ in range(count)]
        first = n * (clients // procs) + min(n, clients % procs)
        config.write_text(
            json.dumps(
                {
                    "url": url,
                    "clients": count,
                    "mode": mode,
                    "measureFrom": measure_from,
                    "measureTo": measure_to,
                    "symbols": chosen,
                    "pricesBatchClients": max(0, min(count, prices_batch_clients - first)),
                }
            )
        )
        process = subprocess.Popen(["node", str(ROOT / "bench" / "fanout_client.js"), str(config), str(out)])
        started.append((process, config, out))
    return started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--procs", type=int, default=4, help="Node load-generator processes")
    parser.add_argument("--duration", type=int, default=30, help="measured seconds")
    parser.add_argument("--warmup", type=int, default=20, help="seconds for clients to connect before measuring")
    parser.add_argument("--extra-symbols", type=int, default=1800)
    parser.add_argument("--mode", choices=("symbol", "batch"), default="symbol")
    parser.add_argument("--prices-batch-ms", type=int, default=10_000, help="PRICES_BATCH_INTERVAL_MS (0: off)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers; more than one adds Redis")
    parser.add_argument(
        "--prices-batch-clients", type=int, default=0, help="clients that also ask for prices_batch (its cost apart)"
    )
    args = parser.parse_args()
    if not (ROOT / "bench" / "node_modules" / "socket.io-client").exists():
        subprocess.run(["npm", "ci", "--prefix", str(ROOT / "bench"), "--no-audit", "--no-fund"], check=True)

    with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp) / "db", "bench_fanout") as db:
        if args.workers > 1:
            with redis_server(Path(tmp)) as redis_url:
                run(args, db, Path(tmp), redis_url)
        else:
            run(args, db, Path(tmp), None)


def run(args: argparse.Namespace, db: LocalMariaDB, tmp: Path, redis_url: str | None) -> None:
    conn = connect(db.config())
    seed_market(
        db.config(), seed=7, extra_symbols=args.extra_symbols, days=5, now=datetime(2026, 11, 20, 9, 30, tzinfo=IST)
    )
    symbols = [r["symbol"] for r in fetch_all(conn, "SELECT symbol FROM stocks ORDER BY symbol")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_", "SOCKETIO_"))}
    env.update(
        DATABASE_URL=db.url(),
        LOG_LEVEL="WARNING",
        SIM_ALWAYS_OPEN="1",
        SIM_TICK_INTERVAL_S="1",
        SIM_MAX_TICKS=str(args.warmup + args.duration + 5),
        WORKER_CONNECTIONS=str(args.clients + 200),
        DB_POOL_SIZE="10",
        PRICES_BATCH_INTERVAL_MS=str(args.prices_batch_ms),
        WEB_CONCURRENCY=str(args.workers),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    server = LocalApp(env, tmp / "app.log")
    url = server.env["ALLOWED_ORIGINS"] = server.url
    server.start(timeout_s=60)
    try:
        started = time.time()
        workers = children(server.pid)
        measure_from = (started + args.warmup) * 1000
        measure_to = measure_from + args.duration * 1000
        procs = start_clients(
            tmp,
            url,
            args.clients,
            args.procs,
            args.mode,
            symbols,
            measure_from,
            measure_to,
            args.prices_batch_clients,
        )
        time.sleep(max(measure_from / 1000 - time.time(), 0))
        server_cpu0, db_cpu0 = [cpu_seconds(w) for w in workers], cpu_seconds(db.running_pid())
        writer0 = metrics(url, *WRITER_METRICS)
        time.sleep(args.duration)
        writer = {k: v - writer0[k] for k, v in metrics(url, *WRITER_METRICS).items()}
        writer["quote_writer_lag_seconds"] += writer0["quote_writer_lag_seconds"]  # a gauge: its last value
        server_cpu = [(cpu_seconds(w) - c0) / args.duration for w, c0 in zip(workers, server_cpu0, strict=True)]
        db_cpu = (cpu_seconds(db.running_pid()) - db_cpu0) / args.duration
        wait_for_the_last_tick(url)
        time.sleep(SETTLE_S)
        for process, _, _ in procs:
            process.send_signal(signal.SIGUSR2)
        results = []
        for process, config, out in procs:
            process.wait()
            results.append((json.loads(out.read_text()), json.loads(config.read_text())))
        final = {
            r["symbol"]: float(r["ltp"])
            for r in fetch_all(conn, "SELECT s.symbol, q.ltp FROM stock_quotes q JOIN stocks s USING (stock_id)")
        }
    finally:
        server.stop()
        conn.close()
    report(args, results, final, server_cpu, db_cpu, len(symbols), writer)


def report(args, results, final, server_cpu: list[float], db_cpu, universe, writer: dict[str, float]) -> None:
    histogram = [sum(r["latency"][i] for r, _ in results) for i in range(len(results[0][0]["latency"]))]
    counts = {event: sum(r["counts"][event] for r, _ in results) for event in results[0][0]["counts"]}
    converged = total = 0
    for r, config in results:
        for last, wanted in zip(r["lastPrices"], config["symbols"], strict=True):
            total += 1
            converged += all(s in last and last[s]["ltp"] == final[s] for s in wanted)
    client_cpu = sum(r["cpuSeconds"] for r, _ in results) / (args.warmup + args.duration + 15)
    delivered = sum(counts.values()) / args.duration
    quotes = sum(r["quotes"] for r, _ in results) / args.duration
    print(
        f"command: python bench/fanout.py --clients {args.clients} --procs {args.procs} --duration {args.duration} "
        f"--extra-symbols {args.extra_symbols} --mode {args.mode} --prices-batch-ms {args.prices_batch_ms} "
        f"--workers {args.workers} --prices-batch-clients {args.prices_batch_clients}"
    )
    print(
        f"universe: {universe} symbols ticking at 1 Hz; clients: {args.clients} x {SYMBOLS_PER_CLIENT} symbols "
        f"(+ indices, movers, prices_batch) over {args.procs} Node processes"
    )
    print(
        f"connected: {sum(r['connected'] for r, _ in results)}  subscribed: "
        f"{sum(r['subscribed'] for r, _ in results)}  errors: {sum(r['errors'] for r, _ in results)}  "
        f"dropped: {sum(r['disconnects'] for r, _ in results)}"
    )
    print(
        f"delivered: {delivered:,.0f} msg/s carrying {quotes:,.0f} symbol updates/s "
        f"(price_update {counts['price_update'] / args.duration:,.0f}/s, "
        f"price_updates {counts['price_updates'] / args.duration:,.0f}/s, "
        f"indices_update {counts['indices_update'] / args.duration:,.0f}/s, "
        f"prices_batch {counts['prices_batch'] / args.duration:,.1f}/s, "
        f"movers_update {counts['movers_update'] / args.duration:,.1f}/s)"
    )
    print(
        f"symbol update latency (tick as_of -> client receipt): p50 {percentile(histogram, 0.5)} ms, "
        f"p99 {percentile(histogram, 0.99)} ms, max {max(i for i, c in enumerate(histogram) if c)} ms"
    )
    expected = args.clients * SYMBOLS_PER_CLIENT  # every symbol ticks once a second
    print(f"symbol updates: {quotes:,.0f}/s delivered of {expected:,}/s offered ({quotes / expected:.1%})")
    print(f"server CPU per delivered message: {sum(server_cpu) / delivered * 1e6:.1f} µs")
    per_worker = " + ".join(f"{cpu:.2f}" for cpu in server_cpu)
    print(
        f"server CPU ({args.workers} gunicorn gevent worker(s)): {sum(server_cpu):.2f} cores ({per_worker}); "
        f"MariaDB: {db_cpu:.2f} cores; "
        f"Node clients: {client_cpu:.2f} cores (machine: {os.cpu_count()} cores, shared)"
    )
    flushes = writer["quote_writer_flush_seconds_count"] or 1
    print(
        f"quote writer (leader): {writer['quote_writer_flush_seconds_count']:.0f} flushes in the window, wall "
        f"{writer['quote_writer_flush_seconds_sum'] / flushes * 1000:.0f} ms and CPU "
        f"{writer['quote_writer_flush_cpu_seconds_sum'] / flushes * 1000:.0f} ms per flush (its own green thread: "
        f"{writer['quote_writer_flush_cpu_seconds_sum'] / args.duration:.2f} cores), oldest quote's wait at the last "
        f"flush {writer['quote_writer_lag_seconds']:.2f} s"
    )
    print(f"converged: {converged}/{total} clients end with the server's final price of every subscribed symbol")
    print(
        "load average (1/5/15 min) at the end: {:.1f} {:.1f} {:.1f} — other work shares these 2 cores".format(
            *os.getloadavg()
        )
    )


if __name__ == "__main__":
    main()
