"""backend/mysql_fastpath.py: it imports on the one driver version it was written for and on no other, and each
private member of mysql-connector-python it relies on still exists and behaves as it relies on (one test each).
A driver upgrade fails these tests until the module is ported; the app itself falls back to the public API."""

import inspect
import subprocess
import sys

import mysql.connector
import pytest
from mysql.connector.network import MySQLSocket, NetworkBrokerPlain
from mysql.connector.protocol import MySQLProtocol

from backend import mysql_fastpath
from backend.db import connect
from controller.sql import execute, fetch_all, fetch_value
from tests.waiting import wait_for


@pytest.fixture
def conn(db_config):
    connection = connect(db_config)
    yield connection
    connection.close()


def test_it_is_written_for_the_installed_driver():
    assert mysql.connector.__version__ == mysql_fastpath.SUPPORTED_VERSION


_OTHER_VERSION = """
import logging, sys
logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
import mysql.connector
mysql.connector.__version__ = "99.0.0"
from backend import mysql_wire
from backend.settings import DatabaseConfig
from controller.sql import fetch_value
from backend.db import connect_args
conn = mysql_wire.Connection(**connect_args(DatabaseConfig.from_url(sys.argv[1]), 5, 30))
value = fetch_value(conn, "SELECT 7")
print("fastpath:", mysql_wire.fastpath, "closed_by_server:", conn.closed_by_server(), "value:", value)
"""


def test_on_another_driver_version_it_refuses_to_import_and_the_public_path_runs(db_config, repo_root):
    done = subprocess.run(
        [sys.executable, "-c", _OTHER_VERSION, db_config.url()],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    warning, result = done.stdout.strip().splitlines()
    assert warning == (
        "backend/mysql_fastpath.py is written for mysql-connector-python 26.10.0 only, not 99.0.0; "
        "running on the driver's public API alone"
    )
    assert result == "fastpath: None closed_by_server: None value: 7"


def test_the_driver_reads_every_packet_through_its_socket_objects_recv(conn, monkeypatch):
    # members: MySQLConnection._socket, MySQLSocket.recv(read_timeout) (replaced on the instance)
    assert isinstance(conn._socket, MySQLSocket)
    assert list(inspect.signature(MySQLSocket.recv).parameters) == ["self", "read_timeout"]
    assert conn._socket.recv.__self__.__class__ is mysql_fastpath._PacketReader
    reads, fills = [], []
    monkeypatch.setattr(conn._socket, "recv", lambda *args, _recv=conn._socket.recv: reads.append(1) or _recv(*args))
    original_fill = mysql_fastpath._PacketReader._fill
    monkeypatch.setattr(
        mysql_fastpath._PacketReader, "_fill", lambda self, *a: fills.append(1) or original_fill(self, *a)
    )
    assert fetch_all(conn, "SELECT 1 AS a, 'x' AS b") == [{"a": 1, "b": "x"}]
    # column count, 2 column definitions, EOF, one row, EOF: six packets from one system call
    assert (len(reads), len(fills)) == (6, 1)


def test_the_socket_object_holds_the_operating_systems_socket(conn, db_config):
    # members: MySQLSocket.sock (read directly, and polled by closed_by_server) and MySQLSocket.address (named in
    # the reader's errors, as the driver's own reader names it)
    assert conn._socket.sock.fileno() >= 0
    assert isinstance(conn._socket.address, str) and conn._socket.address
    assert mysql_fastpath.closed_by_server(conn) is False
    session = fetch_value(conn, "SELECT CONNECTION_ID()")
    killer = connect(db_config)
    try:
        execute(killer, f"KILL CONNECTION {int(session)}")
    finally:
        killer.close()
    wait_for(lambda: mysql_fastpath.closed_by_server(conn) is True, timeout_s=5)


def test_the_broker_numbers_packets_from_the_last_one_read(conn):
    # member: MySQLSocket._netbroker (a NetworkBrokerPlain) and its _pktnr, which the reader keeps as the driver
    # does (LOCAL INFILE data continues the server's sequence: tests/test_mysql_wire.py loads a file both ways)
    broker = conn._socket._netbroker
    assert type(broker) is NetworkBrokerPlain
    fetch_all(conn, "SELECT 1 AS a, 2 AS b")
    assert broker._pktnr == 6  # the request was packet 0; the sixth packet of the response ends it


def test_compressed_sessions_keep_the_drivers_reader(db_config):
    compressed = connect(db_config, compress=True)
    try:
        assert type(compressed._socket._netbroker) is not NetworkBrokerPlain
        assert "recv" not in vars(compressed._socket)  # the class's own reader
        assert fetch_all(compressed, "SELECT REPEAT('z', 70000) AS z, 3 AS n")[0]["n"] == 3
    finally:
        compressed.close()


def test_column_definitions_are_decoded_by_the_protocol_object_once_per_packet(conn, monkeypatch):
    # members: MySQLConnection._protocol and MySQLProtocol.parse_column(packet, encoding), a static method
    assert isinstance(conn._protocol, mysql_fastpath._Protocol)
    assert isinstance(inspect.getattr_static(MySQLProtocol, "parse_column"), staticmethod)
    assert list(inspect.signature(MySQLProtocol.parse_column).parameters) == ["packet", "encoding"]
    decoded = []
    original = MySQLProtocol.parse_column
    monkeypatch.setattr(MySQLProtocol, "parse_column", staticmethod(lambda *args: decoded.append(1) or original(*args)))
    mysql_fastpath._columns.clear()
    for _ in range(3):
        assert fetch_all(conn, "SELECT 1 AS wire_a, 'x' AS wire_b, NULL AS wire_c") == [
            {"wire_a": 1, "wire_b": "x", "wire_c": None}
        ]
    assert len(decoded) == 3  # three columns, decoded on the first run only
