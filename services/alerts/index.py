"""The in-memory alert index: per instrument, the active alerts' levels in sorted arrays, evaluated per tick batch.

An instrument has three sides: alerts that fire as the price rises through their level (`up`), as it falls
(`down`), and as the session's volume rises (`volume`). Each side is a run of three parallel arrays, sorted by
level: the level as a float, the alert id, and the kind (a small int) packed with the value in ten-thousandths
(exact), 24 bytes an alert (services/alerts/levels.py). Percent levels (change and circuit proximity) are turned
into prices when the instrument's session starts (a quote with a new previous close), 52-week levels when the
engine loads the day's range.

A quote costs a comparison with the gap between the levels around the previous price (and the next volume
level): while the price stays in that gap nothing can fire. When it leaves the gap, bisection finds the levels
between the previous price and this one, and each is confirmed with the exact Decimal rules of
controller/alerts/rules.py (float levels are within 1e-15 of the exact ones; windows are widened by 1e-9 so no
crossing is missed). A batch costs time proportional to its quotes and to the alerts that fire, not to the
alerts held. Not thread-safe: the engine holds its lock around every call.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from controller.alerts import rules
from services.alerts.levels import DOWN, SCALE, SLACK, UP, VOLUME, InstrumentAlerts, side_of, value_of
from services.market.live_price_cache import Quote
from utils.quote_format import circuit_limits
from utils.timeutil import IST

KIND_CODES = {kind: code for code, kind in enumerate(rules.KINDS)}
BOOKS = {"stock": "stocks", "index": "indices"}  # instrument type -> the tick batch kind that carries it


@dataclass(frozen=True, slots=True)
class Entry:
    """What the index keeps of one active alert."""

    alert_id: int
    instrument_type: str
    symbol: str
    kind: str
    value: Decimal | None
    fire_if_already: bool = False
    times_triggered: int = 0


@dataclass(frozen=True, slots=True)
class Candidate:
    """An alert a quote made fire (the database still decides whether it may: controller/alerts/firing.py)."""

    alert_id: int
    instrument_type: str
    symbol: str
    kind: str
    value: Decimal | None
    level: Decimal  # the exact level it crossed
    metric: Decimal | int  # the price (or volume) that crossed it
    price: Decimal  # the last price at the tick
    as_of: datetime


class AlertIndex:
    """Every active alert of every instrument, evaluated per tick batch."""

    def __init__(self, band_percent: Decimal) -> None:
        self.band_percent = band_percent
        self._books: dict[str, dict[str, InstrumentAlerts]] = {"stocks": {}, "indices": {}}
        self._week52: dict[str, int] = {}  # stock symbol -> how many 52-week alerts it has
        self.size = 0

    # --- instruments ---------------------------------------------------------------------------------------

    def knows(self, instrument_type: str, symbol: str) -> bool:
        """Whether the instrument has alerts here (and so a remembered price)."""
        return symbol in self._books[BOOKS[instrument_type]]

    def open_instrument(
        self,
        instrument_type: str,
        symbol: str,
        ltp: Decimal | None,
        prev_close: Decimal | None,
        volume: int = 0,
        tick: Decimal | None = None,
    ) -> None:
        """Start watching an instrument from its current (live or snapshot) price; no-op when already watched."""
        book = self._books[BOOKS[instrument_type]]
        if symbol in book:
            return
        ins = InstrumentAlerts(instrument_type, symbol, tick)
        book[ins.symbol] = ins  # the symbol as interned: one string for the key, the instrument and the snapshot
        ins.prev, ins.prev_f, ins.prev_volume = ltp, (float("nan") if ltp is None else float(ltp)), volume
        if prev_close is not None:
            self._start_session(ins, prev_close, None)

    def _start_session(self, ins: InstrumentAlerts, prev_close: Decimal, as_of: datetime | None) -> None:
        """A quote with a new previous close: the levels that follow the previous close move (the volume restarts on
        its own: a volume lower than the last one is counted from 0)."""
        upper = lower = None
        if ins.tick is not None:
            upper, lower = circuit_limits(prev_close, self.band_percent, ins.tick)
        session = rules.Session(prev_close, upper, lower, ins.session.high_52w, ins.session.low_52w)
        if as_of is not None and ins.week52_day != as_of.astimezone(IST).date():
            session = replace(session, high_52w=None, low_52w=None)  # the engine loads the new day's range
            ins.week52_day = None
        ins.session = session
        ins.relevel()

    def set_week52(self, symbol: str, day: date, high: Decimal | None, low: Decimal | None) -> None:
        """The highest high and lowest low of the 250 sessions before `day`, for the stock's 52-week alerts."""
        ins = self._books["stocks"].get(symbol)
        if ins is None:
            return
        ins.week52_day = day
        ins.session = replace(ins.session, high_52w=high, low_52w=low)
        ins.relevel()

    def symbols(self, book_name: str, volume_only: bool = False) -> list[str]:
        """The instruments of one book ("stocks" or "indices") that have alerts (only volume alerts: `volume_only`)."""
        book = self._books[book_name]
        return [symbol for symbol, ins in book.items() if not volume_only or ins.count(VOLUME)]

    def week52_wanted(self, day: date) -> list[str]:
        """Stocks with 52-week alerts whose range for `day` is not loaded."""
        stocks = self._books["stocks"]
        return [s for s in self._week52 if s in stocks and stocks[s].week52_day != day]

    # --- alerts --------------------------------------------------------------------------------------------

    def add(self, entry: Entry) -> None:
        """Add (or replace) an alert; its instrument must be open. A fire_if_already alert whose condition holds
        now (or whose instrument has no price yet) is looked at with the next quote."""
        ins = self._books[BOOKS[entry.instrument_type]][entry.symbol]
        self._drop(ins, entry.alert_id)
        code = KIND_CODES[entry.kind]
        scaled = 0 if entry.value is None else int(entry.value.scaleb(SCALE))
        ins.add(side_of(entry.kind), ins.level_f(code, scaled), entry.alert_id, code, scaled)
        self.size += 1
        if entry.kind in rules.WEEK52:
            self._week52[entry.symbol] = self._week52.get(entry.symbol, 0) + 1
        if entry.fire_if_already and entry.times_triggered == 0:
            metric = ins.prev_volume if entry.kind in rules.VOLUME else ins.prev
            at = rules.level(entry.kind, entry.value, ins.session)
            if metric is None or (at is not None and rules.holds(entry.kind, at, metric)):
                ins.immediate = (ins.immediate or set()) | {entry.alert_id}
        ins.regap()

    def remove(self, instrument_type: str, symbol: str, alert_id: int) -> bool:
        """Drop an alert (False when it was not here); an instrument left without alerts is forgotten."""
        book = self._books[BOOKS[instrument_type]]
        ins = book.get(symbol)
        if ins is None or not self._drop(ins, alert_id):
            return False
        if len(ins):
            ins.regap()
        else:
            del book[symbol]
        return True

    def _drop(self, ins: InstrumentAlerts, alert_id: int) -> bool:
        at = ins.find(alert_id)
        if at < 0:
            return False
        if ins.kind_at(at)[0] in rules.WEEK52:
            left = self._week52[ins.symbol] - 1
            if left:
                self._week52[ins.symbol] = left
            else:
                del self._week52[ins.symbol]
        ins.remove_at(at)
        self.size -= 1
        if ins.immediate is not None:
            ins.immediate.discard(alert_id)
            ins.immediate = ins.immediate or None
        return True

    # --- evaluation ----------------------------------------------------------------------------------------

    def evaluate(self, book_name: str, quotes: Iterable[Quote]) -> list[Candidate]:
        """The alerts these quotes (of one tick batch kind: "stocks" or "indices") make fire, in quote order."""
        book = self._books[book_name]
        found: list[Candidate] = []
        for quote in quotes:
            ins = book.get(quote.symbol)
            if ins is None:
                continue
            if quote.prev_close != ins.session.prev_close:
                self._start_session(ins, quote.prev_close, quote.as_of)
            ltp_f = float(quote.ltp)
            volume = quote.volume
            if ins.lo < ltp_f < ins.hi and ins.prev_volume <= volume <= ins.vol_next and ins.immediate is None:
                ins.prev, ins.prev_f, ins.prev_volume = quote.ltp, ltp_f, volume
                continue
            self._look(ins, quote, ltp_f, found)
        return found

    def _look(self, ins: InstrumentAlerts, quote: Quote, ltp_f: float, found: list[Candidate]) -> None:
        """The quote left the gap around the previous price: confirm the levels it passed, then move the gap."""
        first = len(found)
        ltp, prev = quote.ltp, ins.prev
        if prev is not None and ltp_f > ins.prev_f:
            self._confirm(ins, UP, ins.prev_f * (1 - SLACK), ltp_f * (1 + SLACK), prev, ltp, quote, found)
        elif prev is not None and ltp_f < ins.prev_f:
            self._confirm(ins, DOWN, ltp_f * (1 - SLACK), ins.prev_f * (1 + SLACK), prev, ltp, quote, found)
        volume = quote.volume
        before = ins.prev_volume if volume >= ins.prev_volume else 0  # less volume than before: a new session
        if volume > before and ins.count(VOLUME):
            self._confirm(ins, VOLUME, float(before), float(volume), before, volume, quote, found)
        if ins.immediate is not None:
            fired = {candidate.alert_id for candidate in found[first:]}
            for alert_id in ins.immediate - fired:
                self._immediate(ins, alert_id, quote, found)
            ins.immediate = None
        ins.prev, ins.prev_f, ins.prev_volume = ltp, ltp_f, volume
        ins.regap()

    def _confirm(
        self,
        ins: InstrumentAlerts,
        side: int,
        low: float,
        high: float,
        before: Decimal | int,
        now: Decimal | int,
        quote: Quote,
        found: list[Candidate],
    ) -> None:
        levels, (first, last) = ins.levels, ins.span(side)
        for at in range(bisect_left(levels, low, first, last), bisect_right(levels, high, first, last)):
            kind, scaled = ins.kind_at(at)
            value = value_of(kind, scaled)
            exact = rules.level(kind, value, ins.session)
            if exact is not None and rules.crossed(kind, exact, before, now):
                found.append(
                    Candidate(
                        ins.ids[at], ins.instrument_type, ins.symbol, kind, value, exact, now, quote.ltp, quote.as_of
                    )
                )

    def _immediate(self, ins: InstrumentAlerts, alert_id: int, quote: Quote, found: list[Candidate]) -> None:
        """A fire_if_already alert fires on the first quote after it was added if its condition holds then."""
        at = ins.find(alert_id)
        if at < 0:
            return
        kind, scaled = ins.kind_at(at)
        value = value_of(kind, scaled)
        exact = rules.level(kind, value, ins.session)
        metric = quote.volume if kind in rules.VOLUME else quote.ltp
        if exact is not None and rules.holds(kind, exact, metric):
            found.append(
                Candidate(alert_id, ins.instrument_type, ins.symbol, kind, value, exact, metric, quote.ltp, quote.as_of)
            )
