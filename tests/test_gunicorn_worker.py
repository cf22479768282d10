"""The worker's header parser returns what pywsgi's own (the standard library's email parser) returns."""

import io

import pytest
from gevent.pywsgi import headers_factory

from backend.gunicorn_worker import parse_headers

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


def test_limits_are_the_standard_librarys():
    too_long = b"X-Long: " + b"a" * 70000 + b"\r\n\r\n"
    assert parse_headers(io.BytesIO(too_long)).status == headers_factory(io.BytesIO(too_long)).status != ""
    too_many = b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n"
    with pytest.raises(Exception, match="more than 100 headers") as ours:
        parse_headers(io.BytesIO(too_many))
    with pytest.raises(type(ours.value)):
        headers_factory(io.BytesIO(too_many))


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
