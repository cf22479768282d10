"""Settings: environment parsing, database URLs, production refusals."""

import pytest

from backend.settings import DEV_JWT_SECRET, ConfigError, DatabaseConfig, Settings

STRONG = "x" * 40


def load(**values):
    return Settings.load(_env_file=None, **values)


def test_database_url_is_parsed_with_escaped_password():
    config = DatabaseConfig.from_url("mysql://trader:p%40ss%3Aword@db.internal:3307/market")
    assert (config.host, config.port, config.user, config.password, config.database) == (
        "db.internal",
        3307,
        "trader",
        "p@ss:word",
        "market",
    )


def test_driver_suffix_and_mariadb_scheme_are_accepted():
    assert DatabaseConfig.from_url("mysql+pymysql://u:p@h/db").database == "db"
    assert DatabaseConfig.from_url("mariadb://u:p@h/db").port == 3306


@pytest.mark.parametrize("url", ["postgres://u:p@h/db", "mysql://u:p@h:3306/"])
def test_bad_database_urls_are_refused(url):
    with pytest.raises(ConfigError):
        DatabaseConfig.from_url(url)


def test_database_uri_alias_and_db_variables(monkeypatch):
    monkeypatch.setenv("DATABASE_URI", "mysql://a:b@c:1234/d")
    assert load().database().port == 1234
    monkeypatch.delenv("DATABASE_URI")
    monkeypatch.setenv("DB_HOST", "h")
    monkeypatch.setenv("DB_USER", "u")
    monkeypatch.setenv("DB_NAME", "n")
    monkeypatch.setenv("DB_PASSWORD", "secret")
    config = load().database()
    assert (config.host, config.user, config.database, config.password) == ("h", "u", "n", "secret")


def test_missing_database_settings_say_what_to_set():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load().database()


def test_production_refuses_the_dev_jwt_secret():
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        load(app_env="production", database_url="mysql://u:p@h/db")
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        load(app_env="production", database_url="mysql://u:p@h/db", jwt_secret_key="short")
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        load(app_env="production", database_url="mysql://u:p@h/db", jwt_secret_key=DEV_JWT_SECRET)


def test_production_refuses_missing_database():
    with pytest.raises(ConfigError, match="database not configured"):
        load(app_env="production", jwt_secret_key=STRONG)


def test_production_accepts_strong_settings():
    settings = load(app_env="production", jwt_secret_key=STRONG, database_url="mysql://u:p@h/db")
    assert settings.is_production


def test_invalid_values_name_the_variable(monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "500")
    with pytest.raises(ConfigError, match="DB_POOL_SIZE"):
        load()


def test_secrets_do_not_appear_in_repr():
    settings = load(jwt_secret_key=STRONG, database_url="mysql://u:topsecret@h/db")
    assert STRONG not in repr(settings) and "topsecret" not in repr(settings)


def test_allowed_origins_is_a_comma_list(monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.example, https://b.example")
    assert load().allowed_origins == ["https://a.example", "https://b.example"]


def test_production_start_fails_with_one_clear_line(repo_root):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "APP_ENV": "production", "DATABASE_URL": "mysql://u:p@127.0.0.1:1/db"}
    result = subprocess.run(
        [sys.executable, "-c", "import backend.wsgi"],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3  # gunicorn's boot-error code: gunicorn stops instead of respawning the worker
    assert result.stderr.strip().splitlines() == [
        "configuration error: JWT_SECRET_KEY must be set to a random string of at least 32 characters"
    ]


def test_env_example_loads_as_a_dotenv_file(repo_root, monkeypatch):
    for name in ("DATABASE_URL", "DATABASE_URI", "DB_HOST"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.load(_env_file=str(repo_root / ".env.example"))
    assert settings.socketio_async_mode is None and settings.app_env == "development"
