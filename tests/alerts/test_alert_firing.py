"""Alerts fire through the engine and the database as the issue says: crossing semantics, fire_if_already,
repeat with cooldown, expiry, conditions, blocked and deleted users, instruments that leave the universe."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from controller.sql import execute, fetch_one
from services.alerts import jobs
from services.alerts.firing import fire
from services.market.live_price_cache import Quote
from tests.alerts.conftest import OPEN_AT, price_alert, triggers
from utils.market_hours import session_open_utc
from utils.timeutil import IST, UTC


def test_a_crossing_fires_once_a_touch_does_not_and_the_record_says_so(trader, ticks, db_conn):
    alert = price_alert(trader, value=101, note="breakout")
    assert alert["status"] == "active" and alert["level"] == 101 and alert["current"] == 100
    assert alert["distance_pct"] == 1.0
    assert ticks.tick("ZZTEST", "101") == []  # a touch of the level
    assert ticks.tick("ZZTEST", "100.95") == []
    [(fired, trigger)] = ticks.tick("ZZTEST", "101.05")
    assert fired.alert_id == alert["alert_id"] and fired.status == "triggered" and fired.times_triggered == 1
    assert trigger.trigger_price == Decimal("101.05") and trigger.seq == 1 and trigger.trigger_id > 0
    assert ticks.tick("ZZTEST", "100") == [] and ticks.tick("ZZTEST", "102") == []  # 'once': it is done
    assert ticks.engine.index.size == 0
    [row] = triggers(db_conn, trader.user_id)
    assert row["trigger_price"] == Decimal("101.05") and row["order_state"] == "none"
    listed = trader.get("/alerts").get_json()["data"]
    assert listed[0]["status"] == "triggered" and listed[0]["trigger_price"] == 101.05
    assert listed[0]["times_triggered"] == 1 and listed[0]["triggered_at"].startswith("2026-11-20T11:00:00")
    history = trader.get("/alerts/history").get_json()
    assert history["unread_count"] == 1 and history["data"][0]["note"] == "breakout"
    assert history["data"][0]["order"] is None and history["data"][0]["error"] is None


def test_a_gap_through_the_level_fires_and_fire_if_already(trader, ticks):
    below = price_alert(trader, kind="price_below", value=99)
    beyond = price_alert(trader, value=95)  # already beyond: waits for a crossing
    at_once = price_alert(trader, value=95, fire_if_already=True)
    fired = {a.alert_id: t for a, t in ticks.tick("ZZTEST", "100.05")}
    assert set(fired) == {at_once["alert_id"]}
    fired = {a.alert_id: t for a, t in ticks.tick("ZZTEST", "97")}  # from 100.05 to 97 in one tick
    assert set(fired) == {below["alert_id"]} and fired[below["alert_id"]].trigger_price == Decimal("97")
    assert {a.alert_id for a, _ in ticks.tick("ZZTEST", "94")} == set()  # under 95 again...
    assert {a.alert_id for a, _ in ticks.tick("ZZTEST", "95.05")} == {beyond["alert_id"]}  # ...and up through it


def test_every_rearms_after_the_condition_was_false_again_and_the_cooldown_passed(trader, ticks, market):
    alert = price_alert(trader, value=101, repeat="every", cooldown_s=300)
    assert len(ticks.tick("ZZTEST", "102")) == 1
    assert ticks.tick("ZZTEST", "100") == []  # false again...
    market.at(OPEN_AT + timedelta(seconds=10))
    assert ticks.tick("ZZTEST", "102") == []  # ...but within the cooldown
    market.at(OPEN_AT + timedelta(seconds=301))
    assert ticks.tick("ZZTEST", "102.5") == []  # the cooldown passed, but it never went false since: no crossing
    assert ticks.tick("ZZTEST", "100") == []
    [(fired, trigger)] = ticks.tick("ZZTEST", "101.5")
    assert fired.status == "active" and fired.times_triggered == 2 and trigger.seq == 2
    listed = trader.get("/alerts").get_json()["data"][0]
    assert listed["status"] == "active" and listed["times_triggered"] == 2 and listed["alert_id"] == alert["alert_id"]


def test_an_expired_alert_never_fires_and_is_marked_expired(trader, ticks, market, app):
    expires = (OPEN_AT + timedelta(seconds=60)).isoformat()
    alert = price_alert(trader, value=101, expires_at=expires)
    assert alert["expires_at"].startswith("2026-11-20T11:01:00")
    market.at(OPEN_AT + timedelta(seconds=61))
    assert ticks.tick("ZZTEST", "102") == []  # the database refuses: expired at the tick's time
    with app.app_context():
        assert jobs.expire_alerts() == 1
    ticks.sync()
    assert ticks.engine.index.size == 0
    assert trader.get("/alerts").get_json()["data"][0]["status"] == "expired"


def test_conditions_fire_when_they_turn_true(trader, ticks):
    pct = price_alert(trader, kind="change_pct_above", value=2)  # level 102 (previous close 100)
    near = price_alert(trader, kind="near_upper_circuit", value=1)  # upper circuit 120: fires at 118.80
    volume = price_alert(trader, kind="volume_above", value=10000)
    assert pct["level"] == 102 and near["level"] == 118.8 and volume["level"] == 10000 and volume["current"] == 1000
    assert ticks.tick("ZZTEST", "102", volume=9000) == []  # +2.00 % is not above 2 %
    fired = [a.alert_id for a, _ in ticks.tick("ZZTEST", "102.05", volume=10001)]
    assert sorted(fired) == sorted([pct["alert_id"], volume["alert_id"]])
    assert [a.alert_id for a, _ in ticks.tick("ZZTEST", "118.80")] == [near["alert_id"]]


def test_blocked_and_deleted_users_alerts_stay_silent(make_trader, ticks, db_conn):
    blocked, gone = make_trader("blocked"), make_trader("gone")
    kept = price_alert(blocked, value=101)
    price_alert(gone, value=101)
    execute(db_conn, "UPDATE users SET status = 'blocked' WHERE user_id = %s", (blocked.user_id,))
    execute(db_conn, "DELETE FROM users WHERE user_id = %s", (gone.user_id,))
    assert ticks.tick("ZZTEST", "102") == []
    assert triggers(db_conn, blocked.user_id) == []
    execute(db_conn, "UPDATE users SET status = 'active' WHERE user_id = %s", (blocked.user_id,))
    ticks.tick("ZZTEST", "100")
    assert [a.alert_id for a, _ in ticks.tick("ZZTEST", "102")] == [kept["alert_id"]]


def test_an_instrument_that_leaves_the_universe_disables_its_alerts(trader, ticks, db_conn, app, instruments):
    alert = price_alert(trader, symbol="ZZLOT", value=210)
    execute(db_conn, "UPDATE stocks SET is_active = 0 WHERE stock_id = %s", (instruments["ZZLOT"],))
    try:
        with app.app_context():
            assert jobs.disable_lost_instruments() == 1
    finally:
        execute(db_conn, "UPDATE stocks SET is_active = 1 WHERE stock_id = %s", (instruments["ZZLOT"],))
    ticks.sync()
    assert ticks.engine.index.size == 0
    row = fetch_one(db_conn, "SELECT status, status_reason FROM alerts WHERE alert_id = %s", (alert["alert_id"],))
    assert row == {"status": "disabled", "status_reason": "ZZLOT is no longer in the instrument universe"}
    listed = trader.get("/alerts?status=disabled").get_json()["data"]
    assert [a["status_reason"] for a in listed] == ["ZZLOT is no longer in the instrument universe"]


def test_52_week_levels_are_the_previous_250_sessions(trader, ticks, db_conn):
    quote = fetch_one(
        db_conn,
        "SELECT s.stock_id, q.prev_close FROM stocks s JOIN stock_quotes q USING (stock_id) "
        "WHERE s.symbol = 'RELIANCE'",
    )
    today = session_open_utc(OPEN_AT.astimezone(IST).date()).replace(tzinfo=None)
    year = fetch_one(  # the seed wrote 260 sessions before today: the window must take the last 250
        db_conn,
        "SELECT MAX(high) AS high, MIN(low) AS low FROM (SELECT high, low FROM stock_candles WHERE stock_id = %s "
        "AND timeframe = '1d' AND ts < %s ORDER BY ts DESC LIMIT 250) AS last_250",
        (quote["stock_id"], today),
    )
    high = price_alert(trader, symbol="RELIANCE", kind="new_high_52w", value=None)
    low = price_alert(trader, symbol="RELIANCE", kind="new_low_52w", value=None)
    assert (high["level"], low["level"]) == (float(year["high"]), float(year["low"]))
    close = quote["prev_close"]
    assert ticks.tick("RELIANCE", str(year["high"]), prev_close=close) == []  # equal to the year's high: not beyond
    fired = ticks.tick("RELIANCE", str(year["high"] + Decimal("0.05")), prev_close=close)
    assert [a.alert_id for a, _ in fired] == [high["alert_id"]]
    fired = ticks.tick("RELIANCE", str(year["low"] - Decimal("0.05")), prev_close=close)
    assert [a.alert_id for a, _ in fired] == [low["alert_id"]]


def test_index_alerts_fire_on_index_ticks(trader, ticks, app):
    created = price_alert(trader, instrument_type="index", symbol="NIFTY BANK", value=1)  # far below: a crossing up
    level = Decimal("60000")
    trader.patch(f"/alerts/{created['alert_id']}", json={"value": float(level)})
    now = OPEN_AT.astimezone(UTC)
    below, above = (Quote("NIFTY BANK", p, level, level, p, p, 0, now) for p in (level - 1, level + 1))
    with app.app_context():
        assert fire(ticks.engine.evaluate("indices", [below]), ticks.engine.forget) == []
        [(alert, trigger)] = fire(ticks.engine.evaluate("indices", [above]), ticks.engine.forget)
    assert alert.symbol == "NIFTY BANK" and trigger.trigger_price == level + 1 and trigger.instrument_type == "index"


def test_a_stale_quote_fires_nothing_and_a_refused_alert_leaves_the_index_when_it_is_gone(
    trader, ticks, market, db_conn
):
    price_alert(trader, value=101)
    late = OPEN_AT - timedelta(seconds=60)  # a replayed quote, older than LIVE_CACHE_MAX_AGE_S
    assert ticks.tick("ZZTEST", "102", at=late) == []
    assert triggers(db_conn, trader.user_id) == [] and ticks.engine.index.size == 1
    ticks.tick("ZZTEST", "100")
    execute(db_conn, "DELETE FROM users WHERE user_id = %s", (trader.user_id,))  # its alerts go with it
    assert ticks.tick("ZZTEST", "102") == []
    assert ticks.engine.index.size == 0  # the refused claim found the alert gone, without waiting for a sync
