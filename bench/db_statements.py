"""Benchmark: CPU per statement of the stock pure-Python connection and ours (backend/mysql_wire.py), the latter
on the driver's public API alone and with backend/mysql_fastpath.py.

Usage: .venv/bin/python bench/db_statements.py [--runs 1500] [--gevent]
Starts a throwaway MariaDB (like the tests) and times, in this process, with each connection: a one-row
SELECT of 19 columns (an order), a SELECT of 3 columns, one UPDATE, and a transaction of three UPDATEs and
a COMMIT: four round trips on the stock connection, two on ours (the first UPDATE opens the transaction,
the other two are deferred and travel with the COMMIT). Prints µs of CPU
per operation (the best of 4 rounds). --gevent monkey-patches first, as the server runs.
"""

import sys

if "--gevent" in sys.argv:
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import mysql.connector  # noqa: E402
from harness import migrated_database  # noqa: E402

from backend import mysql_wire  # noqa: E402
from backend.db import connect, connect_args  # noqa: E402
from controller.trading.models import ORDER_COLUMNS  # noqa: E402

ORDER = f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = %s AND user_id = %s"
USER = "SELECT user_id, email, name FROM users WHERE user_id = %s"
UPDATE = "UPDATE users SET name = %s WHERE user_id = %s"


def cpu_us(operation: Callable[[], object], runs: int) -> float:
    started = time.process_time()
    for _ in range(runs):
        operation()
    return (time.process_time() - started) / runs * 1e6


def stock_operations(conn) -> dict[str, Callable[[], object]]:
    cursor = conn.cursor(dictionary=True)  # one cursor for everything: the stock connection at its cheapest

    def query(sql: str, params: tuple) -> list:
        cursor.execute(sql, params)
        return cursor.fetchall()

    def update() -> int:
        cursor.execute(UPDATE, ("a", 1))
        return cursor.rowcount

    def transaction() -> None:
        for name in ("a", "b", "c"):
            cursor.execute(UPDATE, (name, 1))
        conn.commit()

    return {
        "select 19 columns": lambda: query(ORDER, (1, 1)),
        "select 3 columns": lambda: query(USER, (1,)),
        "update": update,
        "3 updates + commit": transaction,
    }


def wire_operations(conn) -> dict[str, Callable[[], object]]:
    from controller.sql import execute, fetch_all

    def transaction() -> None:
        execute(conn, UPDATE, ("a", 1))  # opens the transaction
        for name in ("b", "c"):
            conn.defer(UPDATE, (name, 1))
        conn.commit()

    return {
        "select 19 columns": lambda: fetch_all(conn, ORDER, (1, 1)),
        "select 3 columns": lambda: fetch_all(conn, USER, (1,)),
        "update": lambda: execute(conn, UPDATE, ("a", 1)),
        "3 updates + commit": transaction,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1500)
    parser.add_argument("--gevent", action="store_true", help="monkey-patch with gevent first (as the server)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp), "bench_statements") as server:
        config = server.config()
        setup = connect(config)
        setup.cursor().execute("INSERT INTO users (email, name) VALUES ('bench@example.com', 'a')")
        setup.close()
        stock = mysql.connector.connect(**{**connect_args(config, 10, 600), "autocommit": False}, use_pure=True)
        fastpath, mysql_wire.fastpath = mysql_wire.fastpath, None
        public = connect(config, autocommit=False)
        mysql_wire.fastpath = fastpath
        wire = connect(config, autocommit=False)
        connections = {"stock": stock, "public": public, "ours": wire}
        suites = {
            "stock": stock_operations(stock),
            "public": wire_operations(public),
            "ours": wire_operations(wire),
        }
        best: dict[tuple[str, str], float] = {}
        for _ in range(4):
            for name, operations in suites.items():
                for label, operation in operations.items():
                    figure = cpu_us(operation, args.runs)
                    best[name, label] = min(best.get((name, label), figure), figure)
                connections[name].rollback()
    mode = "gevent" if args.gevent else "plain threads"
    print(f"command: python bench/db_statements.py --runs {args.runs}{' --gevent' if args.gevent else ''} ({mode})")
    print(f"  µs of CPU per operation; ours: mysql_wire with the fast path ({'on' if fastpath else 'unavailable'})")
    print(f"  {'':20s} {'stock':>6s} {'public':>8s} {'ours':>6s}")
    for label in suites["stock"]:
        print(f"  {label:20s} {best['stock', label]:6.0f} {best['public', label]:8.0f} {best['ours', label]:6.0f}")


if __name__ == "__main__":
    main()
