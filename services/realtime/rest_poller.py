"""REST polling beside the Upstox feed: what the feed does not stream stays fresh, within the REST limits.

Every instrument has a refresh period: none while the feed streams it in full; UPSTOX_REST_REFRESH_S (60 s)
when it is not streamed, or streamed in ltpc (which carries no day OHLC or volume); and, while the feed is
disconnected, UPSTOX_POLL_INTERVAL_S for the instruments it was streaming. Each pass (every
UPSTOX_POLL_INTERVAL_S) spends the calls that UPSTOX_POLL_CALLS_PER_MIN has accrued since the last one on the
most overdue instruments, 500 keys a call. 10,000 instruments with 2,000 streamed need 16 calls a minute;
when the budget cannot keep every period, all instruments fall behind evenly (earliest deadline first).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

from services.market.live_price_cache import Quote
from services.market_data.upstox import MAX_KEYS_PER_CALL, Upstox
from services.market_data.upstox_codec import Kind, Mode
from utils import metrics


class RestPoller:
    """Chooses and fetches the instruments due for a REST refresh; `poll` returns the quotes by kind."""

    def __init__(
        self,
        provider: Upstox,
        names: Callable[[], Mapping[str, tuple[Kind, str]]],
        calls_per_min: float,
        refresh_s: float,
        fallback_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self.names = names
        self.calls_per_min = calls_per_min
        self.refresh_s = refresh_s
        self.fallback_s = fallback_s
        self.clock = clock
        self._due: dict[str, float] = {}  # key -> when it next needs a refresh (monotonic)
        self._budget = calls_per_min / 6  # ten seconds' worth to start with
        self._budget_at = clock()

    def period(self, key: str, streamed: Mapping[str, Mode], connected: bool, planned: Mapping[str, Mode]) -> float:
        """How often `key` needs a REST refresh now (math.inf: never, the feed streams it in full)."""
        if connected:
            return math.inf if streamed.get(key) == "full" else self.refresh_s
        return self.fallback_s if key in planned else self.refresh_s

    def choose(
        self, streamed: Mapping[str, Mode], connected: bool, planned: Mapping[str, Mode]
    ) -> tuple[list[str], dict[str, str]]:
        """The keys to fetch this pass (most overdue first, as many as the budget allows) and why each is due."""
        now = self.clock()
        self._budget = min(self.calls_per_min, self._budget + (now - self._budget_at) * self.calls_per_min / 60)
        self._budget_at = now
        calls = int(self._budget)
        if calls < 1:
            return [], {}
        overdue = []
        for key in self.names():
            period = self.period(key, streamed, connected, planned)
            if period != math.inf and self._due.get(key, 0.0) <= now:
                overdue.append((self._due.get(key, 0.0), key))
        overdue.sort()
        chosen = [key for _, key in overdue[: calls * MAX_KEYS_PER_CALL]]
        self._budget -= math.ceil(len(chosen) / MAX_KEYS_PER_CALL)
        why = {key: "fallback" if not connected and key in planned else "unstreamed" for key in chosen}
        return chosen, why

    def poll(
        self, streamed: Mapping[str, Mode], connected: bool, planned: Mapping[str, Mode]
    ) -> dict[Kind, list[Quote]]:
        """Fetch the due instruments' quotes (ProviderError, TokenRejected propagate; nothing is marked done)."""
        chosen, why = self.choose(streamed, connected, planned)
        if not chosen:
            return {}
        names = self.names()
        wanted = {key: names[key][1] for key in chosen}
        kinds = {names[key][1]: names[key][0] for key in chosen}
        quotes = self.provider.quotes_by_key(wanted)
        now = self.clock()
        for key in chosen:
            self._due[key] = now + self.period(key, streamed, connected, planned)
        for reason in ("unstreamed", "fallback"):
            count = sum(1 for r in why.values() if r == reason)
            if count:
                metrics.UPSTOX_REST_POLLED.labels(reason).inc(count)
        result: dict[Kind, list[Quote]] = {}
        for quote in quotes:
            result.setdefault(kinds[quote.symbol], []).append(quote)
        return result
