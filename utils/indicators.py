"""Technical indicators over a panel: a float64 matrix with one row per instrument and one column per candle.

Each row holds that instrument's own candles right-aligned (its newest candle in the last column), left-padded
with NaN where its history is shorter than the panel; so column t−1 of a row is always the instrument's previous
candle, and the recursions below run once over the columns, vectorised over every instrument. `first` is the
column of each row's first candle (`first_columns`).
"""

from __future__ import annotations

import numpy as np


def first_columns(values: np.ndarray) -> np.ndarray:
    """The column of each row's first non-NaN value (the row length when there is none)."""
    valid = ~np.isnan(values)
    return np.where(valid.any(axis=1), valid.argmax(axis=1), values.shape[1])


def shift(values: np.ndarray, k: int = 1) -> np.ndarray:
    """Column t holds column t−k (NaN for the first k columns)."""
    return _shift_fill(values, k, np.nan)


def seeded_recursion(values: np.ndarray, first: np.ndarray, n: int, a: float, b: float) -> np.ndarray:
    """s(t) = a·v(t) + b·s(t−1), seeded at column first+n−1 with the mean of the first n values.

    Columns before the seed are NaN; `first` is the column of each row's first value of `values`.
    """
    rows, cols = values.shape
    out = np.full_like(values, np.nan)
    seed_col = first + n - 1
    seeded = seed_col < cols
    seeds = np.full(rows, np.nan)
    if seeded.any():
        idx = first[seeded, None] + np.arange(n)
        seeds[seeded] = values[np.flatnonzero(seeded)[:, None], idx].mean(axis=1)
    seed_at: dict[int, list[int]] = {}
    for row in np.flatnonzero(seeded):
        seed_at.setdefault(int(seed_col[row]), []).append(int(row))
    start = int(seed_col[seeded].min()) if seeded.any() else cols
    state = np.full(rows, np.nan)
    for t in range(start, cols):
        state = a * values[:, t] + b * state
        rows_seeded = seed_at.get(t)
        if rows_seeded is not None:
            state[rows_seeded] = seeds[rows_seeded]
        out[:, t] = state
    return out


def ema(close: np.ndarray, n: int, first: np.ndarray | None = None) -> np.ndarray:
    """EMA with α = 2/(n+1), seeded with the simple mean of the first n closes."""
    alpha = 2.0 / (n + 1)
    return seeded_recursion(close, first_columns(close) if first is None else first, n, alpha, 1.0 - alpha)


def wilder(values: np.ndarray, n: int, first: np.ndarray) -> np.ndarray:
    """Wilder's smoothing: s(t) = (s(t−1)·(n−1) + v(t)) / n, seeded with the mean of the first n values."""
    return seeded_recursion(values, first, n, 1.0 / n, (n - 1.0) / n)


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """max(h−l, |h−prev_close|, |l−prev_close|); NaN on an instrument's first candle (no previous close)."""
    prev_close = shift(close)
    return np.maximum(high - low, np.maximum(np.abs(high - prev_close), np.abs(low - prev_close)))


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int = 14) -> np.ndarray:
    """Wilder's ATR(n) of the true range, seeded with the mean of the first n true ranges."""
    return wilder(true_range(high, low, close), n, first_columns(close) + 1)


def rsi(close: np.ndarray, n: int = 14) -> np.ndarray:
    """Wilder's RSI(n): 100 − 100/(1 + avg gain/avg loss); 100 when there were no losses, 50 when no change at all."""
    change = close - shift(close)
    first = first_columns(close) + 1
    gain = wilder(np.clip(change, 0.0, None), n, first)
    loss = wilder(np.clip(-change, 0.0, None), n, first)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 - 100.0 / (1.0 + gain / loss)
    value = np.where(loss == 0, np.where(gain == 0, 50.0, 100.0), value)
    return np.where(np.isnan(gain) | np.isnan(loss), np.nan, value)


def _rolling_extreme(values: np.ndarray, window: int, pick: np.ufunc, fill: float) -> np.ndarray:
    """pick over columns t−window+1…t in O(log window) passes; NaN until a row has `window` values."""
    x = np.where(np.isnan(values), fill, values)
    span = 1
    while span * 2 <= window:  # x(t) = pick over the last `span` columns, span doubling
        x = pick(x, _shift_fill(x, span, fill))
        span *= 2
    if window > span:  # two overlapping power-of-two windows cover any width
        x = pick(x, _shift_fill(x, window - span, fill))
    cols = np.arange(values.shape[1])
    return np.where(cols[None, :] >= first_columns(values)[:, None] + window - 1, x, np.nan)


def _shift_fill(values: np.ndarray, k: int, fill: float) -> np.ndarray:
    out = np.full_like(values, fill)
    if k < values.shape[1]:
        out[:, k:] = values[:, : values.shape[1] - k]
    return out


def rolling_max(values: np.ndarray, window: int) -> np.ndarray:
    """Highest value of columns t−window+1…t (NaN until the row has `window` values)."""
    return _rolling_extreme(values, window, np.maximum, -np.inf)


def rolling_min(values: np.ndarray, window: int) -> np.ndarray:
    """Lowest value of columns t−window+1…t (NaN until the row has `window` values)."""
    return _rolling_extreme(values, window, np.minimum, np.inf)


def rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of columns t−window+1…t (NaN until the row has `window` values)."""
    filled = np.where(np.isnan(values), 0.0, values)
    total = np.cumsum(filled, axis=1)
    total = total - _shift_fill(total, window, 0.0)
    cols = np.arange(values.shape[1])
    return np.where(cols[None, :] >= first_columns(values)[:, None] + window - 1, total / window, np.nan)
