"""One typed settings object for the dashboard, the scheduler and the tools.

Every setting is read from the environment with the ``ANKA_`` prefix (or from a ``.env``
file in the working directory). Unset database/Redis URLs mean "start the embedded
servers" (see :mod:`core.embedded`), which is what makes ``make demo`` zero-config.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core import passwords

Locale = Literal["pt_BR", "en"]
Environment = Literal["development", "test", "production"]
MarketDataSource = Literal["yahoo", "demo"]

# Values that must never protect a production deployment.
# Operators read these in English on the console, before any locale applies.
PASSWORD_PROBLEMS = {
    "validation.password_short": f"shorter than {passwords.MIN_LENGTH} characters",
    "validation.too_long": f"longer than {passwords.MAX_BYTES} bytes",
    "validation.password_spaces": "starts or ends with a space",
    "validation.password_weak": "easy to guess",
}
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "changethis", "secret", "password", "admin", "anka"}
)
MIN_COOKIE_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run safely (e.g. production with placeholders)."""


class Settings(BaseSettings):
    """Anka's configuration; see the README's table for what each setting means."""

    model_config = SettingsConfigDict(
        env_prefix="ANKA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = "development"
    database_url: str | None = None
    redis_url: str | None = None
    market_data: MarketDataSource = "yahoo"
    cache_ttl_s: int = Field(default=3600, ge=1)
    live_interval_s: float = Field(default=5.0, gt=0)
    locale: Locale = "pt_BR"
    admin_email: str = "admin@example.com"
    admin_password: SecretStr | None = None
    cookie_key: SecretStr | None = None
    home_dir: str = ".anka"
    # The interface the dashboard started by manage.py listens on: a laptop's own only,
    # unless told otherwise (the image sets 0.0.0.0; compose publishes it on 127.0.0.1).
    address: str = Field(default="127.0.0.1", min_length=1)
    log_json: bool = False
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    # The advisory firm's name, at the head of every client statement (ANKA_FIRM_NAME).
    firm_name: str = Field(default="Anka", min_length=1, max_length=120)

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.env != "production":
            return self
        problems: list[str] = []
        if self.database_url is None:
            problems.append("ANKA_DATABASE_URL must point at the production PostgreSQL")
        elif (urlsplit(self.database_url).password or "").lower() in PLACEHOLDER_SECRETS - {""}:
            problems.append(
                "ANKA_DATABASE_URL has a placeholder password (POSTGRES_PASSWORD with"
                " docker-compose); choose a real one"
            )
        if self.redis_url is None:
            problems.append("ANKA_REDIS_URL must point at the production Redis")
        cookie = self.cookie_key.get_secret_value() if self.cookie_key else ""
        if cookie.lower() in PLACEHOLDER_SECRETS or len(cookie) < MIN_COOKIE_KEY_LENGTH:
            problems.append(
                f"ANKA_COOKIE_KEY must be a random secret of at least {MIN_COOKIE_KEY_LENGTH}"
                " characters"
            )
        if self.admin_password is not None:
            admin_password = self.admin_password.get_secret_value()
            if admin_password.lower() in PLACEHOLDER_SECRETS:
                problems.append("ANKA_ADMIN_PASSWORD is a placeholder; choose a real password")
            elif (refused := passwords.problem(admin_password)) is not None:
                problems.append(
                    "ANKA_ADMIN_PASSWORD is refused as a sign-in password would be"
                    f" ({PASSWORD_PROBLEMS[refused[0]]}); choose a long, uncommon passphrase"
                )
        if problems:
            raise ConfigError("Anka refuses to start in production: " + "; ".join(problems) + ".")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()
