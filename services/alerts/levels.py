"""The index's building blocks: one instrument's alerts as sorted parallel arrays per side, the state its
evaluation remembers (last price and volume, the session its levels were priced for), and the gap around the
last price that holds no level (services/alerts/index.py explains how they are used)."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from math import inf, nan

from controller.alerts import rules

SLACK = 1e-9  # float levels are within 1e-15 of the exact ones: windows are widened by this much
SCALE = 4  # values are kept in ten-thousandths (the DECIMAL(20,4) column's exactness)


class Side:
    """One direction's alerts of one instrument, sorted by level."""

    __slots__ = ("levels", "ids", "kinds", "values")

    def __init__(self) -> None:
        self.levels = array("d")
        self.ids = array("q")
        self.kinds = array("b")
        self.values = array("q")

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, level: float, alert_id: int, code: int, value: int) -> None:
        """Insert an alert at its place in the level order."""
        at = bisect_right(self.levels, level)
        self.levels.insert(at, level)
        self.ids.insert(at, alert_id)
        self.kinds.insert(at, code)
        self.values.insert(at, value)

    def find(self, alert_id: int) -> int:
        """The alert's position, or -1."""
        try:
            return self.ids.index(alert_id)
        except ValueError:
            return -1

    def remove(self, alert_id: int) -> bool:
        """Take the alert out (False when it is not here)."""
        at = self.find(alert_id)
        if at < 0:
            return False
        for column in (self.levels, self.ids, self.kinds, self.values):
            column.pop(at)
        return True

    def relevel(self, level_of: Callable[[int, int], float]) -> None:
        """Recompute every level with `level_of(code, value)` and sort again."""
        rows = sorted(
            (level_of(code, value), alert_id, code, value)
            for alert_id, code, value in zip(self.ids, self.kinds, self.values, strict=True)
        )
        self.levels = array("d", (row[0] for row in rows))
        self.ids = array("q", (row[1] for row in rows))
        self.kinds = array("b", (row[2] for row in rows))
        self.values = array("q", (row[3] for row in rows))


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
        "up",
        "down",
        "volume",
        "lo",
        "hi",
        "vol_next",
        "immediate",
    )

    def __init__(self, instrument_type: str, symbol: str, tick: Decimal | None) -> None:
        self.instrument_type = instrument_type
        self.symbol = symbol
        self.tick = tick
        self.session = rules.Session()
        self.week52_day: date | None = None
        self.prev: Decimal | None = None
        self.prev_f = nan
        self.prev_volume = 0
        self.up, self.down, self.volume = Side(), Side(), Side()
        self.lo = self.hi = nan  # the gap around the previous price: nan until computed (every quote is looked at)
        self.vol_next: float = inf
        self.immediate: set[int] | None = None  # fire_if_already alerts to look at with the next quote

    def __len__(self) -> int:
        return len(self.up) + len(self.down) + len(self.volume)

    def side_of(self, kind: str) -> Side:
        """The side an alert of this kind belongs to."""
        if kind in rules.VOLUME:
            return self.volume
        return self.up if kind in rules.RISING else self.down

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
        for side in (self.up, self.down):
            if len(side):
                side.relevel(self.level_f)
        self.regap()

    def regap(self) -> None:
        """The gap (lo, hi) around the previous price that holds no level of either price side, shrunk by the
        slack so that a quote strictly inside it has no level between it and the previous price; and the next
        volume level at or above the previous volume."""
        price = self.prev_f
        low_key, high_key = price * (1 - SLACK), price * (1 + SLACK)
        lo, hi = -inf, inf
        for side in (self.up, self.down):
            levels = side.levels
            if not levels:
                continue
            start, end = bisect_left(levels, low_key), bisect_right(levels, high_key)
            if end > start:  # the price sits on a level: look at every quote until it leaves it
                lo = hi = price
                break
            if start and levels[start - 1] > lo:
                lo = levels[start - 1]
            if end < len(levels) and levels[end] < hi:
                hi = levels[end]
        else:
            lo, hi = lo / (1 - SLACK), hi / (1 + SLACK)
        self.lo, self.hi = lo, hi
        volumes = self.volume.levels
        at = bisect_left(volumes, self.prev_volume)
        self.vol_next = volumes[at] if at < len(volumes) else inf


def value_of(kind: str, scaled: int) -> Decimal | None:
    """An alert's exact value from the index's ten-thousandths (None for the 52-week kinds)."""
    return None if kind in rules.WEEK52 else Decimal(scaled).scaleb(-SCALE)
