"""The shipped reference universe (data/stocks.csv, data/indices.json) and its loader: no DB, no network."""

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from utils.reference_data import (
    DATA_DIR,
    STOCK_COLUMNS,
    Constituent,
    IndexRef,
    StockRef,
    isin_is_valid,
    load_indices,
    load_stocks,
    tick_size_for,
)

INDEX_NAMES = [
    "NIFTY 50",
    "NIFTY BANK",
    "SENSEX",
    "NIFTY FIN SERVICE",
    "NIFTY NEXT 50",
    "NIFTY MIDCAP 50",
    "BANKEX",
    "SENSEX50",
    "INDIA VIX",
]
EXPECTED_COUNTS = {
    "NIFTY 50": 50,
    "NIFTY NEXT 50": 50,
    "SENSEX": 30,
    "SENSEX50": 50,
    "NIFTY BANK": 14,
    "BANKEX": 14,
    "NIFTY FIN SERVICE": 20,
    "NIFTY MIDCAP 50": 50,
}


@pytest.fixture(scope="module")
def stocks() -> list[StockRef]:
    return load_stocks()


@pytest.fixture(scope="module")
def indices() -> list[IndexRef]:
    return load_indices()


def test_universe_has_at_least_the_nifty_200(stocks):
    assert len(stocks) >= 200
    symbols = [s.symbol for s in stocks]
    assert len(set(symbols)) == len(symbols)
    assert symbols == sorted(symbols)
    for symbol in ("RELIANCE", "HDFCBANK", "TCS", "INFY", "M&M", "BAJAJ-AUTO", "MRF"):
        assert symbol in symbols


def test_stock_fields_are_typed(stocks):
    for s in stocks:
        assert isinstance(s.ref_price, Decimal) and isinstance(s.tick_size, Decimal)
        assert s.lot_size == 1
        assert s.company_name and s.sector
    assert 10 <= len({s.sector for s in stocks}) <= 20


def test_csv_header_is_exact():
    with (DATA_DIR / "stocks.csv").open(encoding="utf-8") as handle:
        assert handle.readline().strip() == ",".join(STOCK_COLUMNS)


def test_every_isin_present_passes_the_check_digit(stocks):
    with_isin = [s for s in stocks if s.isin is not None]
    assert len(with_isin) >= 200
    for s in with_isin:
        assert s.isin.startswith("INE"), s.symbol
        assert isin_is_valid(s.isin), s.symbol


def test_known_isins():
    by_symbol = {s.symbol: s.isin for s in load_stocks()}
    for symbol, isin in (("RELIANCE", "INE002A01018"), ("TCS", "INE467B01029"), ("INFY", "INE009A01021")):
        assert isin_is_valid(isin)
        assert by_symbol[symbol] == isin
    assert not isin_is_valid("INE002A01019")  # wrong check digit
    assert not isin_is_valid("INE002A10018")  # transposed digits
    assert not isin_is_valid("INE002A0101")  # too short
    assert not isin_is_valid("ine002a01018")  # lower case
    assert not isin_is_valid("")


def test_tick_size_table():
    cases = {
        "0.05": "0.01",
        "249.99": "0.01",
        "250": "0.05",
        "999.95": "0.05",
        "1000": "0.10",
        "4999.90": "0.10",
        "5000": "0.50",
        "9999.50": "0.50",
        "10000": "1.00",
        "19999": "1.00",
        "20000": "5.00",
        "140000": "5.00",
    }
    for price, tick in cases.items():
        assert tick_size_for(Decimal(price)) == Decimal(tick), price
    with pytest.raises(ValueError):
        tick_size_for(Decimal("-1"))


def test_prices_follow_the_tick_table(stocks):
    for s in stocks:
        assert s.ref_price > 0, s.symbol
        assert s.tick_size == tick_size_for(s.ref_price), s.symbol
        assert s.ref_price % s.tick_size == 0, s.symbol
        assert s.ref_price == s.ref_price.quantize(Decimal("0.01")), s.symbol


