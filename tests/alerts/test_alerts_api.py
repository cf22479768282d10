"""The /alerts API: create, list, change, delete, the history (unread, read, CSV), other users' alerts are 404,
the per-user limit, and every bad input the issue names answered with a 4xx envelope, nothing stored."""

from __future__ import annotations

import csv
import io

import pytest

from services.alerts.engine import AlertEngine
from tests.alerts.conftest import OPEN_AT, Ticks, alert_count, price_alert
from tests.auth_helpers import assert_error
from tests.market_helpers import freeze


def test_create_list_change_and_delete(trader, engine):
    created = price_alert(trader, value=105.5, note="watch", repeat="every", cooldown_s=60)
    assert created["symbol"] == "ZZTEST" and created["instrument_type"] == "stock" and created["kind"] == "price_above"
    assert created["value"] == 105.5 and created["repeat"] == "every" and created["cooldown_s"] == 60
    assert created["action"] is None and created["expires_at"] is None and created["times_triggered"] == 0
    assert engine.index.size == 1  # this process's index has it at once
    other = price_alert(trader, symbol="zzlot", kind="price_below", value=190)
    assert other["symbol"] == "ZZLOT"
    listed = trader.get("/alerts").get_json()
    assert [a["alert_id"] for a in listed["data"]] == [other["alert_id"], created["alert_id"]]
    assert listed["count"] == 2 and listed["next_cursor"] is None
    page = trader.get("/alerts?limit=1").get_json()
    assert page["count"] == 1 and page["next_cursor"] == str(other["alert_id"])
    rest = trader.get(f"/alerts?limit=1&cursor={page['next_cursor']}").get_json()
    assert [a["alert_id"] for a in rest["data"]] == [created["alert_id"]]
    assert [a["symbol"] for a in trader.get("/alerts?symbol=zzlot").get_json()["data"]] == ["ZZLOT"]

    changed = trader.patch(f"/alerts/{created['alert_id']}", json={"value": 110, "note": None}).get_json()["data"]
    assert changed["value"] == 110 and changed["note"] is None and changed["level"] == 110
    action = {"side": "BUY", "order_type": "LIMIT", "quantity": 1, "price": 99.95}
    changed = trader.patch(f"/alerts/{created['alert_id']}", json={"action": action}).get_json()["data"]
    assert changed["action"]["price"] == 99.95 and changed["action"]["validity"] == "DAY"
    disabled = trader.patch(f"/alerts/{created['alert_id']}", json={"status": "disabled"}).get_json()["data"]
    assert disabled["status"] == "disabled" and engine.index.size == 1
    assert [a["alert_id"] for a in trader.get("/alerts?status=disabled").get_json()["data"]] == [created["alert_id"]]
    again = trader.patch(f"/alerts/{created['alert_id']}", json={"status": "active"}).get_json()["data"]
    assert again["status"] == "active" and engine.index.size == 2

    deleted = trader.delete(f"/alerts/{created['alert_id']}")
    assert deleted.get_json()["data"] == {"alert_id": created["alert_id"], "deleted": True}
    assert engine.index.size == 1
    assert [a["alert_id"] for a in trader.get("/alerts").get_json()["data"]] == [other["alert_id"]]
    assert_error(trader.delete(f"/alerts/{created['alert_id']}"), 404, "NOT_FOUND")
    assert_error(trader.patch(f"/alerts/{created['alert_id']}", json={"value": 1}), 404, "NOT_FOUND")


def test_index_alerts(trader, engine):
    created = price_alert(trader, instrument_type="index", symbol="nifty 50", kind="change_pct_below", value=-1.5)
    assert created["symbol"] == "NIFTY 50" and created["instrument_type"] == "index"
    assert created["level"] is not None and created["current"] is not None
    assert engine.index.knows("index", "NIFTY 50")


def test_another_users_alert_is_404(trader, make_trader, engine):
    mine = price_alert(trader)
    bob = make_trader("bob")
    assert bob.get("/alerts").get_json()["data"] == []
    assert_error(bob.patch(f"/alerts/{mine['alert_id']}", json={"value": 120}), 404, "NOT_FOUND")
    assert_error(bob.delete(f"/alerts/{mine['alert_id']}"), 404, "NOT_FOUND")
    assert trader.get("/alerts").get_json()["data"][0]["value"] == 101


