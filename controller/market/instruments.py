"""Instrument lookups for trading: exchange rules (tick, lot) and the database quote snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.sql import fetch_all, fetch_one

_COLUMNS = "s.stock_id, s.symbol, s.company_name, s.tick_size, s.lot_size, q.ltp, q.prev_close, q.as_of"
_BY_SYMBOL = f"""
SELECT {_COLUMNS} FROM stocks s LEFT JOIN stock_quotes q ON q.stock_id = s.stock_id
WHERE s.symbol = %s AND s.is_active = 1
ORDER BY s.exchange = 'NSE' DESC LIMIT 1
"""
_QUOTED = f"""
SELECT {_COLUMNS} FROM stocks s JOIN stock_quotes q ON q.stock_id = s.stock_id
WHERE s.is_active = 1 AND s.exchange = 'NSE' ORDER BY q.traded_value DESC LIMIT %s
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


def most_traded(conn: Any, limit: int) -> list[Instrument]:
    """The `limit` quoted NSE stocks with the highest traded value (benchmarks, demos)."""
    return [Instrument(**row) for row in fetch_all(conn, _QUOTED, (limit,))]
