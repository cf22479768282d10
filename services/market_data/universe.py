"""The instrument universe with its latest snapshot, as the simulator and the fan-out start from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from backend import db
from controller import snapshots
from utils.reference_data import load_indices, load_stocks
from utils.timeutil import as_utc


@dataclass(frozen=True, slots=True)
class StockSnapshot:
    """A stock's metadata and latest quote (as stored, or from the reference data when there is none)."""

    stock_id: int
    symbol: str
    company_name: str
    sector: str
    instrument_key: str | None
    tick_size: Decimal
    ltp: Decimal
    prev_close: Decimal
    day_open: Decimal
    day_high: Decimal
    day_low: Decimal
    volume: int
    as_of: datetime | None


@dataclass(frozen=True, slots=True)
class IndexSnapshot:
    """An index's metadata, latest quote and constituent weights (none for a volatility index)."""

    index_id: int
    name: str
    tag: str
    instrument_key: str | None
    ltp: Decimal
    prev_close: Decimal
    day_open: Decimal
    day_high: Decimal
    day_low: Decimal
    as_of: datetime | None
    members: tuple[tuple[str, Decimal], ...]
    ref_value: Decimal  # the long-run level a volatility index reverts to


@dataclass(frozen=True)
class Universe:
    """Every stock and index the pipeline knows, in a stable order."""

    stocks: tuple[StockSnapshot, ...]
    indices: tuple[IndexSnapshot, ...]


def load_universe() -> Universe:
    """Read the universe and its latest quotes from the database (needs an app context)."""
    with db.connection() as conn:
        stock_rows = snapshots.stocks_with_quotes(conn)
        index_rows = snapshots.indices_with_quotes(conn)
        member_rows = snapshots.index_constituents(conn)
    ref_prices = {s.symbol: s.ref_price for s in load_stocks()}
    ref_values = {i.name: i.ref_value for i in load_indices()}
    stocks = tuple(s for s in (_stock(row, ref_prices) for row in stock_rows) if s is not None)
    members: dict[int, list[tuple[str, Decimal]]] = {}
    for row in member_rows:
        members.setdefault(row["index_id"], []).append((row["symbol"], Decimal(row["weight"])))
    quoted = {s.symbol for s in stocks}
    indices = []
    for row in index_rows:
        parts = tuple(m for m in members.get(row["index_id"], []) if m[0] in quoted)
        ref = ref_values.get(row["name"]) or row["prev_close"]
        if row["ltp"] is None or ref is None:
            continue
        indices.append(IndexSnapshot(
            index_id=row["index_id"], name=row["name"], tag=row["tag"], instrument_key=row["instrument_key"],
            ltp=row["ltp"], prev_close=row["prev_close"], day_open=row["day_open"], day_high=row["day_high"],
            day_low=row["day_low"], as_of=as_utc(row["as_of"]), members=parts, ref_value=Decimal(ref)))
    return Universe(stocks, tuple(indices))


def _stock(row: dict, ref_prices: dict[str, Decimal]) -> StockSnapshot | None:
    meta = dict(stock_id=row["stock_id"], symbol=row["symbol"], company_name=row["company_name"],
                sector=row["sector"], instrument_key=row["instrument_key"], tick_size=row["tick_size"])
    if row["ltp"] is not None:
        return StockSnapshot(**meta, ltp=row["ltp"], prev_close=row["prev_close"], day_open=row["day_open"],
                             day_high=row["day_high"], day_low=row["day_low"], volume=int(row["volume"]),
                             as_of=as_utc(row["as_of"]))
    price = ref_prices.get(row["symbol"])
    if price is None:
        return None
    return StockSnapshot(**meta, ltp=price, prev_close=price, day_open=price, day_high=price, day_low=price,
                         volume=0, as_of=None)
