"""Market-data providers (the offline simulator and Upstox) and the synthetic history generator."""

from __future__ import annotations

from flask import Flask, current_app

from backend.settings import Settings
from services.market_data.base import MarketDataProvider
from services.market_data.simulator import Simulator
from services.market_data.universe import load_universe
from services.market_data.upstox import CLIENT_LIMITS, Upstox
from services.platform.http_client import HttpClient, RateLimiter
from utils.market_hours import MarketCalendar


def create_provider(settings: Settings, calendar: MarketCalendar) -> MarketDataProvider:
    """The provider MARKET_DATA_PROVIDER selects; nothing is loaded or fetched until it is first used."""
    if settings.market_data_provider == "upstox":
        client = HttpClient(
            "upstox",
            timeout_s=settings.http_timeout_s,
            max_retries=settings.http_max_retries,
            limiter=RateLimiter(CLIENT_LIMITS),
        )
        token = settings.upstox_access_token.get_secret_value() if settings.upstox_access_token else ""
        return Upstox(load_universe, token, settings.upstox_base_url, settings.upstox_instruments_url, calendar, client)
    return Simulator(
        load_universe,
        seed=settings.sim_seed,
        calendar=calendar,
        always_open=settings.sim_always_open,
        max_ticks=settings.sim_max_ticks,
    )


def init_app(app: Flask) -> None:
    """Register the configured provider at app.extensions["market_data_provider"] (and share the calendar)."""
    settings: Settings = app.extensions["settings"]
    calendar = app.extensions.setdefault("market_calendar", MarketCalendar(settings.market_holidays))
    app.extensions["market_data_provider"] = create_provider(settings, calendar)


def provider() -> MarketDataProvider:
    """The current app's market-data provider."""
    return current_app.extensions["market_data_provider"]
