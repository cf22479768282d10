"""The database pool: the only place that gets, commits, rolls back and returns connections.

A bounded semaphore (gevent's under gevent) makes callers queue for one of `pool_size` connections for up to
`DB_POOL_TIMEOUT_S`, then fail with a 503 (mysql-connector-python's own pool never waits, and it
pings the server on every checkout under one process-wide lock: a round trip per request). Here an
idle connection is handed out most recently used first, after a check that costs no round trip: the
server has not closed it (after a restart or a KILL its socket reads as ready; `closed_by_server`, which
needs backend/mysql_fastpath.py: on the driver's public API alone every idle connection is pinged). It is
pinged only after `VALIDATE_IDLE_S` of idleness, or when a lost connection since its return suggests trouble
(then every idle connection is pinged once). A connection that fails during use is closed, never reused.
Connections are opened lazily, so importing or wiring the app opens no socket, and a database that
is down at start-up is picked up once it comes back.

Connections for `transaction()` run with autocommit off, so the transaction starts with its first
statement instead of a START TRANSACTION round trip; they are kept apart from the autocommit ones
used by `connection()`, and a connection changes mode only when the other kind runs out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from flask import Flask
from gevent import monkey
from gevent.lock import BoundedSemaphore as GreenSemaphore
from mysql.connector import errors as mysql_errors

from backend.extensions import app_extensions
from backend.mysql_wire import Connection
from backend.settings import DatabaseConfig
from utils import metrics
from utils.errors import DatabaseUnavailable, ServiceUnavailable
from utils.outage_log import OutageLog

log = logging.getLogger(__name__)

VALIDATE_IDLE_S = 30.0  # below any sensible server wait_timeout or proxy idle timeout
OUTAGE_SUMMARY_S = 15.0  # while the database is down, one log line this often (each failure is counted)
_LOST = (mysql_errors.OperationalError, mysql_errors.InterfaceError)


class Database:
    """A bounded, lazily filled connection pool with `connection()` and `transaction()`."""

    def __init__(
        self,
        config: DatabaseConfig,
        pool_size: int = 10,
        wait_timeout_s: float = 2.0,
        connect_timeout_s: int = 5,
        read_timeout_s: int = 30,
        outage_summary_s: float = OUTAGE_SUMMARY_S,
    ) -> None:
        self.config = config
        self.pool_size = pool_size
        self.wait_timeout_s = wait_timeout_s
        self._connect_args = connect_args(config, connect_timeout_s, read_timeout_s)
        self._slots = _semaphore(pool_size)
        # autocommit on/off → idle (connection, returned at, generation)
        self._idle: dict[bool, list[tuple[Connection, float, int]]] = {True: [], False: []}
        self._generation = 0  # bumped when a connection is lost: idle ones are checked before reuse
        self._in_use = 0
        self._outage = OutageLog(log, "database", outage_summary_s)
        metrics.DB_POOL_SIZE.set(pool_size)
        metrics.DB_AVAILABLE.set(1)

    @property
    def in_use(self) -> int:
        """Connections currently checked out."""
        return self._in_use

    def connection(self) -> AbstractContextManager[Connection]:
        """Check out an autocommit connection; it is rolled back if left in a transaction."""
        return self._lease(autocommit=True)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        with self._lease(autocommit=False) as conn:
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @contextmanager
    def _lease(self, autocommit: bool) -> Iterator[Connection]:
        if not self._slots.acquire(timeout=self.wait_timeout_s):
            metrics.DB_POOL_TIMEOUTS.inc()
            raise ServiceUnavailable("database is busy, retry shortly", {"reason": "pool_exhausted"})
        self._in_use += 1
        metrics.DB_POOL_IN_USE.set(self._in_use)
        try:
            conn = self._checkout(autocommit)
            try:
                yield conn
            except _LOST as exc:
                self._discard(conn)
                raise self._unavailable("lost", "connection_lost", exc) from exc
            except BaseException:
                self._checkin(conn, autocommit)
                raise
            self._checkin(conn, autocommit)
        finally:
            self._in_use -= 1
            metrics.DB_POOL_IN_USE.set(self._in_use)
            self._slots.release()

    def _checkout(self, autocommit: bool) -> Connection:
        conn, mode = self._idle_connection(autocommit)
        try:
            if conn is None:
                conn, mode = Connection(**self._connect_args), True
            if mode != autocommit:
                conn.autocommit = autocommit
        except mysql_errors.Error as exc:
            if conn is not None:
                self._close_quietly(conn)
            raise self._unavailable("connect", "unreachable", exc) from exc
        if self._outage.down:
            self._outage.succeeded()
            metrics.DB_AVAILABLE.set(1)
        return conn

    def _unavailable(self, kind: str, reason: str, exc: Exception) -> DatabaseUnavailable:
        """Count a failure (db_errors_total) and report it to the outage log, which logs only some of them."""
        metrics.DB_ERRORS.labels(kind).inc()
        metrics.DB_AVAILABLE.set(0)
        self._outage.failed(reason, exc)
        return DatabaseUnavailable(details={"reason": reason})

    def _idle_connection(self, autocommit: bool) -> tuple[Connection | None, bool]:
        """The most recently returned idle connection that still answers, of the wanted mode if any is idle."""
        for mode in (autocommit, not autocommit):
            idle = self._idle[mode]
            while True:
                try:
                    conn, returned_at, generation = idle.pop()  # atomic; another thread may empty the list
                except IndexError:
                    break
                recent = generation == self._generation and time.monotonic() - returned_at < VALIDATE_IDLE_S
                if recent and conn.closed_by_server() is False:
                    return conn, mode
                try:
                    conn.ping()
                    return conn, mode
                except mysql_errors.Error:
                    self._close_quietly(conn)
        return None, autocommit

    def _checkin(self, conn: Connection, autocommit: bool) -> None:
        try:
            if conn.unread_result:  # a cursor left rows behind: the session cannot take a new statement
                raise mysql_errors.InterfaceError("unread result")
            if conn.in_transaction:
                conn.rollback()
        except mysql_errors.Error:
            metrics.DB_ERRORS.labels("rollback").inc()
            self._discard(conn)
            return
        self._idle[autocommit].append((conn, time.monotonic(), self._generation))

    def _discard(self, conn: Connection) -> None:
        """Close a connection that failed; the others are checked before their next use."""
        self._generation += 1
        self._close_quietly(conn)

    @staticmethod
    def _close_quietly(conn: Connection) -> None:
        try:
            conn.close()
        except mysql_errors.Error:
            metrics.DB_ERRORS.labels("close").inc()

    def close(self) -> None:
        """Close every idle connection (shutdown and tests)."""
        for idle in self._idle.values():
            while idle:
                try:
                    self._close_quietly(idle.pop()[0])
                except IndexError:  # another thread took the last one
                    break


def _semaphore(size: int) -> Any:
    """A bounded semaphore of the process's concurrency model: gevent's where gevent patched threading
    (threading's own is a Condition over patched locks there, many times the CPU per acquire and release:
    docs/BENCHMARKS.md)."""
    if monkey.is_module_patched("threading"):
        return GreenSemaphore(size)
    return threading.BoundedSemaphore(size)


def connect_args(config: DatabaseConfig, connect_timeout_s: int, read_timeout_s: int) -> dict:
    """Keyword arguments for a Connector/Python connection from a DatabaseConfig."""
    args: dict = {
        "user": config.user,
        "password": config.password,
        "database": config.database,
        "autocommit": True,
        "charset": "utf8mb4",
        "collation": "utf8mb4_unicode_ci",
        "time_zone": "+00:00",
        "connection_timeout": connect_timeout_s,
        "read_timeout": read_timeout_s,
        "write_timeout": read_timeout_s,
    }
    if config.unix_socket:
        args["unix_socket"] = config.unix_socket
    else:
        args["host"], args["port"] = config.host, config.port
    if config.ssl_ca:
        args["ssl_ca"] = config.ssl_ca
    return args


def connect(config: DatabaseConfig, **extra: object) -> Connection:
    """A single, unpooled connection (migrations, leader lock, CLI tools)."""
    args = connect_args(config, 10, 600)
    args.update(extra)
    return Connection(**args)


def init_app(app: Flask, database: Database) -> None:
    """Attach a Database to the app; `connection()`/`transaction()` below use it."""
    app.extensions["db"] = database


def get_db() -> Database:
    """The current app's Database."""
    return app_extensions()["db"]


def connection():
    """Shortcut: `with db.connection() as conn:` on the current app's pool."""
    return get_db().connection()


def transaction():
    """Shortcut: `with db.transaction() as conn:` on the current app's pool."""
    return get_db().transaction()
