"""Google sign-in: the outbound client for Google (token endpoint, certificates) and ID-token checks.

The popup flow sends an authorization code, exchanged at the token endpoint with the redirect URI
"postmessage"; One Tap sends the ID token itself. Either way the ID token is verified with google-auth
against Google's certificates: signature, audience (GOOGLE_CLIENT_ID), issuer, expiry, email_verified.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask
from google.auth import exceptions as google_exceptions
from google.auth.transport.requests import Request as GoogleTransport
from google.oauth2 import id_token
from jwt import PyJWTError

from backend.extensions import app_extensions
from backend.settings import Settings
from services.platform.http_client import HttpClient, UpstreamError
from utils.errors import NotFound, ServiceUnavailable, Unauthorized
from utils.validators import without_unsafe_characters

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
_CLOCK_SKEW_S = 10
_CERTS_DEFAULT_KEEP_S = 3600.0
_CERTS_MAX_KEEP_S = 86400.0


class InvalidGoogleCredential(Unauthorized):
    """Google's token or code did not pass verification."""

    default_message = "Invalid Google credential"


class GoogleSignInDisabled(NotFound):
    """Google sign-in is not configured: a 404 (a permanent fact of this server, not a transient 503)."""

    default_message = "Google sign-in is not enabled on this server (GOOGLE_CLIENT_ID is not set)"
    default_details = {"reason": "google_signin_disabled"}


@dataclass(frozen=True, slots=True)
class GoogleIdentity:
    """The verified facts of a Google ID token that sign-in uses."""

    sub: str
    email: str
    name: str


class GoogleClient:
    """Google sign-in's settings and its HttpClient (timeouts, retries for GETs); google-auth uses its session."""

    def __init__(
        self, client_id: str | None, client_secret: str | None, token_url: str, certs_url: str, timeout_s: float
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_url = token_url
        self.certs_url = certs_url
        self.timeout_s = timeout_s
        self.http = HttpClient("google", timeout_s=timeout_s, max_retries=2, backoff_s=0.2)
        self._transport = GoogleTransport(session=self.http.session)
        self._certs: tuple[float, Any] | None = None  # (monotonic expiry, google-auth response)

    @classmethod
    def from_settings(cls, settings: Settings) -> GoogleClient:
        """Build from GOOGLE_* settings."""
        secret = settings.google_client_secret.get_secret_value() if settings.google_client_secret else None
        return cls(
            settings.google_client_id,
            secret,
            settings.google_token_url,
            settings.google_certs_url,
            settings.google_timeout_s,
        )

    def _fetch(self, url: str, method: str = "GET", **kwargs: Any) -> Any:
        """google-auth's transport with this client's timeout (google-auth passes none when fetching certs);
        the certificates are kept for as long as Google's Cache-Control allows."""
        kwargs["timeout"] = self.timeout_s
        if method != "GET" or url != self.certs_url:
            return self._transport(url, method=method, **kwargs)
        cached = self._certs
        if cached is not None and time.monotonic() < cached[0]:
            return cached[1]
        response = self._transport(url, method=method, **kwargs)
        if response.status == 200:
            self._certs = (time.monotonic() + _max_age(response.headers), response)
        return response

    def verify_id_token(self, token: str) -> GoogleIdentity:
        """Verify a Google ID token and return who it names; 401 when it does not verify.

        A token signed with a key the cached certificates do not have yet (Google rotates its keys) is
        checked once more against freshly fetched certificates.
        """
        try:
            return self._verify_id_token(token)
        except InvalidGoogleCredential as exc:
            reason = str((exc.details or {}).get("reason", ""))
            if self._certs is None or not reason.startswith("Certificate for key id"):
                raise
        self._certs = None
        return self._verify_id_token(token)

    def _require_client_id(self) -> str:
        if not self.client_id:
            raise GoogleSignInDisabled()
        return self.client_id

    def _verify_id_token(self, token: str) -> GoogleIdentity:
        audience = self._require_client_id()
        try:
            claims = id_token.verify_token(
                token, self._fetch, audience=audience, certs_url=self.certs_url, clock_skew_in_seconds=_CLOCK_SKEW_S
            )
        except google_exceptions.TransportError as exc:
            raise ServiceUnavailable("Could not reach Google to verify the sign-in", {"reason": str(exc)}) from None
        except (ValueError, google_exceptions.GoogleAuthError, PyJWTError) as exc:
            raise InvalidGoogleCredential(details={"reason": str(exc)[:200]}) from None
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise InvalidGoogleCredential(details={"reason": "wrong issuer"})
        if claims.get("email_verified") not in (True, "true"):
            raise InvalidGoogleCredential("Google account email is not verified", {"reason": "email_not_verified"})
        email, sub = claims.get("email"), claims.get("sub")
        if not (isinstance(email, str) and email and isinstance(sub, str) and sub):
            raise InvalidGoogleCredential(details={"reason": "token has no email or subject"})
        # a profile name may carry what a typed name may not (bidi overrides, zero-width characters): dropped
        name = without_unsafe_characters(str(claims.get("name") or email.split("@")[0])).strip()[:100] or email[:100]
        return GoogleIdentity(sub=sub, email=email.lower(), name=name)

    def exchange_code(self, code: str) -> str:
        """Exchange a popup-flow authorization code at the token endpoint; return the ID token."""
        client_id = self._require_client_id()
        if not self.client_secret:
            raise GoogleSignInDisabled(
                "Google sign-in with a code is not enabled on this server (GOOGLE_CLIENT_SECRET "
                "is not set); send an ID token as `credential`"
            )
        form = {
            "code": code,
            "client_id": client_id,
            "client_secret": self.client_secret,
            "redirect_uri": "postmessage",
            "grant_type": "authorization_code",
        }
        try:
            response = self.http.request("POST", self.token_url, data=form)
        except UpstreamError as exc:
            raise ServiceUnavailable(
                "Could not reach Google's token endpoint", {"reason": type(exc.__cause__).__name__}
            ) from None
        if response.status_code >= 500:
            raise ServiceUnavailable("Google's token endpoint failed", {"status": response.status_code})
        body = _json_object(response)
        if response.status_code != 200 or not isinstance(body.get("id_token"), str):
            reason = body.get("error") if isinstance(body.get("error"), str) else f"HTTP {response.status_code}"
            raise InvalidGoogleCredential("Google rejected the authorization code", {"reason": reason})
        return body["id_token"]


def _max_age(headers: Any) -> float:
    """Seconds the certificates may be kept: Cache-Control max-age, within [0, 1 day]; 1 hour without it."""
    found = re.search(r"max-age=(\d+)", headers.get("Cache-Control", "") or "")
    return min(float(found.group(1)), _CERTS_MAX_KEEP_S) if found else _CERTS_DEFAULT_KEEP_S


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def init_app(app: Flask, settings: Settings) -> None:
    """Attach a GoogleClient built from the settings."""
    app.extensions["google_client"] = GoogleClient.from_settings(settings)


def google_client() -> GoogleClient:
    """The current app's GoogleClient."""
    return app_extensions()["google_client"]
