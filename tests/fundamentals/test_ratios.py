"""Ratios and their null reasons on hand-made numbers (utils/ratios.py, docs/FUNDAMENTALS.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from utils import ratios
from utils.ratios import group_medians, group_ranks, rounded

NAN = math.nan


def one(price=100.0, shares=1e6, eps=5.0, cagr=10.0, yoy=NAN, bvps=50.0, dps=2.0):
    """The ratios of one instrument, rounded as served, and its reasons."""
    result = ratios.compute(*(np.array([v], dtype=np.float64) for v in (price, shares, eps, cagr, yoy, bvps, dps)))
    values = {name: rounded(array[0]) for name, array in result.values.items()}
    return values, result.reasons_of(0), ratios.BASES[result.basis[0]], rounded(result.growth[0])


def test_every_ratio_of_a_healthy_company():
    values, reasons, basis, growth = one(price=1234.5, shares=2_000_000, eps=61.725, cagr=12.5, bvps=411.5, dps=18.52)
    assert values == {
        "market_cap": 2_469_000_000.0,
        "pe": 20.0,  # 1234.5 / 61.725
        "peg": 1.6,  # 20 / 12.5
        "pb": 3.0,  # 1234.5 / 411.5
        "dividend_yield": 1.5,  # 18.52 / 1234.5 × 100
    }
    assert reasons == {} and basis == "eps_cagr_3y" and growth == 12.5


def test_ratios_are_float64_rounded_to_two_decimals():
    values, *_ = one(price=100.0, eps=3.0, cagr=7.0, bvps=30.0, dps=1.0)
    assert values["pe"] == 33.33 and values["peg"] == 4.76 and values["pb"] == 3.33 and values["dividend_yield"] == 1.0


def test_peg_falls_back_to_the_yoy_growth_and_says_so():
    values, reasons, basis, growth = one(eps=5.0, cagr=NAN, yoy=40.0)
    assert values["peg"] == 0.5 and basis == "eps_growth_yoy" and growth == 40.0 and "peg" not in reasons


def test_the_three_year_figure_wins_over_yoy_even_when_negative():
    values, reasons, basis, _ = one(eps=5.0, cagr=-4.0, yoy=30.0)
    assert values["peg"] is None and reasons == {"peg": "negative_growth"} and basis == "eps_cagr_3y"


@pytest.mark.parametrize("eps", [-3.0, 0.0])
def test_no_positive_earnings_means_no_pe_and_no_peg(eps):
    values, reasons, *_ = one(eps=eps)
    assert values["pe"] is None and values["peg"] is None
    assert reasons == {"pe": "negative_earnings", "peg": "negative_earnings"}
    assert values["pb"] == 2.0 and values["market_cap"] == 100_000_000.0  # the other ratios stand


@pytest.mark.parametrize("growth", [-12.0, 0.0])
def test_shrinking_or_flat_earnings_mean_no_peg(growth):
    values, reasons, *_ = one(cagr=growth)
    assert values["pe"] == 20.0 and values["peg"] is None and reasons == {"peg": "negative_growth"}


@pytest.mark.parametrize("bvps", [-25.0, 0.0])
def test_no_positive_book_value_means_no_pb(bvps):
    values, reasons, *_ = one(bvps=bvps)
    assert values["pb"] is None and reasons == {"pb": "negative_book_value"}


def test_missing_figures_are_no_data():
    values, reasons, basis, growth = one(shares=NAN, eps=NAN, cagr=NAN, yoy=NAN, bvps=NAN, dps=NAN)
    assert set(values.values()) == {None}
    assert reasons == {name: "no_data" for name in ratios.RATIOS}
    assert basis is None and growth is None


def test_no_growth_figure_at_all_is_no_data_for_peg_only():
    values, reasons, basis, _ = one(cagr=NAN, yoy=NAN)
    assert values["pe"] == 20.0 and values["peg"] is None and reasons == {"peg": "no_data"} and basis is None


def test_without_a_price_nothing_price_based_is_defined():
    values, reasons, *_ = one(price=NAN)
    assert set(values.values()) == {None} and set(reasons.values()) == {"no_data"}


def test_a_company_paying_nothing_yields_zero_not_null():
    values, reasons, *_ = one(dps=0.0)
    assert values["dividend_yield"] == 0.0 and "dividend_yield" not in reasons


def test_zero_and_negative_denominators_give_null_never_infinity():
    result = ratios.compute(*(np.array([0.0, NAN, -1.0]) for _ in range(7)))
    assert all(np.isnan(array).all() for array in result.values.values())  # no inf, no negative ratio


def test_sector_median_pe_ignores_undefined_values():
    pe = np.array([10.0, 30.0, NAN, 20.0, 12.0, NAN])
    sectors = np.array([0, 0, 0, 0, 1, 2])
    assert group_medians(pe, sectors, 3).tolist()[:2] == [20.0, 12.0]
    assert math.isnan(group_medians(pe, sectors, 3)[2])  # a sector without any defined P/E has no median


def test_rank_in_sector_by_peg_ascending_with_undefined_unranked():
    peg = np.array([1.5, 0.8, NAN, 2.5, 0.9, 3.0])
    sectors = np.array([0, 0, 0, 0, 1, 1])
    rank, of = group_ranks(peg, sectors)
    assert rank.tolist() == [2, 1, 0, 3, 1, 2]
    assert of.tolist() == [3, 3, 3, 3, 2, 2]
