"""Decimal helpers for money and prices: rounding, tick multiples and JSON numbers."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

PAISA = Decimal("0.01")
PRICE_STEP = Decimal("0.0001")
HUNDRED = Decimal(100)


def money(value: Decimal) -> Decimal:
    """Round to paise, half up (fill values, P&L)."""
    return value.quantize(PAISA, rounding=ROUND_HALF_UP)


def money_up(value: Decimal) -> Decimal:
    """Round up to paise (reservations never fall short by a fraction of a paisa)."""
    return value.quantize(PAISA, rounding=ROUND_CEILING)


def price(value: Decimal) -> Decimal:
    """Round to the 4 decimals prices are stored with."""
    return value.quantize(PRICE_STEP, rounding=ROUND_HALF_UP)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """True when `value` is a whole number of `step`s (tick size check)."""
    return value % step == 0


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of `step` not above `value`."""
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of `step` not below `value`."""
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def percent(part: Decimal, whole: Decimal) -> Decimal:
    """part / whole in percent, 2 decimals (0 when whole is 0)."""
    if not whole:
        return Decimal(0)
    return (part * HUNDRED / whole).quantize(PAISA, rounding=ROUND_HALF_UP)


def number(value: Decimal | None, places: int = 2) -> float | None:
    """A JSON number with at most `places` decimals; None stays None."""
    if value is None:
        return None
    return float(round(Decimal(value), places))
