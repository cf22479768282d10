"""The market status as the app sees it: the exchange calendar plus the configured overrides, and the
exchange's own word for the day when a live feed gave one (services/market/exchange_session.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from flask import Flask, current_app

from services.market import exchange_session
from utils.market_hours import MarketCalendar, MarketStatus, market_status
from utils.timeutil import iso_ist, now_utc


def calendar() -> MarketCalendar:
    """The app's trading calendar (XBOM plus MARKET_HOLIDAYS), built once per app."""
    cal = current_app.extensions.get("market_calendar")
    if cal is None:
        cal = current_app.extensions["market_calendar"] = MarketCalendar(
            current_app.extensions["settings"].market_holidays
        )
    return cal


def clock() -> datetime:
    """The app's idea of "now" (aware UTC): the real time unless a test froze it with `set_clock`."""
    return current_app.extensions.get("clock", now_utc)()


def set_clock(app: Flask, source: Callable[[], datetime] | None) -> None:
    """Make `source` the app's clock (None restores the real time); tests freeze time with it."""
    if source is None:
        app.extensions.pop("clock", None)
    else:
        app.extensions["clock"] = source


def current_status(now: datetime | None = None) -> MarketStatus:
    """Phase and session boundaries now (open around the clock when forced or SIM_ALWAYS_OPEN); the exchange's
    word for the day, when the feed gave one, wins over the calendar's phase."""
    settings = current_app.extensions["settings"]
    status = market_status(now or clock(), calendar(), force_open=settings.market_always_open)
    word = None if status.forced_open else exchange_session.exchange_phase(status.now)
    if word is None or word == status.phase:
        return status
    return replace(status, phase=word, is_market_open=word == "open")


def current_phase() -> str:
    """The market phase now ("pre_open", "open" or "closed"): what phase-gated jobs follow."""
    return current_status().phase


def status_now() -> MarketStatus:
    """The market status, computed at most once per clock second (for hot paths; `now` is coarse)."""
    now = clock()
    second = int(now.timestamp())
    known = current_app.extensions.get("market_status_memo")
    if known is not None and known[0] == second:
        return known[1]
    status = current_status(now)
    current_app.extensions["market_status_memo"] = (second, status)
    return status


def market_open_now() -> bool:
    """Whether the market is open now (hot path: see `status_now`)."""
    return status_now().is_market_open


def is_simulated() -> bool:
    """True when prices come from the offline simulator rather than a real feed."""
    return current_app.extensions["settings"].market_data_provider == "simulator"


def status_json(status: MarketStatus) -> dict:
    """The API shape of the market status (`/market/status` and the `market_status` event)."""
    return {
        "phase": status.phase,
        "is_market_open": status.is_market_open,
        "is_trading_day": status.is_trading_day,
        "next_open": iso_ist(status.next_open),
        "next_close": iso_ist(status.next_close),
        "current_time_ist": iso_ist(status.now),
        "holiday_name": status.holiday_name,
        "simulated": is_simulated(),
        "forced_open": status.forced_open,
    }
