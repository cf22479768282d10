"""Five-field cron expressions (minute hour day-of-month month day-of-week) in Asia/Kolkata, read by croniter."""

from __future__ import annotations

from datetime import datetime

from croniter import croniter

from utils.timeutil import IST, as_utc

FIELDS = 5


def check(expression: str) -> str:
    """The expression with its fields separated by single spaces; ValueError unless it is a valid 5-field one."""
    fields = expression.split()
    if len(fields) != FIELDS:
        raise ValueError(f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}")
    normal = " ".join(fields)
    if not croniter.is_valid(normal):
        raise ValueError(f"not a valid cron expression: {expression!r}")
    return normal


def next_fire(expression: str, after: datetime) -> datetime:
    """The first firing strictly after `after`, evaluated on Asia/Kolkata's wall clock; aware UTC."""
    return as_utc(croniter(expression, as_utc(after).astimezone(IST)).get_next(datetime))
