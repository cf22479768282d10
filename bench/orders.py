"""Benchmark: concurrent authenticated clients placing mixed paper orders over HTTP while ticks flow.

Usage: .venv/bin/python bench/orders.py [--clients 32] [--users 16] [--duration 20] [--workers 1]
Starts a throwaway MariaDB (like the tests), migrates and seeds it, creates users with accounts, starts
gunicorn (gevent) with bench/orders_server.py (the app plus a deterministic tick feeder that updates the
live-price cache and runs the order matcher in every worker), then lets the clients place, modify and
cancel orders. Prints orders/s, latency percentiles and the invariant audit of every account.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from harness import ROOT, cpu_seconds, migrated_database

from backend.db import connect
from backend.local_app import LocalApp
from backend.local_mariadb import LocalMariaDB
from backend.seed import seed_market
from bench.tick_feeder import TickFeeder
from controller.market.instruments import most_traded
from controller.sql import execute, fetch_all
from controller.trading.audit import audit
from controller.trading.paper_accounts import create_account

SECRET = "bench-only-jwt-secret-0123456789abcdefghijklmnop"
CASH = Decimal("10000000")


def mint_tokens(user_ids: list[int]) -> dict[int, str]:
    """Access tokens signed with the server's secret."""
    from flask import Flask
    from flask_jwt_extended import JWTManager, create_access_token

    app = Flask(__name__, root_path=str(ROOT))
    app.config.update(JWT_SECRET_KEY=SECRET)
    JWTManager(app)
    with app.app_context():
        return {uid: create_access_token(identity=str(uid), expires_delta=timedelta(hours=1)) for uid in user_ids}


def create_users(config, count: int, prefix: str = "bench") -> list[int]:
    conn = connect(config)
    try:
        ids = []
        for i in range(count):
            _, uid = execute(
                conn, "INSERT INTO users (email, name) VALUES (%s, %s)", (f"{prefix}{i}@example.com", f"b{i}")
            )
            create_account(conn, uid, CASH)
            ids.append(uid)
        return ids
    finally:
        conn.close()


