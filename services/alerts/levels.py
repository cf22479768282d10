"""The index's building blocks: one instrument's alerts as three sorted runs (sides) of parallel arrays, the state
its evaluation remembers (last price and volume, the session its levels were priced for), and the gap around the
last price that holds no level (services/alerts/index.py explains how they are used).

An instrument keeps three arrays for all its alerts, whatever their sides: the level as a float, the alert id, and
the kind and exact value packed in one integer (`value * 16 + kind code`). The `up` side's alerts come first, then
the `down` side's, then the `volume` side's, each run sorted by level; two counts say where the runs end. Three
arrays per instrument instead of four per side and a side object each: at 10,000 instruments the index's fixed cost
was most of its memory (docs/BENCHMARKS.md, memory of a web worker).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from math import inf, nan

from controller.alerts import rules
from utils.interning import shared

SLACK = 1e-9  # float levels are within 1e-15 of the exact ones: windows are widened by this much
SCALE = 4  # values are kept in ten-thousandths (the DECIMAL(20,4) column's exactness)
UP, DOWN, VOLUME = 0, 1, 2  # the sides: fire as the price rises, as it falls, as the session's volume rises
_CODE_BITS = 4  # kind codes (< 16) in the low bits of a packed value; values up to 10**17 leave room for them
_CODE_MASK = (1 << _CODE_BITS) - 1


def side_of(kind: str) -> int:
    """The side an alert of this kind belongs to."""
    if kind in rules.VOLUME:
        return VOLUME
    return UP if kind in rules.RISING else DOWN


def pack(code: int, scaled: int) -> int:
    """A kind code and a value in ten-thousandths as one integer."""
    return (scaled << _CODE_BITS) | code


def unpack(packed: int) -> tuple[int, int]:
    """(kind code, value in ten-thousandths) of a packed integer."""
    return packed & _CODE_MASK, packed >> _CODE_BITS


class InstrumentAlerts:
    """One instrument's alerts and what the evaluation remembers of its last quote."""

    __slots__ = (
        "instrument_type",
        "symbol",
        "tick",
        "session",
        "week52_day",
        "prev",
        "prev_f",
        "prev_volume",
        "levels",
        "ids",
        "packed",
        "n_up",
        "n_down",
        "lo",
        "hi",
        "vol_next",
        "immediate",
    )

    def __init__(self, instrument_type: str, symbol: str, tick: Decimal | None) -> None:
        self.instrument_type = shared(instrument_type)
        self.symbol = shared(symbol)
        self.tick = None if tick is None else shared(tick)
        self.session = rules.Session()
        self.week52_day: date | None = None
        self.prev: Decimal | None = None
        self.prev_f = nan
        self.prev_volume = 0
        self.levels = array("d")
        self.ids = array("q")
        self.packed = array("q")
        self.n_up = self.n_down = 0
        self.lo = self.hi = nan  # the gap around the previous price: nan until computed (every quote is looked at)
        self.vol_next: float = inf
        self.immediate: set[int] | None = None  # fire_if_already alerts to look at with the next quote

    def __len__(self) -> int:
        return len(self.ids)

    def span(self, side: int) -> tuple[int, int]:
        """Where a side's run of alerts starts and ends in the arrays."""
        if side == UP:
            return 0, self.n_up
        if side == DOWN:
            return self.n_up, self.n_up + self.n_down
        return self.n_up + self.n_down, len(self.ids)

    def count(self, side: int) -> int:
        """How many alerts a side holds."""
        start, end = self.span(side)
        return end - start

    def kind_at(self, at: int) -> tuple[str, int]:
        """(kind, value in ten-thousandths) of the alert at a position."""
        code, scaled = unpack(self.packed[at])
        return rules.KINDS[code], scaled

    def add(self, side: int, level: float, alert_id: int, code: int, scaled: int) -> None:
        """Insert an alert at its place in its side's level order."""
        start, end = self.span(side)
        at = bisect_right(self.levels, level, start, end)
        self.levels.insert(at, level)
        self.ids.insert(at, alert_id)
        self.packed.insert(at, pack(code, scaled))
        if side == UP:
            self.n_up += 1
        elif side == DOWN:
            self.n_down += 1

    def find(self, alert_id: int) -> int:
        """The alert's position, or -1."""
        try:
            return self.ids.index(alert_id)
        except ValueError:
            return -1

    def remove_at(self, at: int) -> None:
        """Take out the alert at a position."""
        if at < self.n_up:
            self.n_up -= 1
        elif at < self.n_up + self.n_down:
            self.n_down -= 1
        for column in (self.levels, self.ids, self.packed):
            column.pop(at)

    def level_f(self, code: int, scaled: int) -> float:
        """An alert's level as a float (computed in floats: the exact check comes later); out of reach when unknown."""
        kind = rules.KINDS[code]
        session = self.session
        value = scaled / 10**SCALE
        if kind in ("price_above", "price_below", "volume_above"):
            return value
        if kind in ("change_pct_above", "change_pct_below"):
            base, factor = session.prev_close, (100 + value) / 100
        elif kind == "near_upper_circuit":
            base, factor = session.upper, (100 - value) / 100
        elif kind == "near_lower_circuit":
            base, factor = session.lower, (100 + value) / 100
        else:
            base, factor = (session.high_52w if kind == "new_high_52w" else session.low_52w), 1.0
        if base is None:
            return inf if kind in rules.RISING else -inf
        return float(base) * factor

    def relevel(self) -> None:
        """Recompute the price sides' levels from the session (previous close, band, 52-week range)."""
        if self.n_up + self.n_down:
            self._relevel(self.level_f)
        self.regap()

    def _relevel(self, level_of: Callable[[int, int], float]) -> None:
        """Recompute every price level with `level_of(code, scaled)` and sort each price side again."""
        runs = []
        for side in (UP, DOWN):
            start, end = self.span(side)
            runs += sorted(
                (level_of(*unpack(packed)), alert_id, packed)
                for alert_id, packed in zip(self.ids[start:end], self.packed[start:end], strict=True)
            )
        priced = self.n_up + self.n_down
        self.levels[:priced] = array("d", (row[0] for row in runs))
        self.ids[:priced] = array("q", (row[1] for row in runs))
        self.packed[:priced] = array("q", (row[2] for row in runs))

    def regap(self) -> None:
        """The gap (lo, hi) around the previous price that holds no level of either price side, shrunk by the
        slack so that a quote strictly inside it has no level between it and the previous price; and the next
        volume level at or above the previous volume."""
        price = self.prev_f
        low_key, high_key = price * (1 - SLACK), price * (1 + SLACK)
        lo, hi = -inf, inf
        levels = self.levels
        for side in (UP, DOWN):
            first, last = self.span(side)
            if first == last:
                continue
            start, end = bisect_left(levels, low_key, first, last), bisect_right(levels, high_key, first, last)
            if end > start:  # the price sits on a level: look at every quote until it leaves it
                lo = hi = price
                break
            if start > first and levels[start - 1] > lo:
                lo = levels[start - 1]
            if end < last and levels[end] < hi:
                hi = levels[end]
        else:
            lo, hi = lo / (1 - SLACK), hi / (1 + SLACK)
        self.lo, self.hi = lo, hi
        first, last = self.span(VOLUME)
        at = bisect_left(levels, self.prev_volume, first, last)
        self.vol_next = levels[at] if at < last else inf


def value_of(kind: str, scaled: int) -> Decimal | None:
    """An alert's exact value from the index's ten-thousandths (None for the 52-week kinds)."""
    return None if kind in rules.WEEK52 else Decimal(scaled).scaleb(-SCALE)
