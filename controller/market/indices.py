"""Index snapshots: every index with its latest quote, in display order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.sql import fetch_all
from utils.quote_format import PriceChanges
from utils.timeutil import as_utc

_ALL = """
SELECT i.index_id, i.name, i.exchange, i.tag, q.ltp, q.prev_close, q.day_open, q.day_high, q.day_low,
    q.as_of, 'database' AS source
FROM indices i JOIN index_quotes q ON q.index_id = i.index_id
ORDER BY i.display_order, i.name
"""


@dataclass(frozen=True, slots=True)
class IndexQuote(PriceChanges):
    """An index with its latest level."""

    index_id: int
    name: str
    exchange: str
    tag: str
    ltp: Decimal
    prev_close: Decimal
    day_open: Decimal
    day_high: Decimal
    day_low: Decimal
    as_of: datetime  # aware UTC
    source: str


def all_index_quotes(conn: Any) -> list[IndexQuote]:
    """Every index that has a quote, in display order."""
    return [IndexQuote(**{**row, "as_of": as_utc(row["as_of"])}) for row in fetch_all(conn, _ALL)]
