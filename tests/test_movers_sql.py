"""The movers' SQL: an index walk that stops after `limit` rows, with the rows tied at the boundary ordered by
symbol exactly as `ORDER BY column, symbol LIMIT n` (which sorted every match)."""

from __future__ import annotations

import pytest

from backend.db import connect
from controller.market.stocks import QUOTE_FROM, top_movers
from controller.sql import execute, fetch_all
from tests.conftest import migrate_and_seed

REFERENCE = {  # the statement before: the whole set of matches sorted
    ("gainers", False): "q.change_pct > 0 ORDER BY q.change_pct DESC",
    ("gainers", True): "q.intraday_change_pct > 0 ORDER BY q.intraday_change_pct DESC",
    ("losers", False): "q.change_pct < 0 ORDER BY q.change_pct ASC",
    ("losers", True): "q.intraday_change_pct < 0 ORDER BY q.intraday_change_pct ASC",
    ("active", False): "q.volume > 0 ORDER BY q.volume DESC",
    ("active_value", False): "q.traded_value > 0 ORDER BY q.traded_value DESC",
}


@pytest.fixture(scope="module")
def conn(make_database):
    config = migrate_and_seed(make_database("test_movers_sql"), days=2)
    connection = connect(config)
    yield connection
    connection.close()


def reference(conn, kind: str, intraday: bool, limit: int) -> list[str]:
    sql = f"SELECT s.symbol {QUOTE_FROM} WHERE s.exchange = 'NSE' AND s.is_active = 1 AND {REFERENCE[(kind, intraday)]}"
    return [r["symbol"] for r in fetch_all(conn, f"{sql}, s.symbol LIMIT %s", (limit,))]


def test_ties_at_the_boundary_are_ordered_by_symbol(conn):
    # three stocks share the top gain and the top volume; a limit of 2 cuts through them
    tied = ["WIPRO", "INFY", "TCS"]
    marks = ", ".join(["%s"] * len(tied))
    execute(
        conn,
        f"UPDATE stock_quotes q JOIN stocks s ON s.stock_id = q.stock_id SET q.prev_close = 100, q.ltp = 150, "
        f"q.day_open = 100, q.volume = 999999999 WHERE s.symbol IN ({marks})",
        tied,
    )
    for kind, intraday in REFERENCE:
        for limit in (1, 2, 3, 4, 10, 50):
            found = [q.symbol for q in top_movers(conn, kind, "NSE", intraday, limit)]
            assert found == reference(conn, kind, intraday, limit), (kind, intraday, limit)
    assert [q.symbol for q in top_movers(conn, "gainers", "NSE", False, 2)] == ["INFY", "TCS"]


def _status(conn) -> dict[str, int]:
    names = "'Created_tmp_tables', 'Sort_rows', 'Handler_read_next', 'Handler_read_prev', 'Handler_read_rnd_next'"
    rows = fetch_all(conn, f"SHOW SESSION STATUS WHERE Variable_name IN ({names})")
    return {r["Variable_name"]: int(r["Value"]) for r in rows}


def _work(conn, run) -> dict[str, int]:
    """The server's handler and sort counters that `run()` moved (SHOW STATUS's own share taken off)."""
    first, second = _status(conn), _status(conn)
    before = _status(conn)
    run()
    after = _status(conn)
    return {k: after[k] - before[k] - (second[k] - first[k]) for k in before}


def test_the_walk_reads_about_limit_rows_and_sorts_nothing_on_the_server(conn):
    # 201 instruments, about half of them gainers: the old statement read and sorted all of those
    work = _work(conn, lambda: top_movers(conn, "gainers", "NSE", False, 10))
    assert work["Created_tmp_tables"] == 0 and work["Sort_rows"] == 0 and work["Handler_read_rnd_next"] == 0
    assert work["Handler_read_next"] + work["Handler_read_prev"] <= 10 + 5  # the rows and the ties' lookup
    old = _work(conn, lambda: reference(conn, "gainers", False, 10))
    assert old["Created_tmp_tables"] == 1 and old["Handler_read_next"] + old["Handler_read_prev"] > 50
