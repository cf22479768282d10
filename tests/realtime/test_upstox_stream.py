"""The leader's Upstox pipeline in a running app (threading mode) against the loopback fake: the feed follows the
stream targets (indices, clients' symbols, open orders) without reconnecting, its ticks take the tick path,
REST covers a dropped feed, /healthz and /metrics tell which, the exchange's phase wins over the calendar,
an expired token keeps the app ready until an administrator sets a new one, and a leader that steps down
closes the feed first."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet

from backend.extensions import socketio
from controller.sql import fetch_all, fetch_one
from services.alerts.engine import AlertEngine
from services.market import market_clock
from services.realtime.stream_targets import stream_targets
from services.realtime.subscription_registry import SubscriptionRegistry
from services.runtime import lifecycle
from services.runtime.feed_streaming import FeedStreaming, all_subscriptions
from services.runtime.lifecycle import start_services, stop_services
from tests.auth_helpers import access_token, bearer, make_user
from tests.realtime.fake_upstox import INFY, NIFTY, RELIANCE, TCS
from tests.waiting import wait_for
from utils.timeutil import IST

SESSION = datetime(2026, 11, 20, 11, 0, tzinfo=IST)  # a Friday, mid-session by the calendar
SATURDAY = datetime(2026, 11, 21, 11, 0, tzinfo=IST)


@pytest.fixture
def clean_state(rt_conn):
    yield
    cursor = rt_conn.cursor()
    for table in ("provider_tokens", "market_feed_state", "orders", "users"):
        cursor.execute(f"DELETE FROM {table}")


@pytest.fixture
def feed_app(make_rt_app, upstox, clean_state):
    app = make_rt_app(
        market_data_provider="upstox",
        upstox_access_token="token-1",
        upstox_base_url=upstox.url,
        provider_token_key=Fernet.generate_key().decode(),
        upstox_poll_interval_s=0.3,
        upstox_feed_targets_interval_s=0.1,
        upstox_feed_max_backoff_s=1,
        upstox_stream_movers=0,
        fanout_interval_ms=50,
        enable_eod_scheduler=False,
        enable_startup_refresh=False,
        admin_emails="admin@example.com",
    )
    assert start_services(app)
    yield app
    stop_services()


def feed_check(app) -> dict:
    body = app.test_client().get("/healthz").get_json()
    return (body["data"] if body["status"] == "success" else body["error"]["details"])["checks"]["feed"]


def subscribed(upstox) -> dict:
    live = upstox.feed.live()
    return dict(live[0].subscriptions) if live else {}


def test_the_feed_streams_the_targets_and_its_ticks_take_the_tick_path(feed_app, upstox):
    client = socketio.test_client(feed_app)
    assert client.emit("subscribe", {"symbols": ["RELIANCE"]}, callback=True)["subscribed"] == ["RELIANCE"]
    wait_for(lambda: subscribed(upstox).get(RELIANCE) == "full" and subscribed(upstox).get(NIFTY) == "full")
    assert len(subscribed(upstox)) == 10  # 9 indices (full) and the client's symbol; nothing else asked
    assert feed_check(feed_app)["mode"] == "streaming" and feed_check(feed_app)["reason"] is None
    upstox.feed.tick(RELIANCE, 1401.55, volume=5_500_000)
    cache = feed_app.extensions["live_prices"]["stocks"]
    wait_for(lambda: (q := cache.get("RELIANCE")) is not None and q.ltp == Decimal("1401.55"))
    assert cache.get("RELIANCE").source == "upstox" and cache.get("RELIANCE").volume == 5_500_000
    wait_for(lambda: any(e["args"][0]["ltp"] == 1401.55 for e in client.get_received() if e["name"] == "price_update"))
    client.emit("subscribe", {"symbols": ["TCS"]}, callback=True)
    wait_for(lambda: TCS in subscribed(upstox))
    client.emit("unsubscribe", {"symbols": ["RELIANCE"]}, callback=True)
    wait_for(lambda: RELIANCE not in subscribed(upstox))
    [connection] = upstox.feed.connections  # every change went over the one connection
    methods = [frame["method"] for frame in connection.frames]
    assert methods[-2:] == ["sub", "unsub"] and upstox.feed.authorizations == 1
    metrics = feed_app.test_client().get("/metrics").get_data(as_text=True)
    for name in ("upstox_feed_messages_total", "upstox_feed_reconnects_total", "upstox_feed_lag_seconds_bucket"):
        assert name in metrics
    assert 'upstox_feed_subscribed_keys{mode="full"} 10.0' in metrics
    client.disconnect()


def test_the_leader_streams_what_the_clients_of_other_processes_subscribed(feed_app, upstox, redis_url):
    # as FeedStreaming wires it with REDIS_URL: the source is the union of every process's published symbols
    leader = SubscriptionRegistry(redis_url, 0.5, prefix=f"test:{uuid.uuid4().hex}:")
    other = SubscriptionRegistry(redis_url, 0.5, prefix=leader.prefix)
    stream_targets(feed_app).register("client_subscriptions", all_subscriptions(leader), "full", 10)
    try:
        other.publish({"INFY"})  # a client of another process watches INFY
        wait_for(lambda: subscribed(upstox).get(INFY) == "full")
        other.withdraw()  # that process stopped
        wait_for(lambda: INFY not in subscribed(upstox))
    finally:
        for registry in (leader, other):
            registry.withdraw()
            registry.close()


def test_with_redis_every_process_publishes_its_clients_symbols(make_rt_app, upstox, redis_url):
    app = make_rt_app(
        market_data_provider="upstox", upstox_access_token="token-1", upstox_base_url=upstox.url, redis_url=redis_url
    )
    feed = FeedStreaming(app, AlertEngine(app))
    try:
        assert [job.name for job in feed.every_process_jobs()] == ["publish_subscriptions"]
        with app.app_context():
            feed.registry.publish({"TCS"})
            assert "TCS" in dict(stream_targets(app)._sources)["client_subscriptions"].symbols()
    finally:
        feed.stop()
    assert "TCS" not in feed.registry.all_symbols()  # a stopping process withdraws its symbols


def test_open_orders_instruments_are_streamed(feed_app, upstox, rt_conn):
    user = make_user(rt_conn, "trader@example.com")
    answer = feed_app.test_client().post(
        "/orders",
        json={"symbol": "INFY", "side": "BUY", "order_type": "LIMIT", "quantity": 1, "price": 1400},
        headers=bearer(access_token(feed_app, user)),
    )
    assert answer.status_code == 201, answer.get_json()
    wait_for(lambda: INFY in subscribed(upstox), timeout_s=15)  # the source is read every 10 s
    assert subscribed(upstox)[INFY] == "full"  # wanted in ltpc; with room to spare every key is streamed in full


def test_the_instruments_of_active_alerts_are_streamed(feed_app, upstox, rt_conn):
    user = make_user(rt_conn, "alerter@example.com")
    answer = feed_app.test_client().post(
        "/alerts",
        json={"symbol": "TCS", "kind": "volume_above", "value": 10**9},
        headers=bearer(access_token(feed_app, user)),
    )
    assert answer.status_code == 201, answer.get_json()
    wait_for(lambda: TCS in subscribed(upstox))
    assert subscribed(upstox)[TCS] == "full"  # a volume alert needs the full feed (an ltpc one carries no volume)


def test_a_dropped_feed_falls_back_to_rest_then_reconnects_and_resubscribes(feed_app, upstox):
    market_clock.set_clock(feed_app, lambda: SESSION)  # the REST pass runs while the market is open
    try:
        wait_for(lambda: subscribed(upstox).get(NIFTY) == "full")
        upstox.state.script("/v3/feed", *[(503, {"status": "error"}, {})] * 6)
        polled_before = len([r for r in upstox.state.requests if r["path"] == "/v2/market-quote/quotes"])
        upstox.feed.drop()
        wait_for(lambda: feed_check(feed_app)["mode"] == "polling")
        assert feed_check(feed_app)["reason"] == "disconnected"
        wait_for(
            lambda: any(
                NIFTY in r["args"].get("instrument_key", "")
                for r in upstox.state.requests[polled_before:]
                if r["path"] == "/v2/market-quote/quotes"
            )
        )  # what the feed was streaming is polled meanwhile
        wait_for(lambda: feed_check(feed_app)["mode"] == "streaming", timeout_s=20)
        assert len(upstox.feed.connections) == 2 and subscribed(upstox).get(NIFTY) == "full"
    finally:
        market_clock.set_clock(feed_app, None)


def test_the_market_phase_follows_the_exchange_over_the_calendar(feed_app, upstox, rt_conn, caplog):
    wait_for(lambda: feed_check(feed_app)["mode"] == "streaming")
    client = socketio.test_client(feed_app)
    run_status_job = feed_app.extensions["jobs"]["market_status"]  # the broadcast job, run now
    with caplog.at_level(logging.WARNING, logger="services.realtime.upstox_stream"):
        market_clock.set_clock(feed_app, lambda: SESSION)
        try:
            run_status_job()  # the job knows the phase before the exchange's word (open, by the calendar)
            upstox.feed.phase("NORMAL_CLOSE")  # an unlisted holiday: the exchange says closed
            with feed_app.app_context():
                wait_for(lambda: market_clock.current_status().phase == "closed")
            body = feed_app.test_client().get("/market/status").get_json()["data"]
            assert body["phase"] == "closed" and body["is_market_open"] is False
            client.get_received()
            run_status_job()
            [event] = [e["args"][0] for e in client.get_received() if e["name"] == "market_status"]
            assert event["phase"] == "closed"  # every client is told
            row = fetch_one(rt_conn, "SELECT exchange_status, status_day FROM market_feed_state")
            assert row == {"exchange_status": "NORMAL_CLOSE", "status_day": SESSION.date()}
            market_clock.set_clock(feed_app, lambda: SATURDAY)
            upstox.feed.phase("NORMAL_OPEN")  # a special session on a weekend
            with feed_app.app_context():
                wait_for(lambda: market_clock.current_status().phase == "open")
        finally:
            market_clock.set_clock(feed_app, None)
            client.disconnect()
    disagreements = [r.getMessage() for r in caplog.records if "following the exchange for 2026-11-2" in r.getMessage()]
    assert len(disagreements) == 2 and "NORMAL_CLOSE" in disagreements[0] and "NORMAL_OPEN" in disagreements[1]


def test_an_expired_token_keeps_the_app_ready_until_an_admin_sets_a_new_one(feed_app, upstox, rt_conn):
    wait_for(lambda: feed_check(feed_app)["mode"] == "streaming")
    upstox.state.valid_tokens = {"token-2"}  # the day's token expired
    upstox.feed.drop()
    wait_for(lambda: feed_check(feed_app)["reason"] == "token_expired")
    market_clock.set_clock(feed_app, lambda: SESSION)  # open market, no fresh quote: still ready
    try:
        health = feed_app.test_client().get("/healthz")
        assert health.status_code == 200
        feed = health.get_json()["data"]["checks"]["feed"]
        assert feed["ok"] is True and feed["mode"] == "down" and feed["market_open"] is True
    finally:
        market_clock.set_clock(feed_app, None)
    admin = make_user(rt_conn, "admin@example.com", role="admin")
    headers = bearer(access_token(feed_app, admin, role="admin"))
    http = feed_app.test_client()
    refused = http.post("/admin/provider/token", json={"access_token": "not-valid"}, headers=headers)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["details"]["fields"][0]["field"] == "access_token"
    assert fetch_all(rt_conn, "SELECT provider FROM provider_tokens") == []
    user = make_user(rt_conn, "someone@example.com")
    forbidden = http.post(
        "/admin/provider/token", json={"access_token": "token-2"}, headers=bearer(access_token(feed_app, user))
    )
    assert forbidden.status_code == 403
    stored = http.post("/admin/provider/token", json={"access_token": " token-2 "}, headers=headers)
    assert stored.status_code == 200, stored.get_json()
    data = stored.get_json()["data"]
    assert data["source"] == "database" and "token-2" not in stored.get_data(as_text=True)
    [row] = fetch_all(rt_conn, "SELECT token_encrypted, set_by FROM provider_tokens WHERE provider = 'upstox'")
    assert row["set_by"] == admin and b"token-2" not in bytes(row["token_encrypted"])
    wait_for(lambda: feed_check(feed_app)["mode"] == "streaming", timeout_s=15)
    assert upstox.state.requests[-1]["auth"] == "Bearer token-2"


def test_a_missing_key_or_a_bad_body_is_refused_clearly(make_rt_app, upstox, rt_conn, clean_state):
    app = make_rt_app(market_data_provider="upstox", upstox_access_token="t", upstox_base_url=upstox.url)
    admin = make_user(rt_conn, "admin2@example.com", role="admin")
    headers = bearer(access_token(app, admin, role="admin"))
    http = app.test_client()
    missing_key = http.post("/admin/provider/token", json={"access_token": "token-9"}, headers=headers)
    assert missing_key.status_code == 503
    assert missing_key.get_json()["error"]["details"]["reason"] == "provider_token_key_missing"
    for body in ({}, {"access_token": ""}, {"access_token": 5}, {"access_token": "x", "extra": 1}):
        assert http.post("/admin/provider/token", json=body, headers=headers).status_code == 400


def test_a_leader_that_steps_down_closes_the_feed_first(feed_app, upstox, rt_conn):
    wait_for(lambda: feed_check(feed_app)["mode"] == "streaming")
    realtime = lifecycle._running
    realtime.leadership.stop()
    [connection] = upstox.feed.connections
    wait_for(lambda: connection.closed)
    assert connection.close_code == 1000  # a close frame, not a broken socket
    row = fetch_one(rt_conn, "SELECT mode, reason FROM market_feed_state")
    assert row == {"mode": "down", "reason": "leader_stepped_down"}  # until the next leader writes its own
    assert realtime.feed.stream is None and realtime.writer is None
    check = feed_check(feed_app)
    assert (check["mode"], check["reason"]) == ("down", "leader_stepped_down")  # what a follower reads
