"""Order state transitions inside a locked AccountBook: trigger, fill, cancel/reject/expire.

A transition acts on an order this transaction holds: one it locked FOR UPDATE (a locking read sees the
latest committed status, and no other transaction can change the row before this one commits) or one it
inserted (invisible to every other transaction until commit). So a fill or a cancel happens at most once even
when two processes act on the same tick, and the transition is a deferred write whose row count is known.
It stays a conditional update on the order's status, and the UNIQUE(order_id) of trades is the last line of
defence.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.sql import defer, fetch_all, fetch_one
from controller.trading.account_book import HOLDING_COLUMNS, AccountBook
from controller.trading.models import ORDER_COLUMNS, Order, Trade
from controller.trading.order_rules import execution_price, is_triggered
from utils.money import money, price
from utils.timeutil import to_db

_WORKING = "status IN ('OPEN', 'TRIGGER_PENDING')"
_LOCK_ORDER = f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = %s AND user_id = %s FOR UPDATE"
_LOCK_WORKING = f"SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = %s AND {_WORKING} ORDER BY order_id FOR UPDATE"
_HOLDING_OF_ORDER = (
    f"SELECT {', '.join(f'h.{name}' for name in HOLDING_COLUMNS)} FROM orders o JOIN holdings h "
    f"ON h.user_id = o.user_id AND h.stock_id = o.stock_id WHERE o.order_id = %s AND o.user_id = %s"
)
_MARK_FILLED = (
    f"UPDATE orders SET status = 'COMPLETE', filled_quantity = quantity, average_price = %s, "
    f"reserved_amount = 0, updated_at = %s WHERE order_id = %s AND {_WORKING}"
)
_MARK_CLOSED = (
    f"UPDATE orders SET status = %s, reject_reason = %s, reserved_amount = 0, updated_at = %s "
    f"WHERE order_id = %s AND {_WORKING}"
)
_MARK_TRIGGERED = (
    "UPDATE orders SET status = 'OPEN', updated_at = %s WHERE order_id = %s AND status = 'TRIGGER_PENDING'"
)
_INSERT_TRADE = (
    "INSERT INTO trades (order_id, user_id, stock_id, symbol, side, quantity, price, executed_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
IOC_UNFILLED = "IOC order could not be filled immediately"
FUNDS_AT_EXECUTION = "insufficient funds at the execution price"


def lock_order(conn: Any, book: AccountBook, order_id: int) -> Order | None:
    """The book's user's order, locked FOR UPDATE (None when it is not theirs or does not exist)."""
    return _locked(book, fetch_one(conn, _LOCK_ORDER, (order_id, book.user_id)))


def lock_account_and_order(
    conn: Any, user_id: int, order_id: int, starting_cash: Decimal, now: datetime
) -> tuple[AccountBook, Order | None]:
    """The user's locked account and, in the same round trip and after it, their order (as `lock_order`) and
    their holding of its stock (which a sell's release or any fill changes)."""
    book, (orders, holding) = AccountBook.lock_and_fetch(
        conn,
        user_id,
        starting_cash,
        now,
        [(_LOCK_ORDER, (order_id, user_id)), (_HOLDING_OF_ORDER, (order_id, user_id))],
    )
    order = _locked(book, orders[0] if orders else None)
    if order is not None:
        book.take_holding(order.stock_id, holding)
    return book, order


def lock_working_orders(conn: Any, book: AccountBook) -> list[Order]:
    """The book's user's working orders, locked FOR UPDATE."""
    return [_locked(book, row) for row in fetch_all(conn, _LOCK_WORKING, (book.user_id,))]


def _locked(book: AccountBook, row: dict[str, Any] | None) -> Order | None:
    if row is None:
        return None
    order = Order.from_row(row)
    book.locked.add(order.order_id)
    return order


def _transition(conn: Any, book: AccountBook, sql: str, params: tuple, order: Order) -> None:
    if order.order_id not in book.locked:
        raise RuntimeError(f"order {order.order_id} changes without its row lock")
    defer(conn, sql, params)


def release(book: AccountBook, order: Order) -> None:
    """Give back what a working order holds: its cash (buy) or its shares (sell)."""
    if order.side == "BUY":
        book.release_cash(order.reserved_amount)
    else:
        book.release_shares(order.stock_id, order.quantity)
    order.reserved_amount = Decimal(0)


def close(conn: Any, book: AccountBook, order: Order, status: str, reason: str | None) -> None:
    """End a working order without a fill (CANCELLED, REJECTED, EXPIRED) and release its reservation."""
    _transition(conn, book, _MARK_CLOSED, (status, reason, to_db(book.now), order.order_id), order)
    release(book, order)
    order.status, order.reject_reason, order.updated_at = status, reason, book.now
    book.outcome.touch(order)


def trigger(conn: Any, book: AccountBook, order: Order) -> None:
    """A stop order reached its trigger: it becomes a live LIMIT (SL) or MARKET (SL-M) order."""
    _transition(conn, book, _MARK_TRIGGERED, (to_db(book.now), order.order_id), order)
    order.status, order.updated_at = "OPEN", book.now
    book.outcome.touch(order)


def fill(conn: Any, book: AccountBook, order: Order, fill_price: Decimal) -> Trade | None:
    """Execute the whole order at `fill_price`; a buy the cash no longer covers is rejected instead."""
    fill_price = price(fill_price)
    value = money(fill_price * order.quantity)
    if order.side == "BUY" and value > book.account.available + order.reserved_amount:
        close(conn, book, order, "REJECTED", FUNDS_AT_EXECUTION)
        return None
    now = to_db(book.now)
    _transition(conn, book, _MARK_FILLED, (fill_price, now, order.order_id), order)
    trade = Trade(0, order.order_id, order.user_id, order.symbol, order.side, order.quantity, fill_price, book.now)
    defer(
        conn,
        _INSERT_TRADE,
        (order.order_id, order.user_id, order.stock_id, order.symbol, order.side, order.quantity, fill_price, now),
        on_done=lambda _rowcount, trade_id: setattr(trade, "trade_id", trade_id),
    )
    if order.side == "BUY":  # the ledger row finds the trade by its order (trades.order_id is unique)
        book.release_cash(order.reserved_amount)
        book.buy(order.stock_id, order.symbol, order.quantity, fill_price, value, order.order_id)
    else:
        book.sell(order.stock_id, order.symbol, order.quantity, fill_price, value, order.order_id)
    order.status, order.filled_quantity, order.average_price = "COMPLETE", order.quantity, fill_price
    order.reserved_amount, order.updated_at = Decimal(0), book.now
    book.outcome.touch(order)
    book.outcome.trades.append(trade)
    return trade


def execute_if_possible(conn: Any, book: AccountBook, order: Order, ltp: Decimal) -> None:
    """Act on a locked working order at `ltp`: trigger a stop, fill, or cancel an IOC that cannot fill."""
    if order.status == "TRIGGER_PENDING":
        if not is_triggered(order, ltp):
            return
        trigger(conn, book, order)
    fill_price = execution_price(order, ltp)
    if fill_price is not None:
        fill(conn, book, order, fill_price)
    elif order.validity == "IOC":
        close(conn, book, order, "CANCELLED", IOC_UNFILLED)


def act_on_order(
    conn: Any, user_id: int, order_id: int, ltp: Decimal, starting_cash: Decimal, now: datetime
) -> AccountBook:
    """Lock the account and the order and act on it at `ltp` unless it stopped working since it was seen."""
    book, order = lock_account_and_order(conn, user_id, order_id, starting_cash, now)
    if order is not None and order.is_working:
        execute_if_possible(conn, book, order, ltp)
    return book
