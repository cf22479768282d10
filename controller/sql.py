"""Thin helpers over a connection (backend/mysql_wire.Connection): parameterised statements, dict rows, timing.

They bind parameters with the connection (`bind`) and run statements through its one cursor (`query`,
`results`, `stream`), so that statements deferred inside a transaction (`defer`, `defer_rows`) travel in the same
round trip as the next one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from utils.request_context import add_time

Params = Sequence[Any] | dict[str, Any]
Pause = Callable[[], None] | None  # called now and then during long work (a cooperative yield)


def _dicts(columns: Sequence[str], rows: list[tuple]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def fetch_all(conn: Any, sql: str, params: Params = (), pause: Pause = None, every: int = 250) -> list[dict[str, Any]]:
    """Run a query and return every row as a dict.

    With `pause`, rows are read `every` at a time and `pause()` is called after each chunk: decoding
    thousands of rows in the pure-Python driver takes long enough to stall the event loop.
    """
    if pause is not None:
        return list(stream_rows(conn, sql, params, pause, every))
    started = time.perf_counter()
    try:
        result = conn.query(conn.bind(sql, params))
        return _dicts(result.columns, result.rows)
    finally:
        add_time("db", time.perf_counter() - started)


def stream_rows(
    conn: Any, sql: str, params: Params = (), pause: Pause = None, every: int = 250
) -> Iterator[dict[str, Any]]:
    """Run a query and yield its rows as dicts, read `every` at a time with `pause()` after each chunk: a caller that
    keeps a smaller form of each row never holds every row's dict at once (the connection is busy until the last)."""
    chunks = conn.stream(conn.bind(sql, params), every)
    while True:
        started = time.perf_counter()
        try:
            chunk = next(chunks, None)
        finally:
            add_time("db", time.perf_counter() - started)
        if chunk is None:
            return
        yield from _dicts(chunk.columns, chunk.rows)
        if pause is not None:
            pause()


def fetch_sets(conn: Any, queries: Sequence[tuple[str, Params]]) -> list[list[dict[str, Any]]]:
    """Run several queries in one round trip, in order; return each one's rows as dicts."""
    started = time.perf_counter()
    try:
        statement = b";".join(conn.bind(sql, params) for sql, params in queries)
        return [_dicts(result.columns, result.rows) for result in conn.results(statement)]
    finally:
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
    try:
        result = conn.query(conn.bind(sql, params))
        return result.rowcount, result.lastrowid
    finally:
        add_time("db", time.perf_counter() - started)


def defer_rows(conn: Any, sql: str, params: Params, on_rows: Callable[[list[dict[str, Any]]], None]) -> None:
    """Queue a query inside a transaction, as `defer` does a write; `on_rows(rows as dicts)` is called when its
    rows arrive (with the transaction's next statement, usually the COMMIT)."""
    conn.defer(sql, params, lambda result: on_rows(_dicts(result.columns, result.rows)))


def defer(conn: Any, sql: str, params: Params = (), on_done: Callable[[int, int], None] | None = None) -> None:
    """Queue a write inside a transaction: it is sent with the transaction's next statement or its COMMIT, in the
    same round trip (backend/mysql_wire.py). Nothing waits for its outcome; `on_done(rowcount, lastrowid)` is
    called when it arrives."""
    conn.defer(sql, params, None if on_done is None else lambda result: on_done(result.rowcount, result.lastrowid))


def execute_many(conn: Any, sql: str, rows: Iterable[Sequence[Any]], batch_size: int = 2000) -> int:
    """Run an `INSERT ... VALUES (%s, ...)` for many rows as multi-row statements of `batch_size`; rows affected."""
    rows = list(rows)
    return sum(execute_values(conn, sql, rows[start : start + batch_size]) for start in range(0, len(rows), batch_size))


_VALUES_TUPLE = re.compile(r"VALUES\s*(\([^)]*\))", re.IGNORECASE)


def execute_values(conn: Any, sql: str, rows: Sequence[Sequence[Any]], pause: Pause = None, every: int = 250) -> int:
    """Run an `INSERT ... VALUES (%s, ...) [ON DUPLICATE ...]` for all `rows` as ONE multi-row statement.

    Values are bound as the driver's cursor does (to_mysql, escape, quote); `pause()` is called every `every`
    rows while the statement is built, so a batch of thousands of rows lets other green threads run instead
    of blocking the event loop for its whole build.
    """
    if not rows:
        return 0
    started = time.perf_counter()
    match = _VALUES_TUPLE.search(sql)
    tuples = []
    for n, row in enumerate(rows, 1):
        tuples.append(conn.bind(match.group(1), row))
        if pause is not None and n % every == 0:
            pause()
    statement = sql[: match.start(1)].encode() + b",".join(tuples) + sql[match.end(1) :].encode()
    try:
        return conn.query(statement).rowcount
    finally:
        add_time("db", time.perf_counter() - started)
