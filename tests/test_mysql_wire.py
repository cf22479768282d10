"""The connection (deferred statements, parameter binding, and the fast path of backend/mysql_fastpath.py where
the driver version allows it) returns exactly what the stock pure-Python connection and its cursor return,
including results larger than a read, multi-packet rows, errors and timeouts; every test runs with the fast
path and on the driver's public API alone."""

from datetime import datetime
from decimal import Decimal

import mysql.connector
import pytest
from mysql.connector import errors

from backend import mysql_wire
from backend.db import connect, connect_args
from backend.mysql_wire import Connection
from controller.sql import defer, defer_rows, execute, fetch_all, fetch_sets, fetch_value, stream_rows


@pytest.fixture(params=["fast", "public"], autouse=True)
def path(request, monkeypatch):
    """Each test once with backend/mysql_fastpath.py and once on the driver's public API alone."""
    if request.param == "public":
        monkeypatch.setattr(mysql_wire, "fastpath", None)
    return request.param


@pytest.fixture
def db_conn(db_config, path):
    """A raw autocommit connection of the path under test."""
    conn = connect(db_config)
    yield conn
    conn.close()


@pytest.fixture
def stock(db_config):
    conn = mysql.connector.connect(**connect_args(db_config, 10, 600), use_pure=True)
    yield conn
    conn.close()


QUERIES = [
    ("SELECT 1 AS a, NULL AS b, 'x' AS c, CAST(1.25 AS DECIMAL(10,2)) AS d, TIMESTAMP('2026-11-20 09:15:00') AS e", ()),
    ("SELECT symbol, company_name, stock_id FROM stocks ORDER BY symbol", ()),
    ("SELECT symbol FROM stocks WHERE symbol = %s", ("NO-SUCH",)),
    # the same column names with other types: the column cache must not mix them up
    ("SELECT 'one' AS a, 2 AS b, NULL AS c, 'x' AS d, NOW() AS e", ()),
    # rows larger than one read (a derived table of three rows: no MariaDB-only sequence tables)
    ("SELECT REPEAT('x', 300000) AS big, n FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) AS s", ()),
    # parameters of every kind, bound by our binder on one side and by the cursor on the other
    (
        "SELECT %s AS i, %s AS neg, %s AS d, %s AS s, %s AS n, %s AS t, %s AS b, %s AS f, %s AS pct",
        (
            7,
            -3,
            Decimal("-12.50"),
            'it\'s \\ "q" %s ₹',
            None,
            datetime(2026, 11, 20, 9, 15, 0, 250000),
            True,
            1.5,
            "100%",
        ),
    ),
    ("SELECT %(a)s AS a, %(b)s AS b, %(a)s AS again", {"a": "x'y", "b": 2}),
]


@pytest.mark.parametrize(("sql", "params"), QUERIES)
def test_results_match_the_stock_connection(db_conn, stock, sql, params):
    assert isinstance(db_conn, Connection)
    cursor = stock.cursor(dictionary=True)
    cursor.execute(sql, params)
    got, expected = fetch_all(db_conn, sql, params), cursor.fetchall()
    if "NOW()" in sql:
        got = [{**row, "e": None} for row in got]
        expected = [{**row, "e": None} for row in expected]
    assert got == expected


@pytest.mark.parametrize(
    "value",
    [
        0,
        -7,
        2**63,
        None,
        True,
        False,
        1.5,
        "BUY",
        "TCS",
        "M&M",
        "ÄpfelΩ2",
        "it's",
        'q"q',
        "back\\slash",
        "line\nbreak",
        "",
        "12",
        datetime(2026, 11, 20, 9, 15),
        datetime(2026, 11, 20, 9, 15, 0, 250),
        datetime(999, 1, 2, 3, 4, 5, 6),
        b"raw'bytes",
    ],
)
def test_literals_match_the_driver(db_conn, value):
    converter = db_conn.converter
    expected = bytes(converter.quote(converter.escape(converter.to_mysql(value), db_conn.sql_mode)))
    assert db_conn.literal(value) == expected
    assert db_conn.literal(value) == expected  # again: a timestamp's literal is remembered


