"""Alerts with two gunicorn+gevent processes on one database and one Redis: both evaluate every tick, the
database picks one to fire each crossing, each alert's order is placed once, and the owner, connected to the
other process, hears each trigger once."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal

import pytest
import redis
import requests
import socketio

from backend.db import connect
from controller.sql import fetch_all
from services.market.live_price_cache import Quote
from services.realtime.tick_bus import TickBatch
from services.realtime.tick_bus_redis import CHANNEL
from services.realtime.tick_codec import encode
from tests.scaleout.test_two_processes import leads, register
from tests.waiting import wait_for

SYMBOLS = ["RELIANCE", "TCS", "INFY", "HDFCBANK", "ICICIBANK", "SBIN"]


def metric(url: str, name: str, labels: str = "") -> float:
    """A counter or gauge of one process's /metrics (0 when absent)."""
    text = requests.get(url + "/metrics", timeout=5).text
    found = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.fixture(scope="module")
def pair(start_app):
    first, second = start_app("alerts-1", "alerts-2")
    wait_for(lambda: leads(first) or leads(second), 10)
    return first, second


class Owner:
    """The alerts' owner, connected (WebSocket) to one process, counting `alert_triggered` per alert."""

    def __init__(self, url: str, token: str) -> None:
        self.received: dict[int, list[dict]] = {}
        self._lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("alert_triggered", self._on_trigger)
        self.client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def _on_trigger(self, data: dict) -> None:
        with self._lock:
            self.received.setdefault(data["alert"]["alert_id"], []).append(data)


def test_each_crossing_fires_once_across_processes(pair, scaleout_db, redis_url):
    a, b = pair
    token = register(b.url, "alerter@example.com")
    headers = {"Authorization": f"Bearer {token}"}
    levels, created = {}, []
    for n, symbol in enumerate(SYMBOLS):
        price = Decimal(str(requests.get(f"{b.url}/stocks/detail/{symbol}", timeout=10).json()["data"]["currentPrice"]))
        level = (price * Decimal("1.08")).quantize(Decimal("0.05"), rounding=ROUND_DOWN)  # far above the random walk
        body = {"symbol": symbol, "kind": "price_above", "value": float(level)}
        if n % 2 == 0:
            body["action"] = {"side": "BUY", "order_type": "MARKET", "quantity": 1}
        response = requests.post(f"{b.url}/alerts", json=body, headers=headers, timeout=10)
        assert response.status_code == 201, response.text
        created.append(response.json()["data"])
        levels[symbol] = (level, price)
    # A follows through the revision counter (B applied its own changes at once)
    wait_for(lambda: all(metric(p.url, "alert_index_alerts") >= len(SYMBOLS) for p in (a, b)), 10)
    owner = Owner(a.url, token)
    claims = {o: sum(metric(p.url, "alert_claims_total", f'{{outcome="{o}"}}') for p in pair) for o in ("won", "lost")}
    now = datetime.now(UTC)
    crossing = TickBatch(
        "stocks",
        tuple(
            Quote(s, level + Decimal("0.5"), prev, prev, level + 1, prev, 10**6, now, "simulator")
            for s, (level, prev) in levels.items()
        ),
    )
    publisher = redis.Redis.from_url(redis_url)
    for _ in range(2):  # the same tick twice: a duplicate delivery fires nothing more
        assert publisher.publish(CHANNEL, encode(crossing, "test")) == 2  # both processes listen
    publisher.close()
    conn = connect(scaleout_db)
    try:
        ids = [alert["alert_id"] for alert in created]
        marks = ",".join(["%s"] * len(ids))

        def fired():
            return fetch_all(conn, f"SELECT alert_id, seq FROM alert_triggers WHERE alert_id IN ({marks})", ids)

        wait_for(lambda: len(fired()) >= len(ids), 15)
        wait_for(lambda: len(owner.received) == len(ids), 10)
        time.sleep(1.0)  # give a second trigger, order or event every chance to show up
        assert sorted((row["alert_id"], row["seq"]) for row in fired()) == sorted((i, 1) for i in ids)
        orders = fetch_all(
            conn,
            "SELECT client_order_id FROM orders WHERE client_order_id LIKE 'alert-%' AND user_id = "
            "(SELECT user_id FROM users WHERE email = 'alerter@example.com')",
        )
        assert sorted(o["client_order_id"] for o in orders) == sorted(f"alert-{i}-1" for i in ids[::2])
        states = fetch_all(conn, f"SELECT status, times_triggered FROM alerts WHERE alert_id IN ({marks})", ids)
        assert {(s["status"], s["times_triggered"]) for s in states} == {("triggered", 1)}
    finally:
        conn.close()
        owner.client.disconnect()
    assert {alert_id: len(events) for alert_id, events in owner.received.items()} == {i: 1 for i in ids}
    won = sum(metric(p.url, "alert_claims_total", '{outcome="won"}') for p in pair) - claims["won"]
    lost = sum(metric(p.url, "alert_claims_total", '{outcome="lost"}') for p in pair) - claims["lost"]
    assert won == len(ids) and lost >= len(ids)  # both processes tried every alert; the database picked one
