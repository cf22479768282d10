"""Movers and sector performance while a live feed runs, kept in memory so a recompute does not sort the universe.

Each process keeps, per exchange, every active stock's effective numbers (its fresh live quote, else its database
snapshot row: the rule of `services.market.live_overlay`) in buckets of the movers rankings (`utils.bucket_rank`: by
change and by volume from the start, by change from the open and by traded value once first asked for) and in
running per-sector sums. The tick path only notes each stock's latest quote (a dict store per quote, in the live
cache's listener); a recompute files what was noted until it began, 256 quotes at a time with a pause between chunks
(a stock that ticked five times since is filed once; what is noted meanwhile waits for the next recompute), refiling
only the numbers that changed (a stock moves between buckets only when its key crosses a bucket edge) and adjusting
its sector's sums; then it ranks the stocks of the first few buckets exactly
(`controller.market.stocks.rank_movers`) or reads the sector sums. A live quote that grows older than
LIVE_CACHE_MAX_AGE_S falls back to the snapshot row at the next recompute (a heap by quote time). The snapshot rows
(names, sectors, the numbers of stocks without live quotes) are re-read after CACHE_TTL_UNIVERSE_S, and when the
live cache is cleared.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice
from time import monotonic
from typing import Any

from backend.extensions import app_extensions
from controller.market import stocks
from controller.market.stocks import MoverKind, SectorPerformance, StockQuote
from services.market.live_overlay import WEBSOCKET_CACHE, with_stock_quote
from services.market.live_price_cache import LivePriceCache, Quote, stock_prices
from services.market.universe_snapshot import exchange_snapshot
from services.platform.green import pause
from utils.bucket_rank import BucketRank, magnitude_bucket, percent_bucket
from utils.quote_format import percent_change

_PAISE = Decimal("0.01")
_ZERO = Decimal(0)
_CHUNK = 256  # stocks filed between two pauses (a recompute catching up, a new board)
_KEPT = ("change", "volume")  # the rankings of movers_update and the default movers, kept from the start
# ranking, walk from the top, bucket bounds (gainers: positive changes only; losers: negative ones)
_WALK: dict[tuple[MoverKind, bool], tuple[str, bool, int | None, int | None]] = {
    ("gainers", False): ("change", True, 1, None),
    ("gainers", True): ("intraday", True, 1, None),
    ("losers", False): ("change", False, None, -1),
    ("losers", True): ("intraday", False, None, -1),
    ("active", False): ("volume", True, None, None),
    ("active", True): ("volume", True, None, None),
    ("active_value", False): ("value", True, None, None),
    ("active_value", True): ("value", True, None, None),
}


@dataclass
class _SectorSums:
    change_pct: Decimal = Decimal(0)
    advances: int = 0
    declines: int = 0
    count: int = 0
    traded_value: Decimal = Decimal(0)


class _Filed:
    """What a stock is filed under: the numbers the rankings read and what it adds to its sector's sums."""

    __slots__ = ("ltp", "prev_close", "day_open", "volume", "pct", "traded", "sums")

    def __init__(self, sums: _SectorSums) -> None:
        self.ltp = self.prev_close = self.day_open = None  # nothing filed yet: the first filing computes everything
        self.volume = -1
        self.pct = self.traded = Decimal(0)
        self.sums = sums
        sums.count += 1


