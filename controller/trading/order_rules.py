"""Exchange rules for paper orders, pure (no SQL): validation, reservations and matching decisions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.market.instruments import Instrument, find_instrument
from controller.trading.models import HoldingCostLookup, LivePrice, Order, PriceLookup
from controller.trading.portfolio import holding_costs
from utils.money import HUNDRED, is_multiple, money, money_up
from utils.quote_format import circuit_limits
from utils.trading_errors import MarketDataUnavailable, OrderRejected

PRICED = ("LIMIT", "SL")  # types that carry a limit price
STOP = ("SL", "SL-M")  # types that wait for a trigger


@dataclass(frozen=True, slots=True)
class TradingRules:
    """The configurable limits (PRICE_BAND_PERCENT, MAX_ORDER_VALUE, MARKET_ORDER_BUFFER_PERCENT)."""

    band_percent: Decimal
    max_order_value: Decimal
    market_buffer_percent: Decimal
    starting_cash: Decimal


@dataclass(frozen=True, slots=True)
class MarketView:
    """The market as one request or tick sees it: the time, the phase, fresh live quotes, instruments, and the
    costs of an account's holdings (the services pass cached lookups)."""

    now: datetime
    is_open: bool
    fresh: PriceLookup
    instrument: Callable[[Any, str], Instrument | None] = find_instrument
    holding_costs: HoldingCostLookup = holding_costs


@dataclass(frozen=True, slots=True)
class OrderTicket:
    """What the user asks for: a new order, or (for a modification) the order with new values."""

    symbol: str
    side: str
    order_type: str
    validity: str
    quantity: int
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """The prices an order is checked against: last traded price, previous close, circuit band."""

    ltp: Decimal
    prev_close: Decimal
    lower: Decimal
    upper: Decimal
    live: LivePrice | None


def reference(instrument: Instrument, live: LivePrice | None, band_percent: Decimal) -> Reference:
    """Reference prices from the fresh live quote, else the database snapshot; 503 without either."""
    if live is not None:
        ltp, prev_close = live.ltp, live.prev_close
    elif instrument.ltp is not None and instrument.prev_close is not None:
        ltp, prev_close = instrument.ltp, instrument.prev_close
    else:
        raise MarketDataUnavailable(f"no price known for {instrument.symbol}")
    upper, lower = circuit_limits(prev_close, band_percent, instrument.tick_size)
    return Reference(ltp, prev_close, lower, upper, live)


def check_shape(ticket: OrderTicket, instrument: Instrument) -> None:
    """Raise OrderRejected unless the ticket passes the checks that no price can change: which prices its type
    takes, the lot size, the tick size (an alert's order is checked with these when the alert is created)."""
    _check_fields(ticket)
    if ticket.quantity % instrument.lot_size:
        raise OrderRejected(
            f"quantity must be a multiple of the lot size {instrument.lot_size}",
            "lot_size",
            "quantity",
            lot_size=instrument.lot_size,
        )
    for name in ("price", "trigger_price"):
        value = getattr(ticket, name)
        if value is not None and not is_multiple(value, instrument.tick_size):
            raise OrderRejected(
                f"{name} must be a multiple of the tick size {instrument.tick_size}",
                "tick_size",
                name,
                tick_size=float(instrument.tick_size),
            )


def validate(ticket: OrderTicket, instrument: Instrument, ref: Reference, rules: TradingRules) -> None:
    """Raise OrderRejected unless the ticket passes every exchange check."""
    check_shape(ticket, instrument)
    for name in ("price", "trigger_price"):
        value = getattr(ticket, name)
        if value is not None:
            _check_band(name, value, ref)
    if ticket.order_type in STOP:
        _check_trigger(ticket, ref)
    value = notional(ticket, ref) * ticket.quantity
    if value > rules.max_order_value:
        raise OrderRejected(
            f"order value {money(value)} exceeds the maximum {rules.max_order_value}",
            "max_order_value",
            "quantity",
            max_order_value=float(rules.max_order_value),
        )


def _check_fields(ticket: OrderTicket) -> None:
    needs_price, needs_trigger = ticket.order_type in PRICED, ticket.order_type in STOP
    if needs_price != (ticket.price is not None):
        verb = "requires" if needs_price else "does not take"
        raise OrderRejected(f"a {ticket.order_type} order {verb} a price", "price_presence", "price")
    if needs_trigger != (ticket.trigger_price is not None):
        verb = "requires" if needs_trigger else "does not take"
        raise OrderRejected(f"a {ticket.order_type} order {verb} a trigger_price", "trigger_presence", "trigger_price")


def _check_band(name: str, value: Decimal, ref: Reference) -> None:
    if not ref.lower <= value <= ref.upper:
        raise OrderRejected(
            f"{name} {value} is outside the circuit band {ref.lower}-{ref.upper}",
            "price_band",
            name,
            lower=float(ref.lower),
            upper=float(ref.upper),
        )


def _check_trigger(ticket: OrderTicket, ref: Reference) -> None:
    trigger, buy = ticket.trigger_price, ticket.side == "BUY"
    if (buy and trigger <= ref.ltp) or (not buy and trigger >= ref.ltp):
        where = "above" if buy else "below"
        raise OrderRejected(
            f"a stop-loss {ticket.side} trigger must be {where} the last price {ref.ltp}",
            "trigger_side",
            "trigger_price",
            last_price=float(ref.ltp),
        )
    if ticket.price is not None and ((buy and ticket.price < trigger) or (not buy and ticket.price > trigger)):
        where = "at or above" if buy else "at or below"
        raise OrderRejected(f"a stop-loss {ticket.side} price must be {where} its trigger", "trigger_side", "price")


def notional(ticket: OrderTicket, ref: Reference) -> Decimal:
    """The per-share price an order is valued at: its limit, else its trigger, else the last price."""
    return ticket.price or ticket.trigger_price or ref.ltp


def reservation(ticket: OrderTicket, ref: Reference, rules: TradingRules) -> Decimal:
    """Cash a BUY holds while working: the limit value, or a buffered market price capped at the band."""
    if ticket.side != "BUY":
        return Decimal(0)
    if ticket.price is not None:
        per_share = ticket.price
    else:
        base = ticket.trigger_price or ref.ltp
        per_share = max(base, min(base * (HUNDRED + rules.market_buffer_percent) / HUNDRED, ref.upper))
    return money_up(per_share * ticket.quantity)


def is_triggered(order: Order, ltp: Decimal) -> bool:
    """A stop triggers when the price reaches its trigger from the side it was placed on."""
    return ltp >= order.trigger_price if order.side == "BUY" else ltp <= order.trigger_price


def execution_price(order: Order, ltp: Decimal) -> Decimal | None:
    """The fill price of a live (OPEN) order at `ltp`: market price, or the limit or better; None if not."""
    if order.order_type in ("MARKET", "SL-M"):
        return ltp
    if order.side == "BUY":
        return min(order.price, ltp) if ltp <= order.price else None
    return max(order.price, ltp) if ltp >= order.price else None


def may_act(order: Order, ltp: Decimal) -> bool:
    """True when `ltp` would trigger, fill or (IOC) cancel the working order: worth a transaction."""
    if order.status == "TRIGGER_PENDING":
        return is_triggered(order, ltp)
    return order.validity == "IOC" or execution_price(order, ltp) is not None
