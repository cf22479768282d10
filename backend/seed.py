"""`python -m backend seed`: load the universe and a deterministic synthetic history.

Daily candles for `days` sessions, the current session's 1-minute candles up to now, latest
quotes for every stock and index, indices computed from their constituents, and simulated fundamentals for every
stock with the crawler job that refreshes them (docs/FUNDAMENTALS.md). Idempotent (every write is an upsert of the
same values for the same seed and clock) and batched.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from tqdm import tqdm

from backend.db import connect
from backend.settings import DatabaseConfig, Settings
from controller.fundamentals import crawler_jobs
from controller.fundamentals import store as fundamentals
from controller.market import candles, quotes, universe
from services.fundamentals.crawler import crawl
from services.fundamentals.simulated import SimulatedFundamentals
from services.market_data import history
from utils.errors import Conflict
from utils.market_hours import OPEN, SESSION_MINUTES, MarketCalendar, session_open_utc
from utils.reference_data import IndexRef, StockRef, load_indices, load_stocks, tick_size_for
from utils.timeutil import IST, now_utc, to_db

_SYNTHETIC_SECTORS = (
    "Financial Services",
    "Information Technology",
    "Capital Goods",
    "Healthcare",
    "Fast Moving Consumer Goods",
    "Chemicals",
    "Consumer Durables",
    "Realty",
)
_CHUNK = 100  # stocks generated and written per transaction
# Two years of sessions and a margin: 200-day and 52-week (250-session) scan fields are then defined over the whole
# last year (docs/SCANS.md).
HISTORY_DAYS = 520


@dataclass
class SeedReport:
    """What a seed run wrote."""

    stocks: int = 0
    indices: int = 0
    daily_rows: int = 0
    minute_rows: int = 0
    index_rows: int = 0
    fundamentals: int = 0
    seconds: float = 0.0

    @property
    def candle_rows(self) -> int:
        """Stock candle rows written (daily and minute)."""
        return self.daily_rows + self.minute_rows


@dataclass(frozen=True)
class Session:
    """The session the seed treats as current, and how many of its minutes have happened."""

    day: date
    minutes: int
    history_days: list[date]

    @property
    def complete(self) -> bool:
        """True once the session has closed."""
        return self.minutes == SESSION_MINUTES


def current_session(calendar: MarketCalendar, now: datetime, days: int) -> Session:
    """The latest session that has opened by `now`, plus the `days` sessions before it."""
    now_ist = now.astimezone(IST)
    day = now_ist.date()
    if calendar.is_trading_day(day) and now_ist.time() >= OPEN:
        elapsed = int((now - session_open_utc(day)).total_seconds() // 60) + 1
        minutes = min(elapsed, SESSION_MINUTES)
    else:
        day = calendar.previous_trading_days(day, 1)[0]
        minutes = SESSION_MINUTES
    return Session(day, minutes, calendar.previous_trading_days(day, days))


def synthetic_stocks(seed: int, count: int) -> list[StockRef]:
    """`count` made-up instruments (SYN00001...) for scale tests, deterministic for `seed`."""
    rng = np.random.default_rng(history.stable_seed(seed, "synthetic"))
    result = []
    for i in range(1, count + 1):
        price = Decimal(str(round(float(rng.lognormal(np.log(600), 1.0)), 2)))
        tick = tick_size_for(price)
        price = (price / tick).to_integral_value() * tick
        result.append(
            StockRef(
                symbol=f"SYN{i:05d}",
                company_name=f"Synthetic Instrument {i:05d} Ltd",
                isin=None,
                sector=_SYNTHETIC_SECTORS[i % len(_SYNTHETIC_SECTORS)],
                ref_price=max(price, tick),
                tick_size=tick,
                lot_size=1,
            )
        )
    return result


def _stock_rows(stocks: list[StockRef]) -> list[tuple]:
    return [
        (
            s.symbol,
            "NSE",
            s.isin,
            f"NSE_EQ|{s.isin}" if s.isin else None,
            s.company_name,
            s.sector,
            s.tick_size,
            s.lot_size,
        )
        for s in stocks
    ]


def _candle_rows(
    key: int, day_ts: list[str], minute_ts: list[str], hist: history.StockHistory, with_volume: bool
) -> tuple[list[tuple], list[tuple]]:
    def rows(timeframe: str, stamps: list[str], c: history.Candles) -> list[tuple]:
        cols = [c.open.tolist(), c.high.tolist(), c.low.tolist(), c.close.tolist()]
        if with_volume:
            cols.append(c.volume.tolist())
        return [(key, timeframe, ts, *values) for ts, *values in zip(stamps, *cols, strict=True)]

    return rows("1d", day_ts, hist.daily), rows("1m", minute_ts, _truncate(hist.minutes, len(minute_ts)))


def _truncate(c: history.Candles, n: int) -> history.Candles:
    return history.Candles(c.open[:n], c.high[:n], c.low[:n], c.close[:n], None if c.volume is None else c.volume[:n])


def _quote(hist: history.StockHistory, session: Session) -> tuple[float, ...]:
    """ltp, prev_close, open, high, low, volume, 52-week high, 52-week low."""
    m = _truncate(hist.minutes, session.minutes)
    year = slice(-250, None)
    high52 = max(float(hist.daily.high[year].max()), float(m.high.max()))
    low52 = min(float(hist.daily.low[year].min()), float(m.low.min()))
    volume = int(m.volume.sum()) if m.volume is not None else 0
    return (
        float(m.close[-1]),
        float(hist.daily.close[-1]),
        float(m.open[0]),
        float(m.high.max()),
        float(m.low.min()),
        volume,
        high52,
        low52,
    )


def seed_market(
    config: DatabaseConfig,
    seed: int = 42,
    extra_symbols: int = 0,
    days: int = HISTORY_DAYS,
    now: datetime | None = None,
    progress: bool = False,
) -> SeedReport:
    """Load the universe and its history into the database (its own connection; a transaction per chunk)."""
    workdir = tempfile.mkdtemp(prefix="seed-")
    conn = connect(config, autocommit=False, allow_local_infile_in_path=workdir)
    try:
        return _seed(conn, workdir, seed, extra_symbols, days, now or now_utc(), progress)
    finally:
        conn.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _seed(
    conn: Any, workdir: str, seed: int, extra_symbols: int, days: int, now: datetime, progress: bool
) -> SeedReport:
    started = time.perf_counter()
    report = SeedReport()
    stocks = load_stocks() + synthetic_stocks(seed, extra_symbols)
    index_refs = load_indices()
    session = current_session(MarketCalendar(), now, days)
    day_ts = [_db_time(session_open_utc(d)) for d in session.history_days]
    open_ts = session_open_utc(session.day)
    minute_ts = [_db_time(open_ts + timedelta(minutes=i)) for i in range(session.minutes)]
    as_of = to_db(min(now, open_ts + timedelta(minutes=session.minutes)))

    conn.start_transaction()
    ids = universe.upsert_stocks(conn, _stock_rows(stocks))
    index_ids = universe.upsert_indices(
        conn, [(i.name, i.exchange, i.tag, i.instrument_key, n) for n, i in enumerate(index_refs)]
    )
    for ref in index_refs:
        universe.replace_constituents(conn, index_ids[ref.name], [(ids[c.symbol], c.weight) for c in ref.constituents])
    conn.commit()
    report.stocks, report.indices = len(stocks), len(index_refs)

    histories: dict[str, tuple[history.StockHistory, float]] = {}
    needed = {c.symbol for ref in index_refs for c in ref.constituents}
    bar = tqdm(total=len(stocks), desc="seeding stocks", unit="stock", disable=not progress)
    for first in range(0, len(stocks), _CHUNK):
        chunk = stocks[first : first + _CHUNK]
        daily_rows, minute_rows, quote_rows = [], [], []
        for stock in chunk:
            hist = history.generate_stock(seed, stock.symbol, float(stock.ref_price), float(stock.tick_size), days)
            if stock.symbol in needed:
                histories[stock.symbol] = (hist, float(stock.ref_price))
            d_rows, m_rows = _candle_rows(ids[stock.symbol], day_ts, minute_ts, hist, with_volume=True)
            daily_rows += d_rows
            minute_rows += m_rows
            if session.complete:
                daily_rows.append(_session_candle(ids[stock.symbol], session.day, hist, with_volume=True))
            quote_rows.append((ids[stock.symbol], *_quote(hist, session), as_of, "database"))
        report.daily_rows += len(daily_rows)
        report.minute_rows += len(minute_rows)
        conn.start_transaction()
        candles.bulk_load_stock_candles(conn, daily_rows + minute_rows, workdir)
        quotes.upsert_stock_quotes(conn, quote_rows)
        conn.commit()
        bar.update(len(chunk))
    bar.close()

    report.index_rows = _seed_indices(
        conn, seed, index_refs, index_ids, histories, session, day_ts, minute_ts, as_of, days
    )
    report.fundamentals = seed_fundamentals(conn, seed, now)
    report.seconds = time.perf_counter() - started
    return report


def _db_time(value: datetime) -> str:
    """A UTC DATETIME literal for bulk rows."""
    return to_db(value).strftime("%Y-%m-%d %H:%M:%S")


def _session_candle(key: int, day: date, hist: history.StockHistory, with_volume: bool) -> tuple:
    m = hist.minutes
    row = (
        key,
        "1d",
        _db_time(session_open_utc(day)),
        float(m.open[0]),
        float(m.high.max()),
        float(m.low.min()),
        float(m.close[-1]),
    )
    return row + ((int(m.volume.sum()),) if with_volume else ())


def _seed_indices(
    conn: Any,
    seed: int,
    refs: list[IndexRef],
    ids: dict[str, int],
    stocks: dict[str, tuple[history.StockHistory, float]],
    session: Session,
    day_ts: list[str],
    minute_ts: list[str],
    as_of: datetime,
    days: int,
) -> int:
    daily_rows, minute_rows, quote_rows = [], [], []
    for ref in refs:
        if ref.volatility_index:
            hist = history.volatility_index(seed, ref.name, float(ref.ref_value), days)
        else:
            members = [(float(c.weight), *stocks[c.symbol]) for c in ref.constituents]
            hist = history.StockHistory(
                history.index_candles([(w, h.daily, p) for w, h, p in members], float(ref.ref_value)),
                history.index_candles([(w, h.minutes, p) for w, h, p in members], float(ref.ref_value)),
            )
        d_rows, m_rows = _candle_rows(ids[ref.name], day_ts, minute_ts, hist, with_volume=False)
        daily_rows += d_rows
        minute_rows += m_rows
        if session.complete:
            daily_rows.append(_session_candle(ids[ref.name], session.day, hist, with_volume=False))
        ltp, prev_close, day_open, high, low, _volume, _h52, _l52 = _quote(hist, session)
        quote_rows.append((ids[ref.name], ltp, prev_close, day_open, high, low, as_of, "database"))
    conn.start_transaction()
    candles.upsert_index_candles(conn, daily_rows)
    candles.upsert_index_candles(conn, minute_rows)
    quotes.upsert_index_quotes(conn, quote_rows)
    conn.commit()
    return len(daily_rows) + len(minute_rows)


UNIVERSE_JOB = "NSE universe (simulated)"


def seed_missing_fundamentals(config: DatabaseConfig, seed: int = 42) -> int:
    """For a database seeded before fundamentals existed: their simulated figures and the universe job, once (when no
    stock has fundamentals yet); the stocks stored."""
    conn = connect(config, autocommit=False)
    try:
        conn.start_transaction()
        missing = fundamentals.count(conn) == 0
        conn.commit()
        return seed_fundamentals(conn, seed, now_utc()) if missing else 0
    finally:
        conn.close()


def seed_fundamentals(conn: Any, seed: int, now: datetime) -> int:
    """Simulated fundamentals of every quoted NSE stock, and the scheduled universe crawler job that refreshes them
    (created once); the stocks stored."""

    def save(rows: list) -> None:
        conn.start_transaction()
        fundamentals.store(conn, rows)
        conn.commit()

    conn.start_transaction()
    targets = fundamentals.crawl_targets(conn)
    conn.commit()
    report = crawl(targets, SimulatedFundamentals(seed, clock=lambda: now), save)
    conn.start_transaction()
    try:
        job = {
            "name": UNIVERSE_JOB,
            "universe_all": True,
            "symbols": [],
            "source": SimulatedFundamentals.name,
            "metadata": {"created_by": "seed"},
            "schedule": Settings.model_fields["crawler_universe_schedule"].default,
            "enabled": True,
            "next_run_at": None,  # the leader plans its next firing
        }
        crawler_jobs.create(conn, job, None)
    except Conflict:  # seeded before
        pass
    conn.commit()
    return report.updated
