"""A fake of Google's OAuth endpoints on 127.0.0.1: the token endpoint and the signing certificates.

ID tokens are signed with an RSA key generated here, published as an x509 certificate the way
https://www.googleapis.com/oauth2/v1/certs publishes Google's.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt
from google.auth import jwt as google_jwt

CLIENT_ID = "test-client-id.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret"


class SigningKey:
    """An RSA key with its key id, its PEM certificate and a signer for ID tokens."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-google")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        self.certificate = cert.public_bytes(serialization.Encoding.PEM).decode()
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.signer = crypt.RSASigner.from_string(private_pem, key_id=kid)

    def id_token(self, **overrides: Any) -> str:
        """A signed ID token for a verified user, with claims overridden (None removes a claim)."""
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": CLIENT_ID,
            "azp": CLIENT_ID,
            "sub": "10769150350006150715",
            "email": "priya@gmail.com",
            "email_verified": True,
            "name": "Priya Shah",
            "iat": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        return google_jwt.encode(self.signer, {k: v for k, v in claims.items() if v is not None}).decode()


class FakeGoogle:
    """Serves /certs and /token; `codes` maps an authorization code to the ID token it yields."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self.codes: dict[str, str] = {}
        self.token_requests: list[dict[str, str]] = []
        self.certs_status = 200
        self.certs_cache_control = "public, max-age=19800, must-revalidate, no-transform"  # Google's
        self.certs_requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeGoogle:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any, cache_control: str | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if cache_control:
                    self.send_header("Cache-Control", cache_control)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path != "/certs":
                    return self._reply(404, {"error": "not found"})
                fake.certs_requests += 1
                return self._reply(fake.certs_status, {fake.key.kid: fake.key.certificate}, fake.certs_cache_control)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.token_requests.append(form)
                valid_client = form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET
                if self.path != "/token" or not valid_client or form.get("redirect_uri") != "postmessage":
                    return self._reply(401, {"error": "invalid_client"})
                id_token = fake.codes.pop(form.get("code", ""), None)
                if form.get("grant_type") != "authorization_code" or id_token is None:
                    return self._reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
                return self._reply(
                    200,
                    {
                        "access_token": "ya29.fake",
                        "expires_in": 3599,
                        "token_type": "Bearer",
                        "scope": "openid email profile",
                        "id_token": id_token,
                    },
                )

        return Handler
