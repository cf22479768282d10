"""NSE/BSE trading calendar and session times (IST).

Trading days come from exchange-calendars' XBOM calendar plus explicit holiday overrides; beyond
the calendar's range every weekday is assumed to be a session (with a logged warning).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from utils.timeutil import IST, UTC

log = logging.getLogger(__name__)

PRE_OPEN = time(9, 0)
PRE_OPEN_END = time(9, 8)
OPEN = time(9, 15)
CLOSE = time(15, 30)
SESSION_MINUTES = 375


@lru_cache(maxsize=1)
def _exchange_calendar():
    import exchange_calendars  # slow import (pandas): only when a calendar is first needed

    return exchange_calendars.get_calendar("XBOM")


class MarketCalendar:
    """Which days are trading days; `holidays` maps extra closed dates to their names."""

    def __init__(self, holidays: dict[date, str] | None = None) -> None:
        self.holidays = dict(holidays or {})
        self._warned = False

    def is_trading_day(self, day: date) -> bool:
        """True when the exchange holds a regular session on `day`."""
        if day in self.holidays or day.weekday() >= 5:
            return False
        cal = _exchange_calendar()
        if cal.first_session.date() <= day <= cal.last_session.date():
            return bool(cal.is_session(day.isoformat()))
        if not self._warned:
            log.warning("%s is beyond the XBOM calendar; assuming weekdays are trading days", day)
            self._warned = True
        return True

    def trading_days(self, start: date, end: date) -> list[date]:
        """Trading days from `start` to `end`, both included."""
        days, day = [], start
        while day <= end:
            if self.is_trading_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

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
