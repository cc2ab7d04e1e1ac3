"""A throwaway, migrated database for a benchmark run, on the real (or embedded) server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin_url() -> str:
    url = os.environ.get("ANKA_BENCH_DATABASE_URL", DEFAULT_URL)
    try:
        with psycopg.connect(url, connect_timeout=3):
            return url
    except psycopg.OperationalError:
        from core.embedded import start_embedded_postgres

        print(f"No PostgreSQL at {url}: benchmarking on the embedded PostgreSQL.")
        embedded = start_embedded_postgres(ROOT / ".anka" / "bench")
        return make_url(embedded).set(database="postgres").render_as_string(hide_password=False)


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the latest schema (nothing to do when it is)."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Create and migrate ``anka_bench_<random>``; drop it afterwards."""
    admin = _admin_url()
    name = f"anka_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))
