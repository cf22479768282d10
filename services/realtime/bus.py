"""The app's tick bus: Redis pub/sub when REDIS_URL is set, else in process; the live-price caches subscribe first."""

from __future__ import annotations

from flask import Flask

from services.realtime.tick_bus import InProcessTickBus
from services.realtime.tick_bus_redis import RedisTickBus


def init_app(app: Flask) -> None:
    """Give the app its bus, with the live-price caches subscribed."""
    redis_url = app.extensions["settings"].redis_url
    bus = RedisTickBus(redis_url.get_secret_value()) if redis_url else InProcessTickBus()
    caches = app.extensions["live_prices"]
    bus.subscribe(lambda batch: caches[batch.kind].update(batch.quotes), "live_price_cache")
    app.extensions["tick_bus"] = bus
