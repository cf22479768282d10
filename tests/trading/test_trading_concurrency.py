"""Concurrency against the real database: racing placements, cancels and fills keep the books exact."""

import random
import threading
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from backend import db
from backend.app import create_app
from controller.sql import fetch_value
from controller.trading import order_queries
from controller.trading.account_book import AccountBook
from controller.trading.audit import audit
from controller.trading.fills import close
from controller.trading.models import Account, Order
from services.trading.desk import market_view
from services.trading.matcher import act, match_ticks
from tests.conftest import make_settings
from tests.market_helpers import freeze
from tests.trading.conftest import OPEN_AT, Market, Trader, make_user

THREADS, ROUNDS = 6, 30


def trading_session(trader: Trader, seed: int, statuses: Counter, lock: threading.Lock) -> None:
    """One client's random mix of buys, sells, stops, modifications and cancels."""
    rng = random.Random(seed)
    mine: list[int] = []
    for _ in range(ROUNDS):
        action = rng.choice(
            ["limit_buy", "limit_buy", "market_buy", "limit_sell", "market_sell", "stop", "cancel", "cancel", "modify"]
        )
        price = round(rng.uniform(96, 104) * 20) / 20
        if action == "limit_buy":
            response = trader.post(
                "/orders",
                json={
                    "symbol": "ZZTEST",
                    "side": "BUY",
                    "order_type": "LIMIT",
                    "price": price,
                    "quantity": rng.randint(1, 150),
                },
            )
        elif action == "market_buy":
            response = trader.post(
                "/orders",
                json={"symbol": "ZZTEST", "side": "BUY", "order_type": "MARKET", "quantity": rng.randint(1, 60)},
            )
        elif action in ("limit_sell", "market_sell"):
            body = {"symbol": "ZZTEST", "side": "SELL", "order_type": "MARKET", "quantity": rng.randint(1, 80)}
            if action == "limit_sell":
                body.update(order_type="LIMIT", price=price)
            response = trader.post("/orders", json=body)
        elif action == "stop":
            response = trader.post(
                "/orders",
                json={
                    "symbol": "ZZTEST",
                    "side": "BUY",
                    "order_type": "SL-M",
                    "trigger_price": 106,
                    "quantity": rng.randint(1, 10),
                },
            )
        elif action == "cancel" and mine:
            response = trader.delete(f"/orders/{rng.choice(mine)}")
        elif action == "modify" and mine:
            response = trader.patch(f"/orders/{rng.choice(mine)}", json={"quantity": rng.randint(1, 30)})
        else:
            continue
        if response.status_code == 201:
            mine.append(response.get_json()["data"]["order_id"])
        code = response.get_json()["error"]["code"] if response.status_code >= 400 else "ok"
        with lock:
            statuses[(response.status_code, code)] += 1


def test_racing_clients_and_the_matcher_never_corrupt_the_account(db_config, instruments, db_conn):
    app = create_app(make_settings(db_config, db_pool_size=THREADS + 4))
    freeze(app, OPEN_AT.astimezone(UTC))
    market = Market(app)
    user_id, token = make_user(app, db_conn, "racer")
    trader = Trader(user_id, token, app.test_client())
    market.publish("ZZTEST", "100")
    assert (
        trader.post(
            "/orders", json={"symbol": "ZZTEST", "side": "BUY", "order_type": "MARKET", "quantity": 300}
        ).status_code
        == 201
    )
    statuses, lock, stop = Counter(), threading.Lock(), threading.Event()

    def ticker():
        rng, ltp = random.Random(7), 100.0
        while not stop.is_set():
            ltp = min(105.0, max(95.0, ltp + rng.choice([-0.5, -0.25, 0.25, 0.5])))
            market.tick("ZZTEST", f"{ltp:.2f}")

    clients = [
        threading.Thread(target=trading_session, args=(Trader(user_id, token, app.test_client()), seed, statuses, lock))
        for seed in range(THREADS)
    ]
    matcher = threading.Thread(target=ticker)
    matcher.start()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(120)
    stop.set()
    matcher.join(30)
    app.extensions["db"].close()

    assert audit(db_conn) == []
    assert not [key for key in statuses if key[0] >= 500 and key[1] != "SERVICE_UNAVAILABLE"], statuses
    assert statuses[(201, "ok")] > THREADS * 5, statuses  # the mix really placed orders...
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM trades WHERE user_id = %s", (user_id,)) > 1  # ...and filled
    assert (
        fetch_value(db_conn, "SELECT COUNT(*) FROM orders WHERE user_id = %s AND status = 'CANCELLED'", (user_id,)) > 0
    )


def test_two_matchers_on_the_same_tick_fill_each_order_exactly_once(
    db_config, instruments, market, make_trader, db_conn
):
    traders = [make_trader(f"t{i}") for i in range(4)]
    orders = [
        t.order(expect=201, order_type="LIMIT", price=99, quantity=q)["order_id"]
        for t in traders
        for q in (1, 2, 3, 4, 5)
    ]
    tick = market.quote("ZZTEST", "98.50")
    apps = [create_app(make_settings(db_config)) for _ in range(2)]  # two processes: separate pools and caches
    barrier, results = threading.Barrier(2), [None, None]

    def run(index: int) -> None:
        with apps[index].app_context():
            barrier.wait()
            results[index] = match_ticks([tick], now=OPEN_AT)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for application in apps:
        application.extensions["db"].close()

    filled = [o.order_id for result in results for o in result if o.status == "COMPLETE"]
    assert sorted(filled) == sorted(orders)  # every order once, split between the two matchers
    per_order = fetch_value(db_conn, "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM trades GROUP BY order_id) c")
    assert per_order == 1
    assert audit(db_conn) == []


def test_a_matcher_acting_on_a_stale_candidate_changes_nothing(market, trader, app, instruments, db_conn):
    """What the losing process of a race sees: the order it read as OPEN was filled meanwhile."""
    order_id = trader.order(expect=201, order_type="LIMIT", price=99)["order_id"]
    with app.app_context():
        with db.connection() as conn:
            [(stale, _)] = order_queries.reachable_orders(conn, {"ZZTEST": Decimal("98.5")})
        view = market_view(OPEN_AT)
        assert [o.order_id for o in act(stale, Decimal("98.5"), view)] == [order_id]
        assert act(stale, Decimal("98"), view) == []
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM trades WHERE order_id = %s", (order_id,)) == 1
    assert trader.get(f"/orders/{order_id}").get_json()["data"]["average_price"] == 98.5
    assert audit(db_conn) == []


def test_an_order_changes_only_under_its_row_lock():
    now = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    book = AccountBook(None, Account(1, Decimal(100), Decimal(10), Decimal(100), Decimal(0)), now)
    seen = Order(
        7,
        1,
        None,
        1,
        "ZZTEST",
        "BUY",
        "LIMIT",
        "DAY",
        1,
        0,
        Decimal(10),
        None,
        None,
        Decimal(10),
        "OPEN",
        None,
        False,
        now,
        now,
    )  # read without FOR UPDATE: another transaction may be changing it
    with pytest.raises(RuntimeError, match="without its row lock"):
        close(None, book, seen, "CANCELLED", None)
