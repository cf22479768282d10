"""The market status as the app sees it: the exchange calendar plus the configured overrides."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from utils.market_hours import MarketCalendar, MarketStatus, market_status
from utils.timeutil import now_utc


def calendar() -> MarketCalendar:
    """The app's trading calendar (XBOM plus MARKET_HOLIDAYS), built once per app."""
    cal = current_app.extensions.get("market_calendar")
    if cal is None:
        cal = current_app.extensions["market_calendar"] = MarketCalendar(
            current_app.extensions["settings"].market_holidays)
    return cal


def current_status(now: datetime | None = None) -> MarketStatus:
    """Phase and session boundaries now (open around the clock when forced or SIM_ALWAYS_OPEN)."""
    settings = current_app.extensions["settings"]
    return market_status(now or now_utc(), calendar(), force_open=settings.market_always_open)
