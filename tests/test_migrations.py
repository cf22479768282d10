"""Migrations apply to an empty database, are recorded, and running them again changes nothing."""

import os

import pytest

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


def test_an_edited_migration_stops_migrate_with_one_clear_line(make_database, tmp_path, monkeypatch):
    import subprocess
    import sys

    import backend.migrate as migrations

    config = make_database("test_edited")
    conn = connect(config)
    try:
        migrate(conn)
        edited = tmp_path / "migrations"
        edited.mkdir()
        for path in MIGRATIONS_DIR.glob("*.sql"):
            (edited / path.name).write_text(path.read_text())
        first = sorted(edited.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- an edit after the fact\n")
        monkeypatch.setattr(migrations, "MIGRATIONS_DIR", edited)
        with pytest.raises(migrations.MigrationEdited, match=f"migration {first.name} was edited"):
            migrate(conn)
    finally:
        conn.close()
    # the command line says it in one line on stderr and exits non-zero (the real files are unedited, so the
    # check is made against a database that recorded another checksum)
    conn = connect(config)
    try:
        conn.cursor().execute(
            "UPDATE schema_migrations SET checksum = REPEAT('0', 64) WHERE version = %s", (first.stem,)
        )
        conn.commit()
    finally:
        conn.close()
    env = {**os.environ, "DATABASE_URL": config.url(), "APP_ENV": "development"}
    done = subprocess.run([sys.executable, "-m", "backend", "migrate"], env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert (
        done.stderr.strip().splitlines() == [done.stderr.strip()] and "was edited after it was applied" in done.stderr
    )


def test_a_database_that_recorded_a_reworded_comment_migrates_and_records_the_new_checksum(make_database):
    import backend.migrate as migrations

    conn = connect(make_database("test_reworded"))
    try:
        migrate(conn)
        cursor = conn.cursor()
        version, previous = next(iter(migrations._REWORDED.items()))
        cursor.execute("UPDATE schema_migrations SET checksum = %s WHERE version = %s", (previous, version))
        conn.commit()
        assert migrate(conn) == []
        cursor.execute("SELECT checksum FROM schema_migrations WHERE version = %s", (version,))
        current = migrations._checksum((MIGRATIONS_DIR / f"{version}.sql").read_text())
        assert cursor.fetchone()[0] == current
    finally:
        conn.close()
