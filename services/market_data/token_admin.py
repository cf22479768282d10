"""Setting the provider's access token at run time: checked with Upstox, then stored for every process."""

from __future__ import annotations

from typing import Any

from backend.extensions import app_extensions
from services.market_data.base import ProviderError, TokenRejected
from services.market_data.provider_token import ProviderTokens, fingerprint
from services.market_data.universe import load_universe
from services.market_data.upstox import Upstox, upstox_client
from utils.errors import ServiceUnavailable, ValidationError, field_error
from utils.timeutil import iso_ist


def set_upstox_token(token: str, user_id: int | None) -> dict[str, Any]:
    """Check `token` by authorising the market data feed with it, then store it encrypted; every process uses it
    from its next read (the leader's feed at its next connection, at once if it was waiting for a new token)."""
    tokens: ProviderTokens = app_extensions()["provider_tokens"]
    if not tokens.can_store:
        raise ServiceUnavailable(
            "PROVIDER_TOKEN_KEY is not set: a token cannot be stored (set the key, or UPSTOX_ACCESS_TOKEN)",
            {"reason": "provider_token_key_missing"},
        )
    provider = app_extensions()["market_data_provider"]
    if not isinstance(provider, Upstox):  # the simulator runs: check against the configured Upstox all the same
        settings = app_extensions()["settings"]
        provider = Upstox(load_universe, tokens.current, settings.upstox_base_url, client=upstox_client(settings))
    try:
        provider.feed_url(token)
    except TokenRejected:
        raise ValidationError(
            "Upstox refused this access token; nothing was stored",
            fields=[field_error("access_token", "refused by Upstox: expired, revoked or not an access token")],
        ) from None
    except ProviderError as exc:
        raise ServiceUnavailable(
            "Upstox could not be asked to check the token; nothing was stored", {"reason": "upstream_unreachable"}
        ) from exc
    set_at = tokens.store(token, user_id)
    return {"provider": "upstox", "source": "database", "fingerprint": fingerprint(token), "set_at": iso_ist(set_at)}
