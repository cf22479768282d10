"""The gunicorn worker: gevent's own WSGI server (pywsgi) in gunicorn's gevent worker.

gunicorn's default gevent worker parses HTTP with gunicorn's parser; serving the same bare Flask app,
gevent's pywsgi handler did markedly more requests per second on this machine (docs/BENCHMARKS.md).
WebSockets work the same (simple-websocket takes the socket from the gevent environment); a connection
ends with its WebSocket, since what the client sends after it (its close frame) is not a request.

Request heads. A client must send its first request head (request line and headers) within
HEADER_TIMEOUT_S of connecting, and each later one on a kept-alive connection within gunicorn's
`keepalive` seconds of the previous response (the idle timeout: a connection that sends nothing that long
is closed, as gunicorn's own worker does). One timer per connection, started and stopped around each
head, does both. Connections from one peer address that have not completed a request head yet are capped
at HEADER_PENDING_PER_PEER; more from that address are closed at once. Kept-alive and WebSocket
connections have completed one, so they do not count (behind a proxy every connection has its address).

Shutdown. On SIGTERM the worker runs the process's shutdown sequence (services/runtime/shutdown.py) with
two steps of its own: stop accepting (from then on every response carries `Connection: close`), and close
the connections that wait for a request. gunicorn's loop then waits for the requests in flight, and the
worker finishes the sequence (the database pool) before it exits. SIGINT (Ctrl-C) and SIGQUIT run the
whole sequence at once, without waiting for requests.

Headers. pywsgi parses them with the standard library's email parser (a visible share of a worker's CPU in
the orders bench, docs/BENCHMARKS.md); the handler reads the lines with the standard library's limits and
builds the same message directly when every line is a plain `Name: value` line, and leaves anything else
(folded lines, malformed names) to that parser.
"""

from __future__ import annotations

import email.parser
import re
import sys
from http import client
from typing import Any, BinaryIO

import gevent
from gevent import Timeout
from gevent.pywsgi import OldMessage
from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler, PyWSGIServer

from services.runtime import shutdown

_HEADER_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")  # what the email parser takes as a header name
MAX_LINE = 65536  # the standard library's limits (http.client reads headers with these)
MAX_HEADERS = 100
_END_OF_HEAD = (b"\r\n", b"\n", b"")


def read_header_lines(fp: BinaryIO) -> list[bytes]:
    """The header lines up to the blank line (included), or to the end of the stream."""
    lines = []
    while True:
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise client.HTTPException(f"got more than {MAX_HEADERS} headers")
        if line in _END_OF_HEAD:
            return lines


def parse_headers(fp: BinaryIO) -> OldMessage:
    """Request headers as pywsgi's message; what `http.client.parse_headers` returns, built directly."""
    try:
        lines = read_header_lines(fp)
    except client.LineTooLong:
        message = OldMessage()
        message.status = "Line too long"  # pywsgi answers 400, as with its own parser
        return message
    message = OldMessage()
    for line in lines[:-1]:  # the last line is the blank one
        name, colon, value = line.decode("iso-8859-1").partition(":")
        if not colon or not _HEADER_NAME.fullmatch(name):
            return email.parser.Parser(_class=OldMessage).parsestr(b"".join(lines).decode("iso-8859-1"))
        message[name] = value.lstrip(" \t").rstrip("\r\n")
    message.set_payload("")  # the email parser's empty body
    return message


_pending_heads: dict[str, int] = {}  # peer address -> its connections that have not sent a whole request head
_connections: set[_Handler] = set()
_servers: list[PyWSGIServer] = []


