"""The library hooks that backend/extensions.py (and the Socket.IO packet guard) step around still exist and behave
as they rely on: each test fails when Flask-Limiter, flask-cors, flask-jwt-extended or python-socketio changes the
hook (see the docstrings)."""

import inspect
from datetime import timedelta

import pytest
import socketio
from flask import Flask
from flask_cors import CORS
from flask_jwt_extended import JWTManager, create_access_token, decode_token, jwt_required
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from backend.extensions import OriginCORS, RouteLimiter, VerifiedTokenJWTManager
from services.realtime.socketio_packets import PacketJson


def _app() -> Flask:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY="hook-tests-secret-0123456789abcdefghijklmnop", RATELIMIT_STORAGE_URI="memory://")
    return app


def test_flask_limiter_checks_every_request_with_its_private_before_request_hook():
    app, limiter = _app(), Limiter(key_func=get_remote_address)
    limiter.init_app(app)
    assert limiter._check_request_limit in app.before_request_funcs[None]
    assert {"callable_name", "in_middleware"} <= set(inspect.signature(limiter._check_request_limit).parameters)


def test_the_route_limiter_drops_that_hook_and_decorated_routes_are_still_limited():
    app, limiter = _app(), RouteLimiter(key_func=get_remote_address)
    limiter.init_app(app)
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    checks = []
    original = limiter._check_request_limit
    limiter._check_request_limit = lambda *args, **kwargs: checks.append(kwargs) or original(*args, **kwargs)

    @app.get("/limited")
    @limiter.limit("2/minute")
    def limited():
        return "ok"

    @app.get("/free")
    def free():
        return "ok"

    client = app.test_client()
    assert [client.get("/limited").status_code for _ in range(3)] == [200, 200, 429]
    assert all(check["in_middleware"] is False for check in checks) and len(checks) == 3  # the decorator's own
    assert client.get("/free").status_code == 200 and len(checks) == 3  # no check for an undecorated route


def test_flask_limiter_registers_its_header_and_teardown_hooks_for_every_request():
    app, limiter = _app(), Limiter(key_func=get_remote_address, headers_enabled=True)
    limiter.init_app(app)
    after = [h for h in app.after_request_funcs[None] if getattr(h, "func", None) is Limiter._Limiter__inject_headers]
    assert len(after) == 1 and limiter._Limiter__release_context in app.teardown_request_funcs[None]


def test_the_route_limiter_runs_those_hooks_only_for_limited_routes():
    app, limiter = _app(), RouteLimiter(key_func=get_remote_address, headers_enabled=True)
    limiter.init_app(app)
    [headers] = [h for h in app.after_request_funcs[None] if hasattr(h, "hook")]
    [release] = [h for h in app.teardown_request_funcs[None] if hasattr(h, "hook")]
    calls = []
    for wrapper in (headers, release):
        inner = wrapper.hook
        wrapper.hook = lambda value, inner=inner: calls.append(1) or inner(value)

    @app.get("/limited")
    @limiter.limit("5/minute")
    def limited():
        return "ok"

    @app.get("/free")
    def free():
        return "ok"

    client = app.test_client()
    free_response = client.get("/free")
    assert calls == [] and "X-RateLimit-Limit" not in free_response.headers
    limited_response = client.get("/limited")
    assert limited_response.headers["X-RateLimit-Limit"] == "5" and len(calls) == 2  # headers, then teardown
    assert client.get("/free").status_code == 200 and len(calls) == 2  # the flag does not leak to later requests


def test_flask_cors_hooks_in_with_one_after_request_function_that_answers_cross_origin_requests():
    app = _app()
    before = list(app.after_request_funcs.get(None, []))
    CORS().init_app(app, origins=["https://allowed.example"], always_send=False)
    [hook] = [hook for hook in app.after_request_funcs[None] if hook not in before]
    # the function itself answers a cross-origin request, and adds nothing (not even Vary) to any other
    with app.test_request_context("/data", headers={"Origin": "https://allowed.example"}):
        assert hook(app.make_response("ok")).headers["Access-Control-Allow-Origin"] == "https://allowed.example"
    with app.test_request_context("/data"):
        assert dict(hook(app.make_response("ok")).headers) == dict(app.make_response("ok").headers)