class Client:
    """One authenticated HTTP/1.1 keep-alive client on a plain socket.

    The load generator shares the 2 cores with the server; http.client's request building and header parsing
    cost ~0.55 ms of CPU per request, this ~0.3 ms.
    """

    def __init__(self, port: int, token: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")
        self.head = f"HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, float]:
        started = time.perf_counter()
        data = json.dumps(body).encode() if body is not None else b""
        self.sock.sendall(
            f"{method} {path} {self.head}Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        status, length = int(self.reader.readline().split(b" ", 2)[1]), None
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"{method} {path}: a response without Content-Length")
        payload = json.loads(self.reader.read(length) or b"{}")
        return status, payload, time.perf_counter() - started


def on_tick(value: Decimal, tick: Decimal) -> float:
    return float((value / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick)


class Load:
    """Shared results of all client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter = Counter()

    def record(self, kind: str, status: int, payload: dict, seconds: float) -> None:
        code = payload.get("error", {}).get("code", "ok") if status >= 400 else "ok"
        with self.lock:
            self.latency[kind].append(seconds)
            self.status[(kind, status, code)] += 1


def client_loop(client: Client, feeder: TickFeeder, seed: int, stop: threading.Event, load: Load) -> None:
    """A random mix: limit/market buys and sells, stop-losses, modifications and cancels."""
    rng = random.Random(seed)
    ticks = {i.symbol: i.tick_size for i in feeder.instruments}
    symbols = list(ticks)
    mine: list[int] = []
    while not stop.is_set():
        symbol = rng.choice(symbols)
        price = feeder.advance(feeder.current_slot(feeder.interval_s))[symbol]
        roll = rng.random()
        if roll < 0.30:
            kind, body = (
                "place",
                {
                    "side": "BUY",
                    "order_type": "LIMIT",
                    "quantity": rng.randint(1, 10),
                    "price": on_tick(price * Decimal(1 - rng.uniform(0, 0.006)), ticks[symbol]),
                },
            )
        elif roll < 0.45:
            kind, body = "place", {"side": "BUY", "order_type": "MARKET", "quantity": rng.randint(1, 5)}
        elif roll < 0.55:
            kind, body = (
                "place",
                {
                    "side": "SELL",
                    "order_type": "LIMIT",
                    "quantity": rng.randint(1, 3),
                    "price": on_tick(price * Decimal(1 + rng.uniform(0, 0.006)), ticks[symbol]),
                },
            )
        elif roll < 0.62:
            kind, body = "place", {"side": "SELL", "order_type": "MARKET", "quantity": rng.randint(1, 2)}
        elif roll < 0.70:
            kind, body = (
                "place",
                {
                    "side": "SELL",
                    "order_type": "SL-M",
                    "quantity": 1,
                    "trigger_price": on_tick(price * Decimal("0.995"), ticks[symbol]),
                },
            )
        elif roll < 0.88 and mine:
            kind, body = "cancel", None
        elif mine:
            kind, body = "modify", None
        else:
            continue
        if kind == "place":
            status, payload, seconds = client.call("POST", "/orders", {"symbol": symbol, **body})
            if status == 201 and payload["data"]["status"] in ("OPEN", "TRIGGER_PENDING"):
                mine.append(payload["data"]["order_id"])
        elif kind == "cancel":
            status, payload, seconds = client.call("DELETE", f"/orders/{mine.pop(rng.randrange(len(mine)))}")
        else:
            status, payload, seconds = client.call(
                "PATCH", f"/orders/{rng.choice(mine)}", {"quantity": rng.randint(1, 10)}
            )
        load.record(kind, status, payload, seconds)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--users", type=int, default=16, help="accounts; clients share them (contention)")
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--workers", type=int, default=1, help="gunicorn gevent workers")
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--tick-interval", type=float, default=0.5)
    parser.add_argument("--pool", type=int, default=16, help="DB_POOL_SIZE per worker")
    return parser.parse_args()


def start_server(config, args, origin: int, workdir: Path) -> LocalApp:
    """gunicorn (gevent) with the bench entry point, answering /health."""
    env = {
        **os.environ,
        "DATABASE_URL": config.url(),
        "JWT_SECRET_KEY": SECRET,
        "WEB_CONCURRENCY": str(args.workers),
        "DB_POOL_SIZE": str(args.pool),
        "FORCE_MARKET_OPEN": "1",
        "LOG_LEVEL": "WARNING",
        "BENCH_SYMBOLS": str(args.symbols),
        "BENCH_TICK_INTERVAL_S": str(args.tick_interval),
        "BENCH_ORIGIN_SLOT": str(origin),
        "APP_ENV": "production",
        "PERF_LOG_THRESHOLD_MS": "5000",
    }
    return LocalApp(env, workdir / "app.log", "bench.orders_server:app").start(timeout_s=60)


def drive(args, port: int, tokens: list[str], feeder: TickFeeder, pids: dict[str, int]) -> tuple[Load, float, dict]:
    """Warm the accounts up, then run the clients for the duration; returns results, seconds and CPU used."""
    time.sleep(args.tick_interval * 2)  # the first ticks are in every worker's cache
    clients = [Client(port, tokens[i % len(tokens)]) for i in range(args.clients)]
    for client in clients[: len(tokens)]:  # every account buys some shares first, so sells can fill
        for inst in feeder.instruments[:5]:
            client.call(
                "POST", "/orders", {"symbol": inst.symbol, "side": "BUY", "order_type": "MARKET", "quantity": 20}
            )
    load, stop = Load(), threading.Event()
    threads = [threading.Thread(target=client_loop, args=(c, feeder, i, stop, load)) for i, c in enumerate(clients)]
    cpu_before = {name: cpu_seconds(pid, name != "clients") for name, pid in pids.items()}
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(args.duration)
    stop.set()
    for thread in threads:
        thread.join(60)
    elapsed = time.perf_counter() - started
    cpu = {name: cpu_seconds(pid, name != "clients") - cpu_before[name] for name, pid in pids.items()}
    time.sleep(args.tick_interval * 3)  # let the matchers finish the last ticks
    return load, elapsed, cpu


def run(server: LocalMariaDB, args, workdir: Path) -> tuple:
    """Prepare the database, serve, drive the load, stop the server and audit the books."""
    config = server.config()
    seed_market(config, seed=1, days=30, now=datetime.now().astimezone())
    user_ids = create_users(config, args.users)
    tokens = mint_tokens(user_ids)
    conn = connect(config)
    instruments = most_traded(conn, args.symbols)
    conn.close()
    origin = TickFeeder.current_slot(args.tick_interval)
    app = start_server(config, args, origin, workdir)
    try:
        pids = {"server": app.pid, "mariadb": server.running_pid(), "clients": os.getpid()}
        load, elapsed, cpu = drive(
            args, app.port, [tokens[uid] for uid in user_ids], TickFeeder(instruments, args.tick_interval, origin), pids
        )
    finally:
        app.stop()
    conn = connect(config)
    try:
        violations = audit(conn)
        statuses = fetch_all(conn, "SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY status")
        trades = fetch_all(conn, "SELECT COUNT(*) AS n, COUNT(DISTINCT order_id) AS orders FROM trades")[0]
    finally:
        conn.close()
    return load, elapsed, cpu, violations, statuses, trades


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp) / "db", "bench_orders") as server:
        results = run(server, args, Path(tmp))
    report(args, *results)


def report(args, load: Load, elapsed: float, cpu: dict, violations: list, statuses: list, trades: dict) -> None:
    placed = sum(n for (kind, status, _), n in load.status.items() if kind == "place" and status in (200, 201))
    requests = sum(load.status.values())
    all_latency = [s for values in load.latency.values() for s in values]
    print(
        f"command: python bench/orders.py --clients {args.clients} --users {args.users} --duration "
        f"{args.duration:g} --workers {args.workers} --symbols {args.symbols} --tick-interval "
        f"{args.tick_interval:g} --pool {args.pool}"
    )
    print(
        f"requests: {requests} in {elapsed:.1f} s = {requests / elapsed:,.0f} req/s; "
        f"orders accepted: {placed} = {placed / elapsed:,.0f} orders/s"
    )
    for kind in ("place", "modify", "cancel"):
        values = load.latency.get(kind, [])
        print(
            f"  {kind:7s} n={len(values):6d}  p50 {percentile(values, 50):6.1f} ms  p90 "
            f"{percentile(values, 90):6.1f} ms  p99 {percentile(values, 99):6.1f} ms"
        )
    print(f"  all     p50 {percentile(all_latency, 50):.1f} ms  p99 {percentile(all_latency, 99):.1f} ms")
    print(
        "CPU during the run: "
        + ", ".join(
            f"{name} {seconds:.1f} s ({seconds / elapsed * 100:.0f} % of a core, "
            f"{seconds / requests * 1000:.2f} ms/request)"
            for name, seconds in cpu.items()
        )
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores, shared with other work)")
    print(
        "responses: "
        + ", ".join(f"{kind} {status} {code}: {n}" for (kind, status, code), n in sorted(load.status.items()))
    )
    print("orders by status: " + ", ".join(f"{row['status']} {row['n']}" for row in statuses))
    print(f"trades: {trades['n']} (distinct orders {trades['orders']})")
    print(f"invariant audit: {len(violations)} violations")
    for violation in violations[:20]:
        print(f"  {violation}")


if __name__ == "__main__":
    main()
