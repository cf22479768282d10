"""Command-line entry points: `serve` (eventlet dev server), `up` (local stack), `migrate`, `seed`, the
fundamentals crawler: `crawler-run` (crawl now, here) and `crawler-job` (create a crawler job), and `create-admin`
and `promote` (backend/admin_cli.py)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from flask import Flask

from backend.admin_cli import add_commands as add_admin_commands
from backend.settings import ConfigError, Settings
from utils.logging_config import configure_logging

log = logging.getLogger("backend")
ROOT = Path(__file__).resolve().parent.parent
_UP_STARTED = time.time()  # for `up` run without make (which passes MAKE_RUN_STARTED)


CONFIG_ERROR_EXIT = 2


@contextmanager
def config_errors_exit(exit_code: int = CONFIG_ERROR_EXIT) -> Iterator[None]:
    """A configuration error inside stops the process with its one line on stderr and `exit_code`."""
    try:
        yield
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        sys.stderr.flush()
        raise SystemExit(exit_code) from None


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; a configuration error stops the process with one line."""
    with config_errors_exit():
        return Settings.load(**overrides)


def build_app(settings: Settings | None = None, exit_code: int = CONFIG_ERROR_EXIT) -> Flask:
    """The app for a server entry point; a configuration error stops the process with one line and `exit_code`."""
    from backend.app import create_app

    with config_errors_exit(exit_code):
        return create_app(settings or Settings.load())


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the eventlet development server."""
    from backend.extensions import socketio
    from services.runtime import shutdown
    from services.runtime.lifecycle import register_shutdown, start_services

    settings = load_settings(socketio_async_mode="eventlet")
    app = build_app(settings)
    start_services(app)
    register_shutdown(app)
    shutdown.install_signal_handler(socketio.start_background_task)
    socketio.run(app, host=settings.host, port=args.port or settings.port, log_output=True)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply pending migrations and db_indexes.sql."""
    from backend.db import connect
    from backend.migrate import MigrationEdited, migrate

    conn = connect(load_settings().database())
    try:
        applied = migrate(conn)
    except MigrationEdited as exc:
        sys.stderr.write(f"migrate: {exc}\n")
        return 2
    finally:
        conn.close()
    log.info("migrations applied: %s", ", ".join(applied) or "none pending")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    """Load the reference universe and its synthetic history."""
    from backend.db import connect
    from backend.seed import seed_market, seed_missing_fundamentals
    from controller.market.universe import count_stocks

    config = load_settings().database()
    conn = connect(config)
    try:
        seeded = count_stocks(conn) > 0
    finally:
        conn.close()
    if args.if_empty and seeded:
        added = seed_missing_fundamentals(config, args.seed)
        log.info(
            "database already seeded; skipping%s", f" (simulated fundamentals of {added} stocks added)" * bool(added)
        )
        return 0
    now = datetime.fromisoformat(args.now) if args.now else None
    days = {"days": args.days} if args.days else {}
    report = seed_market(
        config, seed=args.seed, extra_symbols=args.extra_symbols, now=now, progress=not args.quiet, **days
    )
    rate = report.candle_rows / report.seconds if report.seconds else 0
    log.info(
        "seeded %d stocks, %d indices: %d daily + %d minute candles, %d index candles, fundamentals of %d stocks "
        "in %.1fs (%.0f stock candle rows/s)",
        report.stocks,
        report.indices,
        report.daily_rows,
        report.minute_rows,
        report.index_rows,
        report.fundamentals,
        report.seconds,
        rate,
    )
    return 0


def _symbols(args: argparse.Namespace) -> list[str]:
    return [symbol.strip().upper() for symbol in args.symbol or []]


