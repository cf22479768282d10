"""Scan fields and the engine on constructed series: atr14(t−1) normalisation, close_range, the LC flag, filters."""

from __future__ import annotations

import numpy as np
import pytest

from services.scans import engine
from services.scans.engine import Condition, ScanSpec
from services.scans.fields import FIELD_NAMES, LcParams
from services.scans.panel import Instrument, Panel
from services.scans.presets import PRESETS, lc_params

DAY0 = 20_000  # days since epoch of the first candle


def panel_of(series: dict[str, dict[str, np.ndarray]], sectors: dict[str, str] | None = None) -> Panel:
    """A panel from {symbol: {open, high, low, close, volume}} (consecutive days from DAY0)."""
    instruments, rows, days, cols = [], [], [], {k: [] for k in ("open", "high", "low", "close", "volume")}
    for i, (symbol, s) in enumerate(series.items()):
        n = len(s["close"])
        instruments.append(Instrument(i + 1, symbol, f"{symbol} Ltd", (sectors or {}).get(symbol, "Energy")))
        rows.append(np.full(n, i))
        days.append(DAY0 + np.arange(n))
        for k in cols:
            cols[k].append(np.asarray(s[k], dtype=np.float64))
    return Panel.from_candles(
        instruments,
        np.concatenate(rows),
        np.concatenate(days),
        {k: np.concatenate(v) for k, v in cols.items()},
    )


def uptrend(days: int = 80) -> dict[str, list[float]]:
    """A steady 0.5 %/day uptrend with tight ranges: frontside (ema9 > ema20 > ema50) at the end."""
    close = [100 * 1.005**i for i in range(days)]
    prev = [close[0]] + close[:-1]
    return {
        "open": prev,
        "high": [max(o, c) * 1.005 for o, c in zip(prev, close, strict=True)],
        "low": [min(o, c) * 0.995 for o, c in zip(prev, close, strict=True)],
        "close": close,
        "volume": [200_000.0] * days,
    }


def with_days(base: dict[str, list[float]], *candles: tuple[float, float, float, float, float]) -> dict:
    out = {k: list(v) for k, v in base.items()}
    for o, h, lo, c, v in candles:
        for k, x in zip(("open", "high", "low", "close", "volume"), (o, h, lo, c, v), strict=True):
            out[k].append(x)
    return {k: np.array(v) for k, v in out.items()}


def day2_setup(day1_pct: float = 3.0, gap: float = 1.01, close_frac: float = 0.8, high_atr: float = 3.0) -> dict:
    """An uptrend, then day 1 (+day1_pct %), then day 2 gapping by `gap`, high `high_atr` ATRs above day 1's close."""
    base = uptrend()
    c0 = base["close"][-1]
    c1 = c0 * (1 + day1_pct / 100)
    day1 = (c0, c1 * 1.002, c0 * 0.999, c1, 300_000.0)
    atr_guess = c0 * 0.012  # about the trend's true range
    o2 = c1 * gap
    h2 = c1 + high_atr * atr_guess + max(0.0, o2 - c1)
    l2 = min(o2, c1) * 0.998
    c2 = l2 + close_frac * (h2 - l2)
    return with_days(base, day1, (o2, h2, l2, c2, 900_000.0))


def scan_all(panel: Panel, *conditions: Condition, lc: LcParams | None = None, **filters) -> engine.ScanOutcome:
    spec = ScanSpec(DAY0, DAY0 + 10_000, tuple(conditions), lc or LcParams(), **filters)
    return engine.run(panel, spec, max_rows=100_000)


def rows_by_day(outcome: engine.ScanOutcome) -> dict[int, dict[str, float]]:
    return {
        int(d) - DAY0: dict(zip(FIELD_NAMES, v, strict=True)) for d, v in zip(outcome.days, outcome.values, strict=True)
    }


def every_day(panel: Panel) -> dict[int, dict[str, float]]:
    return rows_by_day(scan_all(panel, Condition("close", ">", 0.0)))


def test_normalisations_use_the_previous_days_atr():
    panel = panel_of({"AAA": day2_setup()})
    atr = panel.indicators()["atr14"][0]
    ema9 = panel.indicators()["ema9"][0]
    rows = every_day(panel)
    t = max(rows)
    high, prev_close = panel.arrays["high"][0, -1], panel.arrays["close"][0, -2]
    assert rows[t]["high_chg_atr"] == pytest.approx((high - prev_close) / atr[-2])
    assert rows[t]["dist_h_9ema_atr"] == pytest.approx((high - ema9[-1]) / atr[-2])
    assert rows[t]["atr14"] == pytest.approx(atr[-1])  # the served atr14 is the day's own
    assert atr[-1] != atr[-2]


def test_close_range_is_half_when_high_equals_low():
    flat = {k: np.array(v) for k, v in uptrend(30).items()}
    flat["high"][-1] = flat["low"][-1] = flat["close"][-1] = flat["open"][-1] = 150.0
    rows = every_day(panel_of({"FLAT": flat}))
    assert rows[29]["close_range"] == 0.5
    assert rows[28]["close_range"] == pytest.approx(
        (flat["close"][28] - flat["low"][28]) / (flat["high"][28] - flat["low"][28])
    )


