"""Migrations apply to an empty database, are recorded, and running them again changes nothing."""

from backend.db import connect
from backend.migrate import MIGRATIONS_DIR, migrate, split_statements

SCHEMA_SNAPSHOT = """
SELECT table_name, column_name, column_type, is_nullable, column_default, extra
FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position
"""
INDEX_SNAPSHOT = """
SELECT table_name, index_name, seq_in_index, column_name FROM information_schema.statistics
WHERE table_schema = DATABASE() ORDER BY table_name, index_name, seq_in_index
"""


def snapshot(conn):
    cursor = conn.cursor()
    cursor.execute(SCHEMA_SNAPSHOT)
    columns = cursor.fetchall()
    cursor.execute(INDEX_SNAPSHOT)
    return columns, cursor.fetchall()


def test_migrations_apply_to_an_empty_database_and_are_idempotent(make_database):
    conn = connect(make_database("test_migrations"))
    try:
        applied = migrate(conn)
        assert applied == sorted(p.stem for p in MIGRATIONS_DIR.glob("*.sql"))
        first = snapshot(conn)
        tables = {row[0] for row in first[0]}
        for table in (
            "stocks",
            "stock_quotes",
            "stock_candles",
            "indices",
            "index_constituents",
            "index_quotes",
            "index_candles",
            "users",
            "accounts",
            "ledger",
            "orders",
            "trades",
            "holdings",
            "watchlists",
            "watchlist_items",
            "revoked_tokens",
            "news",
            "scheduler_runs",
            "schema_migrations",
        ):
            assert table in tables
        assert ("stock_quotes", "ix_stock_quotes_change_pct", 1, "change_pct") in first[1]
        assert migrate(conn) == []
        assert snapshot(conn) == first
    finally:
        conn.close()


def test_money_is_decimal_and_times_are_datetime3(make_database):
    conn = connect(make_database("test_types"))
    try:
        migrate(conn)
        cursor = conn.cursor()
        cursor.execute(
            "SELECT column_name, column_type FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name IN ('accounts', 'orders', 'ledger')"
        )
        types = dict(cursor.fetchall())
        assert types["cash"] == "decimal(18,2)" and types["price"] == "decimal(14,4)"
        assert types["created_at"] == "datetime(3)"
    finally:
        conn.close()


def test_database_rejects_negative_cash(make_database):
    conn = connect(make_database("test_checks"))
    try:
        migrate(conn)
        cursor = conn.cursor()
        cursor.execute("INSERT INTO users (email, name) VALUES ('a@example.com', 'A')")
        cursor.execute("INSERT INTO accounts (user_id, cash, starting_cash) VALUES (%s, 10, 10)", (cursor.lastrowid,))
        try:
            cursor.execute("UPDATE accounts SET cash = -1")
            raise AssertionError("negative cash was accepted")
        except Exception as exc:  # noqa: BLE001 - the server's CHECK constraint error
            assert "ck_accounts" in str(exc)
    finally:
        conn.close()


def test_split_statements_ignores_comments_and_keeps_multiline_statements():
    sql = "-- a comment\nCREATE TABLE a (\n  x INT\n);\n\nCREATE INDEX i ON a (x);\n"
    assert split_statements(sql) == ["CREATE TABLE a (\n  x INT\n)", "CREATE INDEX i ON a (x)"]
