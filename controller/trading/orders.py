"""Placing, modifying and cancelling paper orders, and resetting an account (each in the caller's transaction)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.market.instruments import Instrument
from controller.sql import defer, execute, fetch_one
from controller.trading.account_book import AccountBook
from controller.trading.fills import (
    close,
    execute_if_possible,
    lock_account_and_order,
    lock_order,
    lock_working_orders,
    release,
)
from controller.trading.models import ORDER_COLUMNS, Order, Outcome
from controller.trading.order_rules import (
    STOP,
    MarketView,
    OrderTicket,
    TradingRules,
    may_act,
    reference,
    reservation,
    validate,
)
from controller.trading.portfolio import delete_history
from utils.errors import NotFound
from utils.timeutil import to_db
from utils.trading_errors import MarketDataUnavailable, OrderNotModifiable, OrderRejected

_INSERT = """
INSERT INTO orders (user_id, client_order_id, stock_id, symbol, side, order_type, validity, quantity,
    price, trigger_price, reserved_amount, status, is_amo, created_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
_BY_CLIENT_ID = f"SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = %s AND client_order_id = %s"
_GET = f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = %s AND user_id = %s"
_MODIFY = (
    "UPDATE orders SET quantity = %s, price = %s, trigger_price = %s, reserved_amount = %s, updated_at = %s "
    "WHERE order_id = %s AND status IN ('OPEN', 'TRIGGER_PENDING')"
)
_UNSET = object()


def find_by_client_id(conn: Any, user_id: int, client_order_id: str) -> Order | None:
    """The user's order with this client_order_id, if any."""
    row = fetch_one(conn, _BY_CLIENT_ID, (user_id, client_order_id))
    return Order.from_row(row) if row else None


def get_order(conn: Any, user_id: int, order_id: int) -> Order:
    """The user's order; NotFound for an unknown id or another user's order."""
    row = fetch_one(conn, _GET, (order_id, user_id))
    if row is None:
        raise NotFound(f"order {order_id} not found")
    return Order.from_row(row)


def _instrument(conn: Any, view: MarketView, symbol: str) -> Instrument:
    found = view.instrument(conn, symbol)
    if found is None:
        raise NotFound(f"unknown symbol {symbol}")
    return found


def place_order(
    conn: Any, user_id: int, ticket: OrderTicket, instrument: Instrument, view: MarketView, rules: TradingRules
) -> tuple[Order, Outcome | None]:
    """Validate, reserve and record a new order of `instrument`, executing it at once when the market allows.

    Returns the order and what changed (None when client_order_id named an existing order).
    """
    needs_holding = ticket.side == "SELL" or ticket.order_type == "MARKET"  # to reserve shares, or to fill now
    book = AccountBook.lock(
        conn, user_id, rules.starting_cash, view.now, holding_of=instrument.stock_id if needs_holding else None
    )
    if ticket.client_order_id is not None:
        existing = find_by_client_id(conn, user_id, ticket.client_order_id)
        if existing is not None:
            return existing, None
    live = view.fresh(instrument.symbol)
    ref = reference(instrument, live, rules.band_percent)
    validate(ticket, instrument, ref, rules)
    executes_now = ticket.order_type == "MARKET" or (ticket.validity == "IOC" and ticket.order_type not in STOP)
    if view.is_open and live is None and executes_now:
        raise MarketDataUnavailable(f"no live price for {instrument.symbol}; a market or IOC order cannot execute")
    amount = reservation(ticket, ref, rules)
    if ticket.side == "BUY":
        book.reserve_cash(amount)
    else:
        book.reserve_shares(instrument.stock_id, ticket.quantity)
    status = "TRIGGER_PENDING" if ticket.order_type in STOP else "OPEN"
    order = Order(
        0,
        user_id,
        ticket.client_order_id,
        instrument.stock_id,
        instrument.symbol,
        ticket.side,
        ticket.order_type,
        ticket.validity,
        ticket.quantity,
        0,
        ticket.price,
        ticket.trigger_price,
        None,
        amount,
        status,
        None,
        not view.is_open,
        view.now,
        view.now,
    )
    ltp = live.ltp if view.is_open and live is not None else None
    if ltp is not None and may_act(order, ltp):
        _, order.order_id = execute(conn, _INSERT, _insert_params(order))
        book.locked.add(order.order_id)
        book.outcome.touch(order)
        execute_if_possible(conn, book, order, ltp)
    else:
        _insert_resting(conn, book, order)
    return order, book.finish(view)


def _insert_resting(conn: Any, book: AccountBook, order: Order) -> None:
    """Record an order that rests: nothing reads it before the commit, so its INSERT is a deferred write and its id
    (0 until then) arrives with the COMMIT's results."""

    def inserted(_rowcount: int, order_id: int) -> None:
        order.order_id = order_id
        book.outcome.touch(order)

    defer(conn, _INSERT, _insert_params(order), on_done=inserted)


def _insert_params(order: Order) -> tuple:
    stamp = to_db(order.created_at)
    return (
        order.user_id,
        order.client_order_id,
        order.stock_id,
        order.symbol,
        order.side,
        order.order_type,
        order.validity,
        order.quantity,
        order.price,
        order.trigger_price,
        order.reserved_amount,
        order.status,
        int(order.is_amo),
        stamp,
        stamp,
    )


def _lock_working(
    conn: Any, user_id: int, order_id: int, view: MarketView, rules: TradingRules
) -> tuple[AccountBook, Order]:
    book, order = lock_account_and_order(conn, user_id, order_id, rules.starting_cash, view.now)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    if not order.is_working:
        raise OrderNotModifiable(f"order {order_id} is {order.status} and can no longer change")
    return book, order


def modify_order(
    conn: Any,
    user_id: int,
    order_id: int,
    view: MarketView,
    rules: TradingRules,
    quantity: int | None = None,
    price: Any = _UNSET,
    trigger_price: Any = _UNSET,
) -> Outcome:
    """Change a working order's quantity, price or trigger; re-validated and re-reserved as if new."""
    book, order = _lock_working(conn, user_id, order_id, view, rules)
    instrument = _instrument(conn, view, order.symbol)
    ticket = OrderTicket(
        order.symbol,
        order.side,
        order.order_type,
        order.validity,
        quantity or order.quantity,
        order.price if price is _UNSET else price,
        order.trigger_price if trigger_price is _UNSET else trigger_price,
    )
    live = view.fresh(order.symbol)
    ref = reference(instrument, live, rules.band_percent)
    validate(_as_live(order, ticket), instrument, ref, rules)
    release(book, order)
    amount = reservation(ticket, ref, rules)
    if order.side == "BUY":
        book.reserve_cash(amount)
    else:
        book.reserve_shares(order.stock_id, ticket.quantity)
    defer(conn, _MODIFY, (ticket.quantity, ticket.price, ticket.trigger_price, amount, to_db(view.now), order_id))
    order.quantity, order.price, order.trigger_price = ticket.quantity, ticket.price, ticket.trigger_price
    order.reserved_amount, order.updated_at = amount, view.now
    book.outcome.touch(order)
    if view.is_open and live is not None:
        execute_if_possible(conn, book, order, live.ltp)
    return book.finish(view)


def _as_live(order: Order, ticket: OrderTicket) -> OrderTicket:
    """A stop that has triggered is a live LIMIT (SL) or MARKET (SL-M) order: its trigger is history."""
    if order.order_type not in STOP or order.status == "TRIGGER_PENDING":
        return ticket
    if ticket.trigger_price != order.trigger_price:
        raise OrderRejected(
            "the order has triggered; its trigger price can no longer change", "triggered", "trigger_price"
        )
    return replace(ticket, order_type="LIMIT" if order.order_type == "SL" else "MARKET", trigger_price=None)


def cancel_order(conn: Any, user_id: int, order_id: int, view: MarketView, rules: TradingRules) -> Outcome:
    """Cancel a working order and release its reservation."""
    book, order = _lock_working(conn, user_id, order_id, view, rules)
    close(conn, book, order, "CANCELLED", None)
    return book.finish(view)


def cancel_working_orders(conn: Any, user_id: int, view: MarketView, rules: TradingRules, reason: str) -> Outcome:
    """Cancel every working order of the user with `reason` (e.g. the account was blocked), releasing what they
    hold; the account is locked first, so the matcher cannot fill one of them afterwards."""
    book = AccountBook.lock(conn, user_id, rules.starting_cash, view.now)
    for order in lock_working_orders(conn, book):
        close(conn, book, order, "CANCELLED", reason)
    return book.finish(view)


def reset_account(conn: Any, user_id: int, view: MarketView, rules: TradingRules) -> Outcome:
    """Back to the starting cash: working orders cancelled, holdings and the equity curve cleared."""
    book = AccountBook.lock(conn, user_id, rules.starting_cash, view.now)
    for order in lock_working_orders(conn, book):
        close(conn, book, order, "CANCELLED", "account reset")
    book.clear_holdings()
    account = book.account
    if account.cash != account.starting_cash:
        book.adjust_cash(account.starting_cash - account.cash, "RESET", "account reset")
    account.reserved, account.realized_pnl = Decimal(0), Decimal(0)
    delete_history(conn, user_id)
    return book.finish(view)


def expire_orders(
    conn: Any, user_id: int, order_ids: list[int], cutoff: datetime, view: MarketView, rules: TradingRules
) -> Outcome:
    """Expire the user's working orders among `order_ids` created before `cutoff` (the session's close)."""
    book = AccountBook.lock(conn, user_id, rules.starting_cash, view.now)
    for order_id in order_ids:
        order = lock_order(conn, book, order_id)
        if order is not None and order.is_working and order.created_at < cutoff:
            close(conn, book, order, "EXPIRED", "validity ended at the close")
    return book.finish(view)
