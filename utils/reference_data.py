"""Reference universe shipped in ``data/``: the stock list and the index definitions.

Pure and stdlib-only, so the seed, the simulator and the tests can share it without a database.
Every loader validates what it reads and raises ``ValueError`` naming the file, the line or index,
and the offending value.
"""

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
STOCKS_FILE = DATA_DIR / "stocks.csv"
INDICES_FILE = DATA_DIR / "indices.json"
NEWS_ALIASES_FILE = DATA_DIR / "news_aliases.csv"

STOCK_COLUMNS = ("symbol", "company_name", "isin", "sector", "ref_price", "tick_size", "lot_size")
EXCHANGES = frozenset({"NSE", "BSE"})
WEIGHT_TOTAL = Decimal("100")
WEIGHT_TOLERANCE = Decimal("0.5")

# NSE price-band tick sizes for equities (in force since April 2025): (upper bound exclusive, tick).
_TICK_BANDS: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal("250"), Decimal("0.01")),
    (Decimal("1000"), Decimal("0.05")),
    (Decimal("5000"), Decimal("0.10")),
    (Decimal("10000"), Decimal("0.50")),
    (Decimal("20000"), Decimal("1.00")),
)
_TOP_TICK = Decimal("5.00")


@dataclass(frozen=True, slots=True)
class StockRef:
    """One cash-market equity of the reference universe."""

    symbol: str
    company_name: str
    isin: str | None
    sector: str
    ref_price: Decimal
    tick_size: Decimal
    lot_size: int


@dataclass(frozen=True, slots=True)
class Constituent:
    """One index member and its approximate free-float weight in percent."""

    symbol: str
    weight: Decimal


@dataclass(frozen=True, slots=True)
class IndexRef:
    """One index: identity, reference level and constituents (empty for a volatility index)."""

    name: str
    exchange: str
    tag: str
    instrument_key: str
    ref_value: Decimal
    volatility_index: bool
    constituents: tuple[Constituent, ...]


def isin_is_valid(isin: str) -> bool:
    """Return True when ``isin`` is a well-formed ISIN whose check digit (Luhn) matches."""
    if not isinstance(isin, str) or len(isin) != 12:
        return False
    country, body, check = isin[:2], isin[2:11], isin[11]
    if not (country.isascii() and country.isalpha() and country.isupper()):
        return False
    if not (body.isascii() and body.isalnum() and body == body.upper()) or not check.isdigit():
        return False
    digits = "".join(str(int(ch, 36)) for ch in isin[:11])
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10 == int(check)


def tick_size_for(price: Decimal) -> Decimal:
    """Return the NSE equity tick size for ``price`` (0.01 below 250 up to 5.00 from 20000)."""
    price = Decimal(price)
    if not price.is_finite() or price < 0:
        raise ValueError(f"tick size needs a finite, non-negative price, got {price!r}")
    for upper, tick in _TICK_BANDS:
        if price < upper:
            return tick
    return _TOP_TICK


def _decimal(raw: Any, what: str) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError(f"{what}: expected a number, got {raw!r}")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise ValueError(f"{what}: not a number: {raw!r}") from exc
    if not value.is_finite():
        raise ValueError(f"{what}: not a finite number: {raw!r}")
    return value


def _text(raw: Any, what: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"{what}: expected a non-empty string, got {raw!r}")
    return raw.strip()


def _stock_from_row(row: dict[str, str], where: str) -> StockRef:
    symbol = _text(row["symbol"], f"{where}: symbol")
    where = f"{where} ({symbol})"
    isin_raw = (row["isin"] or "").strip()
    if isin_raw and not isin_is_valid(isin_raw):
        raise ValueError(f"{where}: invalid ISIN {isin_raw!r} (bad format or check digit)")
    ref_price = _decimal(row["ref_price"], f"{where}: ref_price")
    tick_size = _decimal(row["tick_size"], f"{where}: tick_size")
    if ref_price <= 0 or tick_size <= 0:
        raise ValueError(f"{where}: ref_price and tick_size must be positive, got {ref_price} / {tick_size}")
    if ref_price % tick_size != 0:
        raise ValueError(f"{where}: ref_price {ref_price} is not a multiple of tick_size {tick_size}")
    lot_raw = (row["lot_size"] or "").strip()
    if not lot_raw.isdigit() or int(lot_raw) < 1:
        raise ValueError(f"{where}: lot_size must be a positive integer, got {row['lot_size']!r}")
    return StockRef(
        symbol=symbol,
        company_name=_text(row["company_name"], f"{where}: company_name"),
        isin=isin_raw or None,
        sector=_text(row["sector"], f"{where}: sector"),
        ref_price=ref_price,
        tick_size=tick_size,
        lot_size=int(lot_raw),
    )


