"""The writer's tick subscriber: latest quotes and 1-minute candles, persisted in batches.

Ticks are conflated in memory (the latest quote per instrument, the running bar per instrument and
minute) and flushed by the `quote_writer` job in one transaction: one multi-row upsert for the
stock quotes, one for the index quotes, one per candle table. A minute bar keeps its first price
as open, widens high/low, moves close, and its volume is the cumulative volume's growth since the
minute began. When the day changes, the previous day's daily candles are written from the snapshot first
(exact end-of-day values, also in a simulated session where there is no "closed" phase), if that day was an
exchange trading day: a simulated weekend or holiday session writes its minute bars but no daily candle.

The writers of the snapshot and candle tables (a flush, and the end-of-day job under `exclusive()`) run one at a
time: they lock the same stock_quotes rows in different orders (a flush in the order the quotes arrived; the
end-of-day job in primary-key order, first with the shared locks of an INSERT ... SELECT, then with an UPDATE),
and together they deadlocked (MariaDB 1213, seen at boot, when the start-up refresh and the end-of-day job run).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic

from backend import db
from controller.market import candles, quotes
from services.market.live_price_cache import Quote
from services.market_data.universe import Universe
from services.platform.cpu_time import GreenCpu
from services.platform.green import pause
from services.realtime.tick_bus import TickBatch
from utils import metrics
from utils.timeutil import IST, now_utc, to_db

_QUOTES_BETWEEN_PAUSES = 2000  # a tick batch's quotes taken between two pauses
_ROWS_BETWEEN_PAUSES = 1000  # a flush of 10,000 quotes lets other green threads run while it builds its rows
LAG_LIMIT_INTERVALS = 3  # /healthz reports the writer not ok once its oldest unwritten quote is older than this


@dataclass(slots=True)
class _Bar:
    minute: datetime  # naive UTC minute start
    open: object
    high: object
    low: object
    close: object
    base_volume: int
    volume: int
    written: bool = False  # by a final flush while its minute ran: dirty again at its next tick

    def move(self, quote: Quote) -> None:
        """A later quote of this bar's minute: widen high/low, move close, the volume grown since the minute began."""
        ltp = quote.ltp
        if ltp > self.high:
            self.high = ltp
        elif ltp < self.low:
            self.low = ltp
        self.close = ltp
        volume = quote.volume - self.base_volume
        self.volume = volume if volume > 0 else 0


@dataclass(frozen=True)
class FlushReport:
    """What one flush wrote."""

    stock_quotes: int = 0
    index_quotes: int = 0
    stock_bars: int = 0
    index_bars: int = 0
    daily_candles_for: date | None = None


@dataclass
class WriterStats:
    """How the writer keeps up: flush times (monotonic), durations and lags of the last successful flush."""

    last_flush_at: float | None = None
    last_flush_s: float = 0.0
    last_flush_cpu_s: float = 0.0
    last_lag_s: float = 0.0  # how long the oldest quote of the last flush waited to be written
    flushes: int = 0
    failures: int = 0


