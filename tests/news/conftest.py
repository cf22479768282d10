"""News fixtures: RSS/Atom feeds served from a loopback HTTP server, apps pointed at them, a clean
news table per test."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backend.db import connect
from services.news.headlines import refresh_news
from tests.conftest import SEED_NOW

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SLOW_SECONDS = 5.0  # the slow feed answers after this long: far beyond the tests' timeouts


class FeedServer:
    """A loopback HTTP server with fixture feeds, a slow feed, a trickling feed and an error page."""

    ROUTES = {
        "/rss.xml": ("news_rss.xml", "application/rss+xml; charset=utf-8"),
        "/atom.xml": ("news_atom.xml", "application/atom+xml"),
        "/truncated.xml": ("news_truncated.xml", "application/rss+xml"),
        "/not-a-feed.html": ("news_not_a_feed.html", "text/html"),
    }

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.overrides: dict[str, bytes] = {}  # path -> body, for feeds a test changes between runs
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                if self.path == "/slow.xml":
                    server.stopping.wait(SLOW_SECONDS)
                    return self._send(200, (FIXTURES / "news_rss.xml").read_bytes(), "application/rss+xml")
                if self.path == "/trickle.xml":
                    return self._trickle((FIXTURES / "news_rss.xml").read_bytes())
                if self.path in server.overrides:
                    return self._send(200, server.overrides[self.path], "application/rss+xml")
                if self.path in server.ROUTES:
                    name, content_type = server.ROUTES[self.path]
                    return self._send(200, (FIXTURES / name).read_bytes(), content_type)
                return self._send(500, b"internal error", "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _trickle(self, body: bytes) -> None:
                """Headers at once, then one byte every 20 ms: every read is quick, the whole is slow."""
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for i in range(len(body)):
                    if server.stopping.wait(0.02):
                        return
                    try:
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                    except OSError:
                        return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        """The full URL of `path` on this server."""
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def feed_server():
    """The loopback feed server (shared by the session; per-test state is reset by `feeds`)."""
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def feeds(feed_server):
    """The feed server with no overrides or hit counts left over from another test."""
    feed_server.overrides.clear()
    feed_server.hits.clear()
    return feed_server


@pytest.fixture(autouse=True)
def clean_news(db_config):
    """Every news test starts and ends with an empty news table (tags go with it)."""

    def wipe() -> None:
        conn = connect(db_config)
        try:
            conn.cursor().execute("DELETE FROM news")
        finally:
            conn.close()

    wipe()
    yield
    wipe()


@pytest.fixture
def make_news_app(make_app, db_config):
    """Factory: an app on the session database with news settings overridden (feeds off by default)."""
    return lambda **overrides: make_app(db_config, **{"news_feeds": [], "news_fetch_timeout_s": 0.5, **overrides})


@pytest.fixture
def news_app(make_news_app, feeds):
    """An app whose news table holds the RSS and Atom fixtures (7 items), fetched as of SEED_NOW."""
    app = make_news_app(news_feeds=[feeds.url("/rss.xml"), feeds.url("/atom.xml")])
    with app.app_context():
        refresh_news(now=SEED_NOW)
    return app
