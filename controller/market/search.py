"""Stock search: symbol prefix first, then word prefixes of the company name; `%` and `_` are literal."""

from __future__ import annotations

from typing import Any

from controller.market.stocks import QUOTE_COLUMNS, QUOTE_FROM, StockQuote, quote_from_row
from controller.sql import fetch_all

_ESCAPE = "!"
# rank 0: exact symbol, 1: symbol prefix, 2: company name starts with q, 3: a later word starts with q
_SEARCH = f"""
SELECT {QUOTE_COLUMNS} {QUOTE_FROM}
WHERE s.is_active = 1 AND (s.symbol LIKE %(prefix)s ESCAPE '!' OR s.company_name LIKE %(prefix)s ESCAPE '!'
    OR s.company_name LIKE %(word)s ESCAPE '!' OR s.company_name LIKE %(hyphen)s ESCAPE '!'
    OR s.company_name LIKE %(paren)s ESCAPE '!')
ORDER BY CASE WHEN s.symbol = %(exact)s THEN 0 WHEN s.symbol LIKE %(prefix)s ESCAPE '!' THEN 1
    WHEN s.company_name LIKE %(prefix)s ESCAPE '!' THEN 2 ELSE 3 END,
    CHAR_LENGTH(s.symbol), s.symbol, s.exchange = 'NSE' DESC
LIMIT %(limit)s
"""


def like_escape(text: str) -> str:
    """`text` with LIKE wildcards made literal (escape character `!`)."""
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")


def search_stocks(conn: Any, query: str, limit: int) -> list[StockQuote]:
    """Active stocks matching `query` (case-insensitive), best match first, with their snapshot quotes."""
    term = like_escape(query)
    params = {
        "exact": query,
        "prefix": f"{term}%",
        "word": f"% {term}%",
        "hyphen": f"%-{term}%",
        "paren": f"%({term}%",
        "limit": limit,
    }
    return [quote_from_row(row) for row in fetch_all(conn, _SEARCH, params)]