def test_decimals_are_exact_numeric_literals(db_conn):
    # the driver sends '-12.50' as a string; ours is the number itself, never in exponent notation (a DOUBLE)
    texts = ("-12.50", "1E+3", "1E-7", "0.000001", "-0.00", "123456789012345678.25")
    assert [db_conn.literal(Decimal(text)) for text in texts] == [
        b"-12.50",
        b"1000",
        b"0.0000001",
        b"0.000001",
        b"-0.00",
        b"123456789012345678.25",
    ]
    assert fetch_value(db_conn, "SELECT %s + 0", (Decimal("1E-7"),)) == Decimal("0.0000001")


def test_types_survive_the_column_cache(db_conn):
    first = fetch_all(db_conn, "SELECT 1 AS v")[0]["v"]
    second = fetch_all(db_conn, "SELECT 'text' AS v")[0]["v"]
    third = fetch_all(db_conn, "SELECT CAST(2.50 AS DECIMAL(6,2)) AS v")[0]["v"]
    fourth = fetch_all(db_conn, "SELECT TIMESTAMP('2026-01-02 03:04:05') AS v")[0]["v"]
    assert (first, second, third, fourth) == (1, "text", Decimal("2.50"), datetime(2026, 1, 2, 3, 4, 5))


def test_a_row_larger_than_a_protocol_packet(db_conn):
    size = 17 * 1024 * 1024  # over the 16 MiB packet limit: the row arrives as two packets
    assert fetch_value(db_conn, "SELECT LENGTH(REPEAT('y', %s))", (size,)) == size
    assert len(fetch_value(db_conn, "SELECT REPEAT('y', %s)", (size,))) == size
    assert fetch_value(db_conn, "SELECT 7") == 7  # nothing left behind in the buffer


def test_many_small_statements_in_a_row(db_conn):
    execute(db_conn, "CREATE TEMPORARY TABLE t_wire (k INT PRIMARY KEY, v VARCHAR(20))")
    for k in range(200):
        assert execute(db_conn, "INSERT INTO t_wire VALUES (%s, %s)", (k, f"v{k}")) == (1, 0)
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM t_wire") == 200
    assert [r["v"] for r in fetch_all(db_conn, "SELECT v FROM t_wire WHERE k IN (3, 7) ORDER BY k")] == ["v3", "v7"]


def test_errors_leave_the_connection_usable(db_conn):
    with pytest.raises(errors.ProgrammingError):
        fetch_all(db_conn, "SELECT * FROM no_such_table")
    with pytest.raises(errors.DatabaseError):
        fetch_all(db_conn, "SELEKT 1")
    assert fetch_value(db_conn, "SELECT 42") == 42


def test_read_timeout_is_enforced_and_closes_the_session_it_left_mid_response(db_config):
    conn = connect(db_config, read_timeout=1)
    try:
        with pytest.raises(errors.ReadTimeoutError):
            fetch_value(conn, "SELECT SLEEP(3)")
        assert not conn.is_connected()  # the SLEEP's reply would have answered the next statement
    finally:
        conn.close()


def test_no_statement_leaves_a_result_set_unread(db_conn, monkeypatch):
    sent = _round_trips(db_conn, monkeypatch)
    assert fetch_all(db_conn, "SELECT 1 AS a; SELECT 2 AS b, 3 AS c") == [{"a": 1}]  # the second set is read too
    assert not db_conn.unread_result and not db_conn.have_next_result
    assert execute(db_conn, "SET @wire = 5; DO 1") == (0, 0)
    assert fetch_value(db_conn, "SELECT @wire") == 5
    assert len(sent) == 3


def test_several_queries_in_one_round_trip(db_conn, monkeypatch):
    sent = _round_trips(db_conn, monkeypatch)
    sets = fetch_sets(
        db_conn, [("SELECT %s AS a", (1,)), ("SELECT 'x' AS b WHERE 1 = 0", ()), ("SELECT %s AS c", ("y",))]
    )
    assert sets == [[{"a": 1}], [], [{"c": "y"}]] and len(sent) == 1


def test_a_long_read_pauses_between_chunks(db_conn):
    pauses = []
    rows = fetch_all(
        db_conn,
        "SELECT n FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 "
        "UNION ALL SELECT 5) AS s ORDER BY n",
        pause=lambda: pauses.append(1),
        every=2,
    )
    assert [row["n"] for row in rows] == [1, 2, 3, 4, 5] and len(pauses) == 3
    assert fetch_value(db_conn, "SELECT 8") == 8