def test_fields_are_null_until_their_history_exists():
    rows = every_day(panel_of({"AAA": {k: np.array(v) for k, v in uptrend(260).items()}}))
    assert np.isnan(rows[0]["prev_close"]) and not np.isnan(rows[1]["prev_close"])
    assert np.isnan(rows[7]["ema9"]) and not np.isnan(rows[8]["ema9"])
    assert np.isnan(rows[198]["ema200"]) and not np.isnan(rows[199]["ema200"])
    assert np.isnan(rows[13]["atr14"]) and not np.isnan(rows[14]["atr14"])
    assert np.isnan(rows[19]["avg_volume20"]) and rows[20]["avg_volume20"] == 200_000
    assert np.isnan(rows[248]["high_52w"]) and not np.isnan(rows[249]["high_52w"])
    assert np.isnan(rows[249]["prev_high_52w"]) and not np.isnan(rows[250]["prev_high_52w"])


def test_the_lc_flag_fires_on_an_extended_frontside_day_two():
    rows = every_day(panel_of({"LC": day2_setup()}))
    day2 = rows[max(rows)]
    assert day2["ema9"] > day2["ema20"] > day2["ema50"]
    assert day2["high_chg_atr"] >= 1 and day2["dist_h_9ema_atr"] >= 1.5 and day2["close_range"] >= 0.5
    assert day2["lc_frontside_d2_extended"] == 1
    assert rows[max(rows) - 1]["lc_frontside_d2_extended"] == 0  # day 1 itself is no day 2
    assert 0 < day2["parabolic_score"] <= 100


@pytest.mark.parametrize(
    "setup",
    [
        {"day1_pct": 1.0},  # day 1 was not a 2 % day
        {"gap": 0.995},  # day 2 gapped down
        {"close_frac": 0.3},  # closed in the lower half of its range
        {"high_atr": 0.3},  # not extended: high within an ATR of the previous close
    ],
    ids=["small-day1", "gap-down", "weak-close", "not-extended"],
)
def test_the_lc_flag_does_not_fire(setup):
    rows = every_day(panel_of({"LC": day2_setup(**setup)}))
    assert rows[max(rows)]["lc_frontside_d2_extended"] == 0


def test_the_lc_flag_needs_a_frontside_trend():
    down = {k: np.array(v[::-1]) for k, v in uptrend().items()}
    down["open"], down["close"] = down["close"].copy(), down["open"].copy()
    c0 = down["close"][-1]
    c1 = c0 * 1.03
    setup = with_days(
        {k: list(v) for k, v in down.items()},
        (c0, c1 * 1.002, c0 * 0.999, c1, 300_000.0),
        (c1 * 1.01, c1 * 1.06, c1 * 1.005, c1 * 1.05, 900_000.0),
    )
    rows = every_day(panel_of({"DOWN": setup}))
    assert rows[max(rows)]["ema9"] < rows[max(rows)]["ema50"]
    assert rows[max(rows)]["lc_frontside_d2_extended"] == 0


def test_the_lc_preset_finds_the_day_and_its_thresholds_are_parameters():
    panel = panel_of({"LC": day2_setup(), "FLAT": {k: np.array(v) for k, v in uptrend(82).items()}})
    preset = PRESETS["lc_frontside_d2_extended"]
    hit = scan_all(panel, *preset.conditions({}))
    assert [panel.instruments[r].symbol for r in hit.rows] == ["LC"] and hit.days[0] - DAY0 == 81
    strict = lc_params(preset.name, {"min_close_range": 0.95})
    assert scan_all(panel, *preset.conditions({}), lc=strict).results_found == 0


def test_conditions_with_ref_and_universe_filters_per_day():
    series = {k: np.array(v) for k, v in uptrend(60).items()}
    series["volume"][-5:] = 10.0  # five thin days at the end
    panel = panel_of({"AAA": series, "BBB": series, "CCC": series}, {"BBB": "Banks"})
    above = scan_all(panel, Condition("close", ">", ref="ema20"))
    assert above.results_found == 3 * (60 - 19)  # every day once ema20 is defined
    thin_out = scan_all(panel, Condition("close", ">", ref="ema20"), min_volume=100)
    assert thin_out.results_found == 3 * (60 - 19 - 5)
    banks = scan_all(panel, Condition("close", ">", ref="ema20"), sectors=("Banks",), exclude_symbols=("AAA",))
    assert {panel.instruments[r].symbol for r in banks.rows} == {"BBB"}
    rich = scan_all(panel, Condition("close", ">", 0.0), min_dollar_volume=150 * 200_000)
    assert (rich.values[:, FIELD_NAMES.index("dollar_volume")] >= 150 * 200_000).all()


def test_the_row_limit_keeps_the_highest_scores_and_says_truncated():
    panel = panel_of({"AAA": {k: np.array(v) for k, v in uptrend(60).items()}})
    spec = ScanSpec(DAY0, DAY0 + 100, (Condition("parabolic_score", ">=", 0.0),))
    full = engine.run(panel, spec, max_rows=1000)
    capped = engine.run(panel, spec, max_rows=5)
    assert capped.truncated and not full.truncated and capped.results_found == full.results_found
    score = FIELD_NAMES.index("parabolic_score")
    assert sorted(capped.values[:, score]) == sorted(full.values[:, score])[-5:]


def test_a_date_range_restricts_the_days_and_cancel_stops():
    panel = panel_of({"AAA": {k: np.array(v) for k, v in uptrend(60).items()}})
    spec = ScanSpec(DAY0 + 50, DAY0 + 54, (Condition("close", ">", 0.0),))
    assert sorted(int(d) - DAY0 for d in engine.run(panel, spec, 100).days) == [50, 51, 52, 53, 54]
    with pytest.raises(engine.ScanCancelled):
        engine.run(panel, spec, 100, cancelled=lambda: True)
