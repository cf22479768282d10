"""Typed settings, read once from the environment and an optional `.env` file.

Every variable is documented in `.env.example` and the README. A production start with a weak
`JWT_SECRET_KEY` or without database settings stops with one clear line (`ConfigError`). Elsewhere an
unset `JWT_SECRET_KEY` means this install's own random key, kept in `var/jwt_secret`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import parse_qs, quote, unquote, urlencode, urlparse

from cryptography.fernet import Fernet
from limits import parse_many
from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from utils import cron
from utils.local_secret import LocalSecretError, local_secret

# The fixed development key of earlier versions: it is in the repository's history, so production refuses it.
DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me-0123456789"
LOCAL_SECRET_FILE = Path(__file__).resolve().parent.parent / "var" / "jwt_secret"
AsyncMode = Literal["gevent", "eventlet", "threading"]
# Two well-known Indian market feeds; without internet they fail fast and are skipped.
DEFAULT_NEWS_FEEDS = (
    "https://economictimes.indiatimes.com/markets/rssfeeds/1977021501.cms",
    "https://www.livemint.com/rss/markets",
)


class ConfigError(RuntimeError):
    """Settings are missing or invalid; the message is one line meant for the operator."""


@dataclass(frozen=True)
class DatabaseConfig:
    """Where and how to connect to MySQL/MariaDB."""

    host: str
    port: int
    user: str
    password: str
    database: str
    unix_socket: str | None = None
    ssl_ca: str | None = None

    @classmethod
    def from_url(cls, url: str) -> DatabaseConfig:
        """Parse mysql://user:pass@host:port/db (also mysql+driver:// and mariadb://)."""
        parsed = urlparse(url)
        if parsed.scheme.split("+")[0] not in ("mysql", "mariadb"):
            raise ConfigError(f"DATABASE_URL must start with mysql:// (got scheme {parsed.scheme!r})")
        query = parse_qs(parsed.query)
        database = parsed.path.lstrip("/")
        if not database:
            raise ConfigError("DATABASE_URL must name a database, e.g. mysql://user:pass@host:3306/market")
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 3306,
            user=unquote(parsed.username or "root"),
            password=unquote(parsed.password or ""),
            database=database,
            unix_socket=(query.get("unix_socket") or [None])[0],
            ssl_ca=(query.get("ssl_ca") or [None])[0],
        )

    def url(self) -> str:
        """The URL form (with the password); for child processes, never for logs."""
        query = urlencode(
            {key: value for key, value in (("unix_socket", self.unix_socket), ("ssl_ca", self.ssl_ca)) if value}
        )
        return (
            f"mysql://{quote(self.user, safe='')}:{quote(self.password, safe='')}@{self.host}:{self.port}/"
            f"{self.database}" + (f"?{query}" if query else "")
        )


