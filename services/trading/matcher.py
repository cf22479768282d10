"""The order matcher: working orders against live ticks, and after-market orders at the open.

Runs in every process that receives ticks. Candidates come from one read per batch that returns only the
working orders the batch's prices reach (not every resting order); each
order that the tick would trigger, fill or cancel gets its own short transaction that locks the
account and the order row and re-checks its status, so when two processes see the same tick
the order still changes exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from flask import Flask

from backend import db
from backend.extensions import app_extensions
from controller.trading import fills, order_queries
from controller.trading.models import Order
from controller.trading.order_rules import MarketView, may_act
from services.market.live_price_cache import Quote
from services.realtime.tick_bus import TickBatch
from services.trading.desk import in_transaction, market_view, publish, rules
from utils import metrics
from utils.errors import AppError

log = logging.getLogger(__name__)


def _fresh_by_symbol(quotes: Iterable[Quote], view: MarketView) -> dict[str, Quote]:
    max_age = app_extensions()["settings"].live_cache_max_age_s
    latest: dict[str, Quote] = {}
    for quote in quotes:
        if (view.now - quote.as_of).total_seconds() > max_age:
            continue  # a stale quote never executes an order
        current = latest.get(quote.symbol)
        if current is None or quote.as_of >= current.as_of:
            latest[quote.symbol] = quote
    return latest


def match_ticks(quotes: list[Quote], now: datetime | None = None) -> list[Order]:
    """Trigger, fill or cancel the working orders these quotes reach; return the orders that changed."""
    view = market_view(now)
    if not view.is_open or not quotes:
        return []
    started = time.perf_counter()
    with db.connection() as conn:
        # Only the prices of symbols with working orders go to the query: a batch of the whole universe
        # (10,000 quotes) as JSON cost more than everything else the matcher does. An order placed between the
        # two reads is reached by the next tick, as one placed just after this batch would be.
        working = frozenset(order_queries.working_symbols(conn))
        latest = _fresh_by_symbol((q for q in quotes if q.symbol in working), view) if working else {}
        candidates = order_queries.reachable_orders(conn, {symbol: q.ltp for symbol, q in latest.items()})
    changed = []
    for order, ltp in candidates:
        if may_act(order, ltp):
            changed += act(order, ltp, view)
    metrics.MATCHER_SECONDS.observe(time.perf_counter() - started)
    return changed


def process_open_market(now: datetime | None = None) -> list[Order]:
    """At (and after) the open: execute after-market orders against fresh live prices."""
    view = market_view(now)
    if not view.is_open:
        return []
    with db.connection() as conn:
        pending = order_queries.working_amo_orders(conn)
    changed = []
    for order in pending:
        live = view.fresh(order.symbol)
        if live is not None and may_act(order, live.ltp):
            changed += act(order, live.ltp, view)
    return changed


def act(order: Order, ltp: Decimal, view: MarketView) -> list[Order]:
    """Act on one order in its own transaction; publish and return what changed (nothing if it moved on)."""
    limits = rules()

    def work(conn) -> object:
        book = fills.act_on_order(conn, order.user_id, order.order_id, ltp, limits.starting_cash, view.now)
        return book.finish(view) if book.outcome.orders else None

    try:
        outcome = in_transaction(work)
    except AppError as exc:  # e.g. the database is busy: the next tick retries this order
        if not exc.logged:
            log.warning("matcher skipped order %s: %s", order.order_id, exc.message)
        return []
    if outcome is None:
        return []
    publish(outcome)
    return list(outcome.orders.values())


def tick_subscriber(app: Flask) -> Callable[[TickBatch], None]:
    """A tick-bus callback that runs the matcher on stock batches inside `app`'s context."""

    def on_ticks(batch: TickBatch) -> None:
        if batch.kind == "stocks":
            with app.app_context():
                match_ticks(list(batch.quotes))

    return on_ticks
