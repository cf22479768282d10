"""A deterministic tick stream for benchmarks: every process computes the same prices for the same time slot.

The realtime simulator (issue 4) is not wired yet, so the benchmark server runs this feeder in each worker
process: it updates the live-price cache and runs the order matcher, as the tick bus will. Because prices
are a pure function of (symbol, slot), several workers see identical ticks, like processes behind a
shared tick bus, and race to fill the same orders.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from decimal import Decimal

from controller.market.instruments import Instrument
from services.market.live_price_cache import Quote

MAX_DRIFT = Decimal("0.04")  # stay within 4 % of the previous close (well inside the 20 % band)


class TickFeeder:
    """Random-walk prices of a set of instruments, one step per `interval_s` slot."""

    def __init__(self, instruments: list[Instrument], interval_s: float, origin_slot: int) -> None:
        self.instruments = instruments
        self.interval_s = interval_s
        self.slot = origin_slot
        self.prices = {i.symbol: i.prev_close for i in instruments}

    @staticmethod
    def current_slot(interval_s: float) -> int:
        """The slot number of now."""
        return int(time.time() / interval_s)

    def advance(self, slot: int) -> dict[str, Decimal]:
        """Walk every price up to `slot` (same result in every process) and return the prices."""
        while self.slot < slot:
            self.slot += 1
            for inst in self.instruments:
                step = random.Random(f"{inst.symbol}:{self.slot}").choice((-2, -1, 0, 1, 2)) * inst.tick_size
                low, high = inst.prev_close * (1 - MAX_DRIFT), inst.prev_close * (1 + MAX_DRIFT)
                self.prices[inst.symbol] = min(high, max(low, self.prices[inst.symbol] + step))
        return self.prices

    def quotes(self) -> list[Quote]:
        """Quotes of every instrument for the current slot, stamped now."""
        prices = self.advance(self.current_slot(self.interval_s))
        now = datetime.now(UTC)
        return [
            Quote(
                i.symbol,
                prices[i.symbol],
                i.prev_close,
                i.prev_close,
                max(prices[i.symbol], i.prev_close),
                min(prices[i.symbol], i.prev_close),
                100_000,
                now,
            )
            for i in self.instruments
        ]
