"""Deterministic synthetic price history: daily candles and one session of 1-minute candles.

Prices follow a fat-tailed random walk with a per-stock volatility; the last complete daily close
equals the stock's reference price, so the universe looks like the real market today. Indices are
computed from their constituents' candles, so the index strip agrees with the stocks.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from utils.liquidity import typical_traded_value

SESSION_MINUTES = 375


@dataclass(frozen=True)
class Candles:
    """Parallel arrays of OHLCV (volume may be None for indices)."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray | None


@dataclass(frozen=True)
class StockHistory:
    """`daily` ends with the last complete session before `minutes`, the current session."""

    daily: Candles
    minutes: Candles


def stable_seed(seed: int, key: str) -> int:
    """A per-key seed that does not depend on Python's hash randomisation."""
    return (seed * 1_000_003 + zlib.crc32(key.encode())) & 0xFFFFFFFF


def daily_volatility(seed: int, symbol: str) -> float:
    """A per-stock daily volatility between about 1.1% and 2.8%."""
    return float(np.random.default_rng(stable_seed(seed, "vol:" + symbol)).uniform(0.011, 0.028))


def base_volume(seed: int, symbol: str, price: float) -> float:
    """A typical daily volume in shares: the stock's typical traded value (its index standing, utils/liquidity.py)
    with a little per-stock spread, at its price (cheaper stocks trade more shares)."""
    rng = np.random.default_rng(stable_seed(seed, "volu:" + symbol))
    traded_value = typical_traded_value(symbol) * rng.lognormal(0, 0.2)
    return max(traded_value / price, 1_000.0)


def round_to_tick(values: np.ndarray, tick: float, mode: str = "nearest") -> np.ndarray:
    """Round prices to multiples of `tick` (nearest, up or down), at least one tick, 2 decimals."""
    scaled = values / tick
    if mode == "up":
        steps = np.ceil(scaled - 1e-9)
    elif mode == "down":
        steps = np.floor(scaled + 1e-9)
    else:
        steps = np.round(scaled)
    return np.round(np.maximum(steps, 1) * tick, 2)


def _tick_candles(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, tick: float) -> tuple:
    o, c = round_to_tick(o, tick), round_to_tick(c, tick)
    h = np.maximum(round_to_tick(h, tick, "up"), np.maximum(o, c))
    lo = np.minimum(round_to_tick(lo, tick, "down"), np.minimum(o, c))
    return o, h, lo, c


def generate_stock(seed: int, symbol: str, ref_price: float, tick: float, days: int) -> StockHistory:
    """`days` daily candles ending at close = ref_price, then a full 375-minute current session."""
    rng = np.random.default_rng(stable_seed(seed, symbol))
    sigma = daily_volatility(seed, symbol)
    avg_volume = base_volume(seed, symbol, ref_price)

    returns = rng.standard_t(4, days) * sigma / np.sqrt(2) + rng.normal(0.0003, 0.0002)
    log_close = np.log(ref_price) - np.concatenate(([0.0], np.cumsum(returns[::-1][:-1])))[::-1]
    close = np.exp(log_close)
    prev_close = np.concatenate(([close[0] / np.exp(returns[0])], close[:-1]))
    open_ = prev_close * np.exp(rng.normal(0, 0.3 * sigma, days))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.5 * sigma, days)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.5 * sigma, days)))
    busy = 1 + 2 * np.abs(returns) / sigma  # big moves trade more; scaled so the days average the typical volume
    volume = avg_volume * rng.lognormal(0, 0.35, days) * busy / busy.mean()
    daily = Candles(*_tick_candles(open_, high, low, close, tick), np.maximum(volume, 1).astype(np.int64))

    minutes = _session(rng, ref_price, sigma, avg_volume, tick)
    return StockHistory(daily, minutes)


def _session(rng: np.random.Generator, prev_close: float, sigma: float, avg_volume: float, tick: float) -> Candles:
    sigma_m = sigma / np.sqrt(SESSION_MINUTES)
    day_open = prev_close * np.exp(rng.normal(0, 0.3 * sigma))
    steps = rng.standard_t(5, SESSION_MINUTES) * sigma_m * 0.8
    close = day_open * np.exp(np.cumsum(steps))
    open_ = np.concatenate(([day_open], close[:-1]))
    wiggle = np.abs(rng.normal(0, 0.4 * sigma_m, (2, SESSION_MINUTES)))
    high = np.maximum(open_, close) * np.exp(wiggle[0])
    low = np.minimum(open_, close) * np.exp(-wiggle[1])
    t = np.arange(SESSION_MINUTES)
    curve = 1 + 2.5 * np.exp(-t / 25) + 1.5 * np.exp(-(SESSION_MINUTES - 1 - t) / 25)  # U-shaped volume
    day_volume = avg_volume * rng.lognormal(0, 0.3)
    volume = np.maximum(np.round(day_volume * curve / curve.sum() * rng.lognormal(0, 0.25, SESSION_MINUTES)), 1)
    return Candles(*_tick_candles(open_, high, low, close, tick), volume.astype(np.int64))


def index_candles(parts: list[tuple[float, Candles, float]], ref_value: float) -> Candles:
    """An index from (weight, constituent candles, constituent reference price) triples.

    level = ref_value * Σ wᵢ·(priceᵢ / refᵢ) / Σ wᵢ, applied to open, high, low and close; since
    each constituent's high ≥ its open and close, the index high ≥ the index open and close too.
    """
    total = sum(weight for weight, _, _ in parts)

    def level(field: str) -> np.ndarray:
        acc = sum(weight * getattr(candles, field) / ref for weight, candles, ref in parts)
        return np.round(ref_value * acc / total, 2)

    return Candles(level("open"), level("high"), level("low"), level("close"), None)


def volatility_index(seed: int, name: str, ref_value: float, days: int) -> StockHistory:
    """A mean-reverting volatility index (INDIA VIX): daily levels then one session of minutes."""
    rng = np.random.default_rng(stable_seed(seed, name))
    level = np.empty(days)
    x = ref_value
    for i in range(days - 1, -1, -1):  # walk back from the reference value
        level[i] = x
        x = max(x + 0.15 * (ref_value - x) + rng.normal(0, 0.06 * ref_value), 8.0)
    open_ = np.concatenate(([level[0]], level[:-1])) * np.exp(rng.normal(0, 0.02, days))
    spread = np.abs(rng.normal(0, 0.03, (2, days)))
    daily = Candles(
        np.round(open_, 2),
        np.round(np.maximum(open_, level) * (1 + spread[0]), 2),
        np.round(np.minimum(open_, level) * (1 - spread[1]), 2),
        np.round(level, 2),
        None,
    )
    steps = rng.normal(0, 0.002, SESSION_MINUTES)
    close = ref_value * np.exp(np.cumsum(steps))
    open_m = np.concatenate(([ref_value], close[:-1]))
    minutes = Candles(
        np.round(open_m, 2),
        np.round(np.maximum(open_m, close) * 1.0005, 2),
        np.round(np.minimum(open_m, close) * 0.9995, 2),
        np.round(close, 2),
        None,
    )
    return StockHistory(daily, minutes)