def test_streamed_rows_are_read_a_chunk_at_a_time(db_conn):
    events = []
    rows = stream_rows(
        db_conn,
        "SELECT n FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) AS s ORDER BY n",
        pause=lambda: events.append("pause"),
        every=2,
    )
    for row in rows:
        events.append(row["n"])
    assert events == [1, 2, "pause", 3, "pause"]  # a chunk's rows reach the caller before the next chunk is read
    assert fetch_value(db_conn, "SELECT 8") == 8


def test_local_infile_keeps_the_packet_sequence(db_config, tmp_path):
    data = tmp_path / "rows.tsv"
    data.write_text("".join(f"{i}\tname{i}\n" for i in range(1000)))
    conn = connect(db_config, allow_local_infile=True, allow_local_infile_in_path=str(tmp_path))
    try:
        execute(conn, "CREATE TEMPORARY TABLE t_infile (k INT, v VARCHAR(20))")
        execute(conn, f"LOAD DATA LOCAL INFILE '{data}' INTO TABLE t_infile")
        assert fetch_value(conn, "SELECT COUNT(*) FROM t_infile") == 1000
    finally:
        conn.close()


@pytest.fixture
def probe_table(db_conn):
    execute(db_conn, "CREATE TEMPORARY TABLE t_defer (k INT PRIMARY KEY, v VARCHAR(100), d DECIMAL(12,2), t DATETIME)")
    db_conn.autocommit = False
    yield db_conn
    db_conn.rollback()
    db_conn.autocommit = True


def _round_trips(conn, monkeypatch) -> list[int]:
    assert conn.sql_mode is not None  # read once per connection (escaping depends on it), like the cursor does
    sent = []
    for name in ("cmd_query", "cmd_ping"):  # every query (a cursor's, COMMIT, ROLLBACK), and pings
        original = getattr(conn, name)
        monkeypatch.setattr(
            conn, name, lambda *args, _original=original, **kwargs: sent.append(1) or _original(*args, **kwargs)
        )
    return sent


def test_deferred_writes_travel_with_the_commit(probe_table, monkeypatch):
    conn = probe_table
    execute(conn, "INSERT INTO t_defer (k, v) VALUES (1, 'a')")  # opens the transaction
    sent = _round_trips(conn, monkeypatch)
    conn.defer("UPDATE t_defer SET v = %s WHERE k = %s", ("b", 1))
    conn.defer("INSERT INTO t_defer (k, v) VALUES (%s, %s)", (2, "c"))
    assert sent == []  # nothing sent yet
    conn.commit()
    assert len(sent) == 1  # the writes and the COMMIT in one round trip
    rows = fetch_all(conn, "SELECT k, v FROM t_defer ORDER BY k")
    assert rows == [{"k": 1, "v": "b"}, {"k": 2, "v": "c"}]


def test_a_deferred_write_is_kept_when_binding_it_reads_the_sql_mode(db_config):
    """A fresh connection reads sql_mode the first time it escapes a string: that query takes the writes deferred
    before it along, and the write being bound must not be lost with the old list."""
    conn = connect(db_config, autocommit=False)
    try:
        execute(conn, "CREATE TEMPORARY TABLE t_fresh (k INT PRIMARY KEY, v VARCHAR(100))")
        execute(conn, "INSERT INTO t_fresh (k, v) VALUES (1, 'a')")  # opens the transaction
        defer(conn, "UPDATE t_fresh SET v = 'b' WHERE k = 1")
        defer(conn, "INSERT INTO t_fresh (k, v) VALUES (%s, %s)", (2, "needs escaping: it's"))
        conn.commit()
        assert fetch_all(conn, "SELECT k, v FROM t_fresh ORDER BY k") == [
            {"k": 1, "v": "b"},
            {"k": 2, "v": "needs escaping: it's"},
        ]
    finally:
        conn.close()


