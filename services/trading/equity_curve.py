"""The equity curve: intraday points beside the daily closes, so a new account's chart means something on day one.

Every account gets a point every RECORD_EVERY_S while the market is open (a job of the writer process), and an
account gets one at each of its fills. A fill's point waits in this process's buffer and is written with the others
every FLUSH_EVERY_S (a job of every process), so a fill costs no extra round trip. Points older than RETENTION are
deleted by the recording job; the daily closes stay in portfolio_snapshots.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from backend import db
from backend.extensions import app_extensions
from controller.trading import equity_points
from controller.trading.models import Outcome
from services.market.market_clock import clock
from utils.timeutil import to_db

Range = Literal["1d", "1w", "1m", "all"]
RETENTION = timedelta(days=30)
RECORD_EVERY_S = 300.0
FLUSH_EVERY_S = 2.0
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
# range -> (how far back, whether older days are shown as their daily closes)
RANGES: dict[str, tuple[timedelta | None, bool]] = {
    "1d": (timedelta(days=1), False),
    "1w": (timedelta(days=7), False),
    "1m": (timedelta(days=30), True),
    "all": (None, True),
}
Point = tuple[int, datetime, Decimal, Decimal, Decimal]


def _fill_buffer() -> tuple[list[Point], threading.Lock]:
    return app_extensions().get("equity_fill_points") or app_extensions().setdefault(
        "equity_fill_points", ([], threading.Lock())
    )


def note_fills(outcome: Outcome | None) -> None:
    """Keep an equity point for an outcome with fills (after its commit), valued as its account object."""
    if outcome is None or not outcome.trades or outcome.account is None:
        return
    at = max(trade.executed_at for trade in outcome.trades)
    account = outcome.account
    values = (Decimal(str(account[name])) for name in ("equity", "cash", "holdings_value"))
    points, lock = _fill_buffer()
    with lock:
        points.append((outcome.user_id, to_db(at), *values))


def flush_fill_points() -> int:
    """Write the fill points kept since the last flush in one statement; return how many."""
    points, lock = _fill_buffer()
    with lock:
        taken = points[:]
        points.clear()
    if not taken:
        return 0
    with db.transaction() as conn:
        equity_points.record(conn, taken)
    return len(taken)


def record_equity_points(now: datetime | None = None) -> int:
    """A point for every account now, and the points older than RETENTION deleted; return the accounts covered."""
    at = now or clock()
    with db.transaction() as conn:
        recorded = equity_points.record_all(conn, to_db(at))
        equity_points.purge_before(conn, to_db(at - RETENTION))
    return recorded


def curve(user_id: int, range_: Range | None = None, days: int | None = None) -> list[dict]:
    """The user's equity over `range_` (1d and 1w: intraday points; 1m and all: daily closes, then the intraday
    points since the last close), or the last `days` days like 1m; oldest first."""
    now = clock()
    if days is not None:
        since, daily = now - timedelta(days=days), True
    else:
        span, daily = RANGES[range_ or "all"]
        since = now - span if span else _EARLIEST
    with db.connection() as conn:
        return equity_points.equity_curve(conn, user_id, since, daily)
