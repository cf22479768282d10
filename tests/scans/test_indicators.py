"""Indicator maths against hand-computed values (utils/indicators.py) and the scan fields built on them."""

from __future__ import annotations

import numpy as np
import pytest

from utils import indicators

NAN = np.nan


def row(*values):
    return np.array([values], dtype=np.float64)


def test_ema_is_seeded_with_the_mean_of_the_first_n_closes():
    # alpha = 2/(3+1) = 0.5; seed at the 3rd close = (1+2+3)/3 = 2; then 0.5*4+0.5*2 = 3, 0.5*5+0.5*3 = 4
    got = indicators.ema(row(1, 2, 3, 4, 5), 3)
    np.testing.assert_allclose(got, row(NAN, NAN, 2, 3, 4))


def test_ema_seeds_each_instrument_at_its_own_first_candle():
    closes = np.array([[1, 2, 3, 4, 5, 6], [NAN, NAN, 1, 2, 3, 4]], dtype=np.float64)
    got = indicators.ema(closes, 3)
    np.testing.assert_allclose(got[0], [NAN, NAN, 2, 3, 4, 5])
    np.testing.assert_allclose(got[1], [NAN, NAN, NAN, NAN, 2, 3])


def test_ema_of_a_short_history_is_undefined():
    assert np.isnan(indicators.ema(row(1, 2), 3)).all()


CANDLES = {  # high, low, close
    "high": row(10, 11, 13, 12, 15),
    "low": row(8, 9, 10, 11, 12),
    "close": row(9, 10, 12, 11.5, 14),
}


def test_true_range_uses_the_previous_close():
    got = indicators.true_range(CANDLES["high"], CANDLES["low"], CANDLES["close"])
    # day1 max(2,|11-9|,|9-9|)=2; day2 max(3,|13-10|,|10-10|)=3; day3 max(1,|12-12|,|11-12|)=1; day4 max(3,3.5,0.5)
    np.testing.assert_allclose(got, row(NAN, 2, 3, 1, 3.5))


def test_wilder_atr_seeded_with_the_mean_of_the_first_n_true_ranges():
    got = indicators.atr(CANDLES["high"], CANDLES["low"], CANDLES["close"], 3)
    # seed at day 3 = (2+3+1)/3 = 2; day 4 = (2*2 + 3.5)/3 = 2.5
    np.testing.assert_allclose(got, row(NAN, NAN, NAN, 2, 2.5))


def test_wilder_rsi():
    got = indicators.rsi(row(10, 11, 10.5, 12, 11.5), 3)
    # gains 1,0,1.5,0 / losses 0,0.5,0,0.5; seed: ag=2.5/3, al=0.5/3 -> RS 5 -> 83.333
    # next: ag=(2.5/3*2+0)/3, al=(0.5/3*2+0.5)/3 -> RS 2 -> 66.667
    np.testing.assert_allclose(got, row(NAN, NAN, NAN, 100 - 100 / 6, 100 - 100 / 3))


def test_rsi_without_losses_is_100_and_without_change_50():
    np.testing.assert_allclose(indicators.rsi(row(1, 2, 3, 4), 3)[0, -1], 100.0)
    np.testing.assert_allclose(indicators.rsi(row(5, 5, 5, 5), 3)[0, -1], 50.0)


@pytest.mark.parametrize("window", [1, 3, 5, 20, 250])
def test_rolling_extremes_match_a_naive_window(window):
    rng = np.random.default_rng(7)
    values = rng.normal(100, 10, (3, 300))
    values[1, :40] = NAN  # a shorter history
    got_max, got_min = indicators.rolling_max(values, window), indicators.rolling_min(values, window)
    for r in range(3):
        for t in range(300):
            part = values[r, t - window + 1 : t + 1] if t >= window - 1 else np.array([NAN])
            if np.isnan(part).any():
                assert np.isnan(got_max[r, t]) and np.isnan(got_min[r, t])
            else:
                assert got_max[r, t] == part.max() and got_min[r, t] == part.min()


def test_rolling_mean():
    np.testing.assert_allclose(indicators.rolling_mean(row(NAN, 1, 2, 3, 4), 2), row(NAN, NAN, 1.5, 2.5, 3.5))
