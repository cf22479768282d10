"""The instrument universe with its latest snapshot, as the simulator and the fan-out start from it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backend import db
from controller.market import snapshots
from services.market.live_price_cache import Quote
from utils.reference_data import load_indices
from utils.timeutil import as_utc


@dataclass(frozen=True, slots=True)
class StockSnapshot:
    """A stock's metadata and its latest stored quote."""

    stock_id: int
    symbol: str
    company_name: str
    sector: str
    instrument_key: str | None
    tick_size: Decimal
    quote: Quote


@dataclass(frozen=True, slots=True)
class IndexSnapshot:
    """An index's metadata, latest stored quote and constituent weights (none for a volatility index)."""

    index_id: int
    name: str
    tag: str
    instrument_key: str | None
    quote: Quote
    members: tuple[tuple[str, Decimal], ...]
    ref_value: Decimal  # the long-run level a volatility index reverts to


@dataclass(frozen=True)
class Universe:
    """Every stock and index the pipeline knows, in a stable order."""

    stocks: tuple[StockSnapshot, ...]
    indices: tuple[IndexSnapshot, ...]


def load_universe() -> Universe:
    """Read the quoted universe and its latest quotes from the database (needs an app context)."""
    with db.connection() as conn:
        stock_rows = snapshots.stocks_with_quotes(conn)
        index_rows = snapshots.indices_with_quotes(conn)
        member_rows = snapshots.index_constituents(conn)
    ref_values = {i.name: i.ref_value for i in load_indices()}
    stocks = tuple(
        StockSnapshot(
            row["stock_id"],
            row["symbol"],
            row["company_name"],
            row["sector"],
            row["instrument_key"],
            row["tick_size"],
            _quote(row["symbol"], row),
        )
        for row in stock_rows
        if row["ltp"] is not None
    )
    quoted = {s.symbol for s in stocks}
    members: dict[int, list[tuple[str, Decimal]]] = {}
    for row in member_rows:
        if row["symbol"] in quoted:
            members.setdefault(row["index_id"], []).append((row["symbol"], Decimal(row["weight"])))
    indices = tuple(
        IndexSnapshot(
            row["index_id"],
            row["name"],
            row["tag"],
            row["instrument_key"],
            _quote(row["name"], row),
            tuple(members.get(row["index_id"], ())),
            Decimal(ref_values.get(row["name"], row["prev_close"])),
        )
        for row in index_rows
        if row["ltp"] is not None
    )
    return Universe(stocks, indices)


def _quote(name: str, row: dict) -> Quote:
    return Quote(
        name,
        row["ltp"],
        row["prev_close"],
        row["day_open"],
        row["day_high"],
        row["day_low"],
        int(row.get("volume") or 0),
        as_utc(row["as_of"]),
        "database",
    )