_EMPTY_IS_A_VALUE = {"news_feeds", "allowed_origins", "admin_emails", "market_holidays"}


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """All configuration of the app. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    app_env: Literal["development", "production", "test"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(5000, ge=1, le=65535)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    perf_log_threshold_ms: int = Field(500, ge=1)
    allowed_origins: Annotated[list[str], NoDecode] = ["http://127.0.0.1:5000", "http://localhost:5000"]
    max_content_length: int = Field(1_048_576, ge=1024)
    socketio_async_mode: AsyncMode | None = None
    header_timeout_s: float = Field(5.0, gt=0, le=300)  # HTTP server (backend/gunicorn_worker.py)
    header_pending_per_peer: int = Field(50, ge=1, le=100_000)

    jwt_secret_key: SecretStr | None = None  # unset outside production: this install's key (var/jwt_secret)
    jwt_access_token_expires_s: int = Field(900, ge=60)
    jwt_refresh_token_expires_s: int = Field(30 * 86400, ge=3600)
    auth_cache_ttl_s: float = Field(5.0, ge=0, le=5)
    auth_rate_limit: str = "10 per minute"
    admin_emails: Annotated[list[str], NoDecode] = []
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_token_url: str = "https://oauth2.googleapis.com/token"
    google_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    google_timeout_s: float = Field(5.0, gt=0, le=60)

    database_url: SecretStr | None = Field(None, validation_alias=AliasChoices("database_url", "database_uri"))
    db_host: str | None = None
    db_port: int = Field(3306, ge=1, le=65535)
    db_user: str | None = None
    db_password: SecretStr = SecretStr("")
    db_name: str | None = None
    db_pool_size: int = Field(10, ge=1, le=32)
    db_pool_timeout_s: float = Field(2.0, gt=0, le=60)
    db_connect_timeout_s: int = Field(5, ge=1, le=60)
    db_read_timeout_s: int = Field(30, ge=1, le=600)

    market_data_provider: Literal["simulator", "upstox"] = "simulator"
    sim_always_open: bool = False
    force_market_open: bool = False
    market_holidays: Annotated[dict[date, str], NoDecode] = {}
    live_cache_max_age_s: float = Field(10.0, gt=0)

    cache_ttl_movers_s: float = Field(10.0, gt=0)
    cache_ttl_quotes_s: float = Field(5.0, gt=0)
    cache_ttl_indices_s: float = Field(5.0, gt=0)
    cache_ttl_sectors_s: float = Field(30.0, gt=0)
    cache_ttl_history_s: float = Field(60.0, gt=0)
    cache_ttl_universe_s: float = Field(300.0, gt=0)
    cache_ttl_search_s: float = Field(60.0, gt=0)
    cache_ttl_trading_s: float = Field(10.0, gt=0)
    cache_stale_s: float = Field(30.0, ge=0)
    debug_cache: bool = False

    # Market-data providers (services/market_data/)
    sim_seed: int = 42
    sim_tick_interval_s: float = Field(1.0, gt=0, le=60)
    sim_max_ticks: int = Field(0, ge=0)
    upstox_access_token: SecretStr | None = None
    upstox_base_url: str = "https://api.upstox.com"
    upstox_instruments_url: str = "https://assets.upstox.com/market-quote/instruments/exchange/NSE.json.gz"
    upstox_poll_interval_s: float = Field(5.0, gt=0, le=300)
    provider_token_key: SecretStr | None = None
    upstox_rest_limits: Annotated[tuple[tuple[float, int], ...], NoDecode] = ((1.0, 40), (60.0, 450), (1800.0, 1900))
    upstox_poll_calls_per_min: int = Field(45, ge=1)
    upstox_rest_refresh_s: float = Field(60.0, ge=5, le=3600)
    upstox_feed_enabled: bool = True
    upstox_feed_ltpc_keys: int = Field(5000, ge=0)
    upstox_feed_full_keys: int = Field(2000, ge=0)
    upstox_feed_mixed_ltpc_keys: int = Field(2000, ge=0)
    upstox_feed_mixed_full_keys: int = Field(1500, ge=0)
    upstox_feed_targets_interval_s: float = Field(2.0, gt=0, le=60)
    upstox_feed_max_backoff_s: float = Field(60.0, ge=1, le=600)
    upstox_stream_movers: int = Field(100, ge=0, le=2000)
    http_timeout_s: float = Field(10.0, gt=0, le=120)
    http_max_retries: int = Field(3, ge=0, le=10)

    # Schedulers (services/platform/scheduler.py, services/realtime/feed_jobs.py)
    enable_stock_scheduler: bool = True
    enable_index_scheduler: bool = True
    enable_eod_scheduler: bool = True
    enable_startup_refresh: bool = True
    quote_write_interval_s: float = Field(5.0, gt=0, le=300)
    eod_interval_s: float = Field(300.0, gt=0)
    snapshot_stale_after_s: float = Field(300.0, gt=0)
    feed_stale_after_s: float = Field(30.0, gt=0)

    # Socket.IO streaming (services/realtime/websocket_manager.py, services/realtime/fanout.py)
    fanout_interval_ms: int = Field(250, ge=10, le=10_000)
    prices_batch_interval_ms: int = Field(10_000, ge=0, le=600_000)
    movers_interval_s: float = Field(5.0, gt=0)
    ws_max_subscriptions: int = Field(50, ge=1, le=1000)

    # Operations endpoints (routes/health.py): /metrics behind a bearer token when set; /healthz's check details
    # (jobs, errors, leader) shown by default outside production only.
    metrics_token: SecretStr | None = None
    healthz_details: bool | None = None

    redis_url: SecretStr | None = None
    ratelimit_storage_uri: str = "memory://"
    trusted_proxies: int = Field(0, ge=0, le=5)
    leader_check_interval_s: float = Field(2.0, ge=0.2, le=3)
    starting_cash: Decimal = Field(Decimal("100000"), gt=0)
    price_band_percent: Decimal = Field(Decimal("20"), gt=0, le=100)
    max_order_value: Decimal = Field(Decimal("1000000"), gt=0)
    market_order_buffer_percent: Decimal = Field(Decimal("3"), ge=0, le=20)
    orders_page_size: int = Field(50, ge=1, le=500)
    export_max_rows: int = Field(10_000, ge=1, le=1_000_000)
    watchlist_max_lists: int = Field(20, ge=1, le=1000)
    watchlist_max_items: int = Field(100, ge=1, le=1000)
    alerts_max_active: int = Field(200, ge=1, le=10_000)
    alerts_sync_interval_s: float = Field(1.0, ge=0.1, le=60)

    # Background jobs (services/jobs/) and the scanner (services/scans/, docs/SCANS.md)
    job_slots_per_process: int = Field(1, ge=0, le=16)
    job_poll_interval_s: float = Field(0.5, gt=0, le=60)
    job_heartbeat_interval_s: float = Field(2.0, gt=0, le=60)
    scan_max_active_per_user: int = Field(2, ge=1, le=100)
    scan_max_results: int = Field(50_000, ge=1, le=1_000_000)
    scan_timeout_s: float = Field(120.0, gt=0, le=3600)
    scan_max_range_days: int = Field(1827, ge=1, le=36_500)
    scan_max_conditions: int = Field(50, ge=1, le=500)

    news_feeds: Annotated[list[str], NoDecode] = list(DEFAULT_NEWS_FEEDS)
    news_fetch_timeout_s: float = Field(5.0, gt=0, le=60)
    news_refresh_interval_s: int = Field(300, ge=30)
    news_cache_ttl_s: float = Field(30.0, ge=0)
    sentiment_cache_ttl_s: float = Field(10.0, ge=0)
    news_max_items_per_feed: int = Field(50, ge=1, le=500)
    news_retention_days: int = Field(30, ge=1, le=3650)

    # Fundamentals and crawler jobs (services/fundamentals/, docs/FUNDAMENTALS.md)
    cache_ttl_fundamentals_s: float = Field(60.0, gt=0)
    eodhd_api_token: SecretStr | None = None
    eodhd_base_url: str = "https://eodhd.com/api"
    crawler_max_symbols: int = Field(500, ge=1, le=10_000)
    crawler_universe_schedule: str = "0 16 * * 1-5"

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object, info: ValidationInfo) -> object:
        """An empty variable (`SOCKETIO_ASYNC_MODE=` in a copied .env.example) means "use the default"."""
        if value == "" and info.field_name not in _EMPTY_IS_A_VALUE:
            raise PydanticUseDefault()
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("news_feeds", mode="before")
    @classmethod
    def _feeds(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("news_feeds")
    @classmethod
    def _feed_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if urlparse(url).scheme not in ("http", "https"):
                raise ValueError(f"feed URLs must be http(s): {url!r}")
        return value

    @field_validator("crawler_universe_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        return cron.check(value)

    @field_validator("admin_emails", mode="before")
    @classmethod
    def _admin_emails(cls, value: object) -> object:
        value = _split_csv(value)
        return [str(item).lower() for item in value] if isinstance(value, list) else value

    @field_validator("google_client_id", "google_client_secret", "metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("auth_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        """AUTH_RATE_LIMIT uses flask-limiter's notation, e.g. "10 per minute" or "5/minute;100/day"."""
        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"not a rate limit: {value!r} (e.g. '10 per minute')") from None
        return value

    @field_validator("provider_token_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        """PROVIDER_TOKEN_KEY must be a Fernet key: 32 url-safe base64-encoded bytes."""
        if value is not None:
            try:
                Fernet(value.get_secret_value().encode())
            except ValueError:
                raise ValueError(
                    "must be a Fernet key (32 url-safe base64 bytes): python -c "
                    "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
                ) from None
        return value

    @field_validator("upstox_rest_limits", mode="before")
    @classmethod
    def _rest_limits(cls, value: object) -> object:
        """UPSTOX_REST_LIMITS=40/1s,450/60s,1900/1800s: at most N calls per S seconds, every window kept."""
        if not isinstance(value, str):
            return value
        windows = []
        for item in _split_csv(value):
            calls, _, span = item.partition("/")
            try:
                windows.append((float(span.strip().removesuffix("s")), int(calls)))
            except ValueError:
                raise ValueError(f"not a limit: {item!r} (e.g. 450/60s)") from None
        return tuple(windows)

    @field_validator("market_holidays", mode="before")
    @classmethod
    def _holidays(cls, value: object) -> object:
        """MARKET_HOLIDAYS=2026-12-25:Christmas,2027-01-26 (the name is optional)."""
        if not isinstance(value, str):
            return value
        holidays = {}
        for item in _split_csv(value):
            day, _, name = item.partition(":")
            holidays[day.strip()] = name.strip() or "Exchange holiday"
        return holidays

    @property
    def default_session_mode(self) -> Literal["exchange", "simulated"]:
        """The market session until an administrator chooses one: "simulated" (open around the clock) with
        FORCE_MARKET_OPEN or with the simulator told to (SIM_ALWAYS_OPEN), else "exchange" (the calendar)."""
        always_open = self.force_market_open or (self.market_data_provider == "simulator" and self.sim_always_open)
        return "simulated" if always_open else "exchange"

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Read the environment (and .env), apply overrides, validate; ConfigError on failure."""
        try:
            settings = cls(**overrides)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(str(part) for part in first["loc"]).upper()
            raise ConfigError(f"invalid setting {name}: {first['msg']}") from None
        settings.check_production()
        settings.check_provider()
        if settings.jwt_secret_key is None:
            try:
                settings.jwt_secret_key = SecretStr(local_secret(LOCAL_SECRET_FILE))
            except LocalSecretError as exc:
                raise ConfigError(f"JWT_SECRET_KEY is not set and {exc}") from None
        return settings

    @property
    def show_healthz_details(self) -> bool:
        """HEALTHZ_DETAILS, by default on except in production."""
        return self.healthz_details if self.healthz_details is not None else not self.is_production

    @property
    def is_production(self) -> bool:
        """True when APP_ENV=production."""
        return self.app_env == "production"

    def database(self) -> DatabaseConfig:
        """The database connection settings, from DATABASE_URL or the DB_* variables."""
        if self.database_url is not None:
            return DatabaseConfig.from_url(self.database_url.get_secret_value())
        if not (self.db_host and self.db_user and self.db_name):
            raise ConfigError("database not configured: set DATABASE_URL or DB_HOST, DB_USER and DB_NAME")
        return DatabaseConfig(
            host=self.db_host,
            port=self.db_port,
            user=self.db_user,
            password=self.db_password.get_secret_value(),
            database=self.db_name,
        )

    @property
    def upstox_sustained_calls_per_min(self) -> float:
        """The REST calls a minute the tightest of UPSTOX_REST_LIMITS allows over its whole window."""
        return min(calls * 60 / span for span, calls in self.upstox_rest_limits)

    def check_provider(self) -> None:
        """The Upstox provider needs a token (from the environment, or one an admin stores: PROVIDER_TOKEN_KEY)
        and a polling budget inside the REST limits."""
        if self.market_data_provider != "upstox":
            return
        if not self.upstox_access_token and not self.provider_token_key:
            raise ConfigError(
                "MARKET_DATA_PROVIDER=upstox needs UPSTOX_ACCESS_TOKEN (or PROVIDER_TOKEN_KEY to set it at run time)"
            )
        if self.upstox_poll_calls_per_min > self.upstox_sustained_calls_per_min:
            raise ConfigError(
                f"UPSTOX_POLL_CALLS_PER_MIN={self.upstox_poll_calls_per_min} exceeds UPSTOX_REST_LIMITS "
                f"({self.upstox_sustained_calls_per_min:.0f} calls a minute sustained)"
            )

    def check_production(self) -> None:
        """In production, refuse weak secrets and missing database settings."""
        if not self.is_production:
            return
        secret = self.jwt_secret_key.get_secret_value() if self.jwt_secret_key else ""
        if secret == DEV_JWT_SECRET or len(secret) < 32:
            raise ConfigError("JWT_SECRET_KEY must be set to a random string of at least 32 characters")
        self.database()
