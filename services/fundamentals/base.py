"""The interface of a fundamentals provider (the simulator, EODHD) and its error."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from controller.fundamentals.models import CrawlTarget, Fundamentals


class ProviderError(RuntimeError):
    """The provider has no figures for an instrument or answered with something unusable."""


@runtime_checkable
class FundamentalsProvider(Protocol):
    """What a crawl needs from a source of fundamentals."""

    name: str
    simulated: bool

    def fetch(self, target: CrawlTarget) -> Fundamentals:
        """One instrument's fundamentals (ProviderError or UpstreamError when it cannot have them)."""
        ...

    def close(self) -> None:
        """Release what the provider holds (HTTP sessions)."""
        ...
