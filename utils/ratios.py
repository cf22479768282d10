"""Valuation ratios from the current price (docs/FUNDAMENTALS.md), vectorised over instruments in float64.

Every input is a float64 array with NaN where a figure is missing. A ratio that is undefined is NaN with a reason
code beside it (`negative_earnings`, `negative_growth`, `negative_book_value`, `no_data`), so no division by zero
or a negative denominator ever yields a number that would mislead (a negative P/E, a PEG of a shrinking company).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATIOS = ("market_cap", "pe", "peg", "pb", "dividend_yield")
# Reason codes: 0 = the ratio is defined.
NONE, NEGATIVE_EARNINGS, NEGATIVE_GROWTH, NEGATIVE_BOOK_VALUE, NO_DATA = range(5)
REASONS = (None, "negative_earnings", "negative_growth", "negative_book_value", "no_data")
# Which growth figure a PEG divides by: the 3-year EPS CAGR, else the year-on-year EPS growth.
BASES = (None, "eps_cagr_3y", "eps_growth_yoy")


@dataclass(frozen=True)
class Ratios:
    """The derived ratios of N instruments: values (NaN when undefined) and reason codes, one array each."""

    values: dict[str, np.ndarray]
    reasons: dict[str, np.ndarray]
    growth: np.ndarray  # the growth figure of the PEG (its basis), NaN when there is none
    basis: np.ndarray  # index into BASES

    def reasons_of(self, row: int) -> dict[str, str]:
        """{ratio: reason} of one instrument's undefined ratios."""
        return {name: REASONS[codes[row]] for name, codes in self.reasons.items() if codes[row]}


def _defined(ok: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(ok, values, np.nan)


def compute(
    price: np.ndarray,
    shares: np.ndarray,
    eps_ttm: np.ndarray,
    eps_cagr_3y_pct: np.ndarray,
    eps_growth_yoy_pct: np.ndarray,
    book_value_per_share: np.ndarray,
    dividend_per_share: np.ndarray,
) -> Ratios:
    """Market cap, P/E, PEG, P/B and dividend yield (%) of each instrument at `price`, with the reasons of the
    undefined ones."""
    with np.errstate(divide="ignore", invalid="ignore"):  # the masked-out lanes; never served
        priced = price > 0  # NaN compares False: no price is no data

        cap_ok = priced & (shares > 0)
        market_cap = _defined(cap_ok, price * shares)

        pe_ok = priced & (eps_ttm > 0)
        pe = _defined(pe_ok, price / eps_ttm)
        pe_reason = np.where(pe_ok, NONE, np.where(priced & (eps_ttm <= 0), NEGATIVE_EARNINGS, NO_DATA))

        has_cagr = ~np.isnan(eps_cagr_3y_pct)
        growth = np.where(has_cagr, eps_cagr_3y_pct, eps_growth_yoy_pct)
        basis = np.where(has_cagr, 1, np.where(np.isnan(eps_growth_yoy_pct), 0, 2)).astype(np.int8)
        peg_ok = pe_ok & (growth > 0)
        peg = _defined(peg_ok, pe / growth)
        peg_reason = np.where(
            peg_ok, NONE, np.where(~pe_ok, pe_reason, np.where(growth <= 0, NEGATIVE_GROWTH, NO_DATA))
        )

        pb_ok = priced & (book_value_per_share > 0)
        pb = _defined(pb_ok, price / book_value_per_share)
        pb_reason = np.where(pb_ok, NONE, np.where(priced & (book_value_per_share <= 0), NEGATIVE_BOOK_VALUE, NO_DATA))

        yield_ok = priced & (dividend_per_share >= 0)
        dividend_yield = _defined(yield_ok, dividend_per_share * 100 / price)

    codes = {
        "market_cap": np.where(cap_ok, NONE, NO_DATA),
        "pe": pe_reason,
        "peg": peg_reason,
        "pb": pb_reason,
        "dividend_yield": np.where(yield_ok, NONE, NO_DATA),
    }
    return Ratios(
        values={"market_cap": market_cap, "pe": pe, "peg": peg, "pb": pb, "dividend_yield": dividend_yield},
        reasons={name: code.astype(np.int8) for name, code in codes.items()},
        growth=_defined(basis > 0, growth),
        basis=basis,
    )


def group_medians(values: np.ndarray, groups: np.ndarray, count: int) -> np.ndarray:
    """The median of the defined (non-NaN) values of each group 0..count-1; NaN for a group with none."""
    medians = np.full(count, np.nan)
    defined = ~np.isnan(values)
    for group in range(count):
        members = values[defined & (groups == group)]
        if members.size:
            medians[group] = float(np.median(members))
    return medians


def group_ranks(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rank, of): each defined value's 1-based rank within its group, ascending (ties by position), and how many
    defined values its group has; rank 0 for an undefined value."""
    defined = ~np.isnan(values)
    order = np.lexsort((np.where(defined, values, np.inf), ~defined, groups))  # by group, defined first, ascending
    sorted_groups = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_groups)) + 1]
    first_of_group = np.repeat(starts, np.diff(np.r_[starts, order.size]))
    ranks = np.zeros(values.size, dtype=np.int64)
    ranks[order] = np.arange(order.size) - first_of_group + 1
    ranks[~defined] = 0
    counts = np.bincount(groups[defined], minlength=int(groups.max(initial=-1)) + 1)
    return ranks, counts[groups] if groups.size else counts


def rounded(value: float, decimals: int = 2) -> float | None:
    """A float64 analytic as served: rounded, and None when undefined."""
    return None if value != value else round(float(value), decimals)  # NaN != NaN