@dataclass
class LiveBoard:
    """One exchange's stocks, ranked in buckets and summed per sector, kept current by the live cache's updates."""

    rows: dict[str, StockQuote]
    generation: int
    built_at: float = field(default_factory=monotonic)
    _live: dict[str, Quote] = field(default_factory=dict)
    _expiring: dict[datetime, list[str]] = field(default_factory=dict)  # quote time -> stocks filed at that time
    _times: list[datetime] = field(default_factory=list)  # a heap of _expiring's keys (one per tick, not per quote)
    _ranks: dict[str, BucketRank] = field(default_factory=lambda: {name: BucketRank() for name in _KEPT})
    _sectors: dict[str, _SectorSums] = field(default_factory=dict)
    _filed: dict[str, _Filed] = field(default_factory=dict)
    _pending: dict[str, Quote] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _catching_up: threading.Lock = field(default_factory=threading.Lock)
    pause: Callable[[], None] | None = None  # lets other green threads run between chunks of filing

    def __post_init__(self) -> None:
        self._change, self._volume = (self._ranks[name] for name in _KEPT)
        # by change from the open and by traded value: kept once first asked for (`_ranking`), ~30 % of a filing
        self._intraday: BucketRank | None = None
        self._value: BucketRank | None = None

    @classmethod
    def build(cls, rows: list[StockQuote], cache: LivePriceCache, pause: Callable[[], None] | None = None) -> LiveBoard:
        """A board over these snapshot rows (filed `_CHUNK` at a time, calling `pause` between chunks); the cache's
        current quotes are laid over by the caller (`on_quotes`)."""
        board = cls({row.symbol: row for row in rows}, cache.generation, pause=pause)
        for n, row in enumerate(rows, 1):
            board._apply(row.symbol, row)
            if pause is not None and n % _CHUNK == 0:
                pause()
        return board

    def on_quotes(self, quotes: list[Quote]) -> None:
        """Live-cache listener: these quotes are now the latest of their stocks. Only noted here (the tick path
        pays a dict store per quote); filed by the next recompute, so a stock that ticked several times since
        is filed once."""
        with self._lock:
            pending, rows = self._pending, self.rows
            for quote in quotes:
                symbol = quote.symbol
                if symbol in rows:
                    noted = pending.get(symbol)
                    if noted is None or quote.as_of >= noted.as_of:
                        pending[symbol] = quote

    def _catch_up(self) -> None:
        """File the quotes noted until now, `_CHUNK` at a time with a pause between chunks (other green threads, the
        tick path among them, run meanwhile). What is noted meanwhile waits for the next recompute: at 10,000
        instruments a catch-up spans a tick, and following it filed every stock again. A recompute that begins
        while another catches up waits for it."""
        caught_up = _caught_up_in_pass.get()
        if caught_up is not None:
            if id(self) in caught_up:
                return
            caught_up[id(self)] = self
        with self._catching_up:
            with self._lock:
                noted, self._pending = self._pending, {}
            quotes = iter(noted.items())
            for start in range(0, len(noted), _CHUNK):
                if start and self.pause is not None:
                    self.pause()
                with self._lock:
                    for symbol, quote in islice(quotes, _CHUNK):
                        self._file(symbol, quote)

    def _file(self, symbol: str, quote: Quote) -> None:
        """File a noted quote unless a newer one is filed; the caller holds the lock."""
        current = self._live.get(symbol)
        if current is not None and quote.as_of < current.as_of:
            return
        self._live[symbol] = quote
        filed_at = self._expiring.get(quote.as_of)
        if filed_at is None:
            filed_at = self._expiring[quote.as_of] = []
            heapq.heappush(self._times, quote.as_of)
        filed_at.append(symbol)
        self._apply(symbol, quote)

    def movers(self, kind: MoverKind, intraday: bool, limit: int, now: datetime, max_age_s: float) -> list[StockQuote]:
        """Top `limit` of a movers ranking over the effective rows (as `rank_movers` over the whole exchange)."""
        ranking, descending, lowest, highest = _WALK[(kind, intraday)]
        self._catch_up()
        with self._lock:
            self._expire(now - timedelta(seconds=max_age_s))
            candidates = self._ranking(ranking).candidates(limit, descending, lowest, highest)
            rows = [self._effective(symbol) for symbol in candidates]
        return stocks.rank_movers(rows, kind, intraday, limit)

    def sectors(self, now: datetime, max_age_s: float) -> tuple[list[SectorPerformance], bool]:
        """Sector performance over the effective rows (as `sector_performance`), and whether any row is live."""
        self._catch_up()
        with self._lock:
            self._expire(now - timedelta(seconds=max_age_s))
            result = [
                SectorPerformance(
                    sector=sector,
                    change_pct=(sums.change_pct / sums.count).quantize(Decimal("0.0001")),
                    advances=sums.advances,
                    declines=sums.declines,
                    count=sums.count,
                    traded_value=sums.traded_value,
                )
                for sector, sums in self._sectors.items()
                if sums.count
            ]
            live = bool(self._live)
        return sorted(result, key=lambda s: (-s.change_pct, s.sector)), live

    def _effective(self, symbol: str) -> StockQuote:
        quote = self._live.get(symbol)
        row = self.rows[symbol]
        return row if quote is None else with_stock_quote(row, quote, WEBSOCKET_CACHE)

    def _expire(self, oldest: datetime) -> None:
        """Live quotes older than `oldest` give way to their snapshot rows."""
        while self._times and self._times[0] < oldest:
            as_of = heapq.heappop(self._times)
            for symbol in self._expiring.pop(as_of):
                quote = self._live.get(symbol)
                if quote is not None and quote.as_of == as_of:  # not replaced by a newer quote since
                    del self._live[symbol]
                    self._apply(symbol, self.rows[symbol])

    def _apply(self, symbol: str, numbers: Quote | StockQuote) -> None:
        """File the stock under the buckets and sector sums of these numbers (the same ones the ranking uses).
        Only what changed since its last filing is recomputed: most ticks move the price and the volume, never
        the previous close or the open."""
        filed = self._filed.get(symbol) or self._first_filing(symbol)
        ltp, volume, prev_close = numbers.ltp, numbers.volume, numbers.prev_close
        moved = ltp != filed.ltp
        if moved or prev_close != filed.prev_close:
            pct, old = percent_change(ltp, prev_close), filed.pct
            if pct != old or filed.prev_close is None:
                self._change.place(symbol, percent_bucket(pct))
                sums = filed.sums
                sums.change_pct += pct - old
                sign, old_sign = (pct > _ZERO) - (pct < _ZERO), (old > _ZERO) - (old < _ZERO)
                if sign != old_sign:
                    sums.advances += (sign > 0) - (old_sign > 0)
                    sums.declines += (sign < 0) - (old_sign < 0)
                filed.pct = pct
            filed.prev_close = prev_close
        if moved or numbers.day_open != filed.day_open:
            if self._intraday is not None:
                self._intraday.place(symbol, _intraday_bucket(ltp, numbers.day_open))
            filed.day_open = numbers.day_open
        if moved or volume != filed.volume:
            traded = (ltp * volume).quantize(_PAISE)
            if volume != filed.volume:
                self._volume.place(symbol, magnitude_bucket(volume) if volume > 0 else None)
            if self._value is not None:
                self._value.place(symbol, _value_bucket(traded, volume))
            filed.sums.traded_value += traded - filed.traded
            filed.traded, filed.volume = traded, volume
        filed.ltp = ltp

    def _ranking(self, name: str) -> BucketRank:
        """A ranking; by change from the open or by traded value, filed from every stock's filed numbers the first
        time it is asked for (the caller holds the lock): most processes never rank by them."""
        rank = self._ranks.get(name)
        if rank is None:
            rank = self._ranks[name] = BucketRank()
            for symbol, filed in self._filed.items():
                if name == "intraday":
                    rank.place(symbol, _intraday_bucket(filed.ltp, filed.day_open))
                else:
                    rank.place(symbol, _value_bucket(filed.traded, filed.volume))
            if name == "intraday":
                self._intraday = rank
            else:
                self._value = rank
        return rank

    def _first_filing(self, symbol: str) -> _Filed:
        sector = self.rows[symbol].sector
        sums = self._sectors.get(sector)
        if sums is None:
            sums = self._sectors[sector] = _SectorSums()
        filed = self._filed[symbol] = _Filed(sums)
        return filed


