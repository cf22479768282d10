"""One user's account inside a trading transaction: locked rows, reservations, ledger, one flush.

Every trading transaction starts by locking the user's account row (`AccountBook.lock` is its first
statement), then the order rows it changes. Every writer of a user's accounts, orders, holdings and
ledger rows holds that lock, so the writes of one account are serial and cannot deadlock each other,
and reads that follow the lock see the latest state: under REPEATABLE READ the transaction's snapshot
is taken at its first plain read, which comes after the lock. That is why holdings are read without
FOR UPDATE, which would also take gap locks on missing rows that other accounts' inserts could
deadlock on.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.sql import defer, execute, fetch_all, fetch_one, fetch_sets
from controller.trading.models import Account, HoldingCost, HoldingsChange, Outcome
from controller.trading.order_rules import MarketView
from controller.trading.paper_accounts import ensure_account
from controller.trading.portfolio import account_json
from utils.errors import Unauthorized
from utils.money import money, price
from utils.timeutil import to_db
from utils.trading_errors import InsufficientFunds, InsufficientHoldings

_LOCK_ACCOUNT = (
    "SELECT user_id, cash, reserved, starting_cash, realized_pnl, holdings_version FROM accounts "
    "WHERE user_id = %s FOR UPDATE"
)
HOLDING_COLUMNS = ("quantity", "reserved_quantity", "avg_price")
_HOLDING = f"SELECT {', '.join(HOLDING_COLUMNS)} FROM holdings WHERE user_id = %s AND stock_id = %s"
_SAVE_ACCOUNT = (
    "UPDATE accounts SET cash = %s, reserved = %s, realized_pnl = %s, holdings_version = %s, "
    "updated_at = %s WHERE user_id = %s"
)
# A fill's row names its trade through the order (trades.order_id is unique): the trade's INSERT is deferred
# too and comes first in the same batch, so its id is not known here.
_INSERT_LEDGER = (
    "INSERT INTO ledger (user_id, amount, kind, order_id, trade_id, balance_after, note, created_at) "
    "VALUES (%s, %s, %s, %s, (SELECT trade_id FROM trades WHERE order_id = %s), %s, %s, %s)"
)
_INSERT_HOLDING = (
    "INSERT INTO holdings (user_id, stock_id, quantity, reserved_quantity, avg_price, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
_UPDATE_HOLDING = (
    "UPDATE holdings SET quantity = %s, reserved_quantity = %s, avg_price = %s, updated_at = %s "
    "WHERE user_id = %s AND stock_id = %s"
)
_DELETE_HOLDING = "DELETE FROM holdings WHERE user_id = %s AND stock_id = %s"
_DELETE_HOLDINGS = "DELETE FROM holdings WHERE user_id = %s"


def _new_version() -> int:
    """A new holdings_version: random, so that the value a rolled-back transaction had chosen (and perhaps
    cached costs under) is never the value of a committed one."""
    return secrets.randbits(63)


@dataclass(slots=True)
class Position:
    """A locked holding row (or a new one), changed in memory until the book flushes."""

    quantity: int
    reserved_quantity: int
    avg_price: Decimal
    exists: bool

    @property
    def worth(self) -> tuple[int, Decimal]:
        """What the position's value depends on (a change bumps the account's holdings_version)."""
        return self.quantity, self.avg_price

    @property
    def free(self) -> int:
        """Shares not held for open sells."""
        return self.quantity - self.reserved_quantity

    @property
    def row(self) -> tuple[int, int, Decimal, bool]:
        """What the holdings row holds (and whether there is one)."""
        return self.quantity, self.reserved_quantity, self.avg_price, self.exists


class AccountBook:
    """The locked account of one user; call the methods, then `flush()` once before commit."""

    def __init__(self, conn: Any, account: Account, now: datetime) -> None:
        self.conn = conn
        self.account = account
        self.now = now
        self.outcome = Outcome(account.user_id)
        self._saved = self._state()
        self._positions: dict[int, Position] = {}
        self._worth: dict[int, tuple[int, Decimal]] = {}  # each loaded position's worth as read
        self._written: dict[int, tuple] = {}  # each loaded position's row as read or last written
        self._ledger: list[tuple] = []
        # orders this transaction inserted or locked FOR UPDATE: no other transaction can change them before commit
        self.locked: set[int] = set()
        self._fills: dict[int, tuple[str, Decimal]] = {}  # stock_id → (symbol, last fill price) in this transaction
        self._change: HoldingsChange | None = None

    @classmethod
    def lock(
        cls, conn: Any, user_id: int, starting_cash: Decimal, now: datetime, holding_of: int | None = None
    ) -> AccountBook:
        """Lock the user's account row (creating the account on first use): the transaction's first statement.

        With `holding_of` (a stock_id), that holding is read in the same round trip, right after the lock.
        """
        if holding_of is not None:
            book, (rows,) = cls.lock_and_fetch(conn, user_id, starting_cash, now, [(_HOLDING, (user_id, holding_of))])
            book.take_holding(holding_of, rows)
            return book
        row = fetch_one(conn, _LOCK_ACCOUNT, (user_id,))
        if row is None:
            ensure_account(conn, user_id, starting_cash)
            row = fetch_one(conn, _LOCK_ACCOUNT, (user_id,))
            if row is None:
                raise Unauthorized("user not found")
        return cls(conn, Account(**row), now)

    @classmethod
    def lock_and_fetch(
        cls, conn: Any, user_id: int, starting_cash: Decimal, now: datetime, queries: list[tuple[str, tuple]]
    ) -> tuple[AccountBook, list[list[dict[str, Any]]]]:
        """`lock`, then `queries` in the same round trip (they run after the lock); the book and each one's rows."""
        account, *results = fetch_sets(conn, [(_LOCK_ACCOUNT, (user_id,)), *queries])
        if not account:  # first use: create the account, lock it, then run the queries
            book = cls.lock(conn, user_id, starting_cash, now)
            return book, [fetch_all(conn, sql, params) for sql, params in queries]
        return cls(conn, Account(**account[0]), now), results

    def take_holding(self, stock_id: int, rows: list[dict[str, Any]]) -> None:
        """Use the holding of `stock_id` (HOLDING_COLUMNS; no row: none held) read after the lock, not read it again."""
        self._load(stock_id, rows[0] if rows else None)

    @property
    def user_id(self) -> int:
        """The account's user."""
        return self.account.user_id

    def reserve_cash(self, amount: Decimal) -> None:
        """Hold `amount` for a buy; InsufficientFunds when it is not available."""
        if amount > self.account.available:
            raise InsufficientFunds(
                f"order needs {amount}, available {self.account.available}",
                {"required": float(amount), "available": float(self.account.available)},
            )
        self.account.reserved += amount

    def release_cash(self, amount: Decimal) -> None:
        """Give back cash held for a buy."""
        self.account.reserved -= amount

    def position(self, stock_id: int) -> Position:
        """The holding of `stock_id`, stable under the account lock (an empty new one when the user holds none)."""
        found = self._positions.get(stock_id)
        if found is None:
            found = self._load(stock_id, fetch_one(self.conn, _HOLDING, (self.user_id, stock_id)))
        return found

    def _load(self, stock_id: int, row: dict[str, Any] | None) -> Position:
        found = (
            Position(row["quantity"], row["reserved_quantity"], row["avg_price"], True)
            if row
            else Position(0, 0, Decimal(0), False)
        )
        self._positions[stock_id] = found
        self._worth[stock_id] = found.worth
        self._written[stock_id] = found.row
        return found

    def reserve_shares(self, stock_id: int, quantity: int) -> None:
        """Hold shares for a sell; InsufficientHoldings when they are not free (no short selling)."""
        held = self.position(stock_id)
        if quantity > held.free:
            raise InsufficientHoldings(
                f"selling {quantity} needs free shares, {held.free} available",
                {"required": quantity, "available": held.free},
            )
        held.reserved_quantity += quantity

    def release_shares(self, stock_id: int, quantity: int) -> None:
        """Give back shares held for a sell."""
        self.position(stock_id).reserved_quantity -= quantity

    def buy(
        self, stock_id: int, symbol: str, quantity: int, fill_price: Decimal, value: Decimal, order_id: int
    ) -> None:
        """Debit the fill value and add the shares at a weighted average cost."""
        held = self.position(stock_id)
        self._fills[stock_id] = symbol, fill_price
        total = held.quantity + quantity
        held.avg_price = price((held.avg_price * held.quantity + fill_price * quantity) / total)
        held.quantity = total
        self._post(-value, "BUY", order_id)

    def sell(
        self, stock_id: int, symbol: str, quantity: int, fill_price: Decimal, value: Decimal, order_id: int
    ) -> None:
        """Remove reserved shares, credit the fill value and book the realized P&L vs average cost."""
        held = self.position(stock_id)
        self._fills[stock_id] = symbol, fill_price
        held.quantity -= quantity
        held.reserved_quantity -= quantity
        self.account.realized_pnl += money((fill_price - held.avg_price) * quantity)
        self._post(value, "SELL", order_id)

    def adjust_cash(self, amount: Decimal, kind: str, note: str) -> None:
        """A cash movement that is not a fill (account reset)."""
        self._post(amount, kind, None, note)

    def _post(self, amount: Decimal, kind: str, order_id: int | None, note: str | None = None) -> None:
        """A cash movement: a fill's (`order_id` given, twice in the row: its own column, and the one the trade
        is found by) or another (None)."""
        self.account.cash += amount
        self._ledger.append((self.user_id, amount, kind, order_id, order_id, self.account.cash, note, to_db(self.now)))

    def clear_holdings(self) -> None:
        """Delete all the user's holdings (account reset)."""
        execute(self.conn, _DELETE_HOLDINGS, (self.user_id,))
        self._positions.clear()
        self._worth.clear()
        self._written.clear()
        self.account.holdings_version = _new_version()

    def _state(self) -> tuple:
        a = self.account
        return a.cash, a.reserved, a.realized_pnl, a.holdings_version

    def flush(self) -> None:
        """Write the account, the ledger rows and every changed holding (deferred: they go out with the
        transaction's next statement, usually its COMMIT)."""
        a, now = self.account, to_db(self.now)
        changed = [stock_id for stock_id, held in self._positions.items() if held.worth != self._worth[stock_id]]
        self._change = None
        if changed:
            if a.holdings_version == self._saved[3] and all(stock_id in self._fills for stock_id in changed):
                self._change = HoldingsChange(
                    a.holdings_version,
                    tuple(
                        HoldingCost(
                            self._fills[s][0],
                            self._positions[s].quantity,
                            self._positions[s].avg_price,
                            self._fills[s][1],
                        )
                        for s in changed
                    ),
                )
            a.holdings_version = _new_version()
            self._worth.update((stock_id, self._positions[stock_id].worth) for stock_id in changed)
        if self._state() != self._saved:
            defer(self.conn, _SAVE_ACCOUNT, (a.cash, a.reserved, a.realized_pnl, a.holdings_version, now, a.user_id))
            self._saved = self._state()
        for row in self._ledger:
            defer(self.conn, _INSERT_LEDGER, row)
        self._ledger = []
        for stock_id, held in self._positions.items():
            if held.row == self._written[stock_id]:  # unchanged since read or written
                continue
            key = (self.user_id, stock_id)
            if held.quantity == 0:
                if held.exists:
                    defer(self.conn, _DELETE_HOLDING, key)
                held.exists = False
            elif held.exists:
                defer(self.conn, _UPDATE_HOLDING, (held.quantity, held.reserved_quantity, held.avg_price, now, *key))
            else:
                defer(self.conn, _INSERT_HOLDING, (*key, held.quantity, held.reserved_quantity, held.avg_price, now))
                held.exists = True
            self._written[stock_id] = held.row

    def finish(self, view: MarketView) -> Outcome:
        """Flush, then record the account as the user will now see it (for the account_update push): at once
        when the holdings' costs are known, else when they arrive with the COMMIT."""
        self.flush()

        def value(costs: Sequence[HoldingCost]) -> None:
            self.outcome.account = account_json(self.account, costs, view.fresh)

        view.holding_costs(self.conn, self.account, self._change, value)
        return self.outcome
