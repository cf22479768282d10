"""Paper-trading records (orders, trades, accounts, holdings) and their JSON shapes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from utils.money import money, number, percent
from utils.timeutil import as_utc, iso_ist

WORKING = ("OPEN", "TRIGGER_PENDING")
ORDER_COLUMNS = (
    "order_id, user_id, client_order_id, stock_id, symbol, side, order_type, validity, quantity, "
    "filled_quantity, price, trigger_price, average_price, reserved_amount, status, reject_reason, "
    "is_amo, created_at, updated_at"
)


class LivePrice(Protocol):
    """What trading and watchlists read of a live quote (services.market.live_price_cache.Quote fits)."""

    ltp: Decimal
    prev_close: Decimal
    day_open: Decimal
    day_high: Decimal
    day_low: Decimal
    volume: int
    as_of: datetime


PriceLookup = Callable[[str], LivePrice | None]


@dataclass(slots=True)
class Order:
    """One order row; mutable so a transaction can move it through its states."""

    order_id: int
    user_id: int
    client_order_id: str | None
    stock_id: int
    symbol: str
    side: str
    order_type: str
    validity: str
    quantity: int
    filled_quantity: int
    price: Decimal | None
    trigger_price: Decimal | None
    average_price: Decimal | None
    reserved_amount: Decimal
    status: str
    reject_reason: str | None
    is_amo: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Order:
        """Build from a row selected with ORDER_COLUMNS (times become aware UTC)."""
        return cls(
            **{
                **row,
                "is_amo": bool(row["is_amo"]),
                "created_at": as_utc(row["created_at"]),
                "updated_at": as_utc(row["updated_at"]),
            }
        )

    @property
    def is_working(self) -> bool:
        """OPEN or TRIGGER_PENDING: it still reserves cash or shares."""
        return self.status in WORKING

    def to_json(self) -> dict[str, Any]:
        """The order object of docs/API.md."""
        return {
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "side": self.side,
            "order_type": self.order_type,
            "validity": self.validity,
            "quantity": self.quantity,
            "filled_quantity": self.filled_quantity,
            "price": number(self.price, 4),
            "trigger_price": number(self.trigger_price, 4),
            "average_price": number(self.average_price, 4),
            "reserved_amount": number(self.reserved_amount),
            "status": self.status,
            "reject_reason": self.reject_reason,
            "is_amo": self.is_amo,
            "created_at": iso_ist(self.created_at),
            "updated_at": iso_ist(self.updated_at),
        }


@dataclass(slots=True)
class Trade:
    """One fill (a whole order: fills are never partial); a new one gets its trade_id (0 until then) when its
    deferred INSERT's result arrives with the COMMIT."""

    trade_id: int
    order_id: int
    user_id: int
    symbol: str
    side: str
    quantity: int
    price: Decimal
    executed_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Trade:
        """Build from a trades row (the time becomes aware UTC)."""
        return cls(**{**row, "executed_at": as_utc(row["executed_at"])})

    def to_json(self) -> dict[str, Any]:
        """The trade object of docs/API.md (plus its value)."""
        return {
            "trade_id": self.trade_id,
            "order_id": self.order_id,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": self.quantity,
            "price": number(self.price, 4),
            "value": number(money(self.price * self.quantity)),
            "executed_at": iso_ist(self.executed_at),
        }


@dataclass(slots=True)
class Account:
    """The account row: total cash, the part reserved for open buys, realized P&L."""

    user_id: int
    cash: Decimal
    reserved: Decimal
    starting_cash: Decimal
    realized_pnl: Decimal
    holdings_version: int = 0  # changes (to a random value) with any holding's quantity or average price

    @property
    def available(self) -> Decimal:
        """Cash free for new buys."""
        return self.cash - self.reserved


