"""Browser-test fixtures: the app as a real gunicorn + gevent server on loopback (its own seeded database,
the simulator ticking fast, the market held open) and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import subprocess
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from backend.app import create_app
from backend.db import connect
from backend.local_app import CHROMIUM, CHROMIUM_ARGS, LocalApp
from backend.migrate import migrate
from backend.seed import seed_market
from services.news.headlines import refresh_news
from tests.conftest import SEED, make_settings

SCREENSHOTS = Path("artifacts") / "screenshots"
BROWSER_DB = "browser_market"
# Fast enough that live updates show within a second or two; far below the defaults' load.
SERVER_ENV = {
    "APP_ENV": "test",
    "LOG_LEVEL": "WARNING",
    "WEB_CONCURRENCY": "1",
    "MARKET_DATA_PROVIDER": "simulator",
    "SIM_ALWAYS_OPEN": "1",
    "SIM_TICK_INTERVAL_S": "0.5",
    "FANOUT_INTERVAL_MS": "250",
    "PRICES_BATCH_INTERVAL_MS": "1000",
    "MOVERS_INTERVAL_S": "1",
    "QUOTE_WRITE_INTERVAL_S": "1",
    "NEWS_FEEDS": "",
    "ALLOWED_ORIGINS": "https://another-site.example",  # the page's own origin needs no listing
    "ADMIN_EMAILS": "peg.admin@example.com",  # registers as an administrator (the admin page's test)
}


@pytest.fixture(scope="session")
def vendored_assets(repo_root):
    """The front-end libraries in routes/static/vendor (npm ci only when node_modules is stale)."""
    subprocess.run(["bash", "scripts/vendor_assets.sh"], cwd=repo_root, check=True)


@pytest.fixture(scope="package")
def browser_db(make_database):
    """The browser tests' database: migrated, seeded as of now, with the simulator's mover headlines."""
    config = make_database(BROWSER_DB)
    with closing(connect(config)) as conn:
        migrate(conn)
    seed_market(config, seed=SEED)  # as of now, so the stored candles end where the live ticks begin
    news_app = create_app(make_settings(config, news_feeds=[]))
    with news_app.app_context():
        refresh_news()  # no feeds: the simulator's mover headlines, as the news job writes them
    news_app.extensions["db"].close()
    return config


@pytest.fixture(scope="package")
def live_server(browser_db, repo_root, vendored_assets, tmp_path_factory):
    """Base URL of the app served by gunicorn (gevent worker) on a free loopback port.

    Package-scoped: one server for the browser tests; it writes ticks to the shared MariaDB server every
    second, so it must be gone before other tests that count the server's statements run.
    """
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": browser_db.url()}
    server = LocalApp(env, tmp_path_factory.mktemp("server") / "gunicorn.log").start()
    yield server.url
    server.stop()


@pytest.fixture(scope="package")
def chromium():
    """Debian's Chromium, headless (Playwright's own browser download is not used)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class ConsoleErrors(list):
    """Console errors and uncaught exceptions of a page, minus the ones a test provokes on purpose."""

    def __init__(self):
        super().__init__()
        self.allowed: dict[str, int | None] = {}

    def allow(self, fragment: str, times: int | None = 1) -> None:
        """Tolerate `times` console errors containing `fragment` (None: any number)."""
        self.allowed[fragment] = times

    def record(self, text: str) -> None:
        """Keep `text` unless an allowance covers it."""
        for fragment, left in self.allowed.items():
            if fragment in text and (left is None or left > 0):
                if left is not None:
                    self.allowed[fragment] = left - 1
                return
        self.append(text)


@pytest.fixture
def screenshot_dir(repo_root) -> Path:
    """artifacts/screenshots/ (gitignored)."""
    path = repo_root / SCREENSHOTS
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def open_page(chromium, live_server):
    """Factory: a fresh browser context and page (viewport, colour scheme); yields (page, console errors)."""
    contexts = []

    def make(width: int = 1366, height: int = 860, color_scheme: str = "dark", **options):
        context = chromium.new_context(
            viewport={"width": width, "height": height},
            color_scheme=color_scheme,
            base_url=live_server,
            locale="en-IN",
            timezone_id="Asia/Kolkata",
            **options,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors = ConsoleErrors()
        page.on("console", lambda message: message.type == "error" and errors.record(message.text))
        page.on("pageerror", lambda exc: errors.record(f"uncaught: {exc}"))
        return page, errors

    yield make
    for context in contexts:
        context.close()
