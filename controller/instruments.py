"""Instrument lookups for trading: exchange rules (tick, lot) and the database quote snapshot."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.sql import fetch_all, fetch_one

_BY_SYMBOL = """
SELECT s.stock_id, s.symbol, s.company_name, s.tick_size, s.lot_size, q.ltp, q.prev_close, q.as_of
FROM stocks s LEFT JOIN stock_quotes q ON q.stock_id = s.stock_id
WHERE s.symbol = %s AND s.is_active = 1
ORDER BY s.exchange = 'NSE' DESC LIMIT 1
"""


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable stock with its exchange rules and its last database quote (None when unquoted)."""

    stock_id: int
    symbol: str
    company_name: str
    tick_size: Decimal
    lot_size: int
    ltp: Decimal | None
    prev_close: Decimal | None
    as_of: datetime | None


def find_instrument(conn: Any, symbol: str) -> Instrument | None:
    """The active stock called `symbol` (NSE listing preferred), or None."""
    row = fetch_one(conn, _BY_SYMBOL, (symbol,))
    return Instrument(**row) if row else None


def stock_ids(conn: Any, symbols: Iterable[str]) -> dict[int, str]:
    """stock_id → symbol for the given symbols (unknown symbols are left out)."""
    wanted = sorted(set(symbols))
    if not wanted:
        return {}
    marks = ", ".join(["%s"] * len(wanted))
    rows = fetch_all(conn, f"SELECT stock_id, symbol FROM stocks WHERE symbol IN ({marks})", wanted)
    return {row["stock_id"]: row["symbol"] for row in rows}