def cmd_crawler_run(args: argparse.Namespace) -> int:
    """Crawl fundamentals now, in this process: fetch, store, print a summary (exit 1 when nothing was stored)."""
    from tqdm import tqdm

    from backend import db
    from controller.fundamentals import store
    from services.fundamentals import providers
    from services.fundamentals.crawler import crawl

    settings = load_settings(socketio_async_mode="threading")
    source = args.source or providers.SIMULATOR
    if source not in providers.available(settings):
        sys.stderr.write(f"crawler-run: unknown or unavailable source {source!r} ({providers.available(settings)})\n")
        return 2
    wanted = None if args.universe else _symbols(args)
    app = build_app(settings)
    with app.app_context():
        with db.connection() as conn:
            targets = store.crawl_targets(conn, wanted)
        missing = sorted(set(wanted or ()) - {t.symbol for t in targets})
        provider = providers.create(source, settings)
        bar = tqdm(total=len(targets) + len(missing), desc="crawling", unit="stock", disable=args.quiet)

        def save(rows: list) -> None:
            with db.transaction() as conn:
                store.store(conn, rows)

        try:
            report = crawl(targets, provider, save, missing=missing, on_progress=lambda *_: bar.update(1))
        finally:
            bar.close()
            provider.close()
    lines = [f"crawler-run ({source}): {report.summary()}"]
    lines += [f"  failed {f['symbol']}: {f['error']}" for f in report.failures]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0 if report.updated or not report.total else 1


def _metadata(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--metadata {pair!r}: expected key=value")
        found[key.strip()] = value.strip()
    return found


def cmd_crawler_job(args: argparse.Namespace) -> int:
    """Create a crawler job (validated as POST /admin/crawler-jobs is); print it as JSON."""
    import json

    import pydantic

    from services.fundamentals import admin
    from services.fundamentals.requests import CrawlerJobCreate, creation
    from utils.errors import AppError

    request: dict = {"name": args.name, "source": args.source or "simulator", "enabled": not args.disabled}
    request.update({"universe": "all"} if args.universe else {"symbols": _symbols(args)})
    if args.schedule is not None:
        request["schedule"] = args.schedule or None
    app = build_app(load_settings(socketio_async_mode="threading"))
    try:
        request["metadata"] = _metadata(args.metadata)
        with app.app_context():
            created = admin.create(creation(CrawlerJobCreate.model_validate(request)), None)
    except (ValueError, pydantic.ValidationError, AppError) as exc:
        sys.stderr.write(f"crawler-job: {_problem(exc)}\n")
        return 2
    sys.stdout.write(json.dumps(created, indent=2) + "\n")
    return 0


def _problem(exc: Exception) -> str:
    """One line saying what was wrong with the command's input."""
    import pydantic

    from utils.errors import AppError

    if isinstance(exc, pydantic.ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, AppError):
        fields = exc.details.get("fields") or []
        return "; ".join([exc.message] + [f"{f['field']}: {f['message']}" for f in fields])
    return str(exc)


def _step(message: str) -> None:
    """One progress line of `up` (beside the `==>` lines of the Makefile's steps)."""
    sys.stdout.write(f"==> {message}\n")
    sys.stdout.flush()


def _announce_when_ready(server: subprocess.Popen, port: str) -> None:
    """Wait until the server answers /health, then say where the dashboard is and how long the start took."""
    import requests

    url = f"http://127.0.0.1:{port}"
    while server.poll() is None:
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:  # not listening yet
            pass
        time.sleep(0.1)
    else:
        return
    started = float(os.environ.get("MAKE_RUN_STARTED") or _UP_STARTED)
    _step(f"ready after {time.time() - started:.1f} s: dashboard at {url}/ (Ctrl-C stops)")


def cmd_up(args: argparse.Namespace) -> int:
    """Local stack: a project MariaDB (unless DATABASE_URL is set), migrate, seed if empty, gunicorn."""
    from backend.local_mariadb import LocalMariaDB

    local = None
    own_database = not (os.environ.get("DATABASE_URL") or os.environ.get("DATABASE_URI") or os.environ.get("DB_HOST"))
    # A configuration error is one line before anything starts (the local server's address is not known yet).
    load_settings(**({"database_url": "mysql://127.0.0.1/market"} if own_database else {}))
    if own_database:
        _step("starting the local MariaDB server (data in var/mariadb)")
        local = LocalMariaDB(ROOT / "var" / "mariadb").start()
        os.environ["DATABASE_URL"] = local.url()
        log.info("local MariaDB on 127.0.0.1:%d", local.port)
    os.environ.setdefault("SIM_ALWAYS_OPEN", "1")
    try:
        # in this process: a Python start-up each is a second or two of a cold start
        for message, step in (
            ("applying migrations", ["migrate"]),
            ("seeding the market (only when the database is empty)", ["seed", "--if-empty"]),
        ):
            _step(message)
            command = build_parser().parse_args(step)
            failed = command.func(command)  # a configuration error is one line and SystemExit(2)
            if failed:  # the step has said why
                return failed
        _step("starting the server (gunicorn, gevent worker)")
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "backend.wsgi:app"], cwd=ROOT
        )
        # Ctrl-C reaches gunicorn too (the terminal signals the whole foreground group); a lone SIGINT or SIGTERM to
        # this process stops it as well. A handler, not KeyboardInterrupt: that could land inside a finalizer (the
        # readiness probe's connection pool), which prints it as a traceback and carries on.
        for stop in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop, lambda *_: server.terminate())
        _announce_when_ready(server, os.environ.get("PORT", "5000"))
        return server.wait()
    finally:
        if local is not None:
            local.stop()
            log.info("local MariaDB stopped")


