"""Connector/Python's pure-Python connection, made cheaper for many small statements.

The pure driver (the C extension blocks gevent: docs/ARCHITECTURE.md, async modes) reads every protocol packet with two
system calls, header then payload, and parses every column definition of every result set anew; a
one-row SELECT of 19 columns is 23 packets. Each statement also passes through several layers of
decorated methods. And every statement is a round trip. `Connection` keeps the driver's handshake,
authentication, converters and error classes and changes five things:

- reads fill a buffer with one system call and serve every whole packet it holds (the protocol is
  request/response, so nothing is left in the buffer once a response has been read);
- a column definition packet decodes to the same description every time, so descriptions are cached
  by the packet's bytes;
- a query (COM_QUERY) is sent with one system call and its response (OK, error, result set, text rows)
  is parsed here; anything else (compression, query attributes, LOCAL INFILE requests, binary rows)
  takes the driver's own path. As with the driver, a read or write timeout closes the connection;
- `bind()` puts parameters into a statement as the driver's cursor does, with fast paths for integers,
  decimals (exact numeric literals), plain strings, naive datetimes and NULL;
- `defer()` queues a statement inside a transaction; it travels with the next statement (usually the
  COMMIT) as one multi-statement round trip, and its result (a write's row count and insert id, a
  query's rows) is handed to a callback when it arrives. An error in a deferred statement fails that
  statement instead, and so the transaction.

Measured on this machine under gevent (`bench/db_statements.py --gevent`, docs/BENCHMARKS.md): a one-row
SELECT of 19 columns ~520 µs of CPU on the stock connection, ~170 µs on this one; three UPDATEs and a COMMIT
~600 µs as four round trips, ~280 µs as two with deferred writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from mysql.connector import MySQLConnection, utils
from mysql.connector.constants import ClientFlag, ServerCmd, ServerFlag
from mysql.connector.errors import (
    Error,
    InterfaceError,
    InternalError,
    OperationalError,
    ProgrammingError,
    ReadTimeoutError,
    WriteTimeoutError,
    get_exception,
)
from mysql.connector.network import MySQLSocket, MySQLTCPSocket, MySQLUnixSocket, NetworkBrokerCompressed
from mysql.connector.protocol import MySQLProtocol

_HEADER = 4  # 3 bytes payload length, 1 byte sequence id
_MAX_PAYLOAD = 0xFFFFFF  # a longer payload is split into packets (the driver's own send does that)
_OK, _INFILE, _EOF, _ERR = 0x00, 0xFB, 0xFE, 0xFF  # first payload byte of a response packet
_NULL = 0xFB  # a NULL column value in a text row
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


def _lenenc(data: bytes | bytearray, pos: int) -> tuple[int, int]:
    """The length-encoded integer at `pos` of a packet, and the position after it."""
    first = data[pos]
    if first < 0xFB:
        return first, pos + 1
    if first == 0xFC:
        return data[pos + 1] | data[pos + 2] << 8, pos + 3
    if first == 0xFD:
        return data[pos + 1] | data[pos + 2] << 8 | data[pos + 3] << 16, pos + 4
    return int.from_bytes(data[pos + 1 : pos + 9], "little"), pos + 9


def _text_row(payload: bytes) -> tuple[bytes | None, ...]:
    """The column values of a text-protocol row (length-encoded strings, 0xFB for NULL)."""
    values: list[bytes | None] = []
    pos, end = 0, len(payload)
    while pos < end:
        first = payload[pos]
        if first == _NULL:
            values.append(None)
            pos += 1
            continue
        if first < 0xFB:
            size, pos = first, pos + 1
        else:
            size, pos = _lenenc(payload, pos)
        values.append(payload[pos : pos + size])
        pos += size
    return tuple(values)


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
            del self._buffer[: self._start]
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

    def send_packet(self, payload: bytes, write_timeout: int | None) -> None:
        """Send a command (`payload` < 16 MiB) as the first packet of a new exchange, with one system call."""
        packet = len(payload).to_bytes(3, "little") + b"\x00" + payload
        try:
            self.sock.settimeout(float(write_timeout) if write_timeout else None)
            sent = self.sock.send(packet)  # gevent's sendall asks the kernel for SO_SNDBUF first, every time
            if sent < len(packet):
                self.sock.sendall(packet[sent:])
        except TimeoutError as err:
            raise WriteTimeoutError(errno=3024) from err
        except OSError as err:
            raise OperationalError(errno=2055, values=(self.address, str(err))) from err
        except AttributeError as err:  # the socket was closed
            raise OperationalError(errno=2006) from err

    def close_connection(self) -> None:
        """Close the socket and drop whatever was buffered."""
        self._buffer, self._start = bytearray(), 0
        super().close_connection()


class _UnixSocket(_BufferedReads, MySQLUnixSocket):
    pass


class _TCPSocket(_BufferedReads, MySQLTCPSocket):
    pass


class Connection(MySQLConnection):
    """A pure-Python MySQLConnection with buffered reads, cached column definitions, a lean query path and deferred
    statements."""

    def __init__(self, **kwargs: Any) -> None:
        self._deferred: list[tuple[bytes, Callable[[dict[str, Any]], None] | None]] = []
        self._lean = False  # set once connected without compression: the query path below skips the driver's
        self._query_prefix = b""
        super().__init__(**kwargs)

    def defer(
        self, sql: str, params: Sequence[Any] = (), on_result: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        """Queue a statement (`%s` placeholders) to send with the next one; only inside a transaction.

        `on_result` is called with its result when it arrives: a write's OK packet (affected_rows, insert_id),
        or a query's columns and all its rows (`rows`, tuples).
        """
        if not self.in_transaction:
            raise ProgrammingError("a deferred statement needs an open transaction")
        self._deferred.append((self.bind(sql, params), on_result))

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
        if kind is int:  # not bool: a subclass of int that the driver sends as 1/0
            return str(value).encode()
        if kind is Decimal:  # an exact numeric literal (the driver sends a string); never exponent notation
            return format(value, "f").encode()
        if value is None:
            return b"NULL"
        converter = self.converter
        if kind is str and value.isalnum() and converter.charset == "utf8":  # nothing to escape
            return b"'" + value.encode() + b"'"
        if kind is datetime and value.tzinfo is None:  # the driver's format: the fraction only when nonzero
            return b"'" + value.isoformat(" ").encode() + b"'"
        escaped = converter.escape(converter.to_mysql(value), self.sql_mode)
        return bytes(converter.quote(escaped))

    def cmd_query(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        """Run `query`; deferred statements go first, in the same round trip."""
        if self._deferred:
            return next(self.cmd_query_iter(query, **kwargs))
        if not self._lean or kwargs or self._query_attrs:
            return super().cmd_query(query, *args, **kwargs)
        return self._result(self._send_query(query))

    def cmd_query_iter(self, statements: Any, **kwargs: Any) -> Iterator[Any]:
        """The results of `statements`, sent after the deferred statements in the same round trip."""
        writes, self._deferred = self._deferred, []
        if writes:
            statements = b";".join(
                [*(write for write, _ in writes), statements.encode() if isinstance(statements, str) else statements]
            )
        if not self._lean or kwargs:
            results = super().cmd_query_iter(statements, **kwargs)
        else:
            results = self._results(statements)
        for _, on_result in writes:
            result = next(results)  # an error raises here (the server ran none of the statements after it)
            if "columns" in result:
                result = {**result, "rows": self.get_rows()[0]}
            if on_result is not None:
                try:
                    on_result(result)
                except BaseException:  # the rest of the response is unread: this session cannot go on
                    self.close()
                    raise
        yield from results

    def get_rows(
        self,
        count: int | None = None,
        binary: bool = False,
        columns: Any = None,
        raw: bool | None = None,
        prep_stmt: Any = None,
        **kwargs: Any,
    ) -> tuple[list[Any], dict[str, int] | None]:
        """Up to `count` (all when None) rows of the unread text result set, and its EOF packet once read."""
        if not self._lean or binary or raw or self._raw or prep_stmt is not None or kwargs:
            return super().get_rows(count, binary, columns, raw, prep_stmt, **kwargs)
        if not self.unread_result:
            raise InternalError("No result set available")
        recv, timeout = self._socket.recv, self._read_timeout
        rows, eof = [], None
        try:
            while count is None or len(rows) < count:
                packet = recv(timeout)
                kind = packet[_HEADER]
                if kind == _EOF and len(packet) < _HEADER + 9:
                    eof = self._eof(packet)
                    self.unread_result = False
                    break
                if kind == _ERR:
                    raise get_exception(packet)
                payload = bytes(packet[_HEADER:])
                while len(packet) == _HEADER + _MAX_PAYLOAD:  # a row continued in the next packet
                    packet = recv(timeout)
                    payload += packet[_HEADER:]
                rows.append(_text_row(payload))
        except Error as exc:
            self.unread_result = False
            self._close_on_timeout(exc)
            raise
        if rows and self._columns_desc is not None:
            row_to_python, description = self.converter.row_to_python, self._columns_desc
            rows = [row_to_python(row, description) for row in rows]
        return rows, eof

    def _send_query(self, query: bytes | str) -> bytearray:
        """Send COM_QUERY; the first packet of the response."""
        if self.unread_result:
            self.handle_unread_result()
        if isinstance(query, str):
            query = query.encode()
        self._query, self._local_infile_filenames = query, None  # LOCAL INFILE requests check the query
        payload, socket = self._query_prefix + query, self._socket
        if socket is None:
            raise OperationalError("MySQL Connection not available")
        try:
            if len(payload) < _MAX_PAYLOAD:
                socket.send_packet(payload, self._write_timeout)
            else:
                socket.send(payload, 0, 0, self._write_timeout)
            return socket.recv(self._read_timeout)
        except Error as exc:
            self._close_on_timeout(exc)
            raise

    def _results(self, statements: bytes | str) -> Iterator[Any]:
        yield self._result(self._send_query(statements))
        while self._have_next_result:
            if self.unread_result:
                self.handle_unread_result()
            try:
                packet = self._socket.recv(self._read_timeout)
            except Error as exc:
                self._close_on_timeout(exc)
                raise
            yield self._result(packet)

    def _result(self, packet: bytearray) -> dict[str, Any]:
        """The driver's result for a response: an OK packet, or the columns of a result set left to read."""
        kind = packet[_HEADER]
        if kind == _OK:
            return self._ok(packet)
        if kind == _ERR:
            raise get_exception(packet)
        if kind in (_INFILE, _EOF):  # a LOCAL INFILE request (the driver's checks and transfer), or a bare EOF
            return super()._handle_result(packet)
        count = _lenenc(packet, _HEADER)[0]
        recv, timeout = self._socket.recv, self._read_timeout
        parse, charset = self._protocol.parse_column, self.python_charset
        try:
            self._columns_desc = [parse(recv(timeout), charset) for _ in range(count)]
            eof = self._eof(recv(timeout))
        except Error as exc:
            self._close_on_timeout(exc)
            raise
        self.unread_result = True
        return {"columns": self._columns_desc, "eof": eof}

    def _ok(self, packet: bytearray) -> dict[str, Any]:
        affected_rows, pos = _lenenc(packet, _HEADER + 1)
        insert_id, pos = _lenenc(packet, pos)
        status, warnings = packet[pos] | packet[pos + 1] << 8, packet[pos + 2] | packet[pos + 3] << 8
        self._server_status(status)
        ok = {
            "field_count": 0,
            "affected_rows": affected_rows,
            "insert_id": insert_id,
            "status_flag": status,
            "warning_count": warnings,
        }
        if len(packet) > pos + 4:
            ok["info_msg"] = utils.read_lc_string(bytes(packet[pos + 4 :]))[1].decode()
        return ok

    def _eof(self, packet: bytearray) -> dict[str, Any]:
        kind = packet[_HEADER]
        if kind == _EOF and len(packet) < _HEADER + 9:
            warnings, status = packet[5] | packet[6] << 8, packet[7] | packet[8] << 8
            self._server_status(status)
            return {"warning_count": warnings, "status_flag": status}
        if kind == _ERR:
            raise get_exception(packet)
        if kind == _OK:  # a server that deprecates EOF ends with an OK packet
            return self._ok(packet)
        raise InterfaceError("Expected EOF packet")

    def _server_status(self, status: int) -> None:
        self._have_next_result = bool(status & ServerFlag.MORE_RESULTS_EXISTS)
        self._in_transaction = bool(status & ServerFlag.STATUS_IN_TRANS)

    def _close_on_timeout(self, exc: Error) -> None:
        """After a read or write timeout the session is mid-exchange: close it, as the timeout's message says."""
        if isinstance(exc, ReadTimeoutError | WriteTimeoutError):
            self.close()

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
        self._lean = not isinstance(self._socket._netbroker, NetworkBrokerCompressed)
        attributes = self._client_flags & ClientFlag.CLIENT_QUERY_ATTRIBUTES  # then: no attributes, one set
        self._query_prefix = bytes([ServerCmd.QUERY]) + (b"\x00\x01" if attributes else b"")
