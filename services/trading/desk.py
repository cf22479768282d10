"""Paper-trading operations for routes and jobs: one retried transaction each, events after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from mysql.connector.errors import DatabaseError

from backend import db
from backend.extensions import app_extensions
from controller.market.instruments import Instrument, find_instrument
from controller.trading import orders, paper_accounts
from controller.trading.models import Account, HoldingCost, HoldingCostLookup, HoldingsChange, Order, Outcome, Portfolio
from controller.trading.order_rules import MarketView, OrderTicket, TradingRules
from controller.trading.portfolio import holding_costs, portfolio
from services.market.live_overlay import fresh_lookup
from services.market.live_price_cache import stock_prices
from services.market.market_clock import clock, current_status, session_mode
from services.platform.cache_service import app_cache
from services.trading.equity_curve import note_fills
from services.trading.events import publish_outcome
from utils import metrics
from utils.errors import NotFound, ServiceUnavailable, Unauthorized

log = logging.getLogger(__name__)
T = TypeVar("T")
A = TypeVar("A")
V = TypeVar("V")
_RETRYABLE = {1205, 1213}  # lock wait timeout, deadlock: the transaction was rolled back, safe to rerun
_ATTEMPTS = 3


def rules() -> TradingRules:
    """The trading limits from the settings."""
    settings = app_extensions()["settings"]
    return TradingRules(
        settings.price_band_percent,
        settings.max_order_value,
        settings.market_order_buffer_percent,
        settings.starting_cash,
    )


def market_view(now: datetime | None = None) -> MarketView:
    """The time, the market phase, fresh live quotes (LIVE_CACHE_MAX_AGE_S) and cached instruments."""
    at = now or clock()
    fresh = fresh_lookup(stock_prices(), at)
    return MarketView(at, _is_open(at), fresh, _instrument_lookup(), _holding_costs_lookup())


def _is_open(at: datetime) -> bool:
    """The market phase, computed once per minute and session mode (phases change on whole minutes)."""
    phases = app_cache("trading_phases", None, maxsize=64)
    key = at.replace(second=0, microsecond=0), session_mode()
    found = phases.get(key)
    if found is None:
        found = current_status(at).is_market_open
        phases.put(key, found)
    return found


def _trading_ttl_s() -> float:
    """Tick and lot sizes change rarely; the database quote in an Instrument is only the fallback when no fresh
    live quote exists, so it may be this much older than the snapshot table. The same holds for the database
    prices in cached holding costs (their quantities and average prices are exact: keyed by holdings_version)."""
    return app_extensions()["settings"].cache_ttl_trading_s


def _per_app_cache(name: str, ttl_s: float, load: Callable[[Any, A], V | None]) -> Callable[[Any, A], V | None]:
    """`load(conn, arg)` behind a per-app TTL cache under `arg` (a None result is not kept); with conn None, a
    miss loads through a pooled connection of its own."""
    cache = app_cache(name, ttl_s)

    def lookup(conn: Any, arg: A) -> V | None:
        found = cache.get(arg)
        if found is None:
            if conn is None:
                with db.connection() as own:
                    found = load(own, arg)
            else:
                found = load(conn, arg)
            if found is not None:
                cache.put(arg, found)
        return found

    return lookup


def _instrument_lookup() -> Callable[[Any, str], Instrument | None]:
    """find_instrument behind a per-app cache of CACHE_TTL_TRADING_S (one query less per order)."""
    return _per_app_cache("trading_instruments", _trading_ttl_s(), find_instrument)


def _holding_costs_lookup() -> HoldingCostLookup:
    """holding_costs behind a per-app cache keyed by (user, holdings_version): valuing the account after an
    order that changed no holding (most placements, modifications and cancellations) needs no query, nor
    after a fill when the costs before it are cached (the fill's change is applied to them)."""
    cache = app_cache("trading_holding_costs", _trading_ttl_s())

    def lookup(
        conn: Any, account: Account, change: HoldingsChange | None, use: Callable[[Sequence[HoldingCost]], None]
    ) -> None:
        key = account.user_id, account.holdings_version

        def keep(costs: Sequence[HoldingCost]) -> None:
            cache.put(key, costs)
            use(costs)

        found = cache.get(key)
        before = cache.get((account.user_id, change.version)) if found is None and change else None
        if found is not None:
            use(found)
        elif change and before is not None:
            keep(change.apply(before))
        else:
            holding_costs(conn, account, change, keep)

    return lookup


def in_transaction(work: Callable[[Any], T]) -> T:
    """Run `work(conn)` in a transaction, rerun on deadlock or lock-wait timeout."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with db.transaction() as conn:
                return work(conn)
        except DatabaseError as exc:
            if exc.errno not in _RETRYABLE:
                raise
            metrics.TRADING_TXN_RETRIES.inc()
            log.info("trading transaction retried after error %s (attempt %d)", exc.errno, attempt)
    raise ServiceUnavailable("the account is busy, retry shortly", {"reason": "lock_contention"})


def portfolio_for(user_id: int) -> tuple[Portfolio, MarketView]:
    """The user's account and holdings valued now (the account is created on first use)."""
    view = market_view()
    with db.connection() as conn:
        account = paper_accounts.get_account(conn, user_id)
        if account is None:
            paper_accounts.ensure_account(conn, user_id, rules().starting_cash)
            account = paper_accounts.get_account(conn, user_id)
        if account is None:
            raise Unauthorized("user not found")
        return portfolio(conn, account, view.fresh), view


def place_order(user_id: int, ticket: OrderTicket) -> tuple[Order, bool]:
    """Place an order; returns it and whether it is new (False: its client_order_id already existed)."""
    if ticket.client_order_id is not None:
        with db.connection() as conn:
            existing = orders.find_by_client_id(conn, user_id, ticket.client_order_id)
        if existing is not None:
            return existing, False
    view, limits = market_view(), rules()
    instrument = _instrument_lookup()(None, ticket.symbol)  # reference data: read outside the money transaction
    if instrument is None:
        raise NotFound(f"unknown symbol {ticket.symbol}")
    order, outcome = in_transaction(lambda conn: orders.place_order(conn, user_id, ticket, instrument, view, limits))
    if outcome is not None:
        metrics.TRADING_ORDERS.labels(ticket.order_type, ticket.side).inc()
    publish(outcome)
    return order, outcome is not None


def modify_order(user_id: int, order_id: int, changes: dict[str, Any]) -> Order:
    """Change a working order (keys among quantity, price, trigger_price)."""
    view, limits = market_view(), rules()
    outcome = in_transaction(lambda conn: orders.modify_order(conn, user_id, order_id, view, limits, **changes))
    publish(outcome)
    return outcome.orders[order_id]


def cancel_order(user_id: int, order_id: int) -> Order:
    """Cancel a working order."""
    view, limits = market_view(), rules()
    outcome = in_transaction(lambda conn: orders.cancel_order(conn, user_id, order_id, view, limits))
    publish(outcome)
    return outcome.orders[order_id]


def reset_account(user_id: int) -> dict[str, Any]:
    """Reset the account to its starting cash; returns the account object."""
    view, limits = market_view(), rules()
    outcome = in_transaction(lambda conn: orders.reset_account(conn, user_id, view, limits))
    publish(outcome)
    return outcome.account


def publish(outcome: Outcome | None) -> None:
    """Count the fills, keep their equity point and push the outcome to its user (call after commit)."""
    if outcome is not None:
        metrics.TRADING_FILLS.inc(len(outcome.trades))
    note_fills(outcome)
    publish_outcome(outcome)
