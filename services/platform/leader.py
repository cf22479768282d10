"""Leader election: exactly one process per database runs the writers and pollers.

The leader holds the MySQL named lock `leader:<database>` (`GET_LOCK(name, 0)`) on a dedicated
connection, never one from the pool. The lock lives as long as that connection: when the leader
dies its connection drops and the server frees the lock at once. Every LEADER_CHECK_INTERVAL_S
the leader checks that it still holds the lock (`IS_USED_LOCK(name) = CONNECTION_ID()`) and steps
down when it does not or the connection fails; followers try to take the lock, or read who holds it.

A leader cut off from the database without its connection closing is covered by timeouts: reads
on the dedicated connection time out after ceil(interval) seconds, so it steps down within
2 × ceil(interval); the server closes the idle session (freeing the lock) only after
2 × ceil(interval) + 1 seconds (session `wait_timeout`), so two leaders never overlap and a
follower takes over within 3 × ceil(interval) + 1 seconds (7 s at the default 2 s interval).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from mysql.connector import errors as mysql_errors

from backend.db import connect
from backend.extensions import socketio
from backend.settings import DatabaseConfig
from controller.platform import leader_leases
from utils import metrics
from utils.outage_log import OutageLog
from utils.timeutil import iso_ist, now_utc, to_db

log = logging.getLogger(__name__)
_SHUTDOWN = "shutting down"


def lock_name(database: str) -> str:
    """The lock's name: per database, since MySQL named locks are server-wide (at most 64 characters)."""
    return f"leader:{database}"[:64]


def process_identity() -> str:
    """host:pid of this process, as /healthz and /admin/jobs show the leader."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Leadership:
    """Holds or waits for the leader lock; calls `on_elected` / `on_deposed` when that changes."""

    def __init__(
        self,
        config: DatabaseConfig,
        interval_s: float,
        on_elected: Callable[[], None],
        on_deposed: Callable[[], None],
        identity: str | None = None,
    ) -> None:
        self.config = config
        self.interval_s = interval_s
        self.lock_name = lock_name(config.database)
        self.identity = identity or process_identity()
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._lock = threading.Lock()  # one user of the dedicated connection at a time
        self._conn: Any = None
        self._running = False
        self.is_leader = False
        self.leader: str | None = None
        self.since = None
        self.checked_at = None
        self.error: str | None = None
        self._outage = OutageLog(log, "leader election: database")  # a line per pass would flood an outage

    def start(self) -> None:
        """Check once now (a lone process leads when this returns), then keep checking in the background."""
        self._running = True
        self.check()
        socketio.start_background_task(self._loop)

    def stop(self) -> None:
        """Stop checking; a leader first stops its writers, then releases the lock; close the connection."""
        with self._lock:
            self._running = False
            if self.is_leader:
                self._step_down(_SHUTDOWN)
                try:
                    leader_leases.release(self._conn, self.lock_name)
                except mysql_errors.Error as exc:
                    log.warning("could not release the leader lock: %s", exc.__class__.__name__)
            self._close()

    def check(self) -> bool:
        """One election pass: a leader confirms it holds the lock, a follower tries to take it."""
        with self._lock:
            if not self._running:
                return False
            try:
                self._check()
                self.error = None
                self._outage.succeeded()
            except mysql_errors.Error as exc:
                self.error = f"{exc.__class__.__name__}: {exc}"[:300]
                self._close()
                if self.is_leader:
                    self._step_down("lost the database connection")
                self._outage.failed("unreachable", exc)
            self.checked_at = now_utc()
            return self.is_leader

    def _check(self) -> None:
        conn = self._connection()
        if self.is_leader:
            if not leader_leases.holds(conn, self.lock_name):
                self._step_down("the lock was lost")
            return
        if not leader_leases.try_acquire(conn, self.lock_name):
            current = leader_leases.current_holder(conn, self.lock_name)
            self.leader = current["holder"] if current else None
            self.since = current["acquired_at"] if current else None
            return
        since = now_utc()
        leader_leases.record_holder(conn, self.lock_name, self.identity, to_db(since))
        try:
            self._on_elected()
        except Exception:  # writers that cannot start must not hold the lock: let another process try
            log.exception("%s could not start the leader's work; releasing the lock", self.identity)
            self._on_deposed()  # undo the part that did start
            leader_leases.release(conn, self.lock_name)
            return
        self.is_leader, self.leader, self.since = True, self.identity, since
        metrics.LEADER.set(1)
        metrics.LEADER_CHANGES.labels("elected").inc()
        log.info("%s is now the leader (lock %s)", self.identity, self.lock_name)

    def _step_down(self, reason: str) -> None:
        self.is_leader, self.leader, self.since = False, None, None
        metrics.LEADER.set(0)
        metrics.LEADER_CHANGES.labels("deposed").inc()
        log.log(
            logging.INFO if reason == _SHUTDOWN else logging.WARNING,
            "%s is no longer the leader: %s",
            self.identity,
            reason,
        )
        try:
            self._on_deposed()
        except Exception:  # stepping down must finish; the failure is logged
            log.exception("stopping the leader's work failed")

    def _connection(self) -> Any:
        if self._conn is None:
            read_timeout = max(1, math.ceil(self.interval_s))
            conn = connect(
                self.config, connection_timeout=read_timeout + 2, read_timeout=read_timeout, write_timeout=read_timeout
            )
            leader_leases.limit_idle_session(conn, 2 * read_timeout + 1)
            self._conn = conn
        return self._conn

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(mysql_errors.Error):  # a broken connection: nothing left to close
                conn.close()

    def _loop(self) -> None:
        while self._running:
            socketio.sleep(self.interval_s)
            try:
                self.check()
            except Exception:  # the election loop must survive anything; the next pass retries
                log.exception("leader election pass failed")

    def status(self) -> dict[str, Any]:
        """This process's view of the leadership, for /healthz and /admin/jobs."""
        return {
            "is_leader": self.is_leader,
            "identity": self.identity,
            "leader": self.leader,
            "since": iso_ist(self.since),
            "lock": self.lock_name,
            "checked_at": iso_ist(self.checked_at),
            "error": self.error,
        }

    def readiness(self) -> dict[str, Any]:
        """Readiness check: ok while the election runs; says who leads."""
        return {"ok": self._running, **self.status()}
