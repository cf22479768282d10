"""NSE/BSE trading calendar and session times (IST).

Trading days come from exchange-calendars' XBOM calendar (as plain dates in data/xbom_calendar.json, written
by scripts/xbom_calendar.py: the library imports pandas, too much memory for a web worker's one question) plus
explicit holiday overrides; beyond the calendar's range every weekday that is not a listed BSE holiday
(python-holidays' XBOM rules) is assumed to be a session, with a logged warning. Holiday names come from the
overrides, then python-holidays (exchange-calendars lists dates only), then a generic "Exchange holiday".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from utils.timeutil import IST, UTC

log = logging.getLogger(__name__)

PRE_OPEN = time(9, 0)
PRE_OPEN_END = time(9, 8)
OPEN = time(9, 15)
CLOSE = time(15, 30)
SESSION_MINUTES = 375


CALENDAR_FILE = Path(__file__).resolve().parent.parent / "data" / "xbom_calendar.json"


@dataclass(frozen=True)
class ExchangeCalendar:
    """The XBOM sessions between two dates: every weekday but the listed closed ones."""

    first_session: date
    last_session: date
    closed_weekdays: frozenset[date]

    def covers(self, day: date) -> bool:
        """Whether `day` is inside the calendar's range."""
        return self.first_session <= day <= self.last_session

    def is_session(self, day: date) -> bool:
        """Whether the exchange holds a session on `day` (inside the range)."""
        return day.weekday() < 5 and day not in self.closed_weekdays


@lru_cache(maxsize=1)
def exchange_calendar() -> ExchangeCalendar:
    """The XBOM calendar of data/xbom_calendar.json (read once)."""
    raw = json.loads(CALENDAR_FILE.read_text())
    return ExchangeCalendar(
        date.fromisoformat(raw["first_session"]),
        date.fromisoformat(raw["last_session"]),
        frozenset(date.fromisoformat(day) for day in raw["closed_weekdays"]),
    )


@lru_cache(maxsize=32)
def _named_holidays(year: int) -> dict[date, str]:
    """BSE (XBOM) holidays of `year` with their names, from python-holidays."""
    import holidays

    return dict(holidays.financial_holidays("XBOM", years=year))


class MarketCalendar:
    """Which days are trading days; `holidays` maps extra closed dates to their names."""

    def __init__(self, holidays: dict[date, str] | None = None) -> None:
        self.holidays = dict(holidays or {})
        self._warned = False
        self._sessions: dict[date, bool] = {}  # memo: the status endpoint asks on every request

    def is_trading_day(self, day: date) -> bool:
        """True when the exchange holds a regular session on `day`."""
        known = self._sessions.get(day)
        if known is None:
            known = self._sessions[day] = self._is_session(day)
        return known

    def _is_session(self, day: date) -> bool:
        if day in self.holidays or day.weekday() >= 5:
            return False
        cal = exchange_calendar()
        if cal.covers(day):
            return cal.is_session(day)
        if not self._warned:
            log.warning(
                "%s is beyond the XBOM calendar; assuming weekdays other than listed BSE holidays are trading days", day
            )
            self._warned = True
        return day not in _named_holidays(day.year)

    def trading_days(self, start: date, end: date) -> list[date]:
        """Trading days from `start` to `end`, both included."""
        days, day = [], start
        while day <= end:
            if self.is_trading_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def next_trading_day(self, day: date) -> date:
        """The first trading day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_trading_day(day):
            day += timedelta(days=1)
        return day

    def holiday_name(self, day: date) -> str | None:
        """Why a weekday is closed (None for trading days and weekends)."""
        if day.weekday() >= 5 or self.is_trading_day(day):
            return None
        return self.holidays.get(day) or _named_holidays(day.year).get(day, "Exchange holiday")

    def previous_trading_days(self, day: date, count: int) -> list[date]:
        """The `count` trading days strictly before `day`, oldest first."""
        days: list[date] = []
        while len(days) < count:
            day -= timedelta(days=1)
            if self.is_trading_day(day):
                days.append(day)
        return days[::-1]


def session_open_utc(day: date) -> datetime:
    """The session open (09:15 IST) of `day` as an aware UTC datetime."""
    return datetime.combine(day, OPEN, tzinfo=IST).astimezone(UTC)


def session_close_utc(day: date) -> datetime:
    """The session close (15:30 IST) of `day` as an aware UTC datetime."""
    return datetime.combine(day, CLOSE, tzinfo=IST).astimezone(UTC)


@dataclass(frozen=True)
class MarketStatus:
    """The market phase at `now` and the next session boundaries.

    `phase` is what the order matcher and the phase-gated jobs follow; with `forced_open` (a simulated session)
    it is "open" whatever the exchange does, and `exchange_phase` and `closed_reason` still say what the
    exchange itself is doing.
    """

    phase: str  # "pre_open" | "open" | "closed"
    is_market_open: bool
    is_trading_day: bool
    next_open: datetime
    next_close: datetime
    now: datetime
    holiday_name: str | None
    forced_open: bool = False
    exchange_phase: str = "closed"  # the exchange calendar's phase, never forced
    closed_reason: str | None = None  # "weekend" | "holiday" | "before_open" | "after_hours" | None (open)


def _closed_reason(day: date, clock: time, trading: bool, exchange_phase: str) -> str | None:
    """Why the exchange is not in its continuous session (None while it is)."""
    if exchange_phase == "open":
        return None
    if not trading:
        return "weekend" if day.weekday() >= 5 else "holiday"
    return "before_open" if clock < OPEN else "after_hours"


def market_status(now: datetime, calendar: MarketCalendar, force_open: bool = False) -> MarketStatus:
    """Phase at `now`: pre_open 09:00-09:08, open 09:15-15:30 IST on trading days, else closed (open whatever
    the calendar says with `force_open`)."""
    local = now.astimezone(IST)
    today, clock = local.date(), local.time()
    trading = calendar.is_trading_day(today)
    if trading and PRE_OPEN <= clock < PRE_OPEN_END:
        exchange_phase = "pre_open"
    elif trading and OPEN <= clock < CLOSE:
        exchange_phase = "open"
    else:
        exchange_phase = "closed"
    phase = "open" if force_open else exchange_phase
    open_day = today if trading and clock < OPEN else calendar.next_trading_day(today)
    close_day = today if trading and clock < CLOSE else open_day
    return MarketStatus(
        phase=phase,
        is_market_open=phase == "open",
        is_trading_day=trading,
        next_open=session_open_utc(open_day),
        next_close=session_close_utc(close_day),
        now=now,
        holiday_name=calendar.holiday_name(today),
        forced_open=force_open,
        exchange_phase=exchange_phase,
        closed_reason=_closed_reason(today, clock, trading, exchange_phase),
    )