class _Handler(PyWSGIHandler):
    idle_timeout_s = 5.0  # these three are set by Worker.run
    header_timeout_s = 5.0
    pending_per_peer = 50
    closing = False  # shutting down: every response says Connection: close
    waiting = False  # blocked until a request line arrives (the shutdown closes such connections)
    _peer: str | None = None  # counted in _pending_heads until its first request head is complete

    def handle(self) -> None:
        """Serve the connection; close it at once when its peer has too many pending, or when a head is late."""
        peer = self.client_address[0] if isinstance(self.client_address, tuple) else str(self.client_address)
        pending = _pending_heads.get(peer, 0)
        if pending >= self.pending_per_peer:
            self.rfile.close()
            self.socket.close()
            return
        _pending_heads[peer] = pending + 1
        self._peer = peer
        self.greenlet = gevent.getcurrent()
        self._deadline = Timeout(self.header_timeout_s)  # the first request head is due this long after connecting
        self._deadline.start()
        _connections.add(self)
        try:
            super().handle()  # closes the socket however it ends
        except Timeout as timeout:
            if timeout is not self._deadline:
                raise
        finally:
            _connections.discard(self)
            self._deadline.close()
            if self._peer is not None:
                self._release_peer()

    def read_requestline(self) -> str:
        """The next request line; on a kept-alive connection the whole head is due within the idle timeout."""
        if self._peer is None:  # a later request on a kept-alive connection
            if self.closing:  # its last response began before the shutdown did
                return ""
            self._deadline.start()
        self.waiting = True
        line = super().read_requestline()
        self.waiting = False
        return line

    def read_request(self, raw_requestline: str) -> bool:
        """Parse the request head; done (or refused) here, so its deadline stops and its peer no longer counts it."""
        try:
            return super().read_request(raw_requestline)
        finally:
            self._deadline.cancel()
            if self._peer is not None:
                self._release_peer()
                self._deadline.close()
                self._deadline = Timeout(self.idle_timeout_s)  # for the later requests on this connection

    def _release_peer(self) -> None:
        peer, self._peer = self._peer, None
        left = _pending_heads[peer] - 1
        if left:
            _pending_heads[peer] = left
        else:
            del _pending_heads[peer]

    def MessageClass(self, fp: BinaryIO, *args: object) -> OldMessage:
        """The request's headers."""
        return parse_headers(fp)

    def get_environ(self) -> dict[str, Any]:
        """The WSGI environment; an upgrade request (WebSocket) is the connection's last: the app takes the socket."""
        environ = super().get_environ()
        if "HTTP_UPGRADE" in environ:
            self.close_connection = True
        return environ

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        """pywsgi's start_response; while shutting down, a response that names no Connection closes it."""
        if self.closing and not any(name.lower() == "connection" for name, _ in headers):
            headers = [*headers, ("Connection", "close")]
        return super().start_response(status, headers, exc_info)

    def log_request(self) -> None:
        """gunicorn's access log line, built only when access logging is on (ACCESS_LOG=1)."""
        if self.server.log.access_log_enabled:
            super().log_request()


class _Server(PyWSGIServer):
    """gunicorn's pywsgi server, listed so that the shutdown can stop it accepting at once."""

    def start(self) -> None:
        """Start accepting."""
        super().start()
        _servers.append(self)


def _stop_intake() -> None:
    _Handler.closing = True
    for server in _servers:
        server.close()  # stop accepting; gunicorn's loop closing it again later is harmless


def _close_waiting_connections() -> None:
    for handler in list(_connections):
        if handler.waiting:  # blocked in the wait for a request: nothing in flight
            handler.greenlet.kill(block=False)


class Worker(GeventPyWSGIWorker):
    """GeventPyWSGIWorker with request-head limits, an idle timeout and the process's shutdown sequence."""

    server_class = _Server
    wsgi_handler = _Handler
    _quitting = False

    def run(self) -> None:
        """Serve until told to stop, then finish the shutdown sequence."""
        _Handler.idle_timeout_s = float(self.cfg.keepalive)
        settings = getattr(self.wsgi, "extensions", {}).get("settings")  # none in bench/floor_app.py: the defaults
        if settings is not None:
            _Handler.header_timeout_s = settings.header_timeout_s
            _Handler.pending_per_peer = settings.header_pending_per_peer
        shutdown.register("http intake", shutdown.INTAKE, _stop_intake)
        shutdown.register("waiting http connections", shutdown.STREAMS, _close_waiting_connections)
        try:
            super().run()  # after SIGTERM: waits for the requests in flight (up to the graceful timeout)
        finally:
            shutdown.finish()

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: begin the shutdown sequence; gunicorn's loop then waits for the requests in flight."""
        super().handle_exit(sig, frame)
        gevent.spawn(shutdown.begin)  # not in the signal handler: the steps block

    def handle_quit(self, sig: int, frame: Any) -> None:
        """SIGINT (Ctrl-C) and SIGQUIT: the whole sequence at once, then exit; only once, since Ctrl-C in a
        terminal reaches the worker and then comes again from the master as SIGQUIT."""
        if not self._quitting:
            self._quitting = True
            gevent.spawn(self._quit)

    def _quit(self) -> None:
        self.alive = False
        shutdown.finish()
        sys.exit(0)
