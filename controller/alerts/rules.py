"""Alert kinds and when they fire, pure (no SQL): the level a kind watches, its condition, and checks of a value.

Every kind is a condition on a metric (the last price, or the session's volume) against a level, and fires
when the condition turns from false at the previous tick to true at this one:

- price_above / price_below: ltp > value / ltp < value (a touch of the level is not a crossing);
- change_pct_above / change_pct_below: the change vs the previous close above / below `value` percent, i.e.
  ltp > / < prev_close x (100 + value) / 100;
- volume_above: the session's volume > value;
- new_high_52w / new_low_52w: ltp > the highest high / < the lowest low of the previous 250 sessions;
- near_upper_circuit: (upper - ltp) / upper x 100 <= value, i.e. ltp >= upper x (100 - value) / 100;
- near_lower_circuit: (ltp - lower) / lower x 100 <= value, i.e. ltp <= lower x (100 + value) / 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from utils.money import HUNDRED

Kind = Literal[
    "price_above",
    "price_below",
    "change_pct_above",
    "change_pct_below",
    "volume_above",
    "new_high_52w",
    "new_low_52w",
    "near_upper_circuit",
    "near_lower_circuit",
]
KINDS: tuple[str, ...] = Kind.__args__
INDEX_KINDS = frozenset({"price_above", "price_below", "change_pct_above", "change_pct_below"})
RISING = frozenset({"price_above", "change_pct_above", "volume_above", "new_high_52w", "near_upper_circuit"})
INCLUSIVE = frozenset({"near_upper_circuit", "near_lower_circuit"})  # the level itself satisfies the condition
VOLUME = frozenset({"volume_above"})
RELATIVE = frozenset({"change_pct_above", "change_pct_below", "near_upper_circuit", "near_lower_circuit"})
WEEK52 = frozenset({"new_high_52w", "new_low_52w"})
MAX_PRICE = Decimal(10_000_000)
MAX_VOLUME = Decimal(10) ** 13


@dataclass(frozen=True, slots=True)
class Session:
    """What a level may depend on in one session: the previous close, the circuit band, the 52-week range."""

    prev_close: Decimal | None = None
    upper: Decimal | None = None
    lower: Decimal | None = None
    high_52w: Decimal | None = None
    low_52w: Decimal | None = None


def level(kind: str, value: Decimal | None, session: Session) -> Decimal | None:
    """The price (or volume) at which `kind` with `value` changes its condition; None when not known yet."""
    if kind in ("price_above", "price_below", "volume_above"):
        return value
    if kind in ("change_pct_above", "change_pct_below"):
        return None if session.prev_close is None else session.prev_close * (HUNDRED + value) / HUNDRED
    if kind == "near_upper_circuit":
        return None if session.upper is None else session.upper * (HUNDRED - value) / HUNDRED
    if kind == "near_lower_circuit":
        return None if session.lower is None else session.lower * (HUNDRED + value) / HUNDRED
    if kind == "new_high_52w":
        return session.high_52w
    return session.low_52w


def holds(kind: str, at: Decimal, metric: Decimal | int) -> bool:
    """Whether the condition of `kind` holds for `metric` (price or volume) against the level `at`."""
    if kind in RISING:
        return metric >= at if kind in INCLUSIVE else metric > at
    return metric <= at if kind in INCLUSIVE else metric < at


def crossed(kind: str, at: Decimal, before: Decimal | int, now: Decimal | int) -> bool:
    """The condition was false at the previous tick and is true at this one: the alert fires."""
    return not holds(kind, at, before) and holds(kind, at, now)


def value_problem(kind: str, value: Decimal | None) -> str | None:
    """Why `value` makes no sense for `kind` (None when it does)."""
    if kind in WEEK52:
        return None if value is None else f"{kind} takes no value"
    if value is None:
        return f"{kind} needs a value"
    if value != value.quantize(Decimal("0.0001")):
        return "at most 4 decimals"
    if kind in ("price_above", "price_below"):
        return None if 0 < value <= MAX_PRICE else f"a price above 0 and at most {MAX_PRICE}"
    if kind in ("change_pct_above", "change_pct_below"):
        return None if -100 < value <= 1000 else "a percent change above -100 and at most 1000"
    if kind == "volume_above":
        if value != value.to_integral_value():
            return "a whole number of shares"
        return None if 0 < value <= MAX_VOLUME else f"a volume above 0 and at most {MAX_VOLUME}"
    return None if 0 <= value <= 100 else "a distance to the circuit limit from 0 to 100 percent"


def instrument_problem(kind: str, instrument_type: str) -> str | None:
    """Why `kind` cannot watch an instrument of this type (None when it can)."""
    if instrument_type == "index" and kind not in INDEX_KINDS:
        return f"{kind} is for stocks only (indices take {', '.join(sorted(INDEX_KINDS))})"
    return None