def ist_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) IST of `day` as naive UTC datetimes."""
    start = datetime.combine(day, time(0), tzinfo=IST)
    return to_db(start), to_db(start + timedelta(days=1))


class TickWriter:
    """Collects ticks (subscribe `on_batch` to the bus) and persists them on `flush()`."""

    def __init__(self, loader: Callable[[], Universe], is_trading_day: Callable[[date], bool]) -> None:
        self._loader = loader
        self._is_trading_day = is_trading_day
        self._lock = threading.Lock()  # guards the collected ticks
        self._writing = threading.Lock()  # one writer of the snapshot and candle tables at a time
        self._quotes: dict[str, dict[str, Quote]] = {"stocks": {}, "indices": {}}
        self._bars: dict[str, dict[str, _Bar]] = {"stocks": {}, "indices": {}}
        self._dirty: dict[str, dict[tuple[str, datetime], _Bar]] = {"stocks": {}, "indices": {}}
        self._ids: dict[str, dict[str, int]] | None = None
        self._day: date | None = None
        self._oldest: float | None = None  # when the oldest quote not yet written arrived (monotonic)
        self.stats = WriterStats()

    def on_batch(self, batch: TickBatch) -> None:
        """Tick-bus subscriber: remember the latest quote and update the running minute bar."""
        minutes, quotes = _Memo(_db_minute), batch.quotes
        latest, bars, dirty = self._quotes[batch.kind], self._bars[batch.kind], self._dirty[batch.kind]
        for start in range(0, len(quotes), _QUOTES_BETWEEN_PAUSES):
            if start:  # a batch of 10,000 quotes held the event loop ~15 ms: other green threads run between chunks
                pause()
            self._take(quotes[start : start + _QUOTES_BETWEEN_PAUSES], latest, bars, dirty, minutes)

    def _take(self, quotes: tuple[Quote, ...], latest: dict, bars: dict, dirty: dict, minutes: _Memo) -> None:
        """Keep these quotes where they are newer and move their minute bars on."""
        with self._lock:
            taken = len(latest)
            for quote in quotes:
                symbol, as_of = quote.symbol, quote.as_of
                current = latest.get(symbol)
                if current is not None and as_of <= current.as_of:
                    continue
                latest[symbol] = quote
                minute = minutes[as_of]
                bar = bars.get(symbol)
                if bar is not None and bar.minute == minute:
                    bar.move(quote)  # still dirty (a minute's bar is written once the minute has ended), unless:
                    if bar.written:
                        bar.written = False
                        dirty[(symbol, minute)] = bar
                else:
                    bars[symbol] = dirty[(symbol, minute)] = _next_bar(bar, quote, minute)
            if self._oldest is None and len(latest) > taken:  # the first quote waiting since the last flush
                self._oldest = monotonic()

    def flush(self, final: bool = False) -> FlushReport:
        """Persist what arrived since the last flush, in one transaction.

        Minute bars are written once their minute has ended (the live cache serves the current one),
        so each bar costs one row a minute however often the writer runs; `final` writes them all. A flush
        runs under `exclusive()`: two concurrent flushes (the scheduled one and the start-up refresh's) would
        deadlock on the same rows, and the loser's minute bars would be lost.
        """
        with self._writing:
            started = monotonic()
            with self._lock:
                oldest, self._oldest = self._oldest, None
            try:
                with GreenCpu() as cpu:
                    report = self._flush(final)
            except BaseException:
                with self._lock:  # its quotes are gone, but the lag goes on counting from the oldest of them
                    if oldest is not None:
                        self._oldest = oldest if self._oldest is None else min(oldest, self._oldest)
                self.stats.failures += 1
                raise
            self._record(started, cpu.seconds, oldest)
            return report

    def _record(self, started: float, cpu_s: float, oldest: float | None) -> None:
        now = monotonic()
        stats = self.stats
        stats.last_flush_at, stats.last_flush_s, stats.last_flush_cpu_s = now, now - started, cpu_s
        stats.last_lag_s = 0.0 if oldest is None else now - oldest
        stats.flushes += 1
        metrics.QUOTE_WRITER_FLUSH_SECONDS.observe(stats.last_flush_s)
        metrics.QUOTE_WRITER_FLUSH_CPU_SECONDS.observe(cpu_s)
        metrics.QUOTE_WRITER_LAG_SECONDS.set(stats.last_lag_s)
        metrics.QUOTE_WRITER_LAST_FLUSH.set(now_utc().timestamp())
        if oldest is not None:
            metrics.QUOTE_WRITER_FLUSH_LAG_SECONDS.observe(stats.last_lag_s)

    def pending_age_s(self) -> float:
        """How long the oldest quote not yet written has waited (0 when every quote is written)."""
        with self._lock:
            oldest = self._oldest
        return 0.0 if oldest is None else monotonic() - oldest

    def health(self, interval_s: float) -> dict:
        """The /healthz `writer` check: ok while no quote has waited more than LAG_LIMIT_INTERVALS intervals."""
        stats, now = self.stats, monotonic()
        lag = self.pending_age_s()
        return {
            "ok": lag <= LAG_LIMIT_INTERVALS * interval_s,
            "interval_s": interval_s,
            "lag_s": round(lag, 3),
            "lag_limit_s": LAG_LIMIT_INTERVALS * interval_s,
            "last_flush_lag_s": round(stats.last_lag_s, 3),
            "since_last_flush_s": None if stats.last_flush_at is None else round(now - stats.last_flush_at, 3),
            "last_flush_s": round(stats.last_flush_s, 4),
            "last_flush_cpu_s": round(stats.last_flush_cpu_s, 4),
            "flushes": stats.flushes,
            "failures": stats.failures,
        }

    def exclusive(self) -> AbstractContextManager[bool]:
        """Hold while writing the snapshot or candle tables outside a flush: no flush runs meanwhile."""
        return self._writing

    def _flush(self, final: bool) -> FlushReport:
        with self._lock:
            pending = {kind: dict(q) for kind, q in self._quotes.items()}
            bars = {kind: self._take_bars(kind, final) for kind in self._dirty}
            for kind in self._quotes:
                self._quotes[kind].clear()
        if not any(pending.values()) and not any(bars.values()):
            return FlushReport()
        ids = self._instrument_ids()
        stock_rows, stock_ids, times = [], ids["stocks"], _Memo(to_db)
        for n, (s, q) in enumerate(pending["stocks"].items(), 1):
            if s in stock_ids:
                row = (stock_ids[s], q.ltp, q.prev_close, q.day_open, q.day_high, q.day_low, q.volume, times[q.as_of])
                stock_rows.append((*row, q.source))
            if n % _ROWS_BETWEEN_PAUSES == 0:
                pause()
        index_rows = [
            (ids["indices"][n], q.ltp, q.prev_close, q.day_open, q.day_high, q.day_low, to_db(q.as_of), q.source)
            for n, q in pending["indices"].items()
            if n in ids["indices"]
        ]
        stock_bars = [(ids["stocks"][s], m, *ohlcv) for (s, m), ohlcv in bars["stocks"] if s in ids["stocks"]]
        index_bars = [(ids["indices"][n], m, *ohlcv[:4]) for (n, m), ohlcv in bars["indices"] if n in ids["indices"]]
        finished_day = self._finished_day(pending["stocks"].values())
        with db.transaction() as conn:
            if finished_day is not None:
                candles.write_daily_candles_from_quotes(conn, *ist_day_bounds(finished_day))
            quotes.upsert_live_stock_quotes(conn, stock_rows, pause)
            quotes.upsert_live_index_quotes(conn, index_rows, pause)
            candles.upsert_minute_stock_candles(conn, stock_bars, pause)
            candles.upsert_minute_index_candles(conn, index_bars, pause)
        return FlushReport(len(stock_rows), len(index_rows), len(stock_bars), len(index_bars), finished_day)

    def _take_bars(self, kind: str, final: bool) -> list[tuple[tuple[str, datetime], tuple]]:
        """Remove and return the dirty bars whose minute ended (all of them when `final`: a running bar is marked
        written, and its minute's next tick makes it dirty again)."""
        dirty, running = self._dirty[kind], self._bars[kind]
        taken = []
        for key, bar in dirty.items():
            if running[key[0]] is bar:  # its minute is running
                if not final:
                    continue
                bar.written = True
            taken.append((key, (bar.open, bar.high, bar.low, bar.close, bar.volume)))
        for key, _ in taken:
            del dirty[key]
        return taken

    def _finished_day(self, pending: Iterable[Quote]) -> date | None:
        """The day that ended when these quotes begin a new one, if the exchange traded on it (None otherwise)."""
        newest = max((q.as_of for q in pending), default=None)
        if newest is None:
            return None
        day = newest.astimezone(IST).date()
        previous, self._day = self._day, day
        ended = previous is not None and day > previous
        return previous if ended and self._is_trading_day(previous) else None

    def _instrument_ids(self) -> dict[str, dict[str, int]]:
        if self._ids is None:
            universe = self._loader()
            self._ids = {
                "stocks": {s.symbol: s.stock_id for s in universe.stocks},
                "indices": {i.name: i.index_id for i in universe.indices},
            }
        return self._ids


class _Memo(dict):
    """`convert(key)`, computed once per key: a batch's quotes share a few timestamps."""

    def __init__(self, convert: Callable[[datetime], datetime]) -> None:
        super().__init__()
        self._convert = convert

    def __missing__(self, key: datetime) -> datetime:
        self[key] = value = self._convert(key)
        return value


def _db_minute(as_of: datetime) -> datetime:
    return to_db(as_of).replace(second=0, microsecond=0)


def _next_bar(bar: _Bar | None, quote: Quote, minute: datetime) -> _Bar:
    """The bar of a new minute (naive UTC), begun by `quote`; `bar` is the instrument's last one (None: none yet)."""
    if bar is None:
        base = quote.volume  # joined mid-minute: count volume from here on
    else:
        last_cumulative = bar.base_volume + bar.volume
        base = last_cumulative if quote.volume >= last_cumulative else 0  # a smaller total is a new day
    return _Bar(minute, quote.ltp, quote.ltp, quote.ltp, quote.ltp, base, quote.volume - base)
