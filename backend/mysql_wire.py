"""Connector/Python's pure-Python connection with deferred statements, on the driver's public API.

Every statement is a round trip, and in the pure-Python driver (its C extension blocks gevent:
docs/ARCHITECTURE.md, async modes) a round trip costs more CPU than the statement itself. `defer()` queues a
statement inside a transaction; it travels with the next statement (usually the COMMIT) as one multi-statement
string through the connection's one cursor, and its result (a write's row count and insert id, a query's rows)
is handed to a callback as `cursor.nextset()` reaches it. An error in a deferred statement raises there, so the
statements after it (the COMMIT) never run and the transaction fails. Every result set of a multi-statement
string is read before the connection takes another statement.

Parameters are bound as the cursor binds them, with the connection's converter (`to_mysql`, `escape`,
`quote`), except that a Decimal is an exact numeric literal (the converter writes `str(value)`, which may be
exponent notation: a DOUBLE to the server).

On the driver version it was written for, `backend/mysql_fastpath.py` makes each round trip cheaper with a few
private members of the driver; on any other version it refuses to import and this module runs on the public
API alone (logged once at start-up; docs/BENCHMARKS.md says what that costs).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from types import ModuleType
from typing import Any, NamedTuple

from mysql.connector import MySQLConnection
from mysql.connector.cursor import MySQLCursor
from mysql.connector.errors import ProgrammingError, ReadTimeoutError, WriteTimeoutError

log = logging.getLogger(__name__)

fastpath: ModuleType | None
try:
    from backend import mysql_fastpath as fastpath
except ImportError as exc:  # another driver version: correct, only slower
    fastpath = None
    log.warning("%s; running on the driver's public API alone", exc)

_NAMED = re.compile(rb"%\((\w+)\)s")
_PIECES_CACHE_MAX = 4096
_pieces: dict[str, list[bytes]] = {}  # a statement split at its %s placeholders
_DATETIME_LITERALS_MAX = 4096
_datetime_literals: dict[datetime, bytes] = {}  # a batch's rows share a few timestamps (formatting one: 0.4 µs)


class Result(NamedTuple):
    """What one statement returned: rows affected (or read) and insert id, and a query's columns and rows."""

    rowcount: int
    lastrowid: int
    columns: tuple[str, ...]
    rows: list[tuple]


OnResult = Callable[[Result], None]


