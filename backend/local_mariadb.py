"""A project-local MariaDB server in a directory of its own (for `make run` and the tests).

It listens on 127.0.0.1 and a unix socket inside its directory, keeps its data between runs, and
creates an `app` user with a password for the app to connect over TCP like it would in production. The
`app` user has rights on the databases made for it (`create_database`) and nothing else; creating and
dropping databases is root's business, over the socket.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import mysql.connector

from backend.settings import DatabaseConfig

log = logging.getLogger(__name__)
APP_USER, APP_PASSWORD = "app", "app-local-only"
_APP_HOSTS = ("127.0.0.1", "localhost")  # over TCP and over the socket


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )
    if not found:
        raise RuntimeError(f"{name} not found: install mariadb-server (scripts/system_deps.sh does)")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalMariaDB:
    """Start, reuse and stop a MariaDB server whose files live under `base`."""

    def __init__(self, base: Path, database: str = "market", port: int | None = None) -> None:
        self.base = base.resolve()
        self.database = database
        self.datadir = self.base / "data"
        self.tmpdir = self.base / "tmp"  # its own: temporary tables of two servers (or bootstraps) never collide
        self.socket = self.base / "mysqld.sock"
        self.pidfile = self.base / "mysqld.pid"
        self._port_file = self.base / "port"
        self._requested_port = port
        self._process: subprocess.Popen | None = None

    @property
    def port(self) -> int:
        """The TCP port (chosen on first start and kept for reuse)."""
        return int(self._port_file.read_text())

    def config(self, database: str | None = None) -> DatabaseConfig:
        """Connection settings for the app user."""
        return DatabaseConfig(
            "127.0.0.1", self.port, APP_USER, APP_PASSWORD, database or self.database, unix_socket=str(self.socket)
        )

    def url(self, database: str | None = None) -> str:
        """DATABASE_URL for the app user."""
        return self.config(database).url()

    def running_pid(self) -> int | None:
        """The pid of a server already running from this directory, if any."""
        try:
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid if self.socket.exists() else None

    def start(self, timeout_s: float = 60) -> LocalMariaDB:
        """Initialise the data directory if needed, start the server, create database and user."""
        self.base.mkdir(parents=True, exist_ok=True)
        if self.running_pid():
            log.info("reusing local MariaDB at %s", self.base)
            return self
        self.tmpdir.mkdir(exist_ok=True)
        if not (self.datadir / "mysql").exists():
            self._install()
        if not self._port_file.exists() or self._requested_port:
            self._port_file.write_text(str(self._requested_port or free_port()))
        self.socket.unlink(missing_ok=True)
        cmd = [
            _binary("mariadbd"),
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.socket}",
            f"--pid-file={self.pidfile}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--log-error={self.base / 'error.log'}",
            f"--tmpdir={self.tmpdir}",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--default-time-zone=+00:00",
            "--innodb-buffer-pool-size=256M",
            "--innodb-log-file-size=256M",
            "--innodb-flush-log-at-trx-commit=2",
            "--max-connections=500",
            "--max-allowed-packet=64M",
        ]
        if os.geteuid() == 0:
            cmd.append("--user=root")
        # A session of its own: the terminal's Ctrl-C reaches the app, which stops us cleanly.
        self._process = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self._wait_ready(timeout_s)
        self._bootstrap()
        return self

    def _install(self) -> None:
        cmd = [
            _binary("mariadb-install-db"),
            "--no-defaults",
            f"--datadir={self.datadir}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            f"--tmpdir={self.tmpdir}",  # passed to the bootstrap server: two bootstraps at once collide in /tmp
        ]
        if os.geteuid() == 0:
            cmd.append("--user=root")
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {result.stderr.strip()[-500:]}")

    def root_connection(self) -> mysql.connector.MySQLConnection:
        """An autocommit connection as root over the unix socket (provisioning, tests)."""
        return mysql.connector.connect(unix_socket=str(self.socket), user="root", use_pure=True, autocommit=True)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process and self._process.poll() is not None:
                raise RuntimeError(f"mariadbd exited; see {self.base / 'error.log'}")
            try:
                self.root_connection().close()
                return
            except mysql.connector.Error:
                time.sleep(0.1)
        raise RuntimeError(f"mariadbd did not become ready in {timeout_s:.0f}s")

    def _bootstrap(self) -> None:
        conn = self.root_connection()
        try:
            cur = conn.cursor()
            for host in _APP_HOSTS:
                cur.execute(f"CREATE USER IF NOT EXISTS '{APP_USER}'@'{host}' IDENTIFIED BY '{APP_PASSWORD}'")
                # data directories made before the user was confined held a global grant: take it back
                cur.execute(f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{APP_USER}'@'{host}'")
            self._create_database(cur, self.database, replace=False)
        finally:
            conn.close()

    def create_database(self, name: str, replace: bool = False) -> None:
        """Create a database (utf8mb4) if it does not exist, or afresh with `replace`; the app user gets every
        right on it (and on it only)."""
        conn = self.root_connection()
        try:
            self._create_database(conn.cursor(), name, replace)
        finally:
            conn.close()

    def _create_database(self, cursor: Any, name: str, replace: bool) -> None:
        if not name.replace("_", "").isalnum():
            raise ValueError(f"bad database name {name!r}")
        if replace:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        for host in _APP_HOSTS:
            cursor.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{APP_USER}'@'{host}'")

    def stop(self, timeout_s: float = 30) -> None:
        """Stop the server (SIGTERM, then wait)."""
        pid = self.running_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                return
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
