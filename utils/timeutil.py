"""Time helpers: everything is stored in UTC and shown in IST with an offset."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")


def now_utc() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime (as read from DATETIME columns) as UTC; convert aware ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_db(value: datetime) -> datetime:
    """A naive UTC datetime for a DATETIME(3) column."""
    return as_utc(value).replace(tzinfo=None)


def iso_ist(value: datetime | None) -> str | None:
    """ISO 8601 in IST with offset (e.g. 2026-11-20T09:15:00.000+05:30); None stays None."""
    if value is None:
        return None
    return as_utc(value).astimezone(IST).isoformat(timespec="milliseconds")


def epoch_seconds(value: datetime) -> int:
    """Unix epoch seconds of a (naive-UTC or aware) datetime."""
    return int(as_utc(value).timestamp())


def ist_date(value: datetime) -> str:
    """The IST calendar date (YYYY-MM-DD) of a datetime."""
    return as_utc(value).astimezone(IST).date().isoformat()
