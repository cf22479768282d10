"""Connector/Python's pure-Python connection, made cheaper for many small statements.

The pure driver (the C extension blocks gevent, DESIGN.md §11) reads every protocol packet with two
system calls, header then payload, and parses every column definition of every result set anew; a
one-row SELECT of 19 columns is 23 packets. And every statement is a round trip. `Connection` keeps the
driver's protocol code and changes four things:

- reads fill a buffer with one system call and serve every whole packet it holds (the protocol is
  request/response, so nothing is left in the buffer once a response has been read);
- a column definition packet decodes to the same description every time, so descriptions are cached
  by the packet's bytes;
- `bind()` puts parameters into a statement as the driver's cursor does, with fast paths for integers,
  decimals and NULL (the cursor dispatches every value through several converter methods);
- `defer()` queues a write whose result nobody reads, inside a transaction; it travels with the next
  statement (usually the COMMIT) as one multi-statement round trip. An error in a deferred write fails
  that statement instead, and so the transaction.

Measured on this machine under gevent (`bench/db_statements.py --gevent`, docs/BENCHMARKS.md): a one-row
SELECT of 19 columns ~500 µs of CPU on the stock connection, ~220 µs on this one; three UPDATEs and a COMMIT
~585 µs as four round trips, ~335 µs as two with deferred writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from mysql.connector import MySQLConnection
from mysql.connector.errors import InterfaceError, OperationalError, ProgrammingError, ReadTimeoutError
from mysql.connector.network import MySQLSocket, MySQLTCPSocket, MySQLUnixSocket, NetworkBrokerCompressed
from mysql.connector.protocol import MySQLProtocol

_HEADER = 4  # 3 bytes payload length, 1 byte sequence id
_READ_SIZE = 256 * 1024
_COLUMN_CACHE_MAX = 4096  # distinct column definitions (a statement's columns are reused on every run)
_columns: dict[tuple[bytes, str], Any] = {}
_NAMED = re.compile(rb"%\((\w+)\)s")
_PIECES_CACHE_MAX = 4096
_pieces: dict[str, list[bytes]] = {}  # a statement split at its %s placeholders


class _Protocol(MySQLProtocol):
    """MySQLProtocol with column definitions decoded once per distinct packet."""

    def parse_column(self, packet: bytes, encoding: str = "utf-8") -> Any:
        key = (bytes(packet[_HEADER:]), encoding)
        found = _columns.get(key)
        if found is None:
            if len(_columns) >= _COLUMN_CACHE_MAX:
                _columns.clear()
            found = _columns[key] = MySQLProtocol.parse_column(packet, encoding)
        return found


class _BufferedReads(MySQLSocket):
    """Packet reads served from a buffer that one system call fills (once `buffered` is set)."""

    buffered = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._buffer = bytearray()
        self._start = 0

    def recv(self, read_timeout: int | None = None) -> bytearray:
        """The next packet from the server."""
        if not self.buffered or isinstance(self._netbroker, NetworkBrokerCompressed):
            return super().recv(read_timeout)
        while True:
            packet = self._next_packet()
            if packet is not None:
                return packet
            self._fill(read_timeout)

    def _next_packet(self) -> bytearray | None:
        buffer, start = self._buffer, self._start
        available = len(buffer) - start
        if available < _HEADER:
            return None
        end = start + _HEADER + (buffer[start] | buffer[start + 1] << 8 | buffer[start + 2] << 16)
        if end > len(buffer):
            return None
        self._netbroker._pktnr = buffer[start + 3]  # the next packet we send continues the sequence
        packet = buffer[start:end]
        if end == len(buffer):
            self._buffer, self._start = bytearray(), 0
        else:
            self._start = end
        return packet

    def _fill(self, read_timeout: int | None) -> None:
        if self._start:
            del self._buffer[:self._start]
            self._start = 0
        try:
            self.sock.settimeout(float(read_timeout) if read_timeout else None)
            chunk = self.sock.recv(_READ_SIZE)
        except TimeoutError as err:
            raise ReadTimeoutError(errno=3024, msg=err.strerror) from err
        except OSError as err:
            raise OperationalError(errno=2055, values=(self.address, str(err))) from err
        except AttributeError as err:  # the socket was closed
            raise OperationalError(errno=2006) from err
        if not chunk:
            raise InterfaceError(errno=2013)
        self._buffer += chunk

    def close_connection(self) -> None:
        """Close the socket and drop whatever was buffered."""
        self._buffer, self._start = bytearray(), 0
        super().close_connection()


class _UnixSocket(_BufferedReads, MySQLUnixSocket):
    pass


class _TCPSocket(_BufferedReads, MySQLTCPSocket):
    pass


class Connection(MySQLConnection):
    """A pure-Python MySQLConnection with buffered packet reads, cached column definitions and deferred writes."""

    def __init__(self, **kwargs: Any) -> None:
        self._deferred: list[bytes] = []
        super().__init__(**kwargs)

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Queue a write (`%s` placeholders) to send with the next statement; only inside a transaction."""
        if not self.in_transaction:
            raise ProgrammingError("a deferred write needs an open transaction")
        self._deferred.append(self.bind(sql, params))

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
        """`value` as an SQL literal, escaped and quoted as the driver's cursor does it."""
        kind = type(value)
        if kind is int or kind is Decimal:  # not bool: a subclass of int that the driver sends as 1/0
            return str(value).encode()
        if value is None:
            return b"NULL"
        converter = self.converter
        escaped = converter.escape(converter.to_mysql(value), self.sql_mode)
        return bytes(converter.quote(escaped))

    def cmd_query(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        """Run `query`; deferred writes go first, in the same round trip."""
        if not self._deferred:
            return super().cmd_query(query, *args, **kwargs)
        return next(self.cmd_query_iter(query, **kwargs))

    def cmd_query_iter(self, statements: Any, **kwargs: Any) -> Iterator[Any]:
        """The results of `statements`, sent after the deferred writes in the same round trip."""
        writes, self._deferred = self._deferred, []
        if writes:
            statements = b";".join([*writes, statements.encode() if isinstance(statements, str) else statements])
        results = super().cmd_query_iter(statements, **kwargs)
        for _ in writes:
            next(results)  # the writes' OK packets; an error raises here
        yield from results

    def rollback(self) -> None:
        """Drop the deferred writes and roll back."""
        self._deferred = []
        super().rollback()

    def close(self) -> None:
        """Drop the deferred writes and close."""
        self._deferred = []
        super().close()

    disconnect = close

    def _get_connection(self) -> MySQLSocket:
        if self.unix_socket:
            sock: MySQLSocket = _UnixSocket(unix_socket=self.unix_socket)
        else:
            sock = _TCPSocket(host=self.server_host, port=self.server_port, force_ipv6=self._force_ipv6)
        sock.set_connection_timeout(self._connection_timeout)
        return sock

    def _open_connection(self) -> None:
        super()._open_connection()  # handshake, TLS and authentication read packet by packet
        self._protocol = _Protocol()
        self._socket.buffered = True
