"""Benchmark: price alerts. Two parts.

Usage: .venv/bin/python bench/alerts.py eval [--alerts 100000] [--symbols 2001] [--batches 300] [--firing 100]
       .venv/bin/python bench/alerts.py e2e [--clients 1000] [--procs 4] [--duration 60] [--extra-symbols 1800]
                                            [--background-alerts 100000] [--fire-rate 20] [--alert-users 20]

`eval`, in process: the alert index (services/alerts/index.py) holding `--alerts` active alerts of every kind over
`--symbols` instruments, evaluating batches of one quote per instrument: CPU per batch (thread time) with none
firing and with `--firing` firing, the first batch of a new session (percent levels re-priced), the build time
and the index's memory (tracemalloc).

`e2e`, the whole path: a throwaway MariaDB seeded with 201 + N instruments, `--background-alerts` active alerts that
the random walk never reaches (loaded by the server at start), the production server (gunicorn + gevent, one
worker) with the simulator ticking every instrument at 1 Hz and PRICES_BATCH_INTERVAL_MS=0, `--clients` Node
Socket.IO clients in batch mode (20 symbols each; the first `--alert-users` signed in as the alerts' owners), and a
driver that creates `--fire-rate` alerts a second that fire on the next tick (fire_if_already), every other one
placing a MARKET order. Prints tick -> `alert_triggered` latency at the clients (tick time = the trigger's
triggered_at), the price updates' latency, and server, database and client CPU.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from harness import ROOT, children, cpu_seconds, migrated_database
from memory import rss_mib

from backend.db import connect
from backend.local_app import LocalApp
from backend.local_mariadb import LocalMariaDB
from backend.seed import seed_market
from bench.fanout import SYMBOLS_PER_CLIENT, percentile
from bench.orders import SECRET, create_users, mint_tokens
from controller.sql import execute_many, fetch_all
from services.alerts.index import AlertIndex, Entry
from services.market.live_price_cache import Quote
from utils.timeutil import IST

TICK = Decimal("0.05")
BAND = Decimal(20)
PER_USER = 200  # ALERTS_MAX_ACTIVE: background alerts are spread over users at the default cap


# --- eval: the index in process -------------------------------------------------------------------------------


def far_alert(rng: random.Random, price: Decimal) -> tuple[str, Decimal | None]:
    """An alert of a random kind that a batch's small moves never fire (levels 2-15 % away)."""
    kind = rng.choice(
        ["price_above", "price_below", "change_pct_above", "change_pct_below", "volume_above"]
        + ["near_upper_circuit", "near_lower_circuit", "new_high_52w", "new_low_52w"]
    )
    away = Decimal(rng.randint(200, 1500)) / 10000
    if kind == "price_above":
        return kind, (price * (1 + away)).quantize(TICK)
    if kind == "price_below":
        return kind, (price * (1 - away)).quantize(TICK)
    if kind.startswith("change_pct"):
        return kind, (away * 100 if kind.endswith("above") else -away * 100).quantize(Decimal("0.01"))
    if kind == "volume_above":
        return kind, Decimal(10**12)
    if kind.startswith("near"):
        return kind, Decimal(rng.randint(5, 30)) / 10
    return kind, None


def batch(symbols: list[str], prices: dict[str, Decimal], at: datetime, prev_close: dict[str, Decimal]) -> list[Quote]:
    """One quote per instrument at these prices."""
    return [Quote(s, prices[s], prev_close[s], prev_close[s], prices[s], prices[s], 100_000, at) for s in symbols]


