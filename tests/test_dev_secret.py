"""Without JWT_SECRET_KEY, development signs with a random key of its own install (var/jwt_secret), never with a
key printed in the repository, and never logs it; production still demands a strong configured key."""

from __future__ import annotations

import logging
import stat
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import jwt as pyjwt
import pytest

from backend import settings as settings_module
from backend.app import create_app
from backend.settings import ConfigError, Settings
from tests.auth_helpers import bearer, make_user
from utils.local_secret import local_secret

# What earlier versions signed development tokens with: public, in the repository's history.
PUBLISHED_DEV_SECRET = "dev-only-insecure-jwt-secret-change-me-0123456789"


@pytest.fixture
def secret_file(tmp_path, monkeypatch):
    path = tmp_path / "var" / "jwt_secret"
    monkeypatch.setattr(settings_module, "LOCAL_SECRET_FILE", path)
    return path


def load(**values) -> Settings:
    return Settings.load(_env_file=None, **values)


def test_an_install_without_a_configured_key_makes_its_own_and_keeps_it(secret_file):
    first = load(app_env="development").jwt_secret_key.get_secret_value()
    assert len(first) >= 32 and first != PUBLISHED_DEV_SECRET
    assert secret_file.read_text().strip() == first
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert load(app_env="development").jwt_secret_key.get_secret_value() == first  # restarts keep sessions valid


def test_two_installs_get_different_keys(tmp_path):
    assert local_secret(tmp_path / "a" / "jwt_secret") != local_secret(tmp_path / "b" / "jwt_secret")


def test_processes_starting_together_agree_on_one_key(tmp_path):
    path = tmp_path / "var" / "jwt_secret"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: local_secret(path), range(32)))
    assert keys == {path.read_text().strip()}
    assert sorted(p.name for p in path.parent.iterdir()) == ["jwt_secret"]


def test_a_configured_key_is_used_as_is(secret_file):
    assert load(jwt_secret_key="k" * 40).jwt_secret_key.get_secret_value() == "k" * 40
    assert not secret_file.exists()


def test_an_unusable_key_file_stops_the_start_with_one_line(secret_file):
    secret_file.parent.mkdir(parents=True)
    secret_file.write_text("short\n")
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY is not set and .*jwt_secret holds no usable secret"):
        load()


def test_production_does_not_make_a_key(secret_file):
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY must be set"):
        load(app_env="production", database_url="mysql://u:p@h/db")
    assert not secret_file.exists()


def test_a_token_forged_with_the_published_key_is_refused(secret_file, db_config, db_conn, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    user_id = make_user(db_conn, "victim@example.com")
    app = create_app(load(app_env="development", database_url=db_config.url(), socketio_async_mode="threading"))
    try:
        now = int(time.time())
        claims = {"sub": str(user_id), "jti": str(uuid.uuid4()), "type": "access", "iat": now, "exp": now + 600}
        forged = pyjwt.encode(claims, PUBLISHED_DEV_SECRET, algorithm="HS256")
        response = app.test_client().get("/auth/me", headers=bearer(forged))
        assert response.status_code == 401
        secret = secret_file.read_text().strip()
        genuine = pyjwt.encode(claims, secret, algorithm="HS256")
        assert app.test_client().get("/auth/me", headers=bearer(genuine)).status_code == 200
    finally:
        app.extensions["db"].close()
    output = capsys.readouterr()
    assert secret not in caplog.text + output.out + output.err
