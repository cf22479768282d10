"""The production server (gunicorn, gevent worker) streaming from the loopback Upstox feed: a tick the feed sends
reaches a real Socket.IO client (WebSocket transport) through the tick bus and the fan-out, /healthz says
the feed streams, and SIGTERM closes the feed connection with a close frame."""

from __future__ import annotations

import os
import threading
import time

import pytest
import requests
import socketio

from backend.local_app import LocalApp
from tests.realtime.fake_upstox import RELIANCE
from tests.waiting import wait_for


@pytest.fixture
def server(upstox, rt_db_config, rt_conn, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_", "SOCKETIO_", "UPSTOX_"))}
    env.update(
        DATABASE_URL=rt_db_config.url(),
        APP_ENV="test",
        LOG_LEVEL="INFO",
        MARKET_DATA_PROVIDER="upstox",
        UPSTOX_ACCESS_TOKEN="token-1",
        UPSTOX_BASE_URL=upstox.url,
        UPSTOX_FEED_TARGETS_INTERVAL_S="0.2",
        UPSTOX_STREAM_MOVERS="0",
        FANOUT_INTERVAL_MS="50",
        ENABLE_EOD_SCHEDULER="0",
        ENABLE_STARTUP_REFRESH="0",
        NEWS_FEEDS="",
    )
    app = LocalApp(env, tmp_path / "server.log")
    app.env["ALLOWED_ORIGINS"] = app.url
    app.start(timeout_s=45)
    yield app
    app.stop()
    rt_conn.cursor().execute("DELETE FROM market_feed_state")


def test_feed_ticks_reach_a_socketio_client_and_sigterm_closes_the_feed(server, upstox):
    updates: list[dict] = []
    lock = threading.Lock()
    client = socketio.Client(reconnection=False)

    @client.on("price_update")
    def on_price(data):
        with lock:
            updates.append(data)

    client.connect(server.url, transports=["websocket"], wait_timeout=10)
    try:
        assert client.call("subscribe", {"symbols": ["RELIANCE"]}, timeout=10)["subscribed"] == ["RELIANCE"]
        wait_for(lambda: upstox.feed.live() and RELIANCE in upstox.feed.live()[0].subscriptions, timeout_s=20)
        feed = requests.get(server.url + "/healthz", timeout=5).json()["data"]["checks"]["feed"]
        assert (feed["mode"], feed["reason"]) == ("streaming", None)
        sent = time.time()
        upstox.feed.tick(RELIANCE, 1402.35)
        wait_for(lambda: any(u["ltp"] == 1402.35 for u in list(updates)))
        [update] = [u for u in updates if u["ltp"] == 1402.35]
        assert update["symbol"] == "RELIANCE" and update["prev_close"] == 1310.0
        assert time.time() - sent < 2
    finally:
        client.disconnect()
    [connection] = upstox.feed.connections
    server.stop()
    wait_for(lambda: connection.closed)
    assert connection.close_code == 1000  # the leader said goodbye before the process ended
