"""Stock search: the stocks whose symbol or a word of whose company name starts with the query, ranked by
`utils.search_rank.search_rank`; `%` and `_` are literal."""

from __future__ import annotations

from typing import Any

from controller.market.stocks import QUOTE_COLUMNS, QUOTE_FROM, StockQuote, quote_from_row
from controller.sql import fetch_all
from utils.search_rank import search_rank

_ESCAPE = "!"
# Every match with what the ranking needs: its traded value and the indices it belongs to.
_SEARCH = f"""
SELECT {QUOTE_COLUMNS}, q.traded_value,
    (SELECT GROUP_CONCAT(i.name SEPARATOR '|') FROM index_constituents c JOIN indices i ON i.index_id = c.index_id
     WHERE c.stock_id = s.stock_id) AS index_names
{QUOTE_FROM}
WHERE s.is_active = 1 AND (s.symbol LIKE %(prefix)s ESCAPE '!' OR s.company_name LIKE %(prefix)s ESCAPE '!'
    OR s.company_name LIKE %(word)s ESCAPE '!' OR s.company_name LIKE %(hyphen)s ESCAPE '!'
    OR s.company_name LIKE %(paren)s ESCAPE '!')
"""


def like_escape(text: str) -> str:
    """`text` with LIKE wildcards made literal (escape character `!`)."""
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")


def search_stocks(conn: Any, query: str, limit: int) -> list[StockQuote]:
    """Active stocks matching `query` (case-insensitive), best match first, with their snapshot quotes."""
    term = like_escape(query)
    params = {"prefix": f"{term}%", "word": f"% {term}%", "hyphen": f"%-{term}%", "paren": f"%({term}%"}
    ranked = []
    for row in fetch_all(conn, _SEARCH, params):
        names = set(filter(None, (row.pop("index_names") or "").split("|")))
        key = search_rank(query, row["symbol"], row["company_name"], names, row.pop("traded_value"))
        if key is not None:
            ranked.append((key, row["exchange"] != "NSE", quote_from_row(row)))
    ranked.sort(key=lambda item: item[:2])
    return [quote for *_, quote in ranked[:limit]]
