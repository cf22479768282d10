"""The market status as the app sees it: the exchange calendar, the session an administrator chose, and the
exchange's own word for the day when a live feed gave one (services/market/exchange_session.py).

The session is "exchange" (follow the calendar) or "simulated" (held open around the clock, for the simulator on
a weekend night). An administrator switches it at run time (`set_session_mode`, PUT /admin/market/session); the
choice is one row in MySQL, so every process and every machine on the database follows it: each process reads
it again when its copy is older than SESSION_CHECK_S. Without a stored choice the settings' default applies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from flask import Flask
from mysql.connector import Error as MySQLError

from backend import db
from backend.extensions import app_extensions
from controller.market import session_mode as session_sql
from controller.market.session_mode import SessionMode
from services.market import exchange_session
from utils.errors import ServiceUnavailable
from utils.market_hours import MarketCalendar, MarketStatus, market_status
from utils.timeutil import iso_ist, now_utc

log = logging.getLogger(__name__)
SESSION_CHECK_S = 2.0  # how stale a process's copy of the chosen session may be


def calendar() -> MarketCalendar:
    """The app's trading calendar (XBOM plus MARKET_HOLIDAYS), built once per app."""
    extensions = app_extensions()
    cal = extensions.get("market_calendar")
    if cal is None:
        cal = extensions["market_calendar"] = MarketCalendar(extensions["settings"].market_holidays)
    return cal


def clock() -> datetime:
    """The app's idea of "now" (aware UTC): the real time unless a test froze it with `set_clock`."""
    return app_extensions().get("clock", now_utc)()


def set_clock(app: Flask, source: Callable[[], datetime] | None) -> None:
    """Make `source` the app's clock (None restores the real time); tests freeze time with it."""
    if source is None:
        app.extensions.pop("clock", None)
    else:
        app.extensions["clock"] = source


def session_mode() -> SessionMode:
    """The session this process follows: the stored choice (re-read every SESSION_CHECK_S), else the default."""
    known = app_extensions().get("session_mode")
    if known is not None and time.monotonic() - known[1] < SESSION_CHECK_S:
        return known[0]
    default = app_extensions()["settings"].default_session_mode
    try:
        with db.connection() as conn:
            mode = session_sql.stored_mode(conn) or default
    except (ServiceUnavailable, MySQLError) as exc:  # keep what this process knew; asked again SESSION_CHECK_S on
        log.warning("market session not read (%s); keeping the current one", exc)
        mode = known[0] if known is not None else default
    app_extensions()["session_mode"] = (mode, time.monotonic())
    return mode


def set_session_mode(mode: SessionMode, user_id: int | None) -> None:
    """Store `mode` for every process; this one follows it at once, the others within SESSION_CHECK_S."""
    with db.transaction() as conn:
        session_sql.save_mode(conn, mode, user_id)
    app_extensions()["session_mode"] = (mode, time.monotonic())
    app_extensions().pop("market_status_memo", None)


def current_status(now: datetime | None = None) -> MarketStatus:
    """Phase and session boundaries now (held open around the clock in a simulated session); the exchange's word
    for the day, when the feed gave one, wins over the calendar's: for `phase` in the exchange's session, and for
    `exchange_phase` always."""
    status = market_status(now or clock(), calendar(), force_open=session_mode() == "simulated")
    word = exchange_session.exchange_phase(status.now)
    if word is None or word == status.exchange_phase:
        return status
    reason = None if word == "open" else status.closed_reason or "holiday"  # closed on a day the calendar opens
    status = replace(status, exchange_phase=word, closed_reason=reason)
    return status if status.forced_open else replace(status, phase=word, is_market_open=word == "open")


def current_phase() -> str:
    """The market phase now ("pre_open", "open" or "closed"): what phase-gated jobs follow."""
    return current_status().phase


def status_now(now: datetime | None = None) -> MarketStatus:
    """The market status, computed at most once per clock second (for hot paths; `now` is coarse): at `now` when the
    caller read the clock already."""
    now = now or clock()
    second = int(now.timestamp())
    extensions = app_extensions()
    known = extensions.get("market_status_memo")
    if known is not None and known[0] == second:
        return known[1]
    status = current_status(now)
    extensions["market_status_memo"] = (second, status)
    return status


def market_open_now(now: datetime | None = None) -> bool:
    """Whether the market is open now (hot path: see `status_now`; `now` when the caller read the clock)."""
    return status_now(now).is_market_open


def is_simulated() -> bool:
    """True when prices come from the offline simulator rather than a real feed."""
    return app_extensions()["settings"].market_data_provider == "simulator"


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
        "session": "simulated" if status.forced_open else "exchange",
        "exchange_phase": status.exchange_phase,
        "closed_reason": status.closed_reason,
    }
