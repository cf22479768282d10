"""Two gunicorn+gevent app processes (A leads, B follows; later spares C, an eventlet dev server, and D)
on one database and one Redis, on loopback.

In order: A leads and polls, a Socket.IO client connected to B receives A's ticks (once each); a tick
both processes see fills each order exactly once; SIGKILL of A hands leadership to B within 10 s and
the ticks go on; SIGTERM of B hands it to a spare (C, an eventlet dev server, or D) at once; idle
spares shut down completely on SIGTERM and the last one frees the lock.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal

import pytest
import redis
import requests
import socketio

from backend.db import connect
from controller.sql import fetch_all, fetch_value
from controller.trading.audit import audit
from services.market.live_price_cache import Quote
from services.platform.leader import lock_name
from services.realtime.tick_bus import TickBatch
from services.realtime.tick_bus_redis import CHANNEL
from services.realtime.tick_codec import encode
from tests.scaleout.conftest import ADMIN_EMAIL
from tests.waiting import wait_for

SYMBOLS = ["RELIANCE", "TCS", "INFY", "HDFCBANK", "ICICIBANK"]
TAKEOVER_LIMIT_S = 10


class PriceClient:
    """A python-socketio client on the WebSocket transport that records price updates per symbol."""

    def __init__(self, url: str, symbols: list[str]) -> None:
        self.updates: dict[str, list[dict]] = {}
        self.disconnected_at: float | None = None
        self._lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("price_update", self._on_price)
        self.client.on("disconnect", self._on_disconnect)
        self.client.connect(url, transports=["websocket"], wait_timeout=10)
        ack = self.client.call("subscribe", {"symbols": symbols}, timeout=10)
        assert ack["subscribed"] == symbols

    def _on_price(self, data: dict) -> None:
        with self._lock:
            self.updates.setdefault(data["symbol"], []).append(data)

    def _on_disconnect(self, *args) -> None:
        self.disconnected_at = time.monotonic()

    def as_ofs(self, symbol: str) -> list[str]:
        with self._lock:
            return [u["as_of"] for u in self.updates.get(symbol, [])]

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def leads(app) -> bool:
    try:
        return app.leader_check()["is_leader"]
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def cluster(start_app):
    """Two processes started together: "a" is the one that won the election, "b" the follower."""
    first, second = start_app("first", "second")
    wait_for(lambda: leads(first) or leads(second), 10)
    a, b = (first, second) if leads(first) else (second, first)
    return {"a": a, "b": b}


@pytest.fixture(scope="module")
def client_on_b(cluster):
    client = PriceClient(cluster["b"].url, SYMBOLS[:2])
    yield client
    client.close()


def register(url: str, email: str) -> str:
    response = requests.post(
        url + "/auth/register",
        json={"email": email, "password": "correct horse battery", "name": email.split("@")[0]},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["access_token"]


def test_one_leader_polls_and_a_client_of_the_follower_gets_its_ticks_once(cluster, client_on_b):
    a, b = cluster["a"], cluster["b"]
    # the follower learns the holder at its next check: one that ran between the leader's GET_LOCK and its
    # record of the holder saw an unnamed holder
    wait_for(lambda: b.leader_check()["leader"] is not None, 5)
    a_leader, b_leader = a.leader_check(), b.leader_check()
    assert a_leader["is_leader"] and not b_leader["is_leader"]
    assert b_leader["leader"] == a_leader["identity"] and re.fullmatch(r".+:\d+", a_leader["identity"])
    token = register(b.url, ADMIN_EMAIL)
    jobs = requests.get(b.url + "/admin/jobs", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert jobs["data"]["leader"]["leader"] == a_leader["identity"] and jobs["data"]["leader"]["is_leader"] is False
    b_jobs = requests.get(b.url + "/healthz", timeout=5).json()["data"]["checks"]["scheduler"]["jobs"]
    a_jobs = requests.get(a.url + "/healthz", timeout=5).json()["data"]["checks"]["scheduler"]["jobs"]
    assert "stock_quotes" in a_jobs and "market_views" in b_jobs and "stock_quotes" not in b_jobs  # B polls nothing
    wait_for(lambda: all(len(set(client_on_b.as_ofs(s))) >= 4 for s in SYMBOLS[:2]), 20)
    for symbol in SYMBOLS[:2]:
        as_ofs = client_on_b.as_ofs(symbol)[1:]  # the first is the snapshot sent on subscribe (it may repeat)
        assert len(as_ofs) == len(set(as_ofs))  # then each tick once, not once per process
    assert set(client_on_b.updates) == set(SYMBOLS[:2])


def _limit_below(url: str, conn, symbol: str) -> tuple[Decimal, Decimal]:
    """(a limit price 5% under the current price, on the stock's tick grid; its previous close)."""
    detail = requests.get(f"{url}/stocks/detail/{symbol}", timeout=10).json()["data"]
    tick = fetch_value(conn, "SELECT tick_size FROM stocks WHERE symbol = %s", (symbol,))
    steps = (Decimal(str(detail["currentPrice"])) * Decimal("0.95") / tick).quantize(Decimal(1), rounding=ROUND_DOWN)
    return steps * tick, Decimal(str(detail["previousClose"]))


def _fills(url: str) -> float:
    text = requests.get(url + "/metrics", timeout=5).text
    return sum(float(v) for v in re.findall(r"^paper_fills_total (\S+)$", text, re.MULTILINE))


def test_a_tick_both_processes_see_fills_each_order_once(cluster, scaleout_db, redis_url):
    a, b = cluster["a"], cluster["b"]
    fills_before = _fills(a.url) + _fills(b.url)
    conn = connect(scaleout_db)
    limits = {symbol: _limit_below(b.url, conn, symbol) for symbol in SYMBOLS}
    order_ids = []
    for n in range(3):
        token = register(b.url, f"trader{n}@example.com")
        for symbol, (limit, _) in limits.items():
            response = requests.post(
                b.url + "/orders",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
                json={
                    "symbol": symbol,
                    "side": "BUY",
                    "order_type": "LIMIT",
                    "quantity": 1,
                    "price": float(limit),
                    "validity": "DAY",
                },
            )
            assert response.status_code == 201 and response.json()["data"]["status"] == "OPEN", response.text
            order_ids.append(response.json()["data"]["order_id"])
    now = datetime.now(UTC)
    crossing = TickBatch(
        "stocks",
        tuple(Quote(s, limit, prev, prev, prev, limit, 10**6, now, "simulator") for s, (limit, prev) in limits.items()),
    )
    publisher = redis.Redis.from_url(redis_url)
    for _ in range(2):  # the same tick twice: a duplicate delivery changes nothing either
        assert publisher.publish(CHANNEL, encode(crossing, "test")) == 2  # both processes listen
    publisher.close()
    try:
        marks = ",".join(["%s"] * len(order_ids))

        def statuses():
            return fetch_all(
                conn, f"SELECT status, COUNT(*) AS n FROM orders WHERE order_id IN ({marks}) GROUP BY status", order_ids
            )

        wait_for(lambda: statuses() == [{"status": "COMPLETE", "n": len(order_ids)}], 15)
        time.sleep(1.0)  # give a double fill every chance to show up
        trades = fetch_all(
            conn,
            f"SELECT order_id, COUNT(*) AS n, MIN(price) AS price FROM trades "
            f"WHERE order_id IN ({marks}) GROUP BY order_id",
            order_ids,
        )
        assert len(trades) == len(order_ids) and all(t["n"] == 1 for t in trades)
        assert audit(conn) == []
    finally:
        conn.close()
    assert _fills(a.url) + _fills(b.url) - fills_before == len(order_ids)  # one fill in all, per order


def test_sigkill_of_the_leader_hands_over_within_10_seconds_and_ticks_go_on(cluster, client_on_b):
    a, b = cluster["a"], cluster["b"]
    a.kill()
    killed_at = time.monotonic()
    taken_over = wait_for(lambda: leads(b), TAKEOVER_LIMIT_S + 2)
    assert taken_over < TAKEOVER_LIMIT_S
    seen = len(client_on_b.as_ofs("RELIANCE"))
    wait_for(lambda: len(client_on_b.as_ofs("RELIANCE")) >= seen + 3, 10)
    assert client_on_b.client.connected
    assert "is now the leader" in b.log()
    print(f"takeover after SIGKILL: {time.monotonic() - killed_at:.2f} s")


def test_sigterm_releases_leadership_at_once(cluster, start_app):
    b = cluster["b"]
    c, d = cluster["spares"] = start_app("c", "d", servers={"c": "eventlet"})  # the dev server's path too
    assert leads(b) and not leads(c) and not leads(d)
    client = PriceClient(b.url, SYMBOLS[:1])
    try:
        b.terminate()
        terminated_at = time.monotonic()
        took = wait_for(lambda: leads(c) or leads(d), 5, interval_s=0.05)
        assert took < 2.0  # the lock is released on SIGTERM: one election interval (0.5 s), not a timeout
        wait_for(lambda: client.disconnected_at is not None, 5)  # its WebSockets are closed, not left hanging
        assert b.process.wait(timeout=10) == 0 and time.monotonic() - terminated_at < 10
        assert re.search(r"shutdown complete: .*realtime services", b.log())
    finally:
        client.close()
    print(f"takeover after SIGTERM: {took:.2f} s")


def test_idle_servers_finish_their_shutdown_and_hand_over_in_turn(cluster, scaleout_db):
    leader, other = sorted(cluster["spares"], key=lambda app: not leads(app))
    for app in (leader, other):
        app.terminate()
        # gunicorn exits 0; the eventlet server shuts down, then is ended by the signal as it would have been
        assert app.process.wait(timeout=10) == (-signal.SIGTERM if app.name == "c" else 0)
        assert re.search(r"shutdown complete: .*realtime services", app.log())  # even with no connection to drain
        if app is leader:
            assert wait_for(lambda: leads(other), 2, interval_s=0.05) < 2
    conn = connect(scaleout_db)
    try:
        assert fetch_value(conn, "SELECT IS_FREE_LOCK(%s)", (lock_name(scaleout_db.database),)) == 1
    finally:
        conn.close()
