"""Settings: defaults, the ANKA_ environment prefix, and the production safety checks."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from core.config import ConfigError, Settings

GOOD_COOKIE = "k3Yq8vN2pL7xR4tW9zB6mC1dF5gH0jS3"  # 32 characters


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ANKA_ variable from the shell or the test fixtures leaks into these tests."""
    for name in list(os.environ):
        if name.upper().startswith("ANKA_"):
            monkeypatch.delenv(name)


def production(monkeypatch: pytest.MonkeyPatch, **overrides: str | None) -> None:
    """Set a complete, valid production environment, then apply ``overrides`` (None unsets)."""
    values: dict[str, str | None] = {
        "ANKA_ENV": "production",
        "ANKA_DATABASE_URL": "postgresql://anka:s3cret@db:5432/anka",
        "ANKA_REDIS_URL": "redis://cache:6379/0",
        "ANKA_COOKIE_KEY": GOOD_COOKIE,
        **overrides,
    }
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def test_defaults() -> None:
    settings = Settings(_env_file=None)
    assert settings.env == "development"
    assert settings.cache_ttl_s == 3600
    assert settings.live_interval_s == 5
    assert settings.locale == "pt_BR"
    assert settings.market_data == "yahoo"
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.cookie_key is None
    assert settings.admin_password is None
    assert settings.bcrypt_rounds == 12
    assert settings.home_dir == ".anka"


def test_environment_variables_with_the_anka_prefix_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANKA_CACHE_TTL_S", "60")
    monkeypatch.setenv("ANKA_LIVE_INTERVAL_S", "2.5")
    monkeypatch.setenv("ANKA_LOCALE", "en")
    monkeypatch.setenv("ANKA_MARKET_DATA", "demo")
    monkeypatch.setenv("ANKA_DATABASE_URL", "postgresql://localhost/anka")
    settings = Settings(_env_file=None)
    assert settings.cache_ttl_s == 60
    assert settings.live_interval_s == 2.5
    assert settings.locale == "en"
    assert settings.market_data == "demo"
    assert settings.database_url == "postgresql://localhost/anka"


def test_variables_without_the_prefix_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE_TTL_S", "60")
    monkeypatch.setenv("LOCALE", "en")
    settings = Settings(_env_file=None)
    assert settings.cache_ttl_s == 3600
    assert settings.locale == "pt_BR"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ANKA_MARKET_DATA", "bloomberg"),
        ("ANKA_LOCALE", "fr"),
        ("ANKA_CACHE_TTL_S", "0"),
        ("ANKA_LIVE_INTERVAL_S", "0"),
        ("ANKA_ENV", "staging"),
    ],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_secrets_are_not_shown_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch, ANKA_ADMIN_PASSWORD="a-real-admin-password")
    settings = Settings(_env_file=None)
    assert GOOD_COOKIE not in repr(settings)
    assert "a-real-admin-password" not in repr(settings)
    assert settings.cookie_key is not None
    assert settings.cookie_key.get_secret_value() == GOOD_COOKIE


def test_development_needs_no_secrets() -> None:
    settings = Settings(_env_file=None, env="development")
    assert settings.cookie_key is None


def test_production_with_good_values_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch, ANKA_ADMIN_PASSWORD="Xk2-real-password-9")
    settings = Settings(_env_file=None)
    assert settings.env == "production"
    assert settings.database_url == "postgresql://anka:s3cret@db:5432/anka"
    assert settings.redis_url == "redis://cache:6379/0"


def test_production_without_cookie_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch, ANKA_COOKIE_KEY=None)
    with pytest.raises(ConfigError, match="ANKA_COOKIE_KEY must be a random secret of at least 32"):
        Settings(_env_file=None)


@pytest.mark.parametrize("cookie", ["changeme", "CHANGEME", "secret", "anka", ""])
def test_production_with_placeholder_cookie_key_is_refused(
    monkeypatch: pytest.MonkeyPatch, cookie: str
) -> None:
    production(monkeypatch, ANKA_COOKIE_KEY=cookie)
    with pytest.raises(ConfigError, match="ANKA_COOKIE_KEY"):
        Settings(_env_file=None)


def test_production_with_31_character_cookie_key_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert len(GOOD_COOKIE[:31]) == 31
    production(monkeypatch, ANKA_COOKIE_KEY=GOOD_COOKIE[:31])
    with pytest.raises(ConfigError, match="ANKA_COOKIE_KEY"):
        Settings(_env_file=None)


def test_production_without_database_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch, ANKA_DATABASE_URL=None)
    with pytest.raises(ConfigError) as info:
        Settings(_env_file=None)
    message = str(info.value)
    assert "ANKA_DATABASE_URL must point at the production PostgreSQL" in message
    assert "ANKA_REDIS_URL" not in message
    assert "ANKA_COOKIE_KEY" not in message


def test_production_without_redis_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch, ANKA_REDIS_URL=None)
    with pytest.raises(ConfigError, match="ANKA_REDIS_URL must point at the production Redis"):
        Settings(_env_file=None)


@pytest.mark.parametrize("password", ["admin", "Password", "changeme"])
def test_production_with_placeholder_admin_password_is_refused(
    monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    production(monkeypatch, ANKA_ADMIN_PASSWORD=password)
    with pytest.raises(ConfigError, match="ANKA_ADMIN_PASSWORD is a placeholder"):
        Settings(_env_file=None)


def test_production_lists_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        Settings(_env_file=None, env="production")
    message = str(info.value)
    assert message.startswith("Anka refuses to start in production: ")
    assert "ANKA_DATABASE_URL" in message
    assert "ANKA_REDIS_URL" in message
    assert "ANKA_COOKIE_KEY" in message


def test_placeholders_are_allowed_outside_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKA_ENV", "test")
    monkeypatch.setenv("ANKA_COOKIE_KEY", "changeme")
    monkeypatch.setenv("ANKA_ADMIN_PASSWORD", "admin")
    settings = Settings(_env_file=None)
    assert settings.env == "test"