def _intraday_bucket(ltp: Decimal, day_open: Decimal) -> int:
    """The bucket of a stock's change from the day's open."""
    return percent_bucket(percent_change(ltp, day_open))


def _value_bucket(traded: Decimal, volume: int) -> int | None:
    """The bucket of a stock's traded value (None, out of the ranking, until it trades)."""
    return magnitude_bucket(int(traded)) if volume > 0 else None


_boards_lock = threading.Lock()
# the boards caught up in this green thread's pass (`one_catch_up`): id -> board (kept alive, so no id is reused)
_caught_up_in_pass: ContextVar[dict[int, LiveBoard] | None] = ContextVar("caught_up_in_pass", default=None)


@contextmanager
def one_catch_up() -> Iterator[None]:
    """A pass of several reads (the `market_views` job's: the hot caches, then `movers_update`): in this green thread,
    each board files what was noted at its first read in the block, and its later reads take it as it is. A catch-up
    at 10,000 instruments spans a tick, so each read after the first would file the universe again."""
    token = _caught_up_in_pass.set({})
    try:
        yield
    finally:
        _caught_up_in_pass.reset(token)


def _settings() -> Any:
    return app_extensions()["settings"]


def live_board(exchange: str) -> LiveBoard:
    """This process's board of `exchange`, built from its snapshot (read only then) when there is none or it is too
    old."""
    cache = stock_prices()
    with _boards_lock:
        boards: dict[str, LiveBoard] | None = app_extensions().get("live_boards")
        if boards is None:
            boards = app_extensions()["live_boards"] = {}
            cache.listen(lambda quotes: [board.on_quotes(quotes) for board in list(boards.values())])
        board = boards.get(exchange)
        if board is None or board.generation != cache.generation or _too_old(board):
            board = boards[exchange] = LiveBoard.build(exchange_snapshot(exchange), cache, pause)
            fresh = True
        else:
            fresh = False
    if fresh:  # after it listens: a tick meanwhile is newer than the copy and is kept
        board.on_quotes(list(cache.snapshot().values()))
    return board


def _too_old(board: LiveBoard) -> bool:
    return monotonic() - board.built_at > _settings().cache_ttl_universe_s