def test_all_indices_present_in_display_order(indices):
    assert [i.name for i in indices] == INDEX_NAMES
    for index in indices:
        assert index.tag == index.exchange and index.exchange in {"NSE", "BSE"}
        assert index.instrument_key.startswith(f"{index.exchange}_INDEX|")
        assert index.ref_value > 0


def test_constituent_counts(indices):
    by_name = {i.name: i for i in indices}
    for name, count in EXPECTED_COUNTS.items():
        assert len(by_name[name].constituents) == count, name
        assert not by_name[name].volatility_index
    vix = by_name["INDIA VIX"]
    assert vix.volatility_index and vix.constituents == ()
    assert Decimal("5") < vix.ref_value < Decimal("40")


def test_weights_sum_to_100_and_members_exist(indices, stocks):
    known = {s.symbol for s in stocks}
    for index in indices:
        if index.volatility_index:
            continue
        assert all(isinstance(c, Constituent) and c.weight > 0 for c in index.constituents)
        assert abs(sum(c.weight for c in index.constituents) - 100) <= Decimal("0.5"), index.name
        symbols = [c.symbol for c in index.constituents]
        assert len(set(symbols)) == len(symbols), index.name
        assert set(symbols) <= known, index.name


def test_index_families_are_consistent(indices):
    by_name = {i.name: {c.symbol for c in i.constituents} for i in indices}
    assert by_name["SENSEX"] <= by_name["SENSEX50"]
    assert not by_name["NIFTY 50"] & by_name["NIFTY NEXT 50"]
    assert not by_name["NIFTY MIDCAP 50"] & (by_name["NIFTY 50"] | by_name["NIFTY NEXT 50"])


# --- loader validation -------------------------------------------------------------------------


def _copy_data(tmp_path: Path) -> Path:
    for name in ("stocks.csv", "indices.json"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def _rewrite_line(path: Path, startswith: str, new_line: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [new_line if line.startswith(startswith) else line for line in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_copied_files_load(tmp_path):
    data = _copy_data(tmp_path)
    assert len(load_stocks(data / "stocks.csv")) == len(load_stocks())
    assert [i.name for i in load_indices(data / "indices.json")] == INDEX_NAMES


def test_rejects_duplicate_symbol(tmp_path):
    path = _copy_data(tmp_path) / "stocks.csv"
    with path.open("a", encoding="utf-8") as handle:
        handle.write("TCS,Tata Consultancy Services,INE467B01029,Information Technology,3000.00,0.10,1\n")
    with pytest.raises(ValueError, match="duplicate symbol 'TCS'"):
        load_stocks(path)


def test_rejects_bad_isin(tmp_path):
    path = _copy_data(tmp_path) / "stocks.csv"
    _rewrite_line(path, "INFY,", "INFY,Infosys Ltd.,INE009A01022,Information Technology,1500.00,0.10,1")
    with pytest.raises(ValueError, match="invalid ISIN 'INE009A01022'"):
        load_stocks(path)


def test_rejects_price_off_tick(tmp_path):
    path = _copy_data(tmp_path) / "stocks.csv"
    _rewrite_line(path, "INFY,", "INFY,Infosys Ltd.,INE009A01021,Information Technology,1500.05,0.10,1")
    with pytest.raises(ValueError, match="not a multiple of tick_size"):
        load_stocks(path)


def test_rejects_unknown_constituent(tmp_path):
    data = _copy_data(tmp_path)
    raw = json.loads((data / "indices.json").read_text(encoding="utf-8"))
    raw[0]["constituents"][0]["symbol"] = "NOSUCHSTOCK"
    (data / "indices.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown constituent symbol 'NOSUCHSTOCK'"):
        load_indices(data / "indices.json")


def test_rejects_weights_not_summing_to_100(tmp_path):
    data = _copy_data(tmp_path)
    raw = json.loads((data / "indices.json").read_text(encoding="utf-8"))
    raw[1]["constituents"][0]["weight"] = 60
    (data / "indices.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="weights sum to"):
        load_indices(data / "indices.json")


def test_explicit_stock_list_is_used_for_membership(tmp_path):
    only_reliance = [s for s in load_stocks() if s.symbol == "RELIANCE"]
    with pytest.raises(ValueError, match="unknown constituent symbol"):
        load_indices(stocks=only_reliance)