class Connection(MySQLConnection):
    """A pure-Python MySQLConnection with one reusable cursor, parameter binding and deferred statements."""

    def __init__(self, **kwargs: Any) -> None:
        self._wire_deferred: list[tuple[bytes, OnResult | None]] = []
        self._wire_cursor: MySQLCursor | None = None
        super().__init__(**kwargs)

    def connect(self, **kwargs: Any) -> None:
        """Connect (the driver's handshake, authentication and session settings), then take the fast path."""
        super().connect(**kwargs)
        if fastpath is not None:
            fastpath.install(self)

    def closed_by_server(self) -> bool | None:
        """Whether the server closed this idle connection, told without a round trip; None if it cannot be told."""
        return None if fastpath is None else fastpath.closed_by_server(self)

    def defer(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), on_result: OnResult | None = None
    ) -> None:
        """Queue a statement (`%s` placeholders) to send with the next one; only inside a transaction.

        `on_result` is called with its Result when it arrives.
        """
        if not self.in_transaction:
            raise ProgrammingError("a deferred statement needs an open transaction")
        # bound first: binding may read sql_mode (once per connection), a query that takes the writes deferred so
        # far with it and starts a new list; appending to the list read before would lose this statement
        statement = self.bind(sql, params)
        self._wire_deferred.append((statement, on_result))

    def bind(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> bytes:
        """The statement with its `%s` (or `%(name)s`) placeholders replaced by the parameters as literals."""
        if not params:
            return sql.encode()
        if isinstance(params, Mapping):
            return _NAMED.sub(lambda match: self.literal(params[match.group(1).decode()]), sql.encode())
        pieces = _pieces.get(sql)
        if pieces is None:
            if len(_pieces) >= _PIECES_CACHE_MAX:
                _pieces.clear()
            pieces = _pieces[sql] = sql.encode().split(b"%s")
        if len(pieces) != len(params) + 1:
            raise ProgrammingError(f"{len(pieces) - 1} placeholders for {len(params)} parameters")
        parts = [pieces[0]]
        for value, piece in zip(params, pieces[1:], strict=True):
            parts += (self.literal(value), piece)
        return b"".join(parts)

    def literal(self, value: Any) -> bytes:
        """`value` as an SQL literal, escaped and quoted as the connection's converter does it (a Decimal exactly).

        The commonest types take a shortcut to the converter's own output (a third of its CPU; a test compares).
        """
        kind = type(value)
        if kind is int:  # not bool: a subclass of int that the converter sends as 1/0
            return str(value).encode()
        if kind is Decimal:  # an exact numeric literal, never exponent notation (str: a third of format's time)
            text = str(value)
            return (format(value, "f") if "E" in text else text).encode()
        if value is None:
            return b"NULL"
        converter = self.converter
        if kind is str and value.isalnum() and converter.charset == "utf8":  # nothing to escape
            return b"'" + value.encode() + b"'"
        if kind is datetime and value.tzinfo is None:  # the converter's format: the fraction only when nonzero
            text = _datetime_literals.get(value)
            if text is None:
                if len(_datetime_literals) >= _DATETIME_LITERALS_MAX:
                    _datetime_literals.clear()
                text = _datetime_literals[value] = b"'" + value.isoformat(" ").encode() + b"'"
            return text
        return bytes(converter.quote(converter.escape(converter.to_mysql(value), self.sql_mode)))

    def query(self, statement: bytes) -> Result:
        """Run one statement (after the deferred ones, in the same round trip); its Result."""
        with self._closing_on_timeout():
            cursor = self._run(statement)
            result = _read(cursor)
            self._finish(cursor)
        return result

    def results(self, statement: bytes) -> list[Result]:
        """Run a multi-statement string (after the deferred ones); each statement's Result, in order."""
        with self._closing_on_timeout():
            cursor = self._run(statement)
            found = [_read(cursor)]
            while cursor.nextset():
                found.append(_read(cursor))
        return found

    def stream(self, statement: bytes, size: int) -> Iterator[Result]:
        """Run one query (after the deferred ones); its rows `size` at a time, each chunk as a Result."""
        with self._closing_on_timeout():
            cursor = self._run(statement)
            while rows := cursor.fetchmany(size):
                yield Result(len(rows), 0, cursor.column_names, rows)
            self._finish(cursor)

    def commit(self) -> None:
        """Commit, with the deferred statements in the same round trip."""
        if self._wire_deferred:
            self.query(b"COMMIT")
        else:
            super().commit()

    def rollback(self) -> None:
        """Drop the deferred statements and roll back."""
        self._wire_deferred = []
        super().rollback()

    def close(self) -> None:
        """Drop the deferred statements and close."""
        self._wire_deferred = []
        self._wire_cursor = None
        super().close()

    disconnect = close

    def _run(self, statement: bytes) -> MySQLCursor:
        """Send the deferred statements and `statement` in one round trip, hand each deferred statement's Result
        to its callback, and return the cursor on the result of `statement`."""
        cursor = self._wire_cursor
        if cursor is None:
            cursor = self._wire_cursor = MySQLCursor(self)  # not cursor(): that pings the server first
        deferred, self._wire_deferred = self._wire_deferred, []
        if deferred:
            statement = b";".join([*(sql for sql, _ in deferred), statement])
        cursor.execute(statement)
        for _, on_result in deferred:
            result = _read(cursor)
            if on_result is not None:
                try:
                    on_result(result)
                except BaseException:  # the rest of the response is unread: this session cannot go on
                    self.close()
                    raise
            cursor.nextset()  # an error in the statement after this one raises here
        return cursor

    def _finish(self, cursor: MySQLCursor) -> None:
        """Read every result set left after the current one (a procedure's status, a second statement)."""
        while self.have_next_result:
            cursor.nextset()
            _read(cursor)

    @contextmanager
    def _closing_on_timeout(self) -> Iterator[None]:
        """After a read or write timeout the session is mid-exchange: close it, as the timeout's message says
        (the driver's own handler checks for the built-in TimeoutError, which its timeout errors are not)."""
        try:
            yield
        except (ReadTimeoutError, WriteTimeoutError):
            self.close()
            raise


def _read(cursor: MySQLCursor) -> Result:
    """The cursor's current result, its rows read to the end."""
    if cursor.description is None:
        return Result(cursor.rowcount, cursor.lastrowid or 0, (), [])
    rows = cursor.fetchall()
    return Result(len(rows), 0, cursor.column_names, rows)
