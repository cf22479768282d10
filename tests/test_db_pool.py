"""The pool: connections always come back, exhaustion is a clean 503, and it survives a server restart."""

import threading

import pytest

from backend import db, mysql_wire
from backend.db import Database, connect
from backend.local_mariadb import LocalMariaDB
from backend.mysql_wire import Connection
from controller.sql import execute, fetch_value
from tests.conftest import app_with_db_probe
from utils.errors import ServiceUnavailable


def test_connections_return_to_the_pool_after_exceptions(db_config):
    database = Database(db_config, pool_size=2, wait_timeout_s=0.5)
    for _ in range(5):
        with pytest.raises(ZeroDivisionError), database.connection() as conn:
            fetch_value(conn, "SELECT 1")
            raise ZeroDivisionError
    assert database.in_use == 0
    with database.connection() as a, database.connection() as b:
        assert fetch_value(a, "SELECT 1") == fetch_value(b, "SELECT 1") == 1
    database.close()


def test_transaction_rolls_back_on_error_and_commits_on_success(db_config):
    database = Database(db_config, pool_size=1)
    with database.connection() as conn:
        cursor = conn.cursor()
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS t_probe (v INT)")
    with pytest.raises(RuntimeError), database.transaction() as conn:
        conn.cursor().execute("INSERT INTO t_probe VALUES (1)")
        raise RuntimeError("abort")
    with database.transaction() as conn:
        conn.cursor().execute("INSERT INTO t_probe VALUES (2)")
    with database.connection() as conn:  # the same pooled session: the temp table is visible
        assert fetch_value(conn, "SELECT GROUP_CONCAT(v) FROM t_probe") == "2"
    database.close()


def test_transactions_run_with_autocommit_off_and_reads_with_it_on(db_config):
    database = Database(db_config, pool_size=1)  # one connection: it switches mode when needed
    with database.transaction() as conn:
        assert fetch_value(conn, "SELECT @@autocommit") == 0
    with database.connection() as conn:
        assert fetch_value(conn, "SELECT @@autocommit") == 1
        execute(conn, "CREATE TABLE IF NOT EXISTS t_autocommit_probe (v INT)")
        execute(conn, "INSERT INTO t_autocommit_probe VALUES (1)")
    other = connect(db_config)
    try:
        assert fetch_value(other, "SELECT COUNT(*) FROM t_autocommit_probe") == 1  # committed at once
        execute(other, "DROP TABLE t_autocommit_probe")
    finally:
        other.close()
    database.close()


def _kill(db_config, connection_id: int) -> None:
    conn = connect(db_config)
    try:
        execute(conn, f"KILL CONNECTION {int(connection_id)}")
    finally:
        conn.close()


def _ids(database: Database, count: int) -> set[int]:
    """The session ids of `count` connections checked out at once."""
    with database.connection() as a, database.connection() as b:
        return {fetch_value(conn, "SELECT CONNECTION_ID()") for conn in (a, b)[:count]}


def test_an_idle_connection_the_server_closed_is_never_handed_out(db_config):
    database = Database(db_config, pool_size=2)
    first, second = sorted(_ids(database, 2))
    _kill(db_config, first)
    _kill(db_config, second)
    with database.connection() as conn:  # no error: both idle ones are seen closed and a new one opens
        assert fetch_value(conn, "SELECT CONNECTION_ID()") not in (first, second)
    database.close()


def test_on_the_public_path_alone_idle_connections_are_pinged_and_a_closed_one_is_never_handed_out(
    db_config, monkeypatch
):
    monkeypatch.setattr(mysql_wire, "fastpath", None)  # another driver version: no socket to look at
    database = Database(db_config, pool_size=2)
    first, second = sorted(_ids(database, 2))
    _kill(db_config, first)
    _kill(db_config, second)
    with database.connection() as conn:  # no error: both idle ones fail their ping and a new one opens
        assert conn.closed_by_server() is None
        assert fetch_value(conn, "SELECT CONNECTION_ID()") not in (first, second)
    database.close()


