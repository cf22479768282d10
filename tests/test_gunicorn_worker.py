"""The worker's header parser returns what pywsgi's own (the standard library's email parser) returns, with the
standard library's line length and count limits, read without its private helpers."""

import io
import re
from http import client
from pathlib import Path

import pytest
from gevent.pywsgi import headers_factory

from backend import gunicorn_worker
from backend.gunicorn_worker import MAX_HEADERS, MAX_LINE, parse_headers

BLOCKS = [
    b"Host: 127.0.0.1:5000\r\nAuthorization: Bearer abc.def.ghi\r\nContent-Type: application/json\r\n"
    b"Content-Length: 42\r\n\r\n",
    b"\r\n",  # no headers at all
    b"X-Dup: one\r\nx-dup: two\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",  # repeated names keep order and case
    b"Empty:\r\nSpaces:   padded value  \r\nTab:\tvalue\r\nColon: a:b:c\r\n\r\n",
    b"Bare-LF: yes\nOther: too\n\n",  # LF-only line ends
    b"Latin: caf\xe9\r\n\r\n",  # iso-8859-1, as http.client decodes
    b"Folded: first\r\n  second line\r\nNext: x\r\n\r\n",  # obsolete line folding: left to the email parser
    b"Bad Name: x\r\nGood: y\r\n\r\n",  # a name with a space: the email parser's defect handling
    b"no colon here\r\nGood: y\r\n\r\n",
    b": empty name\r\n\r\n",
    b"Host: x\r\n",  # the stream ends before the blank line
]


def _view(message):
    return {
        "status": message.status,
        "items": message.items(),
        "headers": list(message.headers),
        "content-type": message.typeheader,
        "length": message.getheader("content-length"),
        "payload": message.get_payload(),
        "defects": [type(d) for d in message.defects],
    }


@pytest.mark.parametrize("block", BLOCKS)
def test_same_message_as_pywsgi(block):
    assert _view(parse_headers(io.BytesIO(block))) == _view(headers_factory(io.BytesIO(block)))


def _outcome(parse, block: bytes) -> str:
    """What a parser makes of a block: its status, or the error it raises."""
    try:
        return parse(io.BytesIO(block)).status or "ok"
    except client.HTTPException as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize(
    "block",
    [
        b"X-Long: " + b"a" * (MAX_LINE - 10) + b"\r\n\r\n",  # a line of exactly MAX_LINE bytes
        b"X-Long: " + b"a" * (MAX_LINE - 9) + b"\r\n\r\n",  # one byte more
        b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADERS - 1)) + b"\r\n",  # the most lines (with the blank one)
        b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADERS)) + b"\r\n",  # one more
        b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n",
    ],
)
def test_limits_are_the_standard_librarys(block):
    ours, theirs = _outcome(parse_headers, block), _outcome(headers_factory, block)
    assert ours == theirs
    assert (MAX_LINE, MAX_HEADERS) == (client._MAXLINE, client._MAXHEADERS)  # the limits we copied


def test_the_limits_refuse_and_accept_where_expected():
    assert _outcome(parse_headers, b"X-Long: " + b"a" * MAX_LINE + b"\r\n\r\n") == "Line too long"
    assert _outcome(parse_headers, b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n") == (
        "HTTPException: got more than 100 headers"
    )


def test_the_worker_uses_no_private_member_of_http_client():
    source = Path(gunicorn_worker.__file__).read_text()
    assert not re.search(r"\bclient\._", source)


def test_the_rest_of_the_stream_is_left_for_the_body():
    stream = io.BytesIO(b"Content-Length: 4\r\n\r\nbody")
    parse_headers(stream)
    assert stream.read() == b"body"


def _handler(tmp_path, accesslog):
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from backend.gunicorn_worker import _Handler

    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log") if accesslog else None)
    handler = _Handler.__new__(_Handler)  # only what log_request reads: no socket needed
    handler.server = SimpleNamespace(log=Logger(cfg))
    handler.time_start, handler.time_finish, handler.status = 100.0, 100.25, b"200 OK"
    handler.response_headers, handler.response_length = [(b"Content-Length", b"2")], 2
    handler.headers = parse_headers(io.BytesIO(b"Host: x\r\n\r\n"))
    handler.environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/health",
        "QUERY_STRING": "",
        "RAW_URI": "/health",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    return handler


@pytest.mark.parametrize("accesslog", [True, False])
def test_the_access_log_line_is_built_only_when_access_logging_is_on(tmp_path, monkeypatch, accesslog):
    from gunicorn.workers.ggevent import PyWSGIHandler

    built = []
    original = PyWSGIHandler.log_request
    monkeypatch.setattr(PyWSGIHandler, "log_request", lambda self: built.append(1) or original(self))
    _handler(tmp_path, accesslog).log_request()
    assert built == ([1] if accesslog else [])
    if accesslog:
        assert '"GET /health HTTP/1.1" 200' in (tmp_path / "access.log").read_text()
