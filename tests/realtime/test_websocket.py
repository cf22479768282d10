"""Socket.IO handlers and the fan-out with Flask-SocketIO's test client: acks, validation, the cap, JWT rooms,
conflated price updates for subscribed symbols only, indices, movers and market status events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask_jwt_extended import create_access_token

from backend.extensions import socketio
from services.market.live_price_cache import Quote
from services.market.market_clock import set_clock
from services.realtime.fanout import Fanout
from services.realtime.feed_jobs import MarketStatusWatch, MoversFeed
from services.realtime.tick_bus import TickBatch
from tests.auth_helpers import access_token, make_user, refresh_token
from tests.waiting import wait_for

AT = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@pytest.fixture
def app(make_rt_app):
    return make_rt_app(ws_max_subscriptions=3, force_market_open=True)


def publish(app, kind, *quotes):
    with app.app_context():
        app.extensions["tick_bus"].publish(TickBatch(kind, tuple(quotes)))


def q(symbol, ltp, seconds=0, prev="100", volume=1000):
    return Quote(
        symbol,
        Decimal(ltp),
        Decimal(prev),
        Decimal(prev),
        max(Decimal(ltp), Decimal(prev)),
        min(Decimal(ltp), Decimal(prev)),
        volume,
        AT + timedelta(seconds=seconds),
        "simulator",
    )


def events(client, name):
    return [m["args"][0] for m in client.get_received() if m["name"] == name]


def test_subscribe_acks_known_and_unknown_and_sends_the_cached_price(app):
    publish(app, "stocks", q("TCS", "101.5"))
    client = socketio.test_client(app)
    assert events(client, "market_status")[0]["phase"] == "open"
    ack = client.emit("subscribe", {"symbols": ["tcs", "NOPE", "TCS", "INFY"]}, callback=True)
    assert ack == {"subscribed": ["TCS", "INFY"], "unknown": ["NOPE"], "prices_batch": False}
    [update] = events(client, "price_update")
    assert update["symbol"] == "TCS" and update["ltp"] == 101.5 and update["change"] == 1.5
    assert update["change_pct"] == 1.5 and update["as_of"] == "2026-11-20T11:30:00.000+05:30"
    assert set(update) == {
        "symbol",
        "stock_id",
        "ltp",
        "change",
        "change_pct",
        "day_open",
        "day_high",
        "day_low",
        "prev_close",
        "volume",
        "as_of",
    }
    assert client.emit("unsubscribe", {"symbols": ["INFY", "SBIN"]}, callback=True) == {
        "subscribed": ["TCS"],
        "unknown": ["SBIN"],
    }


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "TCS",
        {"symbols": "TCS"},
        {"symbols": [1]},
        {"symbols": ["X" * 40]},
        {"symbols": [""]},
        {"symbols": ["A", "B", "C", "D"]},
    ],
)
def test_invalid_subscriptions_are_acked_with_an_error(app, payload):
    client = socketio.test_client(app)
    ack = client.emit("subscribe", payload, callback=True)
    assert ack["subscribed"] == [] and ack["error"]["code"] == "VALIDATION_ERROR"


def test_the_per_connection_cap(app):
    client = socketio.test_client(app)
    assert client.emit("subscribe", {"symbols": ["TCS", "INFY"]}, callback=True)["subscribed"] == ["TCS", "INFY"]
    ack = client.emit("subscribe", {"symbols": ["SBIN", "ITC"]}, callback=True)
    assert ack["error"]["code"] == "SUBSCRIPTION_LIMIT" and ack["error"]["details"] == {"limit": 3, "current": 2}
    assert client.emit("subscribe", {"symbols": ["SBIN", "TCS"]}, callback=True)["subscribed"] == ["SBIN", "TCS"]


def test_a_valid_access_token_joins_the_users_room_and_bad_tokens_are_refused(app, rt_conn):
    user_id = make_user(rt_conn, "ws@example.com")
    blocked = make_user(rt_conn, "blocked@example.com", status="blocked")
    access, refresh = access_token(app, user_id), refresh_token(app, user_id)
    client = socketio.test_client(app, auth={"token": access})
    assert client.is_connected()
    socketio.emit("order_update", {"order_id": 1}, to=f"user:{user_id}")
    assert events(client, "order_update") == [{"order_id": 1}]
    anonymous = socketio.test_client(app)
    assert anonymous.is_connected() and events(anonymous, "order_update") == []
    with app.app_context():  # a token naming a user that does not exist
        ghost = create_access_token(identity="999999")
    for token in (refresh, "not-a-jwt", access[:-3] + "abc", ghost, access_token(app, blocked)):
        assert not socketio.test_client(app, auth={"token": token}).is_connected()
    rt_conn.cursor().execute("DELETE FROM users WHERE user_id IN (%s, %s)", (user_id, blocked))


def test_fanout_conflates_and_sends_only_subscribed_symbols(app):
    fanout = Fanout(app, 0.05, 0)
    app.extensions["tick_bus"].subscribe(fanout.on_batch, "fanout")
    reliance = socketio.test_client(app)
    reliance.emit("subscribe", {"symbols": ["RELIANCE"]}, callback=True)
    publish(app, "stocks", q("RELIANCE", "101", 1), q("TCS", "99", 1))
    publish(app, "stocks", q("RELIANCE", "102", 2))
    publish(app, "indices", q("NIFTY 50", "26100", 2, prev="26000", volume=0))
    with app.app_context():
        fanout.emit_pending()
    received = reliance.get_received()
    updates = [m["args"][0] for m in received if m["name"] == "price_update"]
    assert [(u["symbol"], u["ltp"]) for u in updates] == [("RELIANCE", 102.0)]  # the latest only
    [indices] = [m["args"][0] for m in received if m["name"] == "indices_update"]
    assert indices["status"] == "live" and indices["data"][0]["name"] == "NIFTY 50"
    assert set(indices["data"][0]) == {
        "name",
        "ltp",
        "open",
        "high",
        "low",
        "prev_close",
        "change_value",
        "change_percent",
        "tag",
        "last_updated",
    }
    with app.app_context():
        assert fanout.emit_pending() == 0  # nothing new


def test_a_failed_fanout_pass_is_logged_and_the_stream_goes_on(app, monkeypatch, caplog):
    fanout = Fanout(app, 0.01, 0)
    passes = []

    def failing_once() -> int:
        passes.append(1)
        if len(passes) == 1:
            raise RuntimeError("an unexpected quote")
        return 0

    monkeypatch.setattr(fanout, "emit_pending", failing_once)
    fanout.start()
    try:
        wait_for(lambda: len(passes) >= 2, timeout_s=5)  # the loop wakes at least once a second
    finally:
        fanout.stop()
    assert "fan-out pass failed" in caplog.text


def test_prices_batch_movers_and_market_status_broadcasts(app):
    fanout = Fanout(app, 0.05, 5)
    app.extensions["tick_bus"].subscribe(fanout.on_batch, "fanout")
    client = socketio.test_client(app)
    client.get_received()
    publish(app, "stocks", q("RELIANCE", "110", 1), q("TCS", "90", 1, volume=10**10), q("INFY", "100", 1))
    set_clock(app, lambda: AT + timedelta(seconds=2))  # the quotes are fresh: the movers rank them
    with app.app_context():
        fanout.emit_prices_batch()
        assert MoversFeed()() is True
        watch = MarketStatusWatch()
        assert watch() is False  # the first check only records the phase
        watch.state = ("closed", True)
        assert watch() is True
    received = client.get_received()
    [batch] = [m["args"][0] for m in received if m["name"] == "prices_batch"]
    assert sorted(item["symbol"] for item in batch) == ["INFY", "RELIANCE", "TCS"]
    [movers] = [m["args"][0] for m in received if m["name"] == "movers_update"]
    assert movers["gainers"][0]["symbol"] == "RELIANCE" and movers["gainers"][0]["change"] == "+10.00%"
    assert movers["losers"][0]["symbol"] == "TCS" and movers["mostActive"][0]["symbol"] == "TCS"
    assert movers["gainers"][0]["price"] == "110.00" and movers["gainers"][0]["name"] == "Reliance Industries Ltd."
    [status] = [m["args"][0] for m in received if m["name"] == "market_status"]
    assert status["phase"] == "open" and status["is_market_open"] is True


def test_prices_batch_goes_to_connections_that_never_subscribed_or_asked_for_it(app):
    fanout = Fanout(app, 0.05, 5)
    app.extensions["tick_bus"].subscribe(fanout.on_batch, "fanout")
    listener, subscriber, asker, quitter = (socketio.test_client(app) for _ in range(4))
    assert subscriber.emit("subscribe", {"symbols": ["TCS"]}, callback=True)["prices_batch"] is False
    ack = asker.emit("subscribe", {"symbols": ["TCS"], "prices_batch": True}, callback=True)
    assert ack == {"subscribed": ["TCS"], "unknown": [], "prices_batch": True}
    assert quitter.emit("subscribe", {"symbols": [], "prices_batch": False}, callback=True)["prices_batch"] is False
    bad = listener.emit("subscribe", {"symbols": [], "prices_batch": "yes"}, callback=True)
    assert bad["error"]["code"] == "VALIDATION_ERROR"
    for client in (listener, subscriber, asker, quitter):
        client.get_received()
    publish(app, "stocks", q("RELIANCE", "110", 1), q("TCS", "90", 1))
    with app.app_context():
        fanout.emit_prices_batch()
    assert [sorted(i["symbol"] for i in batch) for batch in events(listener, "prices_batch")] == [["RELIANCE", "TCS"]]
    assert len(events(asker, "prices_batch")) == 1
    assert events(subscriber, "prices_batch") == [] and events(quitter, "prices_batch") == []
    # a later subscription without the flag leaves the room; asking again rejoins it
    assert asker.emit("subscribe", {"symbols": ["INFY"]}, callback=True)["prices_batch"] is False
    assert subscriber.emit("subscribe", {"symbols": [], "prices_batch": True}, callback=True)["prices_batch"] is True


def test_batch_mode_sends_one_list_per_pass_for_the_connections_symbols(app):
    fanout = Fanout(app, 0.05, 0)
    app.extensions["tick_bus"].subscribe(fanout.on_batch, "fanout")
    publish(app, "stocks", q("TCS", "100.5"))
    batch = socketio.test_client(app)
    batch.get_received()
    ack = batch.emit("subscribe", {"symbols": ["TCS", "INFY"], "mode": "batch"}, callback=True)
    assert ack == {"subscribed": ["TCS", "INFY"], "unknown": [], "prices_batch": False}
    [snapshot] = events(batch, "price_updates")
    assert [u["symbol"] for u in snapshot] == ["TCS"]
    assert batch.emit("subscribe", {"symbols": ["SBIN", "ITC"]}, callback=True)["error"]["code"] == "SUBSCRIPTION_LIMIT"
    assert batch.emit("subscribe", {"symbols": ["SBIN"], "mode": "fast"}, callback=True)["error"]["code"] == (
        "VALIDATION_ERROR"
    )
    publish(app, "stocks", q("TCS", "101", 1), q("INFY", "99", 1), q("SBIN", "98", 1))
    publish(app, "stocks", q("TCS", "102", 2))
    with app.app_context():
        fanout.emit_pending()
    received = batch.get_received()
    assert [m["name"] for m in received] == ["price_updates"]
    assert sorted((u["symbol"], u["ltp"]) for u in received[0]["args"][0]) == [("INFY", 99.0), ("TCS", 102.0)]
    assert batch.emit("unsubscribe", {"symbols": ["TCS"]}, callback=True)["subscribed"] == ["INFY"]
    publish(app, "stocks", q("TCS", "103", 3), q("INFY", "98", 3))
    with app.app_context():
        fanout.emit_pending()
    [update] = events(batch, "price_updates")
    assert [u["symbol"] for u in update] == ["INFY"]
    batch.disconnect()
    with app.app_context():
        assert app.extensions["batch_subscriptions"].recipients(["INFY"]) == {}
