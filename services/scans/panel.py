"""The daily panel a scan process holds between scans: every instrument's daily candles as right-aligned matrices,
and the history-long indicators computed from them once per panel (utils/indicators.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from utils import indicators

NO_DAY = np.iinfo(np.int32).min  # the day of a padding cell
_BASE = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class Instrument:
    """One row of the panel."""

    stock_id: int
    symbol: str
    company_name: str
    sector: str


@dataclass
class Panel:
    """Right-aligned daily candles (NaN-padded on the left); `day` holds days since 1970-01-01 (NO_DAY padding)."""

    instruments: list[Instrument]
    day: np.ndarray
    arrays: dict[str, np.ndarray]
    cache: dict[str, np.ndarray] = field(default_factory=dict)
    fingerprint: dict[str, Any] = field(default_factory=dict)  # of the candles it was loaded from

    @classmethod
    def from_candles(
        cls, instruments: list[Instrument], row: np.ndarray, day: np.ndarray, ohlcv: dict[str, np.ndarray]
    ) -> Panel:
        """Build from flat candles sorted by (row, day): `row` indexes `instruments`, `day` is days since epoch."""
        n = len(instruments)
        counts = np.bincount(row, minlength=n) if row.size else np.zeros(n, dtype=np.int64)
        width = int(counts.max()) if n and row.size else 0
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if n else np.zeros(0, dtype=np.int64)
        col = (np.arange(row.size) - starts[row]) + (width - counts[row])
        days = np.full((n, width), NO_DAY, dtype=np.int32)
        days[row, col] = day
        arrays = {}
        for name in _BASE:
            matrix = np.full((n, width), np.nan)
            matrix[row, col] = ohlcv[name]
            arrays[name] = matrix
        return cls(instruments, days, arrays)

    @property
    def size(self) -> int:
        """Candles held."""
        return int((self.day != NO_DAY).sum())

    def indicators(self) -> dict[str, np.ndarray]:
        """The history-long indicators, computed on first use and kept with the panel."""
        if not self.cache:
            a = self.arrays
            first = indicators.first_columns(a["close"])
            self.cache = {
                "ema9": indicators.ema(a["close"], 9, first),
                "ema20": indicators.ema(a["close"], 20, first),
                "ema50": indicators.ema(a["close"], 50, first),
                "ema200": indicators.ema(a["close"], 200, first),
                "atr14": indicators.atr(a["high"], a["low"], a["close"], 14),
                "rsi14": indicators.rsi(a["close"], 14),
                "high_52w": indicators.rolling_max(a["high"], 250),
                "low_52w": indicators.rolling_min(a["low"], 250),
                "avg_volume20": indicators.shift(indicators.rolling_mean(a["volume"], 20)),
            }
        return self.cache

    def window(self, rows: np.ndarray, lo: int, hi: int, history: int) -> dict[str, np.ndarray]:
        """Every base and cached array for `rows` and columns lo−history…hi−1 (NaN-padded before column 0)."""
        start = lo - history
        pad = max(0, -start)
        out = {}
        for name, matrix in {**self.arrays, **self.indicators()}.items():
            part = matrix[rows, max(start, 0) : hi]
            if pad:
                part = np.concatenate((np.full((part.shape[0], pad), np.nan), part), axis=1)
            out[name] = part
        return out

    def day_range(self) -> tuple[int, int] | None:
        """The first and last day held, as days since epoch (None when empty)."""
        held = self.day[self.day != NO_DAY]
        return (int(held.min()), int(held.max())) if held.size else None