def run_eval(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    symbols = [f"SYM{n:05d}" for n in range(args.symbols)]
    close = {s: Decimal(rng.randint(2_000, 400_000)) * TICK for s in symbols}
    day = datetime(2026, 11, 20, 5, 30, tzinfo=UTC)
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    index = AlertIndex(BAND)
    for s in symbols:
        index.open_instrument("stock", s, close[s], close[s], 1000, TICK)
        index.set_week52(s, day.astimezone(IST).date(), close[s] * Decimal("1.3"), close[s] * Decimal("0.7"))
    firing = symbols[: args.firing]
    # prices A (the closes) and B (one tick-sized step up): the `firing` instruments have a price_above and a
    # price_below between A and B, so A->B fires one per instrument and B->A the other
    step = {s: TICK * 2 for s in symbols}
    crossed = {s: close[s] + TICK for s in firing}
    alert_id = 0
    for s in firing:
        for kind in ("price_above", "price_below"):
            alert_id += 1
            index.add(Entry(alert_id, "stock", s, kind, crossed[s]))
    while alert_id < args.alerts:
        s = symbols[alert_id % len(symbols)]
        kind, value = far_alert(rng, close[s])
        alert_id += 1
        index.add(Entry(alert_id, "stock", s, kind, value))
    built = time.perf_counter() - started
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    a = dict(close)
    b = {s: close[s] + step[s] for s in symbols}
    quiet = {s: close[s] + (TICK if s not in crossed else 0) for s in symbols}  # moves that cross nothing
    timings: dict[str, list[float]] = {"none firing": [], f"{args.firing} firing": []}
    fired = []
    now = day
    for name, other in (("none firing", quiet), (f"{args.firing} firing", b)):
        for n in range(args.batches):  # back and forth between the closes and the other prices
            now += timedelta(seconds=1)
            quotes = batch(symbols, other if n % 2 == 0 else a, now, close)
            t0 = time.thread_time()
            found = index.evaluate("stocks", quotes)
            timings[name].append(time.thread_time() - t0)
            if other is b:
                fired.append(len(found))
            elif found:
                raise SystemExit(f"a quiet batch fired {len(found)} alerts")
    new_close = {s: p + TICK * 4 for s, p in close.items()}
    t0 = time.thread_time()
    index.evaluate("stocks", batch(symbols, new_close, now + timedelta(days=1), new_close))
    session_start = time.thread_time() - t0

    print(
        f"command: python bench/alerts.py eval --alerts {args.alerts} --symbols {args.symbols} --batches "
        f"{args.batches} --firing {args.firing}"
    )
    print(
        f"index: {index.size:,} active alerts over {args.symbols:,} instruments, built in {built:.2f} s, "
        f"{memory / 2**20:.1f} MiB (tracemalloc, index and its quotes' Decimals)"
    )
    for name, values in timings.items():
        ms = sorted(v * 1000 for v in values[1:])  # the first batch of each kind warms up
        print(
            f"batch of {args.symbols:,} quotes, {name}: CPU mean {statistics.fmean(ms):.2f} ms, "
            f"p50 {ms[len(ms) // 2]:.2f} ms, p99 {ms[int(len(ms) * 0.99) - 1]:.2f} ms, max {ms[-1]:.2f} ms"
        )
    print(f"alerts fired per firing batch: {min(fired)}-{max(fired)} (expected {args.firing})")
    print(f"first batch of a new session (percent and circuit levels re-priced): CPU {session_start * 1000:.1f} ms")


# --- e2e: tick to alert_triggered at a Socket.IO client --------------------------------------------------------


def background_alerts(conn, users: list[int], count: int) -> int:
    """`count` active alerts spread over `users`, at levels the random walk never reaches (2-15 % away)."""
    rng = random.Random(11)
    quotes = fetch_all(conn, "SELECT s.symbol, q.ltp FROM stocks s JOIN stock_quotes q USING (stock_id)")
    rows = []
    for n in range(count):
        quote = quotes[n % len(quotes)]
        kind, value = far_alert(rng, quote["ltp"])
        if kind.endswith("_52w"):  # five days of history: a 52-week level could be close
            kind, value = "price_above", (quote["ltp"] * Decimal("1.1")).quantize(TICK)
        rows.append((users[n // PER_USER], "stock", quote["symbol"], kind, value))
    return execute_many(
        conn, "INSERT INTO alerts (user_id, instrument_type, symbol, kind, value) VALUES (%s, %s, %s, %s, %s)", rows
    )


def buckets(url: str, name: str) -> list[tuple[float, float]]:
    """A histogram's cumulative buckets [(upper bound, count)] from /metrics."""
    found = []
    for line in requests.get(url + "/metrics", timeout=10).text.splitlines():
        if line.startswith(name + "_bucket{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            found.append((float(bound), float(line.split()[-1])))
    return found


def metric(url: str, name: str) -> float:
    for line in requests.get(url + "/metrics", timeout=60).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


class Driver(threading.Thread):
    """Creates `rate` alerts a second that fire on the next tick (every other one with a MARKET order)."""

    def __init__(self, url: str, tokens: list[str], symbols: list[str], rate: float) -> None:
        super().__init__(daemon=True)
        self.url, self.tokens, self.symbols, self.rate = url, tokens, symbols, rate
        self.stop = threading.Event()
        self.created = self.failed = 0

    def run(self) -> None:
        session, rng, n = requests.Session(), random.Random(3), 0
        due = time.monotonic()
        while not self.stop.is_set():
            body = {"symbol": rng.choice(self.symbols), "kind": "price_above", "value": 1, "fire_if_already": True}
            if n % 2 == 0:
                body["action"] = {"side": "BUY", "order_type": "MARKET", "quantity": 1}
            headers = {"Authorization": f"Bearer {self.tokens[n % len(self.tokens)]}"}
            try:
                response = session.post(self.url + "/alerts", json=body, headers=headers, timeout=10)
            except requests.ConnectionError:  # the server closed an idle kept-alive connection: the next call redials
                self.failed += 1
            else:
                self.created += response.status_code == 201
                self.failed += response.status_code != 201
            n += 1
            due += 1 / self.rate
            self.stop.wait(max(0.0, due - time.monotonic()))


@dataclass
class AlertsServer:
    """The production server over a seeded universe with active alerts loaded (what `alerts_server` yields)."""

    server: LocalApp
    url: str
    db: LocalMariaDB
    conn: Any
    symbols: list[str]
    owners: list[int]
    tokens: list[str]
    loaded: int


@contextmanager
def alerts_server(
    tmp: Path,
    extra_symbols: int,
    alerts: int,
    alert_users: int,
    connections: int,
    app: str = "backend.wsgi:app",
    tick_s: float = 1,
) -> Iterator[AlertsServer]:
    """A throwaway MariaDB seeded with 201 + `extra_symbols` instruments and `alerts` active background alerts, and
    the production server (gunicorn + gevent, one worker, `app`) with the simulator ticking every instrument every
    `tick_s`; yielded once the server's index holds every alert and a few ticks have cached every quote."""
    with migrated_database(tmp / "db", "bench_alerts") as db:
        seed_market(
            db.config(), seed=7, extra_symbols=extra_symbols, days=5, now=datetime(2026, 11, 20, 9, 30, tzinfo=IST)
        )
        conn = connect(db.config())
        symbols = [r["symbol"] for r in fetch_all(conn, "SELECT symbol FROM stocks ORDER BY symbol")]
        owners = create_users(db.config(), alert_users, prefix="owner") if alert_users else []
        holders = create_users(db.config(), -(-alerts // PER_USER), prefix="holder") if alerts else []
        loaded = background_alerts(conn, holders, alerts) if holders else 0
        tokens = list(mint_tokens(owners).values()) if owners else []
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_", "SOCKETIO_"))}
        env.update(
            DATABASE_URL=db.url(),
            LOG_LEVEL="WARNING",
            JWT_SECRET_KEY=SECRET,
            SIM_ALWAYS_OPEN="1",
            SIM_TICK_INTERVAL_S=f"{tick_s:g}",
            PRICES_BATCH_INTERVAL_MS="0",
            WORKER_CONNECTIONS=str(connections),
            DB_POOL_SIZE="10",
            ENABLE_EOD_SCHEDULER="0",
            NEWS_FEEDS="",
        )
        server = LocalApp(env, tmp / "app.log", app)
        url = server.env["ALLOWED_ORIGINS"] = server.url
        server.start(timeout_s=180)  # slow under tracemalloc (bench/memory.py --trace)
        try:
            deadline = time.monotonic() + 120
            while metric(url, "alert_index_alerts") < loaded and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(5 * tick_s)  # a few ticks: every instrument's quote is cached
            yield AlertsServer(server, url, db, conn, symbols, owners, tokens, loaded)
        finally:
            server.stop()
            conn.close()


def run_e2e(args: argparse.Namespace) -> None:
    if not (ROOT / "bench" / "node_modules" / "socket.io-client").exists():
        subprocess.run(["npm", "ci", "--prefix", str(ROOT / "bench"), "--no-audit", "--no-fund"], check=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        alerts_server(
            Path(tmp), args.extra_symbols, args.background_alerts, args.alert_users, args.clients + 200
        ) as run,
    ):
        idle_rss = sum(rss_mib(w) for w in children(run.server.pid))
        results = drive(args, run.url, run.server, run.db, run.symbols, run.tokens, Path(tmp))
        results["idle_rss"] = idle_rss
        marks = ", ".join(["%s"] * len(run.owners))
        triggers = {
            bool(row["owned"]): row
            for row in fetch_all(
                run.conn,
                f"SELECT user_id IN ({marks}) AS owned, COUNT(*) AS n, SUM(order_state = 'placed') AS placed "
                "FROM alert_triggers GROUP BY owned",
                run.owners,
            )
        }
    report(args, results, triggers, run.loaded, len(run.symbols))


def drive(args, url, server, db, symbols, tokens, tmp: Path) -> dict:
    workers = children(server.pid)
    rng = random.Random(1)
    started = time.time()
    measure_from = (started + args.warmup) * 1000
    measure_to = measure_from + args.duration * 1000
    procs = []
    for n in range(args.procs):
        count = args.clients // args.procs + (1 if n < args.clients % args.procs else 0)
        first = sum(args.clients // args.procs + (1 if m < args.clients % args.procs else 0) for m in range(n))
        config = tmp / f"client{n}.json"
        config.write_text(
            json.dumps(
                {
                    "url": url,
                    "clients": count,
                    "mode": "batch",
                    "measureFrom": measure_from,
                    "measureTo": measure_to,
                    "symbols": [rng.sample(symbols, SYMBOLS_PER_CLIENT) for _ in range(count)],
                    "tokens": [tokens[i] if i < len(tokens) else None for i in range(first, first + count)],
                }
            )
        )
        out = tmp / f"client{n}.out.json"
        procs.append((subprocess.Popen(["node", str(ROOT / "bench" / "fanout_client.js"), str(config), str(out)]), out))
    driver = Driver(url, tokens, symbols, args.fire_rate)
    time.sleep(max(measure_from / 1000 - time.time() - 2, 0))
    driver.start()  # two seconds before the window: its first alerts fire inside it
    time.sleep(max(measure_from / 1000 - time.time(), 0))
    server_cpu0, db_cpu0 = sum(cpu_seconds(w) for w in workers), cpu_seconds(db.running_pid())
    time.sleep(args.duration)
    server_cpu = (sum(cpu_seconds(w) for w in workers) - server_cpu0) / args.duration
    rss = sum(rss_mib(w) for w in workers)
    db_cpu = (cpu_seconds(db.running_pid()) - db_cpu0) / args.duration
    driver.stop.set()
    driver.join()
    time.sleep(3)  # the last alerts fire and arrive
    for process, _ in procs:
        process.send_signal(signal.SIGUSR2)
    clients = []
    for process, out in procs:
        process.wait()
        clients.append(json.loads(out.read_text()))
    return {
        "clients": clients,
        "server_cpu": server_cpu,
        "rss": rss,
        "db_cpu": db_cpu,
        "driver": driver,
        "elapsed": time.time() - started,
        "evaluation": metric(url, "alert_evaluation_cpu_seconds_sum"),
        "batches": metric(url, "alert_evaluation_cpu_seconds_count"),
        "buckets": buckets(url, "alert_evaluation_cpu_seconds"),
    }


def report(args, results, triggers, loaded: int, universe: int) -> None:
    clients = results["clients"]
    alerts = [sum(c["alertLatency"][i] for c in clients) for i in range(len(clients[0]["alertLatency"]))]
    prices = [sum(c["latency"][i] for c in clients) for i in range(len(clients[0]["latency"]))]
    received = sum(c["counts"]["alert_triggered"] for c in clients)
    client_cpu = sum(c["cpuSeconds"] for c in clients) / results["elapsed"]
    driver = results["driver"]
    owned, background = triggers.get(True, {}), triggers.get(False, {})
    print(
        f"command: python bench/alerts.py e2e --clients {args.clients} --procs {args.procs} --duration "
        f"{args.duration} --extra-symbols {args.extra_symbols} --background-alerts {args.background_alerts} "
        f"--fire-rate {args.fire_rate} --alert-users {args.alert_users}"
    )
    print(
        f"universe: {universe} instruments ticking at 1 Hz; {loaded:,} background alerts held by the server; "
        f"clients: {args.clients} in batch mode x {SYMBOLS_PER_CLIENT} symbols ({args.alert_users} signed in as "
        f"the alerts' owners); PRICES_BATCH_INTERVAL_MS=0"
    )
    print(
        f"alerts created: {driver.created} ({driver.failed} refused); fired: {owned.get('n', 0)}, "
        f"orders placed: {int(owned.get('placed') or 0)}; alert_triggered received in the window: {received} "
        f"({received / args.duration:.1f}/s); background alerts the random walk fired: {background.get('n', 0)}"
    )
    if received:
        print(
            f"tick -> alert_triggered at the client: p50 {percentile(alerts, 0.5)} ms, p99 {percentile(alerts, 0.99)} "
            f"ms, max {max(i for i, c in enumerate(alerts) if c)} ms"
        )
    if sum(prices):
        print(f"price updates (tick -> client): p50 {percentile(prices, 0.5)} ms, p99 {percentile(prices, 0.99)} ms")
    batches = results["batches"] or 1
    quantile = {q: next((le for le, n in results["buckets"] if n >= q * batches), None) for q in (0.5, 0.99)}
    print(
        f"index evaluation (server, {int(results['batches'])} batches of stocks or indices, the first of a session "
        f"included): CPU mean {results['evaluation'] / batches * 1000:.2f} ms, p50 <= {quantile[0.5] * 1000:g} ms, "
        f"p99 <= {quantile[0.99] * 1000:g} ms (histogram buckets)"
    )
    print(
        f"server CPU (1 gevent worker): {results['server_cpu']:.2f} cores, RSS {results['rss']:.0f} MiB with the "
        f"clients ({results['idle_rss']:.0f} MiB before they connected, alerts loaded); "
        f"MariaDB: {results['db_cpu']:.2f} cores; "
        f"Node clients: {client_cpu:.2f} cores (machine: {os.cpu_count()} cores, shared)"
    )
    print("load average (1/5/15 min) at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parts = parser.add_subparsers(dest="part", required=True)
    evaluation = parts.add_parser("eval", help="the index's CPU per batch, in process")
    evaluation.add_argument("--alerts", type=int, default=100_000)
    evaluation.add_argument("--symbols", type=int, default=2001)
    evaluation.add_argument("--batches", type=int, default=300)
    evaluation.add_argument("--firing", type=int, default=100)
    e2e = parts.add_parser("e2e", help="tick to alert_triggered at Socket.IO clients, through the server")
    e2e.add_argument("--clients", type=int, default=1000)
    e2e.add_argument("--procs", type=int, default=4, help="Node load-generator processes")
    e2e.add_argument("--duration", type=int, default=60, help="measured seconds")
    e2e.add_argument("--warmup", type=int, default=20, help="seconds for clients to connect before measuring")
    e2e.add_argument("--extra-symbols", type=int, default=1800)
    e2e.add_argument("--background-alerts", type=int, default=100_000)
    e2e.add_argument("--fire-rate", type=float, default=20, help="alerts created (and fired) per second")
    e2e.add_argument("--alert-users", type=int, default=20)
    args = parser.parse_args()
    run_eval(args) if args.part == "eval" else run_e2e(args)


if __name__ == "__main__":
    main()
