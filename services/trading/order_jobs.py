"""Scheduled trading jobs: AMO processing at the open, DAY expiry at the close, daily equity snapshots and the
intraday equity points.

Plain functions taking an optional `now` (tests pass a frozen one); each is idempotent and safe
to run in any process. `trading_jobs()` is the registry the scheduler wires in one line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from backend import db
from controller.trading import order_queries, orders, portfolio
from controller.trading.models import Order
from services.market.market_clock import calendar, clock
from services.trading.desk import in_transaction, market_view, publish, rules
from services.trading.equity_curve import RECORD_EVERY_S, record_equity_points
from services.trading.matcher import process_open_market
from utils.market_hours import session_close_utc
from utils.timeutil import IST

log = logging.getLogger(__name__)


def last_session_close(now: datetime) -> datetime:
    """The close of the latest trading session that has ended by `now` (exchange calendar, never forced)."""
    cal = calendar()
    day = now.astimezone(IST).date()
    if cal.is_trading_day(day) and now >= session_close_utc(day):
        return session_close_utc(day)
    return session_close_utc(cal.previous_trading_days(day, 1)[0])


def expire_day_orders(now: datetime | None = None) -> list[Order]:
    """Expire every working order placed before the last close; return the expired orders."""
    view = market_view(now)
    cutoff = last_session_close(view.now)
    with db.connection() as conn:
        by_user = order_queries.working_orders_created_before(conn, cutoff)
    limits, expired = rules(), []
    for user_id, order_ids in by_user.items():
        outcome = in_transaction(
            lambda conn, uid=user_id, ids=order_ids: orders.expire_orders(conn, uid, ids, cutoff, view, limits)
        )
        publish(outcome)
        expired += outcome.orders.values()
    if expired:
        log.info("expired %d orders placed before %s", len(expired), cutoff.isoformat())
    return expired


def snapshot_equity(now: datetime | None = None) -> int:
    """After a session's close, record every account's equity for that day; return the accounts covered."""
    at = now or clock()
    day = at.astimezone(IST).date()
    if not calendar().is_trading_day(day) or at < session_close_utc(day):
        return 0
    with db.transaction() as conn:
        return portfolio.snapshot_all(conn, day)


def trading_jobs() -> dict[str, tuple[Callable[..., Any], float, str]]:
    """name → (job(now=None), interval in seconds, market phase it is meant for: "open" or "any")."""
    return {
        "orders_open_market": (process_open_market, 5.0, "open"),
        "orders_expire_day": (expire_day_orders, 60.0, "any"),
        "portfolio_equity_snapshot": (snapshot_equity, 600.0, "any"),
        "portfolio_equity_points": (record_equity_points, RECORD_EVERY_S, "open"),
    }
