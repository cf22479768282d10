"""Market phases on a trading day, a weekend and a listed holiday; overrides; /market/status."""

import logging
from datetime import date, datetime

import pytest

from backend.app import create_app
from tests.conftest import make_settings
from tests.market_helpers import freeze
from utils.market_hours import MarketCalendar, market_status
from utils.timeutil import IST


def ist(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=IST)


@pytest.mark.parametrize(
    ("hour", "minute", "phase"),
    [
        (8, 59, "closed"),
        (9, 0, "pre_open"),
        (9, 7, "pre_open"),
        (9, 8, "closed"),
        (9, 14, "closed"),
        (9, 15, "open"),
        (15, 29, "open"),
        (15, 30, "closed"),
        (20, 0, "closed"),
    ],
)
def test_phases_of_a_trading_day(hour, minute, phase):
    status = market_status(ist(20, hour, minute), MarketCalendar())
    assert status.phase == phase
    assert status.is_market_open is (phase == "open")
    assert status.is_trading_day is True and status.holiday_name is None


def test_session_boundaries_before_during_and_after_the_session():
    cal = MarketCalendar()
    before = market_status(ist(20, 8), cal)
    assert (before.next_open, before.next_close) == (ist(20, 9, 15), ist(20, 15, 30))
    during = market_status(ist(20, 11), cal)
    assert (during.next_open, during.next_close) == (ist(23, 9, 15), ist(20, 15, 30))
    after = market_status(ist(20, 16), cal)  # Friday evening: Monday's session
    assert (after.next_open, after.next_close) == (ist(23, 9, 15), ist(23, 15, 30))


def test_a_weekend_is_closed_all_day_without_a_holiday_name():
    status = market_status(ist(21, 11), MarketCalendar())
    assert status.phase == "closed" and status.is_trading_day is False
    assert status.holiday_name is None
    assert status.next_open == ist(23, 9, 15)


def test_a_listed_exchange_holiday_is_closed_and_named():
    status = market_status(ist(24, 11), MarketCalendar())  # Tuesday 24 Nov 2026, in the XBOM calendar
    assert status.phase == "closed" and status.is_trading_day is False
    assert status.holiday_name == "Guru Nanak Jayanti"
    assert status.next_open == ist(25, 9, 15)


def test_a_holiday_override_closes_a_trading_day_with_its_name():
    cal = MarketCalendar({date(2026, 11, 20): "Test closure"})
    status = market_status(ist(20, 11), cal)
    assert (status.phase, status.holiday_name) == ("closed", "Test closure")
    assert cal.next_trading_day(date(2026, 11, 19)) == date(2026, 11, 23)


def test_forced_open_reports_open_on_a_weekend():
    status = market_status(ist(21, 3), MarketCalendar(), force_open=True)
    assert status.phase == "open" and status.is_market_open and status.forced_open


def test_beyond_the_calendar_weekdays_trade_except_listed_holidays_with_a_warning(caplog):
    cal = MarketCalendar()
    with caplog.at_level(logging.WARNING, logger="utils.market_hours"):
        assert cal.is_trading_day(date(2027, 3, 9)) is True  # a Tuesday
    assert "beyond the XBOM calendar" in caplog.text
    assert cal.is_trading_day(date(2027, 1, 26)) is False  # Republic Day, a Tuesday
    assert cal.holiday_name(date(2027, 1, 26)) == "Republic Day"
    assert cal.is_trading_day(date(2027, 3, 13)) is False  # a Saturday


def test_market_status_endpoint_and_its_alias(app, client):
    freeze(app, ist(20, 9, 3))
    body = client.get("/market/status").get_json()
    assert body["status"] == "success"
    assert body["data"] == {
        "phase": "pre_open",
        "is_market_open": False,
        "is_trading_day": True,
        "next_open": "2026-11-20T09:15:00.000+05:30",
        "next_close": "2026-11-20T15:30:00.000+05:30",
        "current_time_ist": "2026-11-20T09:03:00.000+05:30",
        "holiday_name": None,
        "simulated": True,
        "forced_open": False,
        "session": "exchange",
        "exchange_phase": "pre_open",
        "closed_reason": "before_open",
    }
    alias = client.get("/indices/market-status")
    assert alias.status_code == 200 and alias.get_json()["data"] == body["data"]
    freeze(app, ist(24, 12))
    holiday = client.get("/market/status").get_json()["data"]
    assert (holiday["phase"], holiday["holiday_name"]) == ("closed", "Guru Nanak Jayanti")


@pytest.mark.parametrize(
    ("overrides", "phase", "simulated", "forced"),
    [
        ({"force_market_open": True}, "open", True, True),
        ({"sim_always_open": True}, "open", True, True),
        (
            {"sim_always_open": True, "market_data_provider": "upstox", "upstox_access_token": "t"},
            "closed",
            False,
            False,
        ),
        ({"market_holidays": "2026-11-21:Special"}, "closed", True, False),
    ],
)
def test_status_flags_follow_the_settings(db_config, overrides, phase, simulated, forced):
    app = create_app(make_settings(db_config, **overrides))
    freeze(app, ist(21, 11))  # Saturday
    data = app.test_client().get("/market/status").get_json()["data"]
    assert (data["phase"], data["simulated"], data["forced_open"]) == (phase, simulated, forced)
    app.extensions["db"].close()
