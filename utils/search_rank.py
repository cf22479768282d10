"""The search ranking rule: which matching stocks a trader most likely means, first.

A symbol that starts with the query comes first (the exact symbol before the others), then stocks whose company
name has a word starting with it ("bank" finds HDFC Bank). Within each group the stocks that matter most come
first: NIFTY 50 members, then members of NIFTY NEXT 50 and the wider indices, then the rest; then the larger
traded value; then the shorter symbol. Pure, so the SQL search and an in-memory index can share it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from decimal import Decimal

TOP_INDEX = "NIFTY 50"
EXACT_SYMBOL, SYMBOL_PREFIX, COMPANY_WORD = 0, 1, 2
_WORD_START = re.compile(r"(?:^|[\s\-(])")  # where a word of a company name begins (as the SQL search matches)


def match_kind(query: str, symbol: str, company_name: str) -> int | None:
    """How `query` matches a stock: EXACT_SYMBOL, SYMBOL_PREFIX, COMPANY_WORD, or None (case-insensitive)."""
    wanted = query.casefold()
    if not wanted:
        return None
    folded = symbol.casefold()
    if folded == wanted:
        return EXACT_SYMBOL
    if folded.startswith(wanted):
        return SYMBOL_PREFIX
    if re.search(_WORD_START.pattern + re.escape(wanted), company_name.casefold()):
        return COMPANY_WORD
    return None


def importance_tier(index_names: Collection[str]) -> int:
    """0 for a NIFTY 50 member, 1 for a member of any other index (NIFTY NEXT 50 and wider), 2 otherwise."""
    if TOP_INDEX in index_names:
        return 0
    return 1 if index_names else 2


def search_rank(
    query: str, symbol: str, company_name: str, index_names: Collection[str], traded_value: Decimal | float | None
) -> tuple | None:
    """The sort key of a stock for `query` (smaller first), or None when it does not match."""
    kind = match_kind(query, symbol, company_name)
    if kind is None:
        return None
    return kind, importance_tier(index_names), -float(traded_value or 0), len(symbol), symbol