def test_an_idle_connection_is_pinged_after_a_while_and_replaced_when_it_does_not_answer(db_config, monkeypatch):
    database = Database(db_config, pool_size=2)
    [first] = _ids(database, 1)
    monkeypatch.setattr(Connection, "closed_by_server", lambda conn: False)  # as if the server's goodbye never came
    _kill(db_config, first)
    monkeypatch.setattr(db, "VALIDATE_IDLE_S", 0)  # idle long enough to be pinged
    with database.connection() as conn:
        assert fetch_value(conn, "SELECT CONNECTION_ID()") != first
    database.close()


def test_a_connection_lost_during_use_is_a_503_and_is_never_handed_out_again(db_config):
    database = Database(db_config, pool_size=2)
    with pytest.raises(ServiceUnavailable) as caught, database.connection() as conn:
        lost = fetch_value(conn, "SELECT CONNECTION_ID()")
        _kill(db_config, lost)
        fetch_value(conn, "SELECT 1")
    assert caught.value.details == {"reason": "connection_lost"}
    assert lost not in _ids(database, 2)
    assert database.in_use == 0
    database.close()


def test_exhausted_pool_waits_then_raises_service_unavailable(db_config):
    database = Database(db_config, pool_size=1, wait_timeout_s=0.2)
    with database.connection(), pytest.raises(ServiceUnavailable) as caught, database.connection():
        pass
    assert caught.value.status == 503
    database.close()


def test_a_waiter_gets_the_connection_once_it_is_released(db_config):
    database = Database(db_config, pool_size=1, wait_timeout_s=5)
    release = threading.Event()
    results = []

    def holder():
        with database.connection():
            release.wait(5)

    def waiter():
        with database.connection() as conn:
            results.append(fetch_value(conn, "SELECT 7"))

    t1 = threading.Thread(target=holder)
    t1.start()
    t2 = threading.Thread(target=waiter)
    t2.start()
    release.set()
    t1.join(5)
    t2.join(5)
    assert results == [7]
    database.close()


_GEVENT_POOL = """
from gevent import monkey
monkey.patch_all()
import sys
import gevent
from backend.db import Database
from backend.settings import DatabaseConfig
from controller.sql import fetch_value
from utils.errors import ServiceUnavailable

database = Database(DatabaseConfig.from_url(sys.argv[1]), pool_size=1, wait_timeout_s=0.3)
print(type(database._slots).__module__)
results = []

def holder(seconds):
    with database.connection():
        gevent.sleep(seconds)

def waiter():
    try:
        with database.connection() as conn:
            results.append(fetch_value(conn, "SELECT 7"))
    except ServiceUnavailable as exc:
        results.append(exc.status)

gevent.joinall([gevent.spawn(holder, 0.1), gevent.spawn(waiter)])  # released in time: the waiter gets it
gevent.joinall([gevent.spawn(holder, 1.0), gevent.spawn(waiter)])  # held too long: 503
print(results)
"""


def test_under_gevent_waiters_queue_on_gevents_semaphore(db_config, repo_root):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", _GEVENT_POOL, db_config.url()], cwd=repo_root, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    module, outcomes = result.stdout.split("\n")[:2]
    assert module.startswith("gevent.") and outcomes == "[7, 503]"


def test_pool_exhaustion_maps_to_a_503_response(db_config):
    app = app_with_db_probe(db_config, db_pool_size=1, db_pool_timeout_s=0.1)
    database = app.extensions["db"]
    with database.connection():
        response = app.test_client().get("/_probe/db")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert app.test_client().get("/_probe/db").get_json() == {"value": 1}
    database.close()


def test_pool_reconnects_after_the_server_restarts(tmp_path):
    server = LocalMariaDB(tmp_path / "restart").start()
    database = Database(server.config(), pool_size=2, wait_timeout_s=1, connect_timeout_s=2)
    try:
        with database.connection() as conn:
            assert fetch_value(conn, "SELECT 1") == 1
        server.stop()
        with pytest.raises(ServiceUnavailable), database.connection() as conn:
            fetch_value(conn, "SELECT 1")
        assert database.in_use == 0
        server.start()
        with database.connection() as conn:
            assert fetch_value(conn, "SELECT 2") == 2
    finally:
        database.close()
        server.stop()
