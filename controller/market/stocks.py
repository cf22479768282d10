"""Stock snapshots: one stock's latest quote, the whole exchange, movers and sector performance.

Every query reads the one-row-per-stock `stock_quotes` table (never candle history), so each is an
index lookup or a scan of ~2,000 rows. The ranking rules also exist as pure functions over rows,
for when live quotes are laid over the snapshot and the ranking must be redone in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from controller.sql import Pause, fetch_all, stream_rows
from utils.interning import shared
from utils.quote_format import PriceChanges
from utils.timeutil import as_utc

MoverKind = Literal["gainers", "losers", "active", "active_value"]  # most active by volume, by traded value

QUOTE_COLUMNS = """s.stock_id, s.symbol, s.company_name, s.exchange, s.sector, s.tick_size,
    q.ltp, q.prev_close, q.day_open, q.day_high, q.day_low, q.volume, q.week52_high, q.week52_low,
    q.as_of, 'database' AS source"""
QUOTE_FROM = "FROM stock_quotes q JOIN stocks s ON s.stock_id = q.stock_id"
_BY_SYMBOL = f"""SELECT {QUOTE_COLUMNS} {QUOTE_FROM}
WHERE s.symbol = %s AND s.is_active = 1 ORDER BY s.exchange = 'NSE' DESC LIMIT 1"""
_REPEATED = ("symbol", "exchange", "sector", "tick_size", "source")  # also held by other structures, or repeated
_BY_EXCHANGE = f"SELECT {QUOTE_COLUMNS} {QUOTE_FROM} WHERE s.exchange = %s AND s.is_active = 1"
# column, comparison and direction per (kind, intraday); the column names are fixed here, never input
_MOVER_ORDER = {
    ("gainers", False): ("q.change_pct", "> 0", "DESC"),
    ("gainers", True): ("q.intraday_change_pct", "> 0", "DESC"),
    ("losers", False): ("q.change_pct", "< 0", "ASC"),
    ("losers", True): ("q.intraday_change_pct", "< 0", "ASC"),
    ("active", False): ("q.volume", "> 0", "DESC"),
    ("active", True): ("q.volume", "> 0", "DESC"),
    ("active_value", False): ("q.traded_value", "> 0", "DESC"),
    ("active_value", True): ("q.traded_value", "> 0", "DESC"),
}


@dataclass(frozen=True, slots=True)
class StockQuote(PriceChanges):
    """A stock with its latest quote (from the snapshot table or laid over from a live quote)."""

    stock_id: int
    symbol: str
    company_name: str
    exchange: str
    sector: str
    tick_size: Decimal
    ltp: Decimal
    prev_close: Decimal
    day_open: Decimal
    day_high: Decimal
    day_low: Decimal
    volume: int
    week52_high: Decimal | None
    week52_low: Decimal | None
    as_of: datetime  # aware UTC
    source: str

    @property
    def traded_value(self) -> Decimal:
        """Volume × last price, rounded to paise (as the snapshot table's stored column)."""
        return (self.ltp * self.volume).quantize(Decimal("0.01"))

    def change(self, intraday: bool) -> tuple[Decimal, Decimal]:
        """(change value, change percent) vs the day open when `intraday`, else vs the previous close."""
        if intraday:
            return self.ltp - self.day_open, self.intraday_change_pct
        return self.change_value, self.change_pct


def quote_from_row(row: dict[str, Any], previous: StockQuote | None = None) -> StockQuote:
    """A StockQuote from a row selected with QUOTE_COLUMNS; the values equal to `previous`'s (the same stock's row
    in an earlier snapshot) are `previous`'s objects, and the values common to many rows are shared, so that
    snapshots held at once share what did not change."""
    values = {**row, "volume": int(row["volume"]), "as_of": as_utc(row["as_of"])}
    for name in _REPEATED:
        values[name] = shared(values[name])
    if previous is not None:
        for name, value in values.items():
            kept = getattr(previous, name)
            if kept is not value and _same(kept, value):
                values[name] = kept
    return StockQuote(**values)


def _same(kept: Any, value: Any) -> bool:
    """Equal and indistinguishable (a Decimal's exponent included: 1.0 and 1.00 are equal, not the same)."""
    if type(kept) is not type(value) or kept != value:
        return False
    return not isinstance(value, Decimal) or kept.as_tuple() == value.as_tuple()


def stock_by_symbol(conn: Any, symbol: str) -> StockQuote | None:
    """One active stock's snapshot by symbol (NSE listing first), or None."""
    rows = fetch_all(conn, _BY_SYMBOL, (symbol,))
    return quote_from_row(rows[0]) if rows else None


def exchange_quotes(
    conn: Any, exchange: str, pause: Pause = None, previous: Iterable[StockQuote] = ()
) -> list[StockQuote]:
    """Every active stock of `exchange` with its snapshot quote (thousands of rows: `pause` between chunks), sharing
    the unchanged values of the `previous` snapshot's rows."""
    earlier = {quote.stock_id: quote for quote in previous}
    rows = stream_rows(conn, _BY_EXCHANGE, (exchange,), pause, every=125)  # a row's dict lives until it is converted
    return [quote_from_row(row, earlier.get(row["stock_id"])) for row in rows]


def active_symbols(conn: Any) -> frozenset[str]:
    """The symbols of every active stock that has a quote."""
    rows = fetch_all(conn, f"SELECT DISTINCT s.symbol {QUOTE_FROM} WHERE s.is_active = 1")
    return frozenset(row["symbol"] for row in rows)


def top_movers(conn: Any, kind: MoverKind, exchange: str, intraday: bool, limit: int) -> list[StockQuote]:
    """Top `limit` gainers (change > 0), losers (change < 0) or most active (by volume or value) from the snapshot.

    Ordered by the ranking column alone, the query walks that column's index from its end and stops after `limit`
    rows (ordering by the symbol too, from the other table, sorted every match: "Using temporary; Using
    filesort"). The symbol only breaks ties, so the rows tied with the last one are read by an index lookup and
    the few candidates sorted here: the same rows as `ORDER BY column, symbol LIMIT limit`, at a cost that does
    not grow with the universe.
    """
    column, condition, order = _MOVER_ORDER[(kind, intraday)]
    matching = (
        f"SELECT STRAIGHT_JOIN {QUOTE_COLUMNS}, {column} AS rank_value {QUOTE_FROM} "
        f"WHERE s.exchange = %s AND s.is_active = 1 AND {column} {condition}"
    )
    rows = fetch_all(conn, f"{matching} ORDER BY {column} {order} LIMIT %s", (exchange, limit))
    if rows and len(rows) == limit:
        boundary = rows[-1]["rank_value"]
        ties = fetch_all(conn, f"{matching} AND {column} = %s", (exchange, boundary))
        rows = [row for row in rows if row["rank_value"] != boundary] + ties
    sign = -1 if order == "DESC" else 1
    rows.sort(key=lambda row: (sign * row["rank_value"], row["symbol"]))
    return [quote_from_row({k: v for k, v in row.items() if k != "rank_value"}) for row in rows[:limit]]


def rank_movers(rows: Iterable[StockQuote], kind: MoverKind, intraday: bool, limit: int) -> list[StockQuote]:
    """The same ranking as `top_movers`, over rows in memory (used when live quotes are laid over)."""
    if kind == "active":
        ranked = sorted((r for r in rows if r.volume > 0), key=lambda r: (-r.volume, r.symbol))
    elif kind == "active_value":
        ranked = sorted((r for r in rows if r.volume > 0), key=lambda r: (-r.traded_value, r.symbol))
    else:
        sign = 1 if kind == "gainers" else -1  # losers: the most negative change first
        scored = [(r.change(intraday)[1] * sign, r) for r in rows]
        ranked = [r for score, r in sorted((t for t in scored if t[0] > 0), key=lambda t: (-t[0], t[1].symbol))]
    return ranked[:limit]


@dataclass(frozen=True, slots=True)
class SectorPerformance:
    """Equal-weighted average change of a sector with its breadth and traded value."""

    sector: str
    change_pct: Decimal
    advances: int
    declines: int
    count: int
    traded_value: Decimal


def sector_performance(rows: Iterable[StockQuote]) -> list[SectorPerformance]:
    """Per sector: mean percent change vs previous close, advances, declines, traded value; best sector first."""
    groups: dict[str, list[StockQuote]] = {}
    for row in rows:
        groups.setdefault(row.sector, []).append(row)
    result = [
        SectorPerformance(
            sector=sector,
            change_pct=(sum((m.change_pct for m in members), Decimal(0)) / len(members)).quantize(Decimal("0.0001")),
            advances=sum(1 for m in members if m.change_pct > 0),
            declines=sum(1 for m in members if m.change_pct < 0),
            count=len(members),
            traded_value=sum((m.traded_value for m in members), Decimal(0)),
        )
        for sector, members in groups.items()
    ]
    return sorted(result, key=lambda s: (-s.change_pct, s.sector))


def sector_members(rows: Iterable[StockQuote], sector: str) -> list[StockQuote] | None:
    """The stocks of `sector` (matched case-insensitively), largest traded value first; None for an unknown one."""
    wanted = sector.strip().casefold()
    members = [row for row in rows if row.sector.casefold() == wanted]
    return sorted(members, key=lambda r: (-r.traded_value, r.symbol)) if members else None