def test_origin_cors_runs_that_function_only_for_requests_with_an_origin():
    app = _app()
    OriginCORS().init_app(app, origins=["https://allowed.example"], always_send=False)
    [wrapper] = [hook for hook in app.after_request_funcs[None] if hasattr(hook, "hook")]
    calls, cors_hook = [], wrapper.hook
    wrapper.hook = lambda response: calls.append(1) or cors_hook(response)

    @app.get("/data")
    def data():
        return "ok"

    client = app.test_client()
    assert "Access-Control-Allow-Origin" not in client.get("/data").headers and calls == []
    cross = client.get("/data", headers={"Origin": "https://allowed.example"})
    assert cross.headers["Access-Control-Allow-Origin"] == "https://allowed.example" and calls == [1]
    with pytest.raises(ValueError):
        OriginCORS().init_app(_app(), origins=["https://allowed.example"])  # always_send must be off


def test_flask_jwt_extended_decodes_every_token_through_its_private_decode_method():
    assert list(inspect.signature(JWTManager._decode_jwt_from_config).parameters) == [
        "self",
        "encoded_token",
        "csrf_value",
        "allow_expired",
    ]
    app, manager = _app(), VerifiedTokenJWTManager()
    manager.init_app(app)

    @app.get("/private")
    @jwt_required()
    def private():
        return "ok"

    with app.app_context():
        token = create_access_token(identity="7", expires_delta=timedelta(minutes=5))
        assert decode_token(token)["sub"] == "7"  # the public decode_token goes through the override
        verified, _ = app.extensions["verified_tokens"]
        assert token in verified
        verified.clear()
    assert app.test_client().get("/private", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert token in app.extensions["verified_tokens"][0]  # and so does a request's token


def test_python_socketio_decodes_client_packets_in_its_engineio_message_handler():
    """websocket_manager.disconnect_on_undecodable_packets wraps that handler and catches what it raises."""
    server = socketio.Server(async_mode="threading", json=PacketJson)
    assert server.eio.handlers["message"] == server._handle_eio_message
    for packet in ("not a packet", '2["subscribe",' + "[" * 100 + "]" * 100 + "]"):
        with pytest.raises(ValueError):
            server.eio.handlers["message"]("a-client", packet)


def test_engineio_and_simple_websocket_still_send_frames_where_websocket_frames_coalesces_them():
    """services/realtime/websocket_frames.py: the connection class comes from the server's `_async` table, the writer
    task sends each packet with `ws.send(text)` then `ws.close()`, simple-websocket encodes with `.ws` and writes to
    `.sock`, and Socket.IO's manager sends prepared packets with `_send_eio_packet(eio_sid, eio_pkt)`."""
    import engineio
    import simple_websocket
    from engineio.async_drivers import gevent as gevent_driver
    from engineio.socket import Socket
    from flask_socketio import SocketIO

    from services.realtime import websocket_frames

    assert engineio.Server(async_mode="gevent")._async["websocket"] is gevent_driver.WebSocketWSGI
    writer = inspect.getsource(Socket._websocket_handler)
    assert "ws.send(pkt.encode())" in writer and "ws.close()" in writer
    sending = inspect.getsource(simple_websocket.ws.Base.send)
    assert "self.ws.send(" in sending and "self.sock.send(out_data)" in sending
    assert list(inspect.signature(socketio.Server._send_eio_packet).parameters) == ["self", "eio_sid", "eio_pkt"]
    assert list(inspect.signature(engineio.Server.send_packet).parameters) == ["self", "sid", "pkt"]
    assert engineio.Server(async_mode="gevent").sockets == {} and "self.upgraded = True" in inspect.getsource(Socket)
    sio = SocketIO(_app(), async_mode="gevent")
    assert websocket_frames.install(sio)
    installed = sio.server.eio._async["websocket"]
    assert installed.__mro__[1] is gevent_driver.WebSocketWSGI and {"send", "close"} <= set(vars(installed))
    assert not websocket_frames.install(SocketIO(_app(), async_mode="threading"))


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_websocket_frames_writes_the_text_frames_wsproto_would(size):
    """services/realtime/websocket_frames.py frames text itself (no extension is negotiated): byte for byte what a
    server-side wsproto connection sends for the same message."""
    from wsproto import ConnectionType
    from wsproto.connection import Connection
    from wsproto.events import TextMessage

    from services.realtime import websocket_frames

    text = ("é" * size)[: max(size // 2, 0)] + "x" * (size - max(size // 2, 0))
    expected = Connection(ConnectionType.SERVER).send(TextMessage(data=text))
    assert websocket_frames.text_frame(text.encode()) == expected
