"""The offline market simulator: a deterministic random walk over the stored universe.

It starts from the latest snapshot in the database, so prices continue from where the data is.
Every advance moves each stock by a fat-tailed step scaled by its daily volatility and the elapsed
time, adds volume along the U-shaped intraday curve, and recomputes every index from its
constituents exactly as the seed does: level = prev_close * Σ wᵢ·(ltpᵢ / prev_closeᵢ) / Σ wᵢ.
INDIA VIX (an index without constituents) mean-reverts. A new day resets open, high, low and volume.
The market calendar is respected unless the session is held open (`always_open`, a simulated session).
Only an exchange trading day's last price becomes the previous close: a simulated session on a weekend or a
holiday moves prices, but the change it shows (and the next trading day's) is against the last real close.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import repeat

import numpy as np

from backend import db
from controller.market import candles as candle_sql
from services.market.live_price_cache import Quote
from services.market_data.base import Candle, Instrument
from services.market_data.history import SESSION_MINUTES, base_volume, daily_volatility, stable_seed
from services.market_data.universe import Universe
from services.platform.green import HeldPauses
from utils.market_hours import MarketCalendar, MarketStatus, market_status, session_open_utc
from utils.timeutil import IST, as_utc, now_utc, to_db

_SESSION_SECONDS = SESSION_MINUTES * 60
_PUBLISH_CHUNK = 1000  # quotes made between two chances to pause
_MAX_STEP_S = 60.0  # a long pause (a restart, a closed market) moves prices like one minute, not hours
_MINUTES = np.arange(SESSION_MINUTES)
_CURVE = 1 + 2.5 * np.exp(-_MINUTES / 25) + 1.5 * np.exp(-(SESSION_MINUTES - 1 - _MINUTES) / 25)
_CURVE_SHARE = _CURVE / _CURVE.sum()  # share of the day's volume traded in each session minute
_VIX_REVERSION_PER_S = 1 / 3600
_VIX_VOL_PER_SQRT_S = 0.03 / 60


def _prices(values: np.ndarray) -> list[Decimal]:
    """Prices (rupees, rounded to paise) as two-decimal Decimals, made from whole paise: half the time of
    `Decimal(f"{value:.2f}")`."""
    return [Decimal(paise).scaleb(-2) for paise in np.rint(values * 100).astype(np.int64).tolist()]


class Simulator:
    """The `simulator` market-data provider (thread-safe; deterministic for a seed and a clock)."""

    name = "simulator"

    def __init__(
        self,
        loader: Callable[[], Universe],
        seed: int = 42,
        calendar: MarketCalendar | None = None,
        always_open: Callable[[], bool] = lambda: False,
        max_ticks: int = 0,
        clock: Callable[[], datetime] = now_utc,
        pause: Callable[[], None] = lambda: None,
    ) -> None:
        self._loader = loader
        self.seed = seed
        self.calendar = calendar or MarketCalendar()
        self.always_open = always_open
        self.max_ticks = max_ticks
        self.clock = clock
        self.pauses = HeldPauses(pause)  # lets other green threads run between chunks of a tick's quotes
        self.ticks = 0
        self._lock = threading.Lock()
        self._loaded = False
        self._quotes: dict[str, Quote] = {}
        self._index_quotes: dict[str, Quote] = {}
        self._published: dict[str, tuple[np.ndarray, list[Decimal]]] = {}  # per field: values and their Decimals

    # -- provider interface ------------------------------------------------------------------------

    def quotes(self, symbols: list[str]) -> list[Quote]:
        """Advance the market to now and return the requested stocks' quotes."""
        self.advance()
        return [self._quotes[s] for s in symbols if s in self._quotes]

    def index_quotes(self, names: list[str]) -> list[Quote]:
        """The requested indices as of the last advance (computed from the stocks' published quotes)."""
        with self._lock:
            self._ensure_loaded()
        return [self._index_quotes[n] for n in names if n in self._index_quotes]

    def candles(self, symbol: str, interval: str, start: datetime, end: datetime) -> list[Candle]:
        """Stored candles (the seed's history plus what the tick writer recorded), aggregated to `interval`."""
        timeframe = "1m" if interval.endswith("minute") else "1d"
        with db.connection() as conn:
            rows = candle_sql.stock_candles_between(conn, symbol, timeframe, to_db(start), to_db(end))
        bars = [Candle(as_utc(r["ts"]), r["open"], r["high"], r["low"], r["close"], int(r["volume"])) for r in rows]
        return aggregate(bars, interval)

    def instruments(self) -> list[Instrument]:
        """The stored universe: stocks (NSE_EQ) and indices (NSE_INDEX/BSE_INDEX), read when asked (the ticking
        state keeps no names or instrument keys)."""
        universe = self._loader()
        stocks = [
            Instrument(s.symbol, s.company_name, "NSE", "NSE_EQ", s.instrument_key, tick_size=s.tick_size)
            for s in universe.stocks
        ]
        indices = [
            Instrument(i.name, i.name, i.tag, f"{i.tag}_INDEX", i.instrument_key, tick_size=Decimal("0.01"))
            for i in universe.indices
        ]
        return stocks + indices

    def market_status(self) -> MarketStatus:
        """The exchange calendar's phase now (always open with SIM_ALWAYS_OPEN)."""
        return market_status(self.clock(), self.calendar, force_open=self.always_open())

    @property
    def symbols(self) -> list[str]:
        """Every simulated stock symbol."""
        with self._lock:
            self._ensure_loaded()
        return list(self._symbols)

    # -- state -------------------------------------------------------------------------------------

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._init_state(self._loader())
            self._loaded = True

    def _init_state(self, universe: Universe) -> None:
        """The ticking state: parallel arrays of floats, the symbols and the index names. Nothing else of the
        universe as loaded is kept (at 10,000 instruments its rows, names and first quotes were ~13 MiB)."""
        stocks = universe.stocks
        self._symbols = [s.symbol for s in stocks]
        self._tick = np.array([float(s.tick_size) for s in stocks])
        self._fair = np.array([float(s.quote.ltp) for s in stocks])
        self._ltp = self._fair.copy()
        self._prev = np.array([float(s.quote.prev_close) for s in stocks])
        self._close = self._prev.copy()  # the last exchange trading day's close: the next day's previous close
        self._open = np.array([float(s.quote.day_open) for s in stocks])
        self._high = np.array([float(s.quote.day_high) for s in stocks])
        self._low = np.array([float(s.quote.day_low) for s in stocks])
        self._volume = np.array([float(s.quote.volume) for s in stocks])
        self._sigma = np.array([daily_volatility(self.seed, s.symbol) for s in stocks])
        self._avg_volume = np.array([base_volume(self.seed, s.symbol, float(s.quote.prev_close)) for s in stocks])
        self._rng = np.random.default_rng(stable_seed(self.seed, "simulator"))
        position = {symbol: n for n, symbol in enumerate(self._symbols)}
        indices = universe.indices
        self._idx_names = [i.name for i in indices]
        self._weights = np.zeros((len(indices), len(stocks)))
        for row, index in enumerate(indices):
            total = sum(float(w) for _, w in index.members) or 1.0
            for symbol, weight in index.members:
                self._weights[row, position[symbol]] = float(weight) / total
        self._is_vix = np.array([not i.members for i in indices])
        self._idx_level = np.array([float(i.quote.ltp) for i in indices])
        self._idx_prev = np.array([float(i.quote.prev_close) for i in indices])
        self._idx_close = self._idx_prev.copy()
        self._idx_open = np.array([float(i.quote.day_open) for i in indices])
        self._idx_high = np.array([float(i.quote.day_high) for i in indices])
        self._idx_low = np.array([float(i.quote.day_low) for i in indices])
        self._idx_mean = np.array([float(i.ref_value) for i in indices])
        known = [s.quote.as_of for s in stocks]
        self._as_of = min(max(known), self.clock()) if known else self.clock()  # never start in the future
        self._day = self._as_of.astimezone(IST).date()
        self._publish()

    def advance(self) -> None:
        """Move the market from the last step to the clock's now (no movement while it is closed)."""
        with self._lock:
            self.pauses.begin()
            self._ensure_loaded()
            now = self.clock()
            if now <= self._as_of or (self.max_ticks and self.ticks >= self.max_ticks):
                return
            if not market_status(now, self.calendar, force_open=self.always_open()).is_market_open:
                return
            today = now.astimezone(IST).date()
            if today != self._day:
                self._new_day(today)
            self._step(now, min((now - self._as_of).total_seconds(), _MAX_STEP_S))
            self._as_of = now
            self.ticks += 1
            self._publish()

    def _new_day(self, day: date) -> None:
        """Open with a small gap from the last price, volume from zero. The day that ended gives the previous
        close only if the exchange traded that day (a simulated weekend or holiday session has no close)."""
        if self.calendar.is_trading_day(self._day):
            self._close, self._idx_close = self._ltp.copy(), self._idx_level.copy()
        self._prev, self._idx_prev = self._close.copy(), self._idx_close.copy()
        self._fair = self._ltp * np.exp(self._rng.normal(0, 0.3, len(self._ltp)) * self._sigma)
        self._ltp = self._round(self._fair)
        self._open, self._high, self._low = self._ltp.copy(), self._ltp.copy(), self._ltp.copy()
        self._volume = np.zeros(len(self._ltp))
        self._idx_level = self._index_levels(self._idx_level)
        self._idx_open, self._idx_high, self._idx_low = (self._idx_level.copy() for _ in range(3))
        self._day = day

    def _step(self, now: datetime, dt: float) -> None:
        sigma_step = self._sigma * np.sqrt(dt / _SESSION_SECONDS)
        shocks = self._rng.standard_t(5, len(self._fair)) * 0.77  # unit variance (t5 has variance 5/3)
        self._fair = self._fair * np.exp(shocks * sigma_step)
        self._ltp = self._round(self._fair)
        self._high = np.maximum(self._high, self._ltp)
        self._low = np.minimum(self._low, self._ltp)
        minute = int((now - session_open_utc(now.astimezone(IST).date())).total_seconds() // 60)
        share = _CURVE_SHARE[minute] if 0 <= minute < SESSION_MINUTES else 1 / SESSION_MINUTES
        noise = self._rng.lognormal(0, 0.25, len(self._fair))
        self._volume = self._volume + np.floor(self._avg_volume * share * dt / 60 * noise)
        self._idx_level = self._index_levels(self._idx_level, dt)
        self._idx_high = np.maximum(self._idx_high, self._idx_level)
        self._idx_low = np.minimum(self._idx_low, self._idx_level)

    def _index_levels(self, current: np.ndarray, dt: float = 0.0) -> np.ndarray:
        levels = np.round(self._idx_prev * (self._weights @ (self._ltp / self._prev)), 2)
        if self._is_vix.any():
            vix = current[self._is_vix]
            mean = self._idx_mean[self._is_vix]
            shock = self._rng.normal(0, 1, len(vix)) * _VIX_VOL_PER_SQRT_S * np.sqrt(dt) * vix
            levels[self._is_vix] = np.round(np.maximum(vix + (mean - vix) * _VIX_REVERSION_PER_S * dt + shock, 5), 2)
        return levels

    def _round(self, prices: np.ndarray) -> np.ndarray:
        return np.round(np.maximum(np.round(prices / self._tick), 1) * self._tick, 2)

    def _publish(self) -> None:
        as_of, name = self._as_of, self.name
        ltp, prev, op, hi, lo = (
            self._decimals(field, values)
            for field, values in (
                ("ltp", self._ltp),
                ("prev", self._prev),
                ("open", self._open),
                ("high", self._high),
                ("low", self._low),
            )
        )
        volume, symbols = self._volume.astype(np.int64).tolist(), self._symbols
        quotes: dict[str, Quote] = {}
        for start in range(0, len(symbols), _PUBLISH_CHUNK):  # 10,000 quotes in one go held the event loop ~30 ms
            self.pauses.check()
            chunk = slice(start, start + _PUBLISH_CHUNK)
            made = map(
                Quote,
                *(column[chunk] for column in (symbols, ltp, prev, op, hi, lo, volume)),
                repeat(as_of),
                repeat(name),
            )
            quotes.update(zip(symbols[chunk], made, strict=True))
        self._quotes = quotes
        self._index_quotes = {
            name: Quote(name, level, prev, op, hi, lo, 0, as_of, self.name)
            for name, level, prev, op, hi, lo in zip(
                self._idx_names,
                _prices(self._idx_level),
                _prices(self._idx_prev),
                _prices(self._idx_open),
                _prices(self._idx_high),
                _prices(self._idx_low),
                strict=True,
            )
        }

    def _decimals(self, field: str, values: np.ndarray) -> list[Decimal]:
        """`values` as Decimal prices, one per stock: only the values that changed since the last publish are
        converted (most ticks leave the previous close, the open, the high and the low, and often the price, as
        they were; a Decimal per number per stock per tick was most of the simulator's cost)."""
        known = self._published.get(field)
        if known is None or len(known[0]) != len(values):
            decimals = _prices(values)
        else:
            last, decimals = known
            changed = np.flatnonzero(values != last)
            for i, price in zip(changed.tolist(), _prices(values[changed]), strict=True):
                decimals[i] = price
        self._published[field] = (values.copy(), decimals)
        self.pauses.check()
        return decimals


def aggregate(bars: list[Candle], interval: str) -> list[Candle]:
    """Merge 1-minute or daily bars into `interval` buckets (5/15/30 minutes, week, month)."""
    if interval in ("1minute", "day"):
        return bars
    buckets: dict[datetime, list[Candle]] = {}
    for bar in bars:
        buckets.setdefault(_bucket(bar.ts, interval), []).append(bar)
    return [
        Candle(
            ts,
            group[0].open,
            max(b.high for b in group),
            min(b.low for b in group),
            group[-1].close,
            sum(b.volume for b in group),
        )
        for ts, group in buckets.items()
    ]


def _bucket(ts: datetime, interval: str) -> datetime:
    local = ts.astimezone(IST).date()
    if interval.endswith("minute"):
        size = int(interval.removesuffix("minute"))
        opened = session_open_utc(local)
        return opened + timedelta(minutes=int((ts - opened).total_seconds() // 60) // size * size)
    first = local - timedelta(days=local.weekday()) if interval == "week" else local.replace(day=1)
    return session_open_utc(first)
