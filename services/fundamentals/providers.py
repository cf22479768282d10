"""Fundamentals providers, the same pattern as the market-data ones: the offline `simulator` (default) and `eodhd`
(EODHD's Fundamentals API behind the project's HTTP client). A crawl asks one provider per run."""

from __future__ import annotations

from backend.settings import Settings
from services.fundamentals.base import FundamentalsProvider, ProviderError
from services.fundamentals.eodhd import Eodhd, client_for
from services.fundamentals.simulated import SimulatedFundamentals

SIMULATOR, EODHD = "simulator", "eodhd"
SOURCES = (SIMULATOR, EODHD)


def available(settings: Settings) -> tuple[str, ...]:
    """The sources a crawler job may name here: the simulator always, EODHD when its API token is set."""
    return SOURCES if settings.eodhd_api_token else (SIMULATOR,)


def create(name: str, settings: Settings) -> FundamentalsProvider:
    """A provider of source `name` (one of `available`), configured from the settings."""
    if name == EODHD and settings.eodhd_api_token:
        return Eodhd(settings.eodhd_api_token.get_secret_value(), settings.eodhd_base_url, client_for(settings))
    if name == SIMULATOR:
        return SimulatedFundamentals(settings.sim_seed)
    raise ProviderError(f"unknown or unavailable fundamentals source {name!r} (available: {available(settings)})")
