"""How much of each stock trades in a typical day, from its standing in the market.

On NSE the traded value of a stock follows its index standing: the NIFTY 50 heavyweights (HDFC Bank, Reliance,
ICICI Bank) trade ₹1,500–2,500 crore a day, the smallest NIFTY 50 members a few hundred crore, NIFTY NEXT 50 and
midcap names one or two hundred crore, the rest of the NIFTY 200 tens of crores. The profile below gives every
stock a typical daily traded value from its membership and weight (data/indices.json); the seed's history and
the simulator's intraday volume draw on it (services/market_data/history.py), so most active by value, sector
tiles sized by traded value and anything ranked by liquidity look like NSE's. Share volume is that value at the
stock's price, so cheap stocks trade many more shares (as Yes Bank does).
"""

from __future__ import annotations

from functools import lru_cache

from utils.reference_data import load_indices

CRORE = 10_000_000.0
# (index, base ₹ crore a day, ₹ crore more per percent of index weight); the first index a stock belongs to counts.
_TIERS = (
    ("NIFTY 50", 250.0, 170.0),
    ("NIFTY NEXT 50", 80.0, 45.0),
    ("NIFTY MIDCAP 50", 60.0, 30.0),
)
_OTHER_INDEX_CRORE = 60.0  # a member of another index only (a sector index)
_UNLISTED_CRORE = 35.0  # the rest of the universe (and synthetic instruments)


@lru_cache(maxsize=1)
def _weights() -> dict[str, dict[str, float]]:
    """symbol -> {index name: weight in percent}."""
    weights: dict[str, dict[str, float]] = {}
    for index in load_indices():
        for member in index.constituents:
            weights.setdefault(member.symbol, {})[index.name] = float(member.weight)
    return weights


def typical_traded_value(symbol: str) -> float:
    """A typical day's traded value of `symbol` in rupees (before the per-stock and per-day noise)."""
    memberships = _weights().get(symbol, {})
    for index, base, per_percent in _TIERS:
        if index in memberships:
            return (base + per_percent * memberships[index]) * CRORE
    return (_OTHER_INDEX_CRORE if memberships else _UNLISTED_CRORE) * CRORE
