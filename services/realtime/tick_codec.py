"""Tick batches on the wire between processes (services/realtime/tick_bus_redis.py): compact text, exact prices.

A message is the publishing process's id, a space, then records split by RS (0x1E): the batch's kind, its
publication time, then one record per quote with its fields split by US (0x1F): symbol, last price, the day's
reference prices (previous close, open, high, low: one field, comma-separated), volume, time, source. Prices
travel as their decimal text, so they arrive exactly as published (`Decimal("3500.0000")` stays four places).

At 10,000 instruments a process decodes 10,000 quotes a second. A quote's reference prices rarely change within
a day, so a decoder keeps each instrument's last reference field and its Decimals, and parses them again only
when the text differs: one Decimal per quote instead of five (docs/BENCHMARKS.md, tick bus). Decoding 10,000 quotes
takes ~20 ms, so a decoder pauses after every 10 ms of work (`HeldPauses`), as the simulator does: requests wait
behind one chunk, not the batch.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from services.market.live_price_cache import Quote
from services.platform.green import HeldPauses
from services.realtime.tick_bus import Kind, TickBatch

RS, US = "\x1e", "\x1f"
_KINDS: tuple[Kind, ...] = ("stocks", "indices")
Malformed = (ValueError, KeyError, TypeError, ArithmeticError)  # what decoding a foreign or corrupt message raises
_Reference = tuple[Decimal, Decimal, Decimal, Decimal]
_CHECK_EVERY = 500  # records between two looks at the clock


def encode(batch: TickBatch, origin: str) -> bytes:
    """`batch` as one message from process `origin` (an id without spaces)."""
    times: dict[datetime, str] = {}  # a batch's quotes mostly share one timestamp: format it once
    records = [origin + " " + batch.kind, batch.published_at.isoformat()]
    for q in batch.quotes:
        reference = ",".join((str(q.prev_close), str(q.day_open), str(q.day_high), str(q.day_low)))
        as_of = times.get(q.as_of) or times.setdefault(q.as_of, q.as_of.isoformat())
        records.append(US.join((q.symbol, str(q.ltp), reference, str(q.volume), as_of, q.source)))
    return RS.join(records).encode()


class Decoder:
    """Decodes one process's view of the channel; remembers each instrument's reference prices by their text."""

    def __init__(self) -> None:
        self._reference: dict[Kind, dict[str, tuple[str, _Reference]]] = {kind: {} for kind in _KINDS}

    def decode(self, message: bytes) -> tuple[str, TickBatch]:
        """(origin, batch) of a message made by `encode`; raises one of `Malformed` for anything else."""
        head, published_at, *records = message.decode().split(RS)
        origin, kind = head.split(" ")
        known = self._reference[kind]  # type: ignore[index]
        times: dict[str, datetime] = {}
        quotes = []
        pauses = HeldPauses()
        for n, record in enumerate(records, 1):
            if not n % _CHECK_EVERY:
                pauses.check()
            symbol, ltp, reference, volume, as_of, source = record.split(US)
            kept = known.get(symbol)
            if kept is None or kept[0] != reference:
                prev_close, day_open, day_high, day_low = map(Decimal, reference.split(","))
                kept = known[symbol] = (reference, (prev_close, day_open, day_high, day_low))
            prev_close, day_open, day_high, day_low = kept[1]
            at = times.get(as_of) or times.setdefault(as_of, datetime.fromisoformat(as_of))
            quotes.append(Quote(symbol, Decimal(ltp), prev_close, day_open, day_high, day_low, int(volume), at, source))
        return origin, TickBatch(kind, tuple(quotes), datetime.fromisoformat(published_at))  # type: ignore[arg-type]
