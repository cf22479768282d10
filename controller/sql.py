"""Thin helpers over a DB-API connection: parameterised statements, dict rows, timing."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from mysql.connector.connection import MySQLConnection
from mysql.connector.cursor import MySQLCursor, MySQLCursorDict

from utils.request_context import add_time

Params = Sequence[Any] | dict[str, Any]
Pause = Callable[[], None] | None  # called now and then during long work (a cooperative yield)


def _cursor(conn: MySQLConnection, dictionary: bool = False) -> MySQLCursor:
    """A cursor on `conn` without the ping (a server round trip) Connector/Python's cursor() sends every time.

    The pool checks idle connections before reuse (backend/db.py); a connection lost mid-request fails on
    its next statement.
    """
    return MySQLCursorDict(conn) if dictionary else MySQLCursor(conn)


def fetch_all(conn: Any, sql: str, params: Params = (), pause: Pause = None, every: int = 250) -> list[dict[str, Any]]:
    """Run a query and return every row as a dict.

    With `pause`, rows are read `every` at a time and `pause()` is called between the chunks: decoding
    thousands of rows in the pure-Python driver takes ~50 µs a row, too long to hold the event loop.
    """
    started = time.perf_counter()
    cursor = _cursor(conn, dictionary=True)
    try:
        cursor.execute(sql, params)
        if pause is None:
            return cursor.fetchall()
        rows: list[dict[str, Any]] = []
        while chunk := cursor.fetchmany(every):
            rows += chunk
            pause()
        return rows
    finally:
        cursor.close()
        add_time("db", time.perf_counter() - started)


def fetch_sets(conn: Any, queries: Sequence[tuple[str, Sequence[Any]]]) -> list[list[dict[str, Any]]]:
    """Run several queries in one round trip, in order; return each one's rows as dicts."""
    started = time.perf_counter()
    cursor = _cursor(conn, dictionary=True)
    try:
        cursor.execute(";".join(sql for sql, _ in queries), [value for _, params in queries for value in params])
        sets = [cursor.fetchall()]
        while len(sets) < len(queries) and cursor.nextset():
            sets.append(cursor.fetchall())
        return sets
    finally:
        cursor.close()
        add_time("db", time.perf_counter() - started)


def fetch_one(conn: Any, sql: str, params: Params = ()) -> dict[str, Any] | None:
    """Run a query and return its first row as a dict, or None."""
    rows = fetch_all(conn, sql, params)
    return rows[0] if rows else None


def fetch_value(conn: Any, sql: str, params: Params = ()) -> Any:
    """Run a query and return the first column of its first row, or None."""
    row = fetch_one(conn, sql, params)
    return next(iter(row.values())) if row else None


def execute(conn: Any, sql: str, params: Params = ()) -> tuple[int, int]:
    """Run a statement; return (rowcount, lastrowid)."""
    started = time.perf_counter()
    cursor = _cursor(conn)
    try:
        cursor.execute(sql, params)
        return cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()
        add_time("db", time.perf_counter() - started)


def defer(conn: Any, sql: str, params: Params = ()) -> None:
    """Queue a write whose outcome is not needed (no rowcount, no id) inside a transaction: it is sent with the
    transaction's next statement or its COMMIT, in the same round trip (backend/mysql_wire.py)."""
    conn.defer(sql, params)


def execute_many(conn: Any, sql: str, rows: Iterable[Sequence[Any]], batch_size: int = 2000) -> int:
    """Run an INSERT for many rows as multi-row statements of `batch_size`; return rows affected."""
    started = time.perf_counter()
    cursor = _cursor(conn)
    affected = 0
    batch: list[Sequence[Any]] = []
    try:
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                affected += cursor.rowcount
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
            affected += cursor.rowcount
        return affected
    finally:
        cursor.close()
        add_time("db", time.perf_counter() - started)


_VALUES_TUPLE = re.compile(r"VALUES\s*(\([^)]*\))", re.IGNORECASE)


def execute_values(conn: Any, sql: str, rows: Sequence[Sequence[Any]], pause: Pause = None, every: int = 250) -> int:
    """Run an `INSERT ... VALUES (%s, ...) [ON DUPLICATE ...]` for all `rows` as ONE multi-row statement.

    Values go through the driver's own converter (to_mysql, escape, quote: what executemany does);
    `pause()` is called every `every` rows while the statement is built, so a batch of thousands of
    rows lets other green threads run instead of blocking the event loop for its whole build.
    """
    if not rows:
        return 0
    started = time.perf_counter()
    match = _VALUES_TUPLE.search(sql)
    pieces = [piece.encode() for piece in match.group(1).split("%s")]
    converter, sql_mode = conn.converter, conn.sql_mode
    tuples = []
    for n, row in enumerate(rows, 1):
        literals = [_literal(converter, sql_mode, value) for value in row]
        tuples.append(b"".join(p + v for p, v in zip(pieces, literals, strict=False)) + pieces[-1])
        if pause is not None and n % every == 0:
            pause()
    statement = sql[:match.start(1)].encode() + b",".join(tuples) + sql[match.end(1):].encode()
    cursor = conn.cursor()
    try:
        cursor.execute(statement)
        return cursor.rowcount
    finally:
        cursor.close()
        add_time("db", time.perf_counter() - started)


def _literal(converter: Any, sql_mode: Any, value: Any) -> bytes:
    escaped = converter.escape(converter.to_mysql(value), sql_mode)
    return escaped if isinstance(value, Decimal) else bytes(converter.quote(escaped))