@dataclass(frozen=True, slots=True)
class ValuedHolding:
    """A holding priced with the live quote when fresh, else the database snapshot."""

    symbol: str
    company_name: str
    quantity: int
    reserved_quantity: int
    avg_price: Decimal
    current_price: Decimal
    prev_close: Decimal
    price_source: str
    as_of: datetime | None

    @property
    def invested(self) -> Decimal:
        """Cost of the position at the average price."""
        return money(self.avg_price * self.quantity)

    @property
    def current_value(self) -> Decimal:
        """The position at the current price."""
        return money(self.current_price * self.quantity)

    @property
    def day_change(self) -> Decimal:
        """Today's change of the position vs the previous close."""
        return money((self.current_price - self.prev_close) * self.quantity)

    def to_json(self) -> dict[str, Any]:
        """The holding object of docs/API.md."""
        profit = self.current_value - self.invested
        return {
            "symbol": self.symbol,
            "company_name": self.company_name,
            "quantity": self.quantity,
            "reserved_quantity": self.reserved_quantity,
            "avg_buy_price": number(self.avg_price, 4),
            "current_price": number(self.current_price, 4),
            "invested": number(self.invested),
            "current_value": number(self.current_value),
            "profit_loss": number(profit),
            "profit_loss_percent": number(percent(profit, self.invested)),
            "day_change": number(self.day_change),
            "day_change_percentage": number(percent(self.current_price - self.prev_close, self.prev_close)),
            "price_source": self.price_source,
            "as_of": iso_ist(self.as_of),
        }


@dataclass(frozen=True, slots=True)
class Portfolio:
    """An account with its valued holdings."""

    account: Account
    holdings: list[ValuedHolding]

    @property
    def holdings_value(self) -> Decimal:
        """Sum of the holdings' current values."""
        return sum((h.current_value for h in self.holdings), Decimal(0))

    @property
    def invested(self) -> Decimal:
        """Sum of the holdings' costs."""
        return sum((h.invested for h in self.holdings), Decimal(0))

    def account_json(self) -> dict[str, Any]:
        """The account object of docs/API.md."""
        return account_object(self.account, self.holdings_value, self.invested)

    def totals_json(self) -> dict[str, Any]:
        """Totals over the holdings."""
        value, invested = self.holdings_value, self.invested
        day = sum((h.day_change for h in self.holdings), Decimal(0))
        return {
            "invested": number(invested),
            "current_value": number(value),
            "profit_loss": number(value - invested),
            "profit_loss_percent": number(percent(value - invested, invested)),
            "day_change": number(day),
            "day_change_percentage": number(percent(day, value - day)),
        }


def account_object(account: Account, holdings_value: Decimal, invested: Decimal) -> dict[str, Any]:
    """The account object of docs/API.md, from the account row and its holdings' current value and cost."""
    return {
        "cash": number(account.cash),
        "reserved": number(account.reserved),
        "available": number(account.available),
        "holdings_value": number(holdings_value),
        "equity": number(account.cash + holdings_value),
        "realized_pnl": number(account.realized_pnl),
        "unrealized_pnl": number(holdings_value - invested),
        "starting_cash": number(account.starting_cash),
    }


@dataclass(frozen=True, slots=True)
class HoldingCost:
    """What valuing a holding needs: its size, average cost and database price (a fresh live quote wins)."""

    symbol: str
    quantity: int
    avg_price: Decimal
    db_price: Decimal | None


@dataclass(frozen=True, slots=True)
class HoldingsChange:
    """How one transaction changed an account's holdings: the holdings_version it started from, and the new
    cost of every position it changed (quantity 0: sold out; db_price: the fill price)."""

    version: int
    costs: tuple[HoldingCost, ...]

    def apply(self, before: Sequence[HoldingCost]) -> tuple[HoldingCost, ...]:
        """The costs after the change, from the costs at `version` (a known position keeps its db_price)."""
        known = {cost.symbol: cost for cost in before}
        for cost in self.costs:
            old = known.pop(cost.symbol, None)
            if cost.quantity:
                known[cost.symbol] = replace(cost, db_price=old.db_price) if old is not None else cost
        return tuple(known.values())


# (conn, account, change, use): calls use(the account's holding costs) at once, or, when they must be read
# inside the open transaction, once that deferred query's rows arrive with the transaction's next statement
# (its COMMIT). `change`, when given, says how they differ from those at `change.version`, which a cache may
# hold (then no query is needed).
HoldingCostLookup = Callable[[Any, Account, HoldingsChange | None, Callable[[Sequence[HoldingCost]], None]], None]


@dataclass
class Outcome:
    """What one trading transaction changed, to be pushed to the user after commit."""

    user_id: int
    orders: dict[int, Order] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    account: dict[str, Any] | None = None

    def touch(self, order: Order) -> None:
        """Record that `order` changed."""
        self.orders[order.order_id] = order
