"""The private parts of mysql-connector-python that make a round trip of backend/mysql_wire.py cheaper.

Written against mysql-connector-python 26.10.0 and only that: on any other version this module refuses to
import, and backend/mysql_wire.py runs on the driver's public API alone (correct, with more CPU per statement;
docs/BENCHMARKS.md). Porting it to a new driver version means re-reading the members below in the new source
and running tests/test_mysql_fastpath.py, which has one test per member.

The pure-Python driver reads each protocol packet with two system calls (header, then payload) through several
layers of calls, and a one-row SELECT of 19 columns is 23 packets; it decodes every column definition of
every result set anew; and it cannot tell whether the server closed an idle connection without a round trip.
What this module changes, and the private members it relies on:

- `MySQLConnection._socket` is the driver's MySQLSocket; its `sock` is the operating system's socket (its
  `address` names it in errors), and the driver reads every packet through `MySQLSocket.recv(read_timeout)`.
  That method is replaced, on the one instance, by `_PacketReader.recv`, which fills a buffer with one system
  call and serves every whole packet the buffer holds (the protocol is request/response: nothing is left in
  it once a response is read). It keeps `MySQLSocket._netbroker._pktnr` (the sequence id of the last packet
  read) as the driver's own reader does, since the driver numbers the packets it sends next from it (LOCAL
  INFILE data). Compressed sessions, whose broker is not a NetworkBrokerPlain, keep the driver's reader.
- `MySQLConnection._protocol` (a MySQLProtocol) decodes column definitions with `parse_column(packet,
  encoding)`; it is replaced by a subclass that decodes each distinct packet once.
- `closed_by_server()` polls `_socket.sock` (no round trip): an idle session has nothing to read, a closed one
  reads as ready.
"""

from __future__ import annotations

import select
import sys
from collections.abc import Callable
from functools import cache
from typing import Any

import mysql.connector

SUPPORTED_VERSION = "26.10.0"
if mysql.connector.__version__ != SUPPORTED_VERSION:
    raise ImportError(
        f"backend/mysql_fastpath.py is written for mysql-connector-python {SUPPORTED_VERSION} only, "
        f"not {mysql.connector.__version__}"
    )

from gevent import monkey  # noqa: E402  (after the version check: the driver's internals below may differ)
from mysql.connector.errors import InterfaceError, OperationalError, ReadTimeoutError  # noqa: E402
from mysql.connector.network import NetworkBrokerPlain  # noqa: E402
from mysql.connector.protocol import MySQLProtocol  # noqa: E402

_HEADER = 4  # 3 bytes payload length, 1 byte sequence id
_READ_SIZE = 256 * 1024
_COLUMN_CACHE_MAX = 4096  # distinct column definitions (a statement's columns are the same on every run)
_columns: dict[tuple[bytes, str], Any] = {}


def install(conn: Any) -> None:
    """Give a freshly connected connection the buffered packet reader and the column cache."""
    driver_socket = conn._socket
    if type(driver_socket._netbroker) is NetworkBrokerPlain:
        driver_socket.recv = _PacketReader(driver_socket).recv
    conn._protocol = _Protocol()


def closed_by_server(conn: Any) -> bool:
    """Whether the server closed this idle connection (after a restart or a KILL its socket reads as ready: end
    of stream, or the server's last error packet). A local check, not a round trip."""
    sock = getattr(conn._socket, "sock", None)
    if sock is None:
        return True
    try:
        poller = _os_poll()()
        poller.register(sock.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


@cache
def _os_poll() -> Callable[[], Any]:
    """The operating system's select.poll: gevent's waits on its hub, eventlet removes it."""
    if "eventlet" in sys.modules:
        from eventlet.patcher import original

        return original("select").poll
    return monkey.get_original("select", "poll")


class _Protocol(MySQLProtocol):
    """MySQLProtocol with column definitions decoded once per distinct packet."""

    def parse_column(self, packet: bytes, encoding: str = "utf-8") -> Any:  # type: ignore[override]
        key = (bytes(packet[_HEADER:]), encoding)
        found = _columns.get(key)
        if found is None:
            if len(_columns) >= _COLUMN_CACHE_MAX:
                _columns.clear()
            found = _columns[key] = MySQLProtocol.parse_column(packet, encoding)
        return found


class _PacketReader:
    """Packets of one MySQLSocket, served from a buffer that one system call fills."""

    __slots__ = ("_address", "_broker", "_buffer", "_sock", "_start")

    def __init__(self, driver_socket: Any) -> None:
        self._sock = driver_socket.sock
        self._broker = driver_socket._netbroker
        self._address = driver_socket.address
        self._buffer = bytearray()
        self._start = 0

    def recv(self, read_timeout: int | None = None) -> bytearray:
        """The next packet from the server (MySQLSocket.recv's contract)."""
        while True:
            buffer, start = self._buffer, self._start
            if len(buffer) - start >= _HEADER:
                end = start + _HEADER + (buffer[start] | buffer[start + 1] << 8 | buffer[start + 2] << 16)
                if end <= len(buffer):
                    self._broker._pktnr = buffer[start + 3]
                    if end == len(buffer):
                        self._buffer, self._start = bytearray(), 0
                    else:
                        self._start = end
                    return buffer[start:end]
            self._fill(read_timeout)

    def _fill(self, read_timeout: int | None) -> None:
        if self._start:
            del self._buffer[: self._start]
            self._start = 0
        try:
            self._sock.settimeout(float(read_timeout) if read_timeout else None)
            chunk = self._sock.recv(_READ_SIZE)
        except TimeoutError as err:
            raise ReadTimeoutError(errno=3024, msg=err.strerror) from err
        except OSError as err:
            raise OperationalError(errno=2055, values=(self._address, str(err))) from err
        if not chunk:
            raise InterfaceError(errno=2013)
        self._buffer += chunk
