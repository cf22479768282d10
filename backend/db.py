"""The database pool: the only place that gets, commits, rolls back and returns connections.

mysql-connector-python's pool never waits (an empty pool raises at once), so a bounded semaphore
in front of it makes callers queue for a slot up to `DB_POOL_TIMEOUT_S`, then fail with a 503.
The pool is created lazily on first use, so importing or wiring the app opens no socket, and a
database that is down at start-up is picked up once it comes back. Broken connections are
reconnected by the pool's own check when they are next handed out.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import mysql.connector
from flask import Flask, current_app
from mysql.connector import errors as mysql_errors
from mysql.connector.pooling import MySQLConnectionPool, PooledMySQLConnection

from backend.settings import DatabaseConfig
from utils import metrics
from utils.errors import ServiceUnavailable

log = logging.getLogger(__name__)
_pool_names = itertools.count(1)

Connection = PooledMySQLConnection


class Database:
    """A bounded, lazily created connection pool with `connection()` and `transaction()`."""

    def __init__(
        self,
        config: DatabaseConfig,
        pool_size: int = 10,
        wait_timeout_s: float = 2.0,
        connect_timeout_s: int = 5,
        read_timeout_s: int = 30,
        use_pure: bool = True,
    ) -> None:
        self.config = config
        self.pool_size = pool_size
        self.wait_timeout_s = wait_timeout_s
        self._connect_args = connect_args(config, connect_timeout_s, read_timeout_s, use_pure)
        self._slots = threading.BoundedSemaphore(pool_size)
        self._create_lock = threading.Lock()
        self._pool: MySQLConnectionPool | None = None
        self._in_use = 0
        metrics.DB_POOL_SIZE.set(pool_size)

    @property
    def in_use(self) -> int:
        """Connections currently checked out."""
        return self._in_use

    def _get_pool(self) -> MySQLConnectionPool:
        if self._pool is None:
            with self._create_lock:
                if self._pool is None:
                    self._pool = MySQLConnectionPool(
                        pool_name=f"market{next(_pool_names)}",
                        pool_size=self.pool_size,
                        pool_reset_session=False,  # safe: every connection is committed/rolled back
                        **self._connect_args,
                    )
        return self._pool

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """Check out an autocommit connection; it is rolled back if left in a transaction."""
        if not self._slots.acquire(timeout=self.wait_timeout_s):
            metrics.DB_POOL_TIMEOUTS.inc()
            raise ServiceUnavailable("database is busy, retry shortly", {"reason": "pool_exhausted"})
        self._in_use += 1
        metrics.DB_POOL_IN_USE.set(self._in_use)
        try:
            conn = self._checkout()
            try:
                yield conn
            except (mysql_errors.OperationalError, mysql_errors.InterfaceError) as exc:
                metrics.DB_ERRORS.labels("lost").inc()
                log.warning("database error during request: %s", exc.__class__.__name__)
                raise ServiceUnavailable("database unavailable", {"reason": "connection_lost"}) from exc
            finally:
                self._checkin(conn)
        finally:
            self._in_use -= 1
            metrics.DB_POOL_IN_USE.set(self._in_use)
            self._slots.release()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        with self.connection() as conn:
            conn.start_transaction()
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def _checkout(self) -> Connection:
        try:
            return self._get_pool().get_connection()
        except (mysql_errors.InterfaceError, mysql_errors.OperationalError, mysql_errors.PoolError) as exc:
            metrics.DB_ERRORS.labels("connect").inc()
            log.warning("database unavailable: %s", exc.__class__.__name__)
            raise ServiceUnavailable("database unavailable", {"reason": "unreachable"}) from exc

    @staticmethod
    def _checkin(conn: Connection) -> None:
        try:
            if conn.in_transaction:
                conn.rollback()
        except mysql_errors.Error:
            metrics.DB_ERRORS.labels("rollback").inc()
        try:
            conn.close()  # returns it to the pool; a broken one is reconnected on next checkout
        except mysql_errors.Error:
            metrics.DB_ERRORS.labels("close").inc()

    def close(self) -> None:
        """Close every idle pooled connection (shutdown and tests)."""
        if self._pool is not None:
            self._pool._remove_connections()
            self._pool = None


def connect_args(config: DatabaseConfig, connect_timeout_s: int, read_timeout_s: int, use_pure: bool) -> dict:
    """Keyword arguments for mysql.connector.connect from a DatabaseConfig."""
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
        "use_pure": use_pure,
    }
    if config.unix_socket:
        args["unix_socket"] = config.unix_socket
    else:
        args["host"], args["port"] = config.host, config.port
    if config.ssl_ca:
        args["ssl_ca"] = config.ssl_ca
    return args


def connect(config: DatabaseConfig, **extra: object) -> mysql.connector.MySQLConnection:
    """A single, unpooled connection (migrations, leader lock, CLI tools)."""
    args = connect_args(config, 10, 600, True)
    args.update(extra)
    return mysql.connector.connect(**args)


def init_app(app: Flask, database: Database) -> None:
    """Attach a Database to the app; `connection()`/`transaction()` below use it."""
    app.extensions["db"] = database


def get_db() -> Database:
    """The current app's Database."""
    return current_app.extensions["db"]


def connection():
    """Shortcut: `with db.connection() as conn:` on the current app's pool."""
    return get_db().connection()


def transaction():
    """Shortcut: `with db.transaction() as conn:` on the current app's pool."""
    return get_db().transaction()
