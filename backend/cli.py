"""Command-line entry points: `serve` (eventlet dev server), `up` (local stack), `migrate`, `seed`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from flask import Flask

from backend.settings import ConfigError, Settings
from utils.logging_config import configure_logging

log = logging.getLogger("backend")
ROOT = Path(__file__).resolve().parent.parent


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
    from backend.seed import seed_market
    from controller.market.universe import count_stocks

    config = load_settings().database()
    conn = connect(config)
    try:
        seeded = count_stocks(conn) > 0
    finally:
        conn.close()
    if args.if_empty and seeded:
        log.info("database already seeded; skipping")
        return 0
    now = datetime.fromisoformat(args.now) if args.now else None
    days = {"days": args.days} if args.days else {}
    report = seed_market(
        config, seed=args.seed, extra_symbols=args.extra_symbols, now=now, progress=not args.quiet, **days
    )
    rate = report.candle_rows / report.seconds if report.seconds else 0
    log.info(
        "seeded %d stocks, %d indices: %d daily + %d minute candles, %d index candles in %.1fs "
        "(%.0f stock candle rows/s)",
        report.stocks,
        report.indices,
        report.daily_rows,
        report.minute_rows,
        report.index_rows,
        report.seconds,
        rate,
    )
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    """Local stack: a project MariaDB (unless DATABASE_URL is set), migrate, seed if empty, gunicorn."""
    from backend.local_mariadb import LocalMariaDB

    env = dict(os.environ)
    local = None
    own_database = not (env.get("DATABASE_URL") or env.get("DATABASE_URI") or env.get("DB_HOST"))
    # A configuration error is one line before anything starts (the local server's address is not known yet).
    load_settings(**({"database_url": "mysql://127.0.0.1/market"} if own_database else {}))
    if own_database:
        local = LocalMariaDB(ROOT / "var" / "mariadb").start()
        env["DATABASE_URL"] = local.url()
        log.info("local MariaDB on 127.0.0.1:%d (data in var/mariadb)", local.port)
    env.setdefault("SIM_ALWAYS_OPEN", "1")
    python = sys.executable
    try:
        for step in (["migrate"], ["seed", "--if-empty"]):
            failed = subprocess.run([python, "-m", "backend", *step], env=env, cwd=ROOT).returncode
            if failed:  # the step has said why (a configuration error in one line)
                return failed
        log.info("serving on http://127.0.0.1:%s (Ctrl-C stops)", env.get("PORT", "5000"))
        server = subprocess.Popen(
            [python, "-m", "gunicorn", "-c", "gunicorn.conf.py", "backend.wsgi:app"], env=env, cwd=ROOT
        )
        signal.signal(signal.SIGTERM, lambda *_: server.terminate())
        try:
            return server.wait()
        except KeyboardInterrupt:  # Ctrl-C reached gunicorn too; a lone SIGINT to this process did not
            server.terminate()
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: child processes got it too and stop on their own
        return 130
