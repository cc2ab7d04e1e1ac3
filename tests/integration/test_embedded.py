"""Zero-config servers: the embedded PostgreSQL and Redis start, answer, and are reused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from core.config import Settings
from core.embedded import (
    EMBEDDED_DATABASE,
    resolve_database_url,
    resolve_redis_url,
    start_embedded_postgres,
    start_embedded_redis,
    stop_embedded_postgres,
)


@pytest.fixture(scope="module")
def embedded_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("anka-home")
    home.chmod(0o755)
    yield home
    stop_embedded_postgres(home)


def test_configured_urls_win_over_embedded(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        database_url="postgresql://db.example/anka",
        redis_url="redis://cache.example/0",
        home_dir=str(tmp_path),
    )
    assert resolve_database_url(settings) == "postgresql://db.example/anka"
    assert resolve_redis_url(settings) == "redis://cache.example/0"
    assert not any(tmp_path.iterdir()), "nothing embedded may start when URLs are set"


def test_embedded_postgres_starts_with_contrib_and_is_reused(embedded_home: Path) -> None:
    url = start_embedded_postgres(embedded_home)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (EMBEDDED_DATABASE,)
        version = conn.execute("SHOW server_version_num").fetchone()
        assert version is not None
        assert int(version[0]) >= 180000
        available = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM pg_available_extensions WHERE name IN ('pg_trgm', 'unaccent')"
            )
        }
        assert available == {"pg_trgm", "unaccent"}
    assert start_embedded_postgres(embedded_home) == url


def test_resolve_database_url_falls_back_to_embedded(embedded_home: Path) -> None:
    settings = Settings(_env_file=None, database_url=None, home_dir=str(embedded_home))
    assert resolve_database_url(settings) == start_embedded_postgres(embedded_home)


def test_embedded_redis_answers_and_is_one_per_home(embedded_home: Path) -> None:
    url = start_embedded_redis(embedded_home)
    client = redis.Redis.from_url(url)
    client.set("anka:probe", "1")
    assert client.get("anka:probe") == b"1"
    settings = Settings(_env_file=None, redis_url=None, home_dir=str(embedded_home))
    assert resolve_redis_url(settings) == url


def test_stop_reports_whether_a_server_was_running(tmp_path: Path) -> None:
    assert stop_embedded_postgres(tmp_path) is False