def load_stocks(path: Path | None = None) -> list[StockRef]:
    """Load and validate ``stocks.csv`` (default: the repository's ``data/stocks.csv``)."""
    path = Path(path) if path is not None else STOCKS_FILE
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != STOCK_COLUMNS:
            raise ValueError(f"{path}: expected columns {','.join(STOCK_COLUMNS)}, got {reader.fieldnames}")
        stocks: list[StockRef] = []
        seen: set[str] = set()
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row or any(value is None for value in row.values()):
                raise ValueError(f"{where}: expected {len(STOCK_COLUMNS)} fields")
            stock = _stock_from_row(row, where)
            if stock.symbol in seen:
                raise ValueError(f"{where}: duplicate symbol {stock.symbol!r}")
            seen.add(stock.symbol)
            stocks.append(stock)
    return stocks


def load_news_aliases(path: Path | None = None) -> dict[str, str]:
    """Load ``news_aliases.csv`` (default: the repository's): the short names headlines use for a company
    (alias → symbol). Every symbol must exist in ``stocks.csv`` next to it; aliases are unique."""
    path = Path(path) if path is not None else NEWS_ALIASES_FILE
    known = {s.symbol for s in load_stocks(path.parent / STOCKS_FILE.name)}
    aliases: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != ("alias", "symbol"):
            raise ValueError(f"{path}: expected columns alias,symbol, got {reader.fieldnames}")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            alias, symbol = _text(row.get("alias"), f"{where}: alias"), _text(row.get("symbol"), f"{where}: symbol")
            if symbol not in known:
                raise ValueError(f"{where}: unknown symbol {symbol!r}")
            if alias in aliases:
                raise ValueError(f"{where}: duplicate alias {alias!r}")
            aliases[alias] = symbol
    return aliases


def _constituents(raw: Any, where: str, known: set[str]) -> tuple[Constituent, ...]:
    if not isinstance(raw, list):
        raise ValueError(f"{where}: constituents must be a list")
    members: list[Constituent] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError(f"{where}: each constituent must be an object, got {item!r}")
        symbol = _text(item.get("symbol"), f"{where}: constituent symbol")
        if symbol not in known:
            raise ValueError(f"{where}: unknown constituent symbol {symbol!r} (not in the stock list)")
        if symbol in seen:
            raise ValueError(f"{where}: duplicate constituent {symbol!r}")
        seen.add(symbol)
        weight = _decimal(item.get("weight"), f"{where}: weight of {symbol}")
        if weight <= 0:
            raise ValueError(f"{where}: weight of {symbol} must be positive, got {weight}")
        members.append(Constituent(symbol=symbol, weight=weight))
    return tuple(members)


def _index_from_object(raw: Any, where: str, known: set[str]) -> IndexRef:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object")
    name = _text(raw.get("name"), f"{where}: name")
    where = f"{where} ({name})"
    exchange = _text(raw.get("exchange"), f"{where}: exchange")
    if exchange not in EXCHANGES:
        raise ValueError(f"{where}: exchange must be one of {sorted(EXCHANGES)}, got {exchange!r}")
    volatility = raw.get("volatility_index", False)
    if not isinstance(volatility, bool):
        raise ValueError(f"{where}: volatility_index must be true or false, got {volatility!r}")
    ref_value = _decimal(raw.get("ref_value"), f"{where}: ref_value")
    if ref_value <= 0:
        raise ValueError(f"{where}: ref_value must be positive, got {ref_value}")
    members = _constituents(raw.get("constituents", []), where, known)
    if volatility and members:
        raise ValueError(f"{where}: a volatility index has no constituents")
    if not volatility:
        if not members:
            raise ValueError(f"{where}: an index needs constituents")
        total = sum((c.weight for c in members), Decimal(0))
        if abs(total - WEIGHT_TOTAL) > WEIGHT_TOLERANCE:
            raise ValueError(f"{where}: constituent weights sum to {total}, expected {WEIGHT_TOTAL}")
    return IndexRef(
        name=name,
        exchange=exchange,
        tag=_text(raw.get("tag"), f"{where}: tag"),
        instrument_key=_text(raw.get("instrument_key"), f"{where}: instrument_key"),
        ref_value=ref_value,
        volatility_index=volatility,
        constituents=members,
    )


def load_indices(path: Path | None = None, *, stocks: Iterable[StockRef] | None = None) -> list[IndexRef]:
    """Load and validate ``indices.json``; constituents are checked against ``stocks``.

    Without ``stocks`` the ``stocks.csv`` next to the indices file is loaded (default: ``data/``).
    """
    path = Path(path) if path is not None else INDICES_FILE
    if stocks is None:
        stocks = load_stocks(path.parent / STOCKS_FILE.name)
    known = {stock.symbol for stock in stocks}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON: {exc}") from exc
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON list of index objects")
    indices: list[IndexRef] = []
    names: set[str] = set()
    for position, item in enumerate(raw):
        index = _index_from_object(item, f"{path}[{position}]", known)
        if index.name in names:
            raise ValueError(f"{path}[{position}]: duplicate index name {index.name!r}")
        names.add(index.name)
        indices.append(index)
    return indices
