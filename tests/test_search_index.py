"""The in-memory search index: the same answers as the ranking rule over the whole universe, and rebuilt or re-ranked
as the database changes (a new stock, a new traded value) with no database read per query."""

from __future__ import annotations

import random
import string

import pytest

from backend.seed import synthetic_stocks
from tests.conftest import migrate_and_seed
from tests.waiting import wait_for
from utils.reference_data import load_indices, load_stocks
from utils.search_index import SCAN_LIMIT, SHORT_PREFIX, Instrument, SearchIndex
from utils.search_rank import search_rank

QUERIES = (
    [a + b for a in string.ascii_lowercase for b in string.ascii_lowercase]
    + list(string.ascii_lowercase + string.digits)
    + ["bank", "tata", "tcs", "syn", "synthetic i", "synthetic instrument 0001", "hdfc ba", "ltd", "m&m", "(", "-"]
    + ["relia", "hdfcb", "infy", "bajaj f", "syn0", "syn00", "instrument 00", "zzzz", "a-b", "motors"]
)


def _universe(extra: int, exchanges: tuple[str, ...] = ("NSE",)) -> tuple[list[Instrument], list[float]]:
    members: dict[str, set[str]] = {}
    for ref in load_indices():
        for c in ref.constituents:
            members.setdefault(c.symbol, set()).add(ref.name)
    rng = random.Random(7)
    stocks = load_stocks() + synthetic_stocks(1, extra)
    instruments = [
        Instrument(n, s.symbol, s.company_name, exchange, members.get(s.symbol, set()))
        for n, (s, exchange) in enumerate((s, e) for s in stocks for e in exchanges)
    ]
    # a few equal traded values, so the later keys (symbol length, symbol, exchange) decide too
    return instruments, [rng.choice([0, 0, 1e6, rng.random() * 1e10]) for _ in instruments]


def _by_the_rule(instruments: list[Instrument], traded: list[float], query: str, limit: int) -> list[int]:
    ranked = []
    for n, i in enumerate(instruments):
        key = search_rank(query, i.symbol, i.company_name, i.index_names, traded[n])
        if key is not None:
            ranked.append((key, i.exchange != "NSE", n))
    ranked.sort(key=lambda item: item[:2])
    return [n for *_, n in ranked[:limit]]


@pytest.mark.parametrize(("extra", "exchanges"), [(300, ("NSE",)), (100, ("NSE", "BSE"))])
def test_the_index_answers_as_the_ranking_rule_does(extra, exchanges):
    instruments, traded = _universe(extra, exchanges)
    index = SearchIndex(instruments)
    assert index.by_word.crowded and index.by_symbol.crowded  # both the scanned and the precomputed paths run
    assert {len(q) for q in QUERIES} > set(range(1, SHORT_PREFIX + 2))  # short queries (a table) and longer (a walk)
    ranked = index.ranked(traded)
    for query in QUERIES:
        for limit in (1, 10, 50):
            assert ranked.search(query, limit) == _by_the_rule(instruments, traded, query, limit), (query, limit)


def test_crowded_prefixes_are_precomputed_and_the_rest_are_short():
    index = SearchIndex(_universe(2000)[0])
    for keys in (index.by_symbol, index.by_word):
        for prefix, (lo, hi) in keys.crowded.items():
            assert hi - lo > SCAN_LIMIT and all(k.startswith(prefix) for k in keys.keys[lo:hi])
        for query in QUERIES:
            lo, hi = keys.span(query.casefold())
            assert query.casefold() in keys.crowded or hi - lo <= SCAN_LIMIT
            assert [k for k in keys.keys if k.startswith(query.casefold())] == keys.keys[lo:hi]


@pytest.fixture(scope="module")
def search_db(make_database):
    """A small seeded database of this module's own, which the tests change."""
    return migrate_and_seed(make_database("test_search_index"), days=2)


def _found(client, query: str) -> list[str]:
    response = client.get(f"/stocks/search?q={query}&limit=50")
    assert response.status_code == 200
    return [row["symbol"] for row in response.get_json()["data"]]


def test_a_new_stock_is_found_and_a_traded_value_reranks_once_the_search_index_rereads(make_app, search_db):
    from backend.db import connect

    app = make_app(search_db, cache_ttl_search_s=0.2, cache_ttl_quotes_s=0.2)
    client = app.test_client()
    assert _found(client, "zqx") == []
    industries = _found(client, "industries")
    assert len(industries) > 2
    conn = connect(search_db)
    try:
        cursor = conn.cursor()
        cursor.execute(
            "INSERT INTO stocks (symbol, exchange, company_name, sector, tick_size, lot_size) "
            "VALUES ('ZQXTEST', 'NSE', 'Zqx Industries Ltd', 'Realty', 0.05, 1)"
        )
        cursor.execute(
            "INSERT INTO stock_quotes (stock_id, ltp, prev_close, day_open, day_high, day_low, volume, as_of, source) "
            "SELECT stock_id, 10, 10, 10, 10, 10, 1, UTC_TIMESTAMP(), 'database' FROM stocks WHERE symbol = 'ZQXTEST'"
        )
        wait_for(lambda: _found(client, "zqx") == ["ZQXTEST"], timeout_s=5)
        # the last company-word match of "industries" moves up to lead the stocks outside any index
        last = industries[-1]
        outside = [s for s in _found(client, "industries") if s != "ZQXTEST"]
        cursor.execute(
            "UPDATE stock_quotes q JOIN stocks s ON s.stock_id = q.stock_id SET q.volume = 10000000000 "
            "WHERE s.symbol = %s",
            (last,),
        )
        wait_for(lambda: _found(client, "industries").index(last) < outside.index(last), timeout_s=5)
    finally:
        cursor.execute(
            "DELETE q FROM stock_quotes q JOIN stocks s ON s.stock_id = q.stock_id WHERE s.symbol = 'ZQXTEST'"
        )
        cursor.execute("DELETE FROM stocks WHERE symbol = 'ZQXTEST'")
        conn.close()