def test_the_per_user_limit(make_app, db_config, market, db_conn, instruments):
    from tests.trading.conftest import Trader, make_user

    app = make_app(db_config, alerts_max_active=2)
    freeze(app, OPEN_AT)
    user_id, token = make_user(app, db_conn, "limited")
    trader = Trader(user_id, token, app.test_client())
    first = price_alert(trader)
    price_alert(trader, value=102)
    body = assert_error(
        trader.post("/alerts", json={"symbol": "ZZTEST", "kind": "price_above", "value": 103}), 409, "CONFLICT"
    )
    assert body["error"]["details"]["limit"] == 2 and body["error"]["details"]["fields"][0]["field"] == "status"
    assert alert_count(db_conn, user_id) == 2
    trader.patch(f"/alerts/{first['alert_id']}", json={"status": "disabled"})
    third = price_alert(trader, value=103)
    assert_error(trader.patch(f"/alerts/{first['alert_id']}", json={"status": "active"}), 409, "CONFLICT")
    trader.delete(f"/alerts/{third['alert_id']}")
    assert trader.patch(f"/alerts/{first['alert_id']}", json={"status": "active"}).status_code == 200


LIMIT_NO_PRICE = {"side": "BUY", "order_type": "LIMIT", "quantity": 1}
BAD_INPUTS = [
    ({"kind": "price_sideways"}, "kind"),
    ({"symbol": "NOSUCHSTOCK"}, "symbol"),
    ({"instrument_type": "index", "symbol": "NIFTY 4000"}, "symbol"),
    ({"instrument_type": "index", "symbol": "NIFTY 50", "kind": "volume_above", "value": 10}, "kind"),
    ({"instrument_type": "index", "symbol": "NIFTY 50", "kind": "near_upper_circuit", "value": 1}, "kind"),
    ({"value": -5}, "value"),
    ({"value": 0}, "value"),
    ({"value": 100.00001}, "value"),
    ({"value": None}, "value"),
    ({"kind": "near_upper_circuit", "value": 101}, "value"),
    ({"kind": "near_lower_circuit", "value": -1}, "value"),
    ({"kind": "change_pct_below", "value": -100}, "value"),
    ({"kind": "volume_above", "value": 10.5}, "value"),
    ({"kind": "new_high_52w", "value": 5}, "value"),
    ({"value": "101"}, "value"),
    ({"action": {"side": "BUY", "order_type": "MARKET", "quantity": 0}}, "action.quantity"),
    ({"action": {"side": "BUY", "order_type": "MARKET", "quantity": -3}}, "action.quantity"),
    ({"action": LIMIT_NO_PRICE}, "action.price"),
    ({"action": {**LIMIT_NO_PRICE, "price": 100.03}}, "action.price"),
    ({"action": {"side": "BUY", "order_type": "SL-M", "quantity": 1}}, "action.trigger_price"),
    ({"action": {"side": "BUY", "order_type": "MARKET", "quantity": 1, "price": 100}}, "action.price"),
    (
        {"symbol": "ZZLOT", "value": 210, "action": {"side": "BUY", "order_type": "MARKET", "quantity": 10}},
        "action.quantity",
    ),
    (
        {
            "instrument_type": "index",
            "symbol": "NIFTY 50",
            "action": {"side": "BUY", "order_type": "MARKET", "quantity": 1},
        },
        "action",
    ),
    ({"expires_at": "2026-11-20T10:59:59+05:30"}, "expires_at"),
    ({"expires_at": "2020-01-01"}, "expires_at"),
    ({"expires_at": "tomorrow"}, "expires_at"),
    ({"cooldown_s": -1}, "cooldown_s"),
    ({"repeat": "twice"}, "repeat"),
    ({"fire_if_already": "yes"}, "fire_if_already"),
    ({"note": "bell\x07"}, "note"),
    ({"note": "x" * 201}, "note"),
    ({"colour": "red"}, "colour"),
    ({"symbol": "DROP TABLE alerts;--"}, "symbol"),
]


