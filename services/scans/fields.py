"""The scan fields (docs/SCANS.md): their definitions, how they are served, and their computation over a panel window.

History-long indicators (EMAs, Wilder ATR and RSI, 52-week extremes, the 20-day mean volume) come from the
panel's cache (services/scans/panel.py: they depend on the whole stored history, never on the request); the
day-level fields are computed here for just the columns a scan asks for, plus the two candles before them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from utils import indicators


@dataclass(frozen=True)
class Field:
    """A scan field: its name, what it means, and the decimals it is served with."""

    name: str
    description: str
    decimals: int


FIELDS: tuple[Field, ...] = (
    Field("open", "the day's open", 2),
    Field("high", "the day's high", 2),
    Field("low", "the day's low", 2),
    Field("close", "the day's close", 2),
    Field("volume", "the day's volume (shares)", 0),
    Field("prev_close", "the previous day's close", 2),
    Field("prev_high", "the previous day's high", 2),
    Field("gap_pct", "(open − prev_close) / prev_close × 100", 2),
    Field("change_pct", "(close − prev_close) / prev_close × 100", 2),
    Field("ema9", "EMA(9) of close, seeded with the mean of the first 9 closes", 2),
    Field("ema20", "EMA(20) of close, seeded with the mean of the first 20 closes", 2),
    Field("ema50", "EMA(50) of close, seeded with the mean of the first 50 closes", 2),
    Field("ema200", "EMA(200) of close, seeded with the mean of the first 200 closes", 2),
    Field("atr14", "Wilder's ATR(14) of the true range (as of the day itself)", 2),
    Field("high_chg_atr", "(high − prev_close) / atr14(t−1)", 3),
    Field("dist_h_9ema_atr", "(high − ema9) / atr14(t−1)", 3),
    Field("dist_h_20ema_atr", "(high − ema20) / atr14(t−1)", 3),
    Field("close_range", "(close − low) / (high − low); 0.5 when high = low", 3),
    Field("dollar_volume", "close × volume (traded value, ₹)", 2),
    Field("avg_volume20", "mean volume of days t−20…t−1", 0),
    Field("rel_volume", "volume / avg_volume20", 2),
    Field("rsi14", "Wilder's RSI(14)", 2),
    Field("high_52w", "highest high of days t−249…t", 2),
    Field("low_52w", "lowest low of days t−249…t", 2),
    Field("prev_high_52w", "highest high of days t−250…t−1 (what a breakout on day t breaks)", 2),
    Field("pct_from_high_52w", "(close / high_52w − 1) × 100 (≤ 0)", 2),
    Field("parabolic_score", "0–100 blend of extension, range position and relative volume (docs/SCANS.md)", 1),
    Field("lc_frontside_d2_extended", "1 when the LC frontside day-2 extended pattern holds, else 0", 0),
)
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
DECIMALS = {f.name: f.decimals for f in FIELDS}
OPERATORS: dict[str, str] = {">": "greater", ">=": "at least", "<": "less", "<=": "at most", "=": "equal", "!=": "not"}
HISTORY_COLUMNS = 2  # candles before a window's first day that its fields read (t−1 and t−2)


@dataclass(frozen=True)
class LcParams:
    """The thresholds of the LC frontside day-2 extended flag (named parameters of its preset)."""

    day1_min_change_pct: float = 2.0
    min_gap_pct: float = 0.0
    min_high_chg_atr: float = 1.0
    min_dist_h_9ema_atr: float = 1.5
    min_close_range: float = 0.5


def compare(left: np.ndarray, op: str, right: np.ndarray | float) -> np.ndarray:
    """`left OP right` elementwise (False where either side is NaN)."""
    with np.errstate(invalid="ignore"):
        if op == ">":
            return left > right
        if op == ">=":
            return left >= right
        if op == "<":
            return left < right
        if op == "<=":
            return left <= right
        if op == "=":
            return left == right
        return (left != right) & ~np.isnan(left) & ~np.isnan(right)


def window_fields(cols: dict[str, np.ndarray], lc: LcParams) -> dict[str, np.ndarray]:
    """Every field for a window of columns; `cols` holds the panel's arrays for it with HISTORY_COLUMNS before.

    `cols` has open, high, low, close, volume and the cached ema9/20/50/200, atr14, rsi14, high_52w, low_52w and
    avg_volume20; the result drops the leading history columns.
    """
    o, h, lo, c, v = cols["open"], cols["high"], cols["low"], cols["close"], cols["volume"]
    prev_close, prev_high = indicators.shift(c), indicators.shift(h)
    prev_atr = indicators.shift(cols["atr14"])
    with np.errstate(divide="ignore", invalid="ignore"):
        gap_pct = (o - prev_close) / prev_close * 100.0
        change_pct = (c - prev_close) / prev_close * 100.0
        day1_change_pct = indicators.shift(change_pct)
        high_chg_atr = (h - prev_close) / prev_atr
        dist9 = (h - cols["ema9"]) / prev_atr
        dist20 = (h - cols["ema20"]) / prev_atr
        close_range = np.where(h == lo, 0.5, (c - lo) / (h - lo))
        rel_volume = v / cols["avg_volume20"]
        pct_from_high = (c / cols["high_52w"] - 1.0) * 100.0
    close_range = np.where(np.isnan(h) | np.isnan(lo) | np.isnan(c), np.nan, close_range)
    score = parabolic_score(high_chg_atr, dist9, dist20, close_range, rel_volume)
    flag_inputs = (cols["ema9"], cols["ema20"], cols["ema50"], day1_change_pct, gap_pct, prev_high, high_chg_atr, dist9)
    flag = (
        (cols["ema9"] > cols["ema20"])
        & (cols["ema20"] > cols["ema50"])
        & (day1_change_pct >= lc.day1_min_change_pct)
        & (gap_pct > lc.min_gap_pct)
        & (h > prev_high)
        & (high_chg_atr >= lc.min_high_chg_atr)
        & (dist9 >= lc.min_dist_h_9ema_atr)
        & (close_range >= lc.min_close_range)
    ).astype(np.float64)
    flag[np.logical_or.reduce([np.isnan(a) for a in flag_inputs])] = np.nan
    out = {
        "open": o,
        "high": h,
        "low": lo,
        "close": c,
        "volume": v,
        "prev_close": prev_close,
        "prev_high": prev_high,
        "gap_pct": gap_pct,
        "change_pct": change_pct,
        "ema9": cols["ema9"],
        "ema20": cols["ema20"],
        "ema50": cols["ema50"],
        "ema200": cols["ema200"],
        "atr14": cols["atr14"],
        "high_chg_atr": high_chg_atr,
        "dist_h_9ema_atr": dist9,
        "dist_h_20ema_atr": dist20,
        "close_range": close_range,
        "dollar_volume": c * v,
        "avg_volume20": cols["avg_volume20"],
        "rel_volume": rel_volume,
        "rsi14": cols["rsi14"],
        "high_52w": cols["high_52w"],
        "low_52w": cols["low_52w"],
        "prev_high_52w": indicators.shift(cols["high_52w"]),
        "pct_from_high_52w": pct_from_high,
        "parabolic_score": score,
        "lc_frontside_d2_extended": flag,
    }
    return {name: values[:, HISTORY_COLUMNS:] for name, values in out.items()}


def parabolic_score(
    high_chg_atr: np.ndarray,
    dist9: np.ndarray,
    dist20: np.ndarray,
    close_range: np.ndarray,
    rel_volume: np.ndarray,
) -> np.ndarray:
    """100 × clamp(0.30·min(hc/3,1) + 0.25·min(d9/4,1) + 0.20·min(d20/6,1) + 0.15·cr + 0.10·min(rv/3,1), 0, 1)."""
    blend = (
        0.30 * np.minimum(high_chg_atr / 3.0, 1.0)
        + 0.25 * np.minimum(dist9 / 4.0, 1.0)
        + 0.20 * np.minimum(dist20 / 6.0, 1.0)
        + 0.15 * close_range
        + 0.10 * np.minimum(rel_volume / 3.0, 1.0)
    )
    return 100.0 * np.clip(blend, 0.0, 1.0)
