"""An alert's paper order goes through the trading desk once per trigger: placed (filled or resting, or waiting
as an after-market order), or refused with the error in the trigger record; a trigger left pending is placed by
the retry job, and asking again never places a second order. And the owner, only, hears `alert_triggered`."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from controller.alerts import firing as firing_sql
from controller.sql import fetch_all, fetch_value
from services.alerts.engine import AlertEngine
from services.alerts.firing import fire, place_action, retry_pending_actions
from services.trading.desk import in_transaction
from tests.alerts.conftest import OPEN_AT, Ears, Ticks, price_alert, triggers
from tests.market_helpers import freeze
from tests.trading.conftest import CLOSED_AT

BUY_2 = {"side": "BUY", "order_type": "MARKET", "quantity": 2}


def orders_of(db_conn, user_id: int) -> list[dict]:
    return fetch_all(
        db_conn, "SELECT order_id, client_order_id, status, is_amo FROM orders WHERE user_id = %s", (user_id,)
    )


def test_the_order_is_placed_once_with_its_client_order_id(trader, ticks, db_conn, app):
    alert = price_alert(trader, value=101, action=BUY_2)
    assert alert["action"] == {**BUY_2, "price": None, "trigger_price": None, "validity": "DAY"}
    [(_, trigger)] = ticks.tick("ZZTEST", "101.5")
    assert trigger.order_state == "placed" and trigger.order.status == "COMPLETE"
    assert trigger.order.average_price == Decimal("101.5")
    [order] = orders_of(db_conn, trader.user_id)
    assert order["client_order_id"] == f"alert-{alert['alert_id']}-1" and order["status"] == "COMPLETE"
    with app.app_context():
        assert place_action(trigger) is False  # asked again (a retry, another process): the same order, recorded once
    assert len(orders_of(db_conn, trader.user_id)) == 1
    [row] = triggers(db_conn, trader.user_id)
    assert (row["order_state"], row["order_id"]) == ("placed", order["order_id"])
    item = trader.get("/alerts/history").get_json()["data"][0]
    assert item["order"]["order_id"] == order["order_id"] and item["order"]["status"] == "COMPLETE"
    assert trader.account()["cash"] == 100000 - 203


def test_a_refused_order_is_recorded_with_the_error(trader, ticks, db_conn):
    funds = price_alert(trader, symbol="ZZBIG", value=10010, action={**BUY_2, "quantity": 50})
    holdings = price_alert(trader, value=101, action={**BUY_2, "side": "SELL"})
    band = price_alert(trader, kind="price_below", value=99, action={**BUY_2, "order_type": "LIMIT", "price": 130})
    ticks.tick("ZZBIG", "10020")
    ticks.tick("ZZTEST", "101.5")
    ticks.tick("ZZTEST", "98")
    assert orders_of(db_conn, trader.user_id) == []
    history = {t["alert_id"]: t for t in trader.get("/alerts/history").get_json()["data"]}
    assert history[funds["alert_id"]]["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert history[holdings["alert_id"]]["error"]["code"] == "INSUFFICIENT_HOLDINGS"
    assert history[band["alert_id"]]["error"]["code"] == "VALIDATION_ERROR"
    assert "circuit band" in history[band["alert_id"]]["error"]["message"]
    assert {t["order_state"] for t in history.values()} == {"rejected"} and all(
        t["order"] is None for t in history.values()
    )


def test_when_the_market_is_closed_the_order_waits_as_an_after_market_order(trader, ticks, market, db_conn):
    price_alert(trader, value=101, action=BUY_2)
    market.at(CLOSED_AT)
    [(_, trigger)] = ticks.tick("ZZTEST", "101.5")
    assert trigger.order.is_amo and trigger.order.status == "OPEN"
    assert [(o["status"], o["is_amo"]) for o in orders_of(db_conn, trader.user_id)] == [("OPEN", 1)]


def test_a_trigger_left_pending_is_placed_by_the_retry_job_once(trader, ticks, market, db_conn, app):
    alert = price_alert(trader, value=101, action=BUY_2)
    market.publish("ZZTEST", "101.5")
    # the process that won the trigger dies before placing the order: only the claim committed
    with app.app_context():
        claimed = in_transaction(
            lambda conn: firing_sql.claim(conn, alert["alert_id"], Decimal(101), OPEN_AT, Decimal("101.5"), OPEN_AT)
        )
    assert claimed is not None and triggers(db_conn, trader.user_id)[0]["order_state"] == "pending"
    with app.app_context():
        assert retry_pending_actions(OPEN_AT + timedelta(seconds=5)) == 0  # too early: its process may be at it
        assert retry_pending_actions(OPEN_AT + timedelta(seconds=20)) == 1
        assert retry_pending_actions(OPEN_AT + timedelta(seconds=40)) == 0
    [order] = orders_of(db_conn, trader.user_id)
    assert order["client_order_id"] == f"alert-{alert['alert_id']}-1"
    assert triggers(db_conn, trader.user_id)[0]["order_state"] == "placed"


def test_two_processes_seeing_the_same_tick_fire_once(trader, ticks, make_app, db_config, market, db_conn):
    """Two engines (as two processes would have) on one database: both find the crossing, one fires."""
    alert = price_alert(trader, value=101, action=BUY_2)
    other_app = make_app(db_config)
    other = AlertEngine(other_app)
    with other_app.app_context():
        other.sync()
    assert other.index.size == 1
    freeze(other_app, OPEN_AT)
    quote = ticks.quote("ZZTEST", "101.5")
    found = []
    for each in (ticks.app, other_app):
        each.extensions["live_prices"]["stocks"].update([quote])
    for running in (ticks.engine, other):
        found.append(running.evaluate("stocks", [quote]))
        assert [c.alert_id for c in found[-1]] == [alert["alert_id"]]  # both see the crossing
    with ticks.app.app_context():
        first = fire(found[0], ticks.engine.forget)
    with other_app.app_context():
        second = fire(found[1], other.forget)
    assert len(first) + len(second) == 1
    assert len(triggers(db_conn, trader.user_id)) == 1 and len(orders_of(db_conn, trader.user_id)) == 1
    # the revision the winner stamped takes the fired alert out of the other index at its next sync
    Ticks(other_app, market, other).sync()
    assert other.index.size == 0
    assert fetch_value(db_conn, "SELECT times_triggered FROM alerts WHERE alert_id = %s", (alert["alert_id"],)) == 1


def test_the_owner_alone_hears_alert_triggered(live_server, trader, make_trader, ticks):
    other = make_trader("bob")
    alert = price_alert(trader, value=101, note="to the moon", action=BUY_2)
    owner_ears, other_ears = Ears(live_server, trader.token), Ears(live_server, other.token)
    try:
        ticks.tick("ZZTEST", "101.5")
        events = owner_ears.wait_for("alert_triggered")
        names = [name for name, _ in events]
        assert names == ["order_update", "trade", "account_update", "alert_triggered"]  # the order's events first
        payload = events[-1][1]
        assert payload["alert"]["alert_id"] == alert["alert_id"] and payload["alert"]["status"] == "triggered"
        assert payload["alert"]["level"] == 101 and payload["alert"]["current"] == 101.5
        trigger = payload["trigger"]
        assert trigger["trigger_price"] == 101.5 and trigger["note"] == "to the moon"
        assert trigger["order"]["client_order_id"] == f"alert-{alert['alert_id']}-1" and trigger["error"] is None
        assert other_ears.events == []  # events of one connection arrive in order: Bob's would be here by now
    finally:
        owner_ears.client.disconnect()
        other_ears.client.disconnect()
