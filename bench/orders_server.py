"""Benchmark server entry point: the production app plus the deterministic tick feeder in every worker.

`gunicorn -c gunicorn.conf.py bench.orders_server:app` with BENCH_SYMBOLS, BENCH_TICK_INTERVAL_S and
BENCH_ORIGIN_SLOT set by bench/orders.py. Each worker updates its live-price cache and runs the order
matcher on every tick, as the realtime tick bus will once it is wired. BENCH_PROFILE=/tmp/orders.prof
writes a CPU profile per worker at exit (`python -m pstats /tmp/orders.prof.<pid>`).
"""

import logging
import os
import time

from backend import db
from backend.extensions import socketio
from backend.wsgi import app
from bench.tick_feeder import TickFeeder
from controller.market.instruments import most_traded
from services.market.live_price_cache import stock_prices
from services.trading.matcher import match_ticks

log = logging.getLogger("bench.feeder")


def feed() -> None:
    """Tick every BENCH_TICK_INTERVAL_S: update the cache, run the matcher; survive errors."""
    interval = float(os.environ["BENCH_TICK_INTERVAL_S"])
    with app.app_context():
        with db.connection() as conn:
            instruments = most_traded(conn, int(os.environ["BENCH_SYMBOLS"]))
        feeder = TickFeeder(instruments, interval, int(os.environ["BENCH_ORIGIN_SLOT"]))
        cache = stock_prices()
        while True:
            try:
                quotes = feeder.quotes()
                cache.update(quotes)
                match_ticks(quotes)
            except Exception:  # a benchmark feeder must keep ticking; the error is logged
                log.exception("tick failed")
            socketio.sleep(interval - time.time() % interval)


socketio.start_background_task(feed)

if os.environ.get("BENCH_PROFILE"):
    import atexit
    import cProfile

    _profile = cProfile.Profile(time.process_time)
    _profile.enable()
    atexit.register(lambda: _profile.dump_stats(f"{os.environ['BENCH_PROFILE']}.{os.getpid()}"))
