"""Numbers for JSON: Decimal prices as JSON numbers with fixed decimals, display strings, price bands; JSON text."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from utils.money import HUNDRED, ceil_to, floor_to

_PLACES = {n: Decimal(1).scaleb(-n) for n in range(5)}
_FOUR_PLACES = _PLACES[4]


def number(value: Decimal | int | None, places: int = 2) -> float | None:
    """A Decimal rounded half-up to `places` decimals, as a JSON number (None stays None)."""
    if value is None:
        return None
    return float(Decimal(value).quantize(_PLACES[places], rounding=ROUND_HALF_UP))


@lru_cache(maxsize=32768)
def json_string(text: str) -> str:
    """`text` as a JSON string (memoised: symbols and company names are written on every tick and search)."""
    return json.dumps(text)


def display_price(value: Decimal) -> str:
    """A price as the dashboard shows it: thousands separators and two decimals ("1,234.50")."""
    return f"{Decimal(value).quantize(_PLACES[2], rounding=ROUND_HALF_UP):,.2f}"


def display_change_pct(value: Decimal) -> str:
    """A percent change with its sign and two decimals ("+1.23%", "-0.40%", "0.00%")."""
    rounded = Decimal(value).quantize(_PLACES[2], rounding=ROUND_HALF_UP)
    return f"{rounded:.2f}%" if rounded == 0 else f"{rounded:+.2f}%"


def display_change(value: Decimal) -> str:
    """A price change with its sign and two decimals, grouped like prices ("+62.08", "-1,204.50", "0.00")."""
    rounded = Decimal(value).quantize(_PLACES[2], rounding=ROUND_HALF_UP)
    return f"{rounded:,.2f}" if rounded == 0 else f"{rounded:+,.2f}"


def percent_change(value: Decimal, base: Decimal) -> Decimal:
    """(value - base) / base in percent, 4 decimals; 0 when there is no base."""
    if not base:
        return Decimal(0)
    return ((value - base) * HUNDRED / base).quantize(_FOUR_PLACES, ROUND_HALF_UP)


def direction(change: Decimal) -> str:
    """ "up" or "down" for a change (no change counts as up, as the existing dashboard clients expect)."""
    return "down" if change < 0 else "up"


def circuit_limits(prev_close: Decimal, band_pct: Decimal, tick: Decimal) -> tuple[Decimal, Decimal]:
    """(upper, lower) circuit prices: prev close ± band %, rounded inwards to the tick size."""
    span = prev_close * band_pct / HUNDRED
    return floor_to(prev_close + span, tick), max(ceil_to(prev_close - span, tick), tick)


class PriceChanges:
    """Mixin for quote records with `ltp`, `prev_close` and `day_open`: their changes, as the DB computes them."""

    __slots__ = ()
    ltp: Decimal
    prev_close: Decimal
    day_open: Decimal

    @property
    def change_value(self) -> Decimal:
        """ltp - previous close."""
        return self.ltp - self.prev_close

    @property
    def change_pct(self) -> Decimal:
        """Percent change vs the previous close (4 decimals, half-up like the stored column)."""
        return percent_change(self.ltp, self.prev_close)

    @property
    def intraday_change_pct(self) -> Decimal:
        """Percent change vs the day's open (4 decimals, half-up like the stored column)."""
        return percent_change(self.ltp, self.day_open)