def test_a_deferred_write_reports_its_outcome_when_it_arrives(probe_table, monkeypatch):
    conn = probe_table
    execute(conn, "CREATE TEMPORARY TABLE t_ids (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
    execute(conn, "INSERT INTO t_defer (k, v) VALUES (1, 'a')")  # opens the transaction
    sent, outcomes = _round_trips(conn, monkeypatch), []
    for v in (10, 20):
        defer(conn, "INSERT INTO t_ids (v) VALUES (%s)", (v,), on_done=lambda *outcome: outcomes.append(outcome))
    defer(conn, "UPDATE t_defer SET v = 'b' WHERE k = 1")
    assert outcomes == []
    conn.commit()
    assert len(sent) == 1 and outcomes == [(1, 1), (1, 2)]  # (rowcount, lastrowid) of each, with the COMMIT


def test_a_deferred_query_hands_over_its_rows_and_sees_the_writes_before_it(probe_table, monkeypatch):
    conn = probe_table
    execute(conn, "INSERT INTO t_defer (k, v) VALUES (1, 'a')")
    sent, got = _round_trips(conn, monkeypatch), []
    defer(conn, "UPDATE t_defer SET v = %s WHERE k = %s", ("b", 1))
    defer_rows(conn, "SELECT k, v FROM t_defer WHERE k >= %s ORDER BY k", (1,), got.append)
    defer(conn, "INSERT INTO t_defer (k, v) VALUES (%s, %s)", (2, "c"))
    conn.commit()
    assert len(sent) == 1 and got == [[{"k": 1, "v": "b"}]]


def test_a_failing_callback_closes_the_session_it_left_mid_response(db_config):
    conn = connect(db_config, autocommit=False)
    fetch_value(conn, "SELECT COUNT(*) FROM users")  # opens the transaction

    def broken(rows):
        raise ValueError("bad rows")

    defer_rows(conn, "SELECT 2", (), broken)
    with pytest.raises(ValueError):
        conn.commit()
    assert not conn.is_connected()  # the COMMIT's reply was never read: the connection is not reused


def test_a_statement_after_deferred_writes_sees_them(probe_table, monkeypatch):
    conn = probe_table
    execute(conn, "INSERT INTO t_defer (k, v) VALUES (1, 'a')")
    sent = _round_trips(conn, monkeypatch)
    conn.defer("UPDATE t_defer SET v = %s WHERE k = %s", ("z", 1))
    assert fetch_value(conn, "SELECT v FROM t_defer WHERE k = 1") == "z"
    assert execute(conn, "UPDATE t_defer SET v = 'y' WHERE k = 1") == (1, 0)  # rowcount is the statement's own
    assert len(sent) == 2


def test_values_are_escaped_like_the_cursor_does(probe_table):
    conn = probe_table
    execute(conn, "INSERT INTO t_defer (k) VALUES (0)")
    tricky = 'it\'s \\ "quoted" ; DROP TABLE t_defer; -- ₹'
    conn.defer(
        "INSERT INTO t_defer (k, v, d, t) VALUES (%s, %s, %s, %s)",
        (1, tricky, Decimal("12.34"), datetime(2026, 11, 20, 9, 15)),
    )
    conn.defer("INSERT INTO t_defer (k, v, d, t) VALUES (%s, %s, %s, %s)", (2, None, None, None))
    conn.commit()
    rows = fetch_all(conn, "SELECT k, v, d, t FROM t_defer WHERE k > 0 ORDER BY k")
    assert rows == [
        {"k": 1, "v": tricky, "d": Decimal("12.34"), "t": datetime(2026, 11, 20, 9, 15)},
        {"k": 2, "v": None, "d": None, "t": None},
    ]


def test_a_failing_deferred_write_fails_the_next_statement_and_rolls_back(probe_table):
    conn = probe_table
    execute(conn, "INSERT INTO t_defer (k, v) VALUES (1, 'a')")
    conn.defer("UPDATE t_defer SET v = %s WHERE k = %s", ("b", 1))
    conn.defer("INSERT INTO t_defer (k, v) VALUES (%s, %s)", (1, "duplicate"))
    with pytest.raises(errors.IntegrityError):
        conn.commit()
    conn.rollback()
    assert fetch_value(conn, "SELECT COUNT(*) FROM t_defer") == 0
    assert fetch_value(conn, "SELECT 5") == 5


def test_rollback_drops_deferred_writes(probe_table, monkeypatch):
    conn = probe_table
    execute(conn, "INSERT INTO t_defer (k, v) VALUES (1, 'a')")
    conn.defer("INSERT INTO t_defer (k, v) VALUES (%s, %s)", (2, "b"))
    conn.rollback()
    assert fetch_value(conn, "SELECT COUNT(*) FROM t_defer") == 0


def test_deferring_outside_a_transaction_is_refused(db_conn):
    with pytest.raises(errors.ProgrammingError):
        db_conn.defer("SELECT %s", (1,))
