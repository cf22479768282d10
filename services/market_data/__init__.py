"""Market-data providers (the offline simulator and Upstox) and the synthetic history generator."""

from __future__ import annotations

from flask import Flask

from backend.extensions import app_extensions
from backend.settings import Settings
from services.market import market_clock
from services.market_data.base import MarketDataProvider
from services.market_data.provider_token import ProviderTokens
from services.market_data.simulator import Simulator
from services.market_data.universe import load_universe
from services.market_data.upstox import Upstox, upstox_client
from services.platform.green import pause
from utils.market_hours import MarketCalendar


def create_provider(settings: Settings, calendar: MarketCalendar, tokens: ProviderTokens) -> MarketDataProvider:
    """The provider MARKET_DATA_PROVIDER selects; nothing is loaded or fetched until it is first used."""
    if settings.market_data_provider == "upstox":
        return Upstox(
            load_universe,
            tokens.current,
            settings.upstox_base_url,
            settings.upstox_instruments_url,
            calendar,
            upstox_client(settings),
        )
    return Simulator(
        load_universe,
        seed=settings.sim_seed,
        calendar=calendar,
        always_open=lambda: market_clock.session_mode() == "simulated",  # the session switches at run time
        max_ticks=settings.sim_max_ticks,
        pause=pause,
    )


def init_app(app: Flask) -> None:
    """Register the configured provider at app.extensions["market_data_provider"] (and share the calendar and
    the provider token source, app.extensions["provider_tokens"])."""
    settings: Settings = app.extensions["settings"]
    calendar = app.extensions.setdefault("market_calendar", MarketCalendar(settings.market_holidays))
    tokens = app.extensions.get("provider_tokens")
    if tokens is None:
        env_token = settings.upstox_access_token.get_secret_value() if settings.upstox_access_token else ""
        key = settings.provider_token_key.get_secret_value() if settings.provider_token_key else None
        tokens = app.extensions["provider_tokens"] = ProviderTokens(env_token, key)
    app.extensions["market_data_provider"] = create_provider(settings, calendar, tokens)


def provider() -> MarketDataProvider:
    """The current app's market-data provider."""
    return app_extensions()["market_data_provider"]


def provider_tokens() -> ProviderTokens:
    """The current app's provider token source."""
    return app_extensions()["provider_tokens"]
