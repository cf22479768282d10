"""The intraday equity curve: every account every 5 minutes while the market is open, an account at each fill,
points kept 30 days, and GET /portfolio/history?range=1d|1w|1m|all (days=N as before) with ISO 8601 times."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from backend.settings import Settings
from controller.sql import fetch_value
from controller.trading import equity_points
from services.runtime.app_jobs import every_process_jobs
from services.trading.equity_curve import flush_fill_points, record_equity_points
from services.trading.order_jobs import snapshot_equity, trading_jobs
from tests.trading.conftest import CLOSED_AT, OPEN_AT
from utils.timeutil import to_db


def history(trader, query: str = "range=1d") -> list[dict]:
    response = trader.get(f"/portfolio/history?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def test_a_new_account_has_points_on_its_first_day(market, make_trader, app):
    newcomer = make_trader("newcomer")
    assert history(newcomer) == []
    with app.app_context():
        assert record_equity_points(OPEN_AT) >= 1
        record_equity_points(OPEN_AT + timedelta(minutes=5))
    assert history(newcomer) == [
        {"time": "2026-11-20T11:00:00.000+05:30", "equity": 100000, "cash": 100000, "holdings_value": 0},
        {"time": "2026-11-20T11:05:00.000+05:30", "equity": 100000, "cash": 100000, "holdings_value": 0},
    ]


def test_each_fill_records_a_point_without_a_round_trip_of_its_own(market, trader, app, round_trips):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)
    market.at(OPEN_AT + timedelta(minutes=2))
    market.publish("ZZTEST", "102")
    trader.order(expect=201, side="SELL", quantity=4)
    assert not any(b"equity_points" in query for query in round_trips)  # kept for the flush job
    with app.app_context():
        assert flush_fill_points() == 2
        assert flush_fill_points() == 0
    assert history(trader) == [
        {"time": "2026-11-20T11:00:00.000+05:30", "equity": 100000, "cash": 99000, "holdings_value": 1000},
        {"time": "2026-11-20T11:02:00.000+05:30", "equity": 100020, "cash": 99408, "holdings_value": 612},
    ]


def test_points_are_kept_thirty_days(market, trader, app, db_conn):
    old, recent = OPEN_AT - timedelta(days=31), OPEN_AT - timedelta(days=29)
    one = (Decimal(100000), Decimal(100000), Decimal(0))
    equity_points.record(db_conn, [(trader.user_id, to_db(old), *one), (trader.user_id, to_db(recent), *one)])
    with app.app_context():
        record_equity_points(OPEN_AT)
    times = [to_db(t) for t in (old, recent, OPEN_AT)]
    kept = [
        fetch_value(db_conn, "SELECT COUNT(*) FROM equity_points WHERE user_id = %s AND ts = %s", (trader.user_id, t))
        for t in times
    ]
    assert kept == [0, 1, 1]


def test_ranges_pick_intraday_points_or_daily_closes(market, trader, app, db_conn):
    one = (Decimal(100100), Decimal(100000), Decimal(100))
    days_ago = [(trader.user_id, to_db(OPEN_AT - timedelta(days=d)), *one) for d in (3, 10)]
    equity_points.record(db_conn, days_ago)
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)
    with app.app_context():
        snapshot_equity(CLOSED_AT)  # Friday's close
        flush_fill_points()
        record_equity_points(CLOSED_AT + timedelta(hours=1))  # after the close (a simulated evening)
    market.at(CLOSED_AT + timedelta(hours=2))
    day = [p["time"] for p in history(trader, "range=1d")]
    assert day == ["2026-11-20T11:00:00.000+05:30", "2026-11-20T19:00:00.000+05:30"]
    week = [p["time"] for p in history(trader, "range=1w")]
    assert week == ["2026-11-17T11:00:00.000+05:30", *day]
    month = history(trader, "range=1m")
    assert [p["time"] for p in month] == ["2026-11-20T15:30:00.000+05:30", "2026-11-20T19:00:00.000+05:30"]
    assert month[0] == {
        "time": "2026-11-20T15:30:00.000+05:30",
        "equity": 100000,
        "cash": 99000,
        "holdings_value": 1000,
    }
    assert history(trader, "range=all") == month == history(trader, "days=30") == history(trader, "")


@pytest.mark.parametrize("query", ["range=2d", "range=1d&days=3", "days=0", "days=x", "since=1"])
def test_bad_history_parameters_are_400(market, trader, query):
    response = trader.get(f"/portfolio/history?{query}")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_reset_clears_the_points(market, trader, app):
    with app.app_context():
        record_equity_points(OPEN_AT)
    assert history(trader)
    trader.post("/account/reset", json={"confirm": "RESET"})
    assert history(trader) == []


def test_the_jobs_are_scheduled():
    func, interval, phase = trading_jobs()["portfolio_equity_points"]
    assert (func, interval, phase) == (record_equity_points, 300.0, "open")  # every 5 minutes while open
    flush = {job.name: job for job in every_process_jobs(Settings.load(_env_file=None))}["equity_fill_points"]
    assert flush.func is flush_fill_points and flush.phases is None
