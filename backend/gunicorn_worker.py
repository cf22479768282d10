"""The gunicorn worker: gevent's own WSGI server (pywsgi) in gunicorn's gevent worker.

gunicorn's default gevent worker parses HTTP with gunicorn's parser; serving the same bare Flask app,
gevent's pywsgi handler did ~40 % more requests per second on this machine (docs/BENCHMARKS.md).
WebSockets work the same (simple-websocket takes the socket from the gevent environment). pywsgi keeps
an idle keep-alive connection open forever, so the handler closes one that sends no request line
within gunicorn's `keepalive` seconds, as gunicorn's own worker does.

pywsgi parses request headers with the standard library's email parser (~4 % of a worker's CPU in the
orders bench); the handler reads the lines with the standard library's limits and builds the same message
directly when every line is a plain `Name: value` line, and leaves anything else (folded lines, malformed
names) to that parser.
"""

from __future__ import annotations

import email.parser
import re
from http import client
from typing import BinaryIO

from gevent import Timeout
from gevent.pywsgi import OldMessage
from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler

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


class _Handler(PyWSGIHandler):
    idle_timeout_s = 5.0

    def MessageClass(self, fp: BinaryIO, *args: object) -> OldMessage:
        """The request's headers."""
        return parse_headers(fp)

    def log_request(self) -> None:
        """gunicorn's access log line, built only when access logging is on (ACCESS_LOG=1)."""
        if self.server.log.access_log_enabled:
            super().log_request()

    def read_requestline(self) -> str:
        """The next request line, or "" (close the connection) when none starts within the idle timeout."""
        with Timeout(self.idle_timeout_s, False):
            return super().read_requestline()
        return ""


class Worker(GeventPyWSGIWorker):
    """GeventPyWSGIWorker whose connections close after `keepalive` idle seconds."""

    wsgi_handler = _Handler

    def run(self) -> None:
        _Handler.idle_timeout_s = float(self.cfg.keepalive)
        super().run()