@pytest.mark.parametrize("change,field", BAD_INPUTS, ids=[f"{f}:{i}" for i, (_, f) in enumerate(BAD_INPUTS)])
def test_bad_input_is_a_4xx_envelope_naming_the_field_and_nothing_is_stored(trader, engine, db_conn, change, field):
    body = {"symbol": "ZZTEST", "kind": "price_above", "value": 101, **change}
    response = trader.post("/alerts", json=body)
    error = assert_error(response, 400, "VALIDATION_ERROR")
    fields = [f["field"] for f in error["error"]["details"]["fields"]]
    assert field in fields, error
    assert alert_count(db_conn, trader.user_id) == 0 and engine.index.size == 0


@pytest.mark.parametrize(
    "change,field",
    [
        ({}, "body"),
        ({"value": -1}, "value"),
        ({"status": "triggered"}, "status"),
        ({"status": None}, "status"),
        ({"expires_at": "2026-11-20T10:00:00"}, "expires_at"),
        ({"action": {"side": "BUY", "order_type": "LIMIT", "quantity": 1}}, "action.price"),
        ({"kind": "price_below"}, "kind"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(trader, engine, change, field):
    alert = price_alert(trader, value=101)
    error = assert_error(trader.patch(f"/alerts/{alert['alert_id']}", json=change), 400, "VALIDATION_ERROR")
    assert field in [f["field"] for f in error["error"]["details"]["fields"]], error
    assert trader.get("/alerts").get_json()["data"][0] == alert


def test_history_unread_read_and_csv(trader, ticks):
    price_alert(trader, value=101, note='=HYPERLINK("http://evil")')
    price_alert(trader, kind="price_below", value=99, note="dip")
    assert trader.get("/alerts/history").get_json()["unread_count"] == 0
    ticks.tick("ZZTEST", "102")
    ticks.tick("ZZTEST", "98")
    history = trader.get("/alerts/history").get_json()
    assert history["unread_count"] == 2 and [t["note"] for t in history["data"]] == ["dip", '=HYPERLINK("http://evil")']
    older, newer = history["data"][1]["trigger_id"], history["data"][0]["trigger_id"]
    read = trader.post("/alerts/history/read", json={"up_to_trigger_id": older}).get_json()["data"]
    assert read == {"marked": 1, "unread_count": 1}
    history = trader.get("/alerts/history").get_json()
    assert history["data"][1]["read_at"] is not None and history["data"][0]["read_at"] is None
    assert trader.get("/alerts/history?limit=1").get_json()["next_cursor"] == str(newer)
    assert_error(trader.post("/alerts/history/read", json={"up_to_trigger_id": 0}), 400, "VALIDATION_ERROR")
    assert_error(trader.post("/alerts/history/read", json={}), 400, "VALIDATION_ERROR")
    response = trader.get("/alerts/history.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["note"] for r in rows] == ["dip", '\'=HYPERLINK("http://evil")']  # formula-safe
    assert rows[1]["trigger_price"] == "102.0" and rows[0]["kind"] == "price_below"


def test_other_processes_follow_changes_through_the_revision(trader, make_app, db_config, market, engine):
    """A second app (another process) polls the revision counter and follows creations, changes and deletions."""
    other_app = make_app(db_config)
    freeze(other_app, OPEN_AT)
    other = AlertEngine(other_app)
    follow = Ticks(other_app, market, other)
    follow.sync()
    created = price_alert(trader, value=101)
    assert other.index.size == 0
    follow.sync()
    assert other.index.size == 1
    trader.patch(f"/alerts/{created['alert_id']}", json={"value": 110})
    follow.sync()
    assert follow.tick("ZZTEST", "105") == [] and other.index.size == 1  # 101 is no longer its level
    trader.delete(f"/alerts/{created['alert_id']}")
    follow.sync()
    assert other.index.size == 0


def test_a_first_load_reads_the_active_alerts_a_page_at_a_time(trader, app, market, monkeypatch):
    from services.alerts import engine as engine_module

    monkeypatch.setattr(engine_module, "LOAD_PAGE", 2)
    created = [price_alert(trader, value=value) for value in (101, 102, 103, 104, 105)]
    trader.patch(f"/alerts/{created[2]['alert_id']}", json={"status": "disabled"})
    fresh = AlertEngine(app)
    with app.app_context():
        fresh.sync()
    assert fresh.index.size == 4 and fresh.index.symbols("stocks") == ["ZZTEST"]