def build_parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per entry point."""
    parser = argparse.ArgumentParser(prog="python -m backend")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="eventlet development server")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("up", help="local MariaDB + migrate + seed + gunicorn").set_defaults(func=cmd_up)
    sub.add_parser("migrate", help="apply migrations and db_indexes.sql").set_defaults(func=cmd_migrate)
    seed = sub.add_parser("seed", help="load the universe and synthetic history")
    seed.add_argument("--seed", type=int, default=42)
    seed.add_argument("--extra-symbols", type=int, default=0)
    seed.add_argument("--days", type=int, help="daily candles per instrument (sessions; default about 2 years)")
    seed.add_argument("--now", help="ISO datetime with offset to seed as of (default: now)")
    seed.add_argument("--if-empty", action="store_true", help="do nothing when stocks exist")
    seed.add_argument("--quiet", action="store_true", help="no progress bar")
    seed.set_defaults(func=cmd_seed)
    run = sub.add_parser("crawler-run", help="crawl fundamentals now: --symbol S [--symbol T ...] | --universe")
    target = run.add_mutually_exclusive_group(required=True)
    target.add_argument("--symbol", action="append", help="an NSE symbol (repeat for more)")
    target.add_argument("--universe", action="store_true", help="every quoted NSE stock")
    run.add_argument("--source", help="simulator (default) or eodhd (needs EODHD_API_TOKEN)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_crawler_run)
    job = sub.add_parser("crawler-job", help="create a crawler job: --name N (--symbol S ... | --universe)")
    job.add_argument("--name", required=True)
    job_target = job.add_mutually_exclusive_group(required=True)
    job_target.add_argument("--symbol", action="append", help="an NSE symbol (repeat for more)")
    job_target.add_argument("--universe", action="store_true", help="every quoted NSE stock")
    job.add_argument("--source", help="simulator (default) or eodhd")
    job.add_argument("--metadata", action="append", metavar="KEY=VALUE", help="a free note (repeat for more)")
    job.add_argument("--schedule", help="5-field cron in Asia/Kolkata ('' for none; a universe job defaults daily)")
    job.add_argument("--disabled", action="store_true", help="create it disabled")
    job.set_defaults(func=cmd_crawler_job)
    add_admin_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: child processes got it too and stop on their own
        return 130
