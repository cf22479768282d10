"""The application factory: it only wires settings, extensions, the pool, errors and blueprints."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from backend import db, extensions
from backend.errors import register_error_handlers
from backend.json_provider import AppJSONProvider
from backend.observability import init_observability
from backend.settings import AsyncMode, Settings
from routes import register_blueprints
from services import market_data
from services.accounts import auth, google_client
from services.market import live_price_cache
from services.realtime import bus, socketio_packets, websocket_frames, websocket_manager
from utils.logging_config import configure_logging
from utils.origins import configured_or_same_host


class App(Flask):
    """Flask with `ensure_sync` remembered per function: Flask calls it for the view and every request hook on
    every request, and each call inspects the function's code flags (docs/BENCHMARKS.md, framework overhead)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_callables: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's own answer for `func`, looked up once (a bounded table: the views and hooks)."""
        sync = self._sync_callables.get(func)
        if sync is None:
            sync = self._sync_callables[func] = super().ensure_sync(func)
        return sync


def detect_async_mode() -> AsyncMode:
    """The async mode matching how this process was monkey patched (threading when it was not)."""
    if "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    if "eventlet" in sys.modules:
        from eventlet import patcher

        if patcher.is_monkey_patched("socket"):
            return "eventlet"
    return "threading"


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app for `settings` (read from the environment when omitted)."""
    settings = settings or Settings.load()
    configure_logging(settings.log_level, settings.log_format)
    async_mode = settings.socketio_async_mode or detect_async_mode()

    app = App(__name__, static_folder=None)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_content_length,
        JWT_SECRET_KEY=settings.jwt_secret_key.get_secret_value(),
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=settings.jwt_access_token_expires_s),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(seconds=settings.jwt_refresh_token_expires_s),
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        COMPRESS_MIN_SIZE=extensions.COMPRESS_MIN_SIZE,
        COMPRESS_REGISTER=False,  # compress_large() calls it, for responses that may be large enough
        # Static files are compressed as streams; without this the dashboard's would never get a 304.
        COMPRESS_STREAMING_ENDPOINT_CONDITIONAL=["static", "dashboard.static"],
    )
    app.json = AppJSONProvider(app)
    app.extensions["settings"] = settings
    db.init_app(
        app,
        db.Database(
            settings.database(),
            pool_size=settings.db_pool_size,
            wait_timeout_s=settings.db_pool_timeout_s,
            connect_timeout_s=settings.db_connect_timeout_s,
            read_timeout_s=settings.db_read_timeout_s,
        ),
    )
    extensions.jwt.init_app(app)
    extensions.limiter.init_app(app)
    extensions.compress.init_app(app)
    app.after_request(extensions.compress_large)
    extensions.cors.init_app(
        app,
        origins=settings.allowed_origins,
        always_send=False,  # only for CORS requests
        expose_headers=["X-Request-ID", "Server-Timing"],
    )
    init_observability(app, settings)  # wraps Flask's own wsgi_app
    http_app = app.wsgi_app  # what Socket.IO's middleware wraps, and what every other path goes to
    websocket_manager.register_handlers(extensions.socketio)
    extensions.socketio.server_options.pop("client_manager", None)  # an earlier app's queue manager (tests)
    extensions.socketio.init_app(
        app,
        async_mode=async_mode,
        cors_allowed_origins=configured_or_same_host(settings.allowed_origins),
        message_queue=settings.redis_url.get_secret_value() if settings.redis_url else None,
        path=websocket_manager.SOCKETIO_PATH,
        logger=False,
        engineio_logger=False,
        serializer=socketio_packets.TextPacket,
        json=socketio_packets.PacketJson,
    )
    websocket_manager.disconnect_on_undecodable_packets(extensions.socketio)
    websocket_frames.install(extensions.socketio)
    websocket_manager.serve_socketio_path_only(app, http_app)
    if settings.trusted_proxies:  # behind a load balancer: the client is in X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    live_price_cache.init_app(app)
    auth.init_app(app, settings)
    google_client.init_app(app, settings)
    bus.init_app(app)
    market_data.init_app(app)
    register_error_handlers(app)
    register_blueprints(app)
    return app
