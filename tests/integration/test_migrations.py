"""Alembic migrations on a brand-new database: up, down, up again, and no drift from models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from core.db import build_engine
from core.models import Base
from tests.conftest import migrate, migrate_down

EXPECTED_TABLES = {
    "alembic_version",
    "allocations",
    "assets",
    "audit_log",
    "clients",
    "daily_returns",
    "job_runs",
    "latest_quotes",
    "portfolio_metrics",
    "prices",
    "sign_in_failures",
    "user_sessions",
    "users",
}
HEAD = "0007"
ANKA_FUNCTIONS = {
    "anka_fold",
    "anka_valid_document",
    "anka_delete_client_figures",
    "anka_delete_asset_prices",
}


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def empty_database_url(admin_database_url: str) -> Iterator[str]:
    """A brand-new empty database, dropped (even with open connections) afterwards."""
    name = f"anka_migrations_{uuid.uuid4().hex[:10]}"
    admin = libpq(admin_database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(admin_database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def fresh_engine(empty_database_url: str) -> Iterator[Engine]:
    eng = build_engine(empty_database_url, pool_size=1)
    yield eng
    eng.dispose()


def tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        return set(rows)


def functions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public' AND p.proname LIKE 'anka\\_%'"
            )
        ).scalars()
        return set(rows)


def version(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def test_upgrade_downgrade_upgrade_on_an_empty_database(
    empty_database_url: str, fresh_engine: Engine
) -> None:
    assert tables(fresh_engine) == set()

    migrate(empty_database_url, "head")
    assert tables(fresh_engine) == EXPECTED_TABLES
    assert functions(fresh_engine) == ANKA_FUNCTIONS
    assert version(fresh_engine) == HEAD

    migrate(empty_database_url, "base")
    assert tables(fresh_engine) == {"alembic_version"}
    assert functions(fresh_engine) == set()
    assert version(fresh_engine) is None

    migrate(empty_database_url, "head")
    assert tables(fresh_engine) == EXPECTED_TABLES
    assert functions(fresh_engine) == ANKA_FUNCTIONS
    assert version(fresh_engine) == HEAD


def test_upgrade_twice_is_a_no_op(empty_database_url: str, fresh_engine: Engine) -> None:
    migrate(empty_database_url, "head")
    migrate(empty_database_url, "head")
    assert version(fresh_engine) == HEAD
    assert tables(fresh_engine) == EXPECTED_TABLES


def test_audit_records_exports_from_0003_and_drops_them_going_back(
    empty_database_url: str, fresh_engine: Engine
) -> None:
    insert = text(
        "INSERT INTO audit_log (actor_email, action, entity, entity_id) "
        "VALUES ('a@example.com', :action, 'export', 'clients')"
    )
    migrate(empty_database_url, "head")
    with fresh_engine.begin() as conn:
        conn.execute(insert, {"action": "export"})
    with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
        conn.execute(insert, {"action": "download"})

    migrate_down(empty_database_url, "0002")
    assert version(fresh_engine) == "0002"
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 0
    with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
        conn.execute(insert, {"action": "export"})


def test_sessions_go_with_their_user_from_0005_and_both_tables_go_back(
    empty_database_url: str, fresh_engine: Engine
) -> None:
    migrate(empty_database_url, "head")
    with fresh_engine.begin() as conn:
        user = conn.execute(
            text(
                "INSERT INTO users (email, name, password_hash, role) "
                "VALUES ('a@example.com', 'A', 'x', 'admin') RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text("INSERT INTO user_sessions (user_id, expires_at) VALUES (:u, now())"), {"u": user}
        )
        conn.execute(text("INSERT INTO sign_in_failures (key, failures) VALUES ('k', 1)"))
        conn.execute(text("DELETE FROM users"))
        assert conn.execute(text("SELECT count(*) FROM user_sessions")).scalar_one() == 0

    migrate_down(empty_database_url, "0004")

    assert version(fresh_engine) == "0004"
    assert tables(fresh_engine) == EXPECTED_TABLES - {
        "user_sessions",
        "sign_in_failures",
        "latest_quotes",  # 0007
    }


def test_closes_go_with_their_asset_from_0004_and_the_foreign_key_returns_going_back(
    empty_database_url: str, fresh_engine: Engine
) -> None:
    migrate(empty_database_url, "head")
    with fresh_engine.begin() as conn:
        kept, dropped = conn.execute(
            text(
                "INSERT INTO assets (symbol, name, currency) VALUES "
                "('PETR4.SA', 'Petrobras', 'BRL'), ('VALE3.SA', 'Vale', 'BRL') RETURNING id"
            )
        ).scalars()
        conn.execute(
            text(
                "INSERT INTO prices (asset_id, date, close, source) VALUES "
                "(:kept, '2026-11-27', 30.5, 'market'), (:dropped, '2026-11-27', 60.1, 'market'), "
                "(:orphan, '2026-11-27', 1.0, 'market')"
            ),
            {"kept": kept, "dropped": dropped, "orphan": dropped + 100},
        )
        # No per-row key: the scheduler's bulk upserts do not lock asset rows. Deleting an
        # asset deletes its closes (the trigger).
        conn.execute(text("DELETE FROM assets WHERE id = :id"), {"id": dropped})

    def closes() -> list[int]:
        with fresh_engine.connect() as conn:
            return list(
                conn.execute(text("SELECT asset_id FROM prices ORDER BY asset_id")).scalars()
            )

    assert closes() == [kept, dropped + 100]

    migrate_down(empty_database_url, "0003")  # the key comes back; closes of no asset go first
    assert closes() == [kept]
    with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
        conn.execute(
            text("INSERT INTO prices (asset_id, date, close, source) VALUES (999, now(), 1, 'x')")
        )


def test_latest_quotes_from_0007_refuse_bad_rows_and_go_back_to_0006(
    empty_database_url: str, fresh_engine: Engine
) -> None:
    insert = text(
        "INSERT INTO latest_quotes (symbol, price, previous_close, currency, market_time, "
        "fetched_at, source) VALUES (:symbol, :price, 30.1, 'BRL', now(), now(), 'yahoo')"
    )
    migrate(empty_database_url, "head")
    with fresh_engine.begin() as conn:
        conn.execute(insert, {"symbol": "PETR4.SA", "price": "30.12345678"})
        assert conn.execute(text("SELECT price FROM latest_quotes")).scalar_one() == Decimal(
            "30.12345678"
        )
    for symbol, price in (("PETR4.SA", "31"), ("VALE3.SA", "0"), ("vale3.sa", "60")):
        with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
            conn.execute(insert, {"symbol": symbol, "price": price})  # one row per ticker

    migrate_down(empty_database_url, "0006")
    assert version(fresh_engine) == "0006"
    assert tables(fresh_engine) == EXPECTED_TABLES - {"latest_quotes"}

    migrate(empty_database_url, "head")
    assert version(fresh_engine) == HEAD
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM latest_quotes")).scalar_one() == 0


def test_migrated_schema_matches_the_models(empty_database_url: str, fresh_engine: Engine) -> None:
    migrate(empty_database_url, "head")
    with fresh_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_compare_metadata_would_notice_a_missing_table(
    empty_database_url: str, fresh_engine: Engine
) -> None:
    """Guards the test above: a real drift is reported, so an empty diff means something."""
    migrate(empty_database_url, "head")
    with fresh_engine.begin() as conn:
        conn.execute(text("DROP TABLE job_runs"))
    with fresh_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert [(d[0], d[1].name) for d in differences] == [
        ("add_table", "job_runs"),
        ("add_index", "ix_job_runs_job_started"),
    ]
