"""Shared fixtures: a throwaway database on the real PostgreSQL, the real Redis, isolation.

``ANKA_TEST_DATABASE_URL`` (default: the local server's ``postgres`` database) names a server
where the run may create databases; each run migrates a fresh ``anka_test_<random>`` database
and drops it at the end. Each test runs inside a transaction that is rolled back (services'
commits become savepoints), so tests never see each other's rows. Where no server answers,
the run starts the embedded PostgreSQL / Redis and says so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.db import UnitOfWork, build_engine
from core.models import Role
from core.services.principal import Principal

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
TABLES = (
    "audit_log, job_runs, portfolio_metrics, daily_returns, prices, movements, asset_events, "
    "assets, clients, user_sessions, sign_in_failures, users, latest_quotes, benchmark_values, "
    "statements"
)

os.environ.setdefault("ANKA_BCRYPT_ROUNDS", "4")
os.environ.setdefault("ANKA_ENV", "test")


def _libpq(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _server_answers(url: str) -> bool:
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _announce(terminal: pytest.Config, message: str) -> None:
    reporter = terminal.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(message, yellow=True)


@pytest.fixture(scope="session")
def admin_database_url(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """URL of a server where this run may create and drop its own database."""
    url = os.environ.get("ANKA_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
    if _server_answers(url):
        return url
    from core.embedded import start_embedded_postgres

    home = ROOT / ".anka" / "test"
    home.mkdir(parents=True, exist_ok=True)
    _announce(pytestconfig, f"No PostgreSQL answers at {url}: using the embedded PostgreSQL.")
    embedded = start_embedded_postgres(home)
    return str(make_url(embedded).set(database="postgres").render_as_string(hide_password=False))


@pytest.fixture(scope="session")
def database_url(admin_database_url: str) -> Iterator[str]:
    """A freshly migrated throwaway database, dropped when the run ends."""
    name = f"anka_test_{uuid.uuid4().hex[:10]}"
    admin = _libpq(admin_database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(admin_database_url).set(database=name).render_as_string(hide_password=False)
    migrate(url, "head")
    os.environ["ANKA_DATABASE_URL"] = url
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at ``url``."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    return config


def migrate(url: str, revision: str) -> None:
    """Upgrade (or downgrade with a ``-`` revision / ``base``) the database at ``url``."""
    config = alembic_config(url)
    if revision == "base" or revision.startswith("-"):
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


def migrate_down(url: str, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` (whatever the head is)."""
    command.downgrade(alembic_config(url), revision)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = build_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions bound to one outer transaction that is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )
    yield factory
    outer.rollback()
    connection.close()


@pytest.fixture
def uow(session_factory: sessionmaker[Session]) -> UnitOfWork:
    """A unit of work inside the test's transaction."""
    return UnitOfWork(session_factory)


@pytest.fixture
def make_uow(session_factory: sessionmaker[Session]) -> Callable[[], UnitOfWork]:
    """A factory of units of work inside the test's transaction."""
    return lambda: UnitOfWork(session_factory)


@pytest.fixture
def committed_engine(engine: Engine) -> Iterator[Engine]:
    """For tests that need real commits seen by other connections (concurrency, the app).

    The tables are emptied afterwards; use the rolled-back ``uow`` wherever possible.
    """
    yield engine
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def redis_url(pytestconfig: pytest.Config) -> str:
    """The real Redis (a dedicated logical database), or the embedded one if none answers."""
    url = os.environ.get("ANKA_TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        from core.embedded import start_embedded_redis

        _announce(pytestconfig, f"No Redis answers at {url}: using the embedded Redis.")
        url = start_embedded_redis(ROOT / ".anka" / "test")
    os.environ["ANKA_REDIS_URL"] = url
    return url


ADMIN = Principal(user_id=None, email="tester@example.com", role=Role.ADMIN)
READER = Principal(user_id=None, email="reader@example.com", role=Role.READ_ONLY)


@pytest.fixture
def admin() -> Principal:
    return ADMIN


@pytest.fixture
def reader() -> Principal:
    return READER
