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
    "asset_events",
    "assets",
    "audit_log",
    "benchmark_values",
    "clients",
    "daily_returns",
    "job_runs",
    "latest_quotes",
    "movements",
    "portfolio_metrics",
    "prices",
    "sign_in_failures",
    "statements",
    "user_sessions",
    "users",
}
HEAD = "0011"
# Below 0011 there are no stored statements, below 0009 no benchmark values.
BEFORE_STATEMENTS = EXPECTED_TABLES - {"statements"}
BEFORE_BENCHMARKS = BEFORE_STATEMENTS - {"benchmark_values"}
# Below 0008 the ledger (movements, asset_events) is the table of allocations.
BEFORE_LEDGER = (BEFORE_BENCHMARKS - {"movements", "asset_events"}) | {"allocations"}
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
    assert tables(fresh_engine) == BEFORE_LEDGER - {
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
    assert tables(fresh_engine) == BEFORE_LEDGER - {"latest_quotes"}

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


def test_0008_turns_every_allocation_into_a_buy_and_goes_back_while_only_buys_exist(
    empty_database_url: str, fresh_engine: Engine
) -> None:
    migrate(empty_database_url, "0007")
    with fresh_engine.begin() as conn:
        client = conn.execute(
            text("INSERT INTO clients (name, email) VALUES ('Ana', 'ana@example.com') RETURNING id")
        ).scalar_one()
        asset = conn.execute(
            text("INSERT INTO assets (symbol, name) VALUES ('PETR4.SA', 'Petrobras') RETURNING id")
        ).scalar_one()
        for quantity, price, day in (
            ("100", "30.5", "2025-01-02"),
            ("0.00000001", "2", "2025-02-03"),
        ):
            conn.execute(
                text(
                    "INSERT INTO allocations (client_id, asset_id, quantity, buy_price, buy_date)"
                    " VALUES (:c, :a, :q, :p, :d)"
                ),
                {"c": client, "a": asset, "q": quantity, "p": price, "d": day},
            )
        conn.execute(
            text("INSERT INTO daily_returns VALUES (:c, '2025-01-02', 3050, 3050, 0, 0)"),
            {"c": client},
        )
        before = conn.execute(
            text(
                "SELECT id, client_id, asset_id, quantity, buy_price, buy_date, created_at,"
                " updated_at FROM allocations ORDER BY id"
            )
        ).all()

    migrate(empty_database_url, "0008")

    with fresh_engine.begin() as conn:
        after = conn.execute(
            text(
                "SELECT id, client_id, asset_id, quantity, price, date, created_at, updated_at"
                " FROM movements WHERE kind = 'buy' AND fees = 0 ORDER BY id"
            )
        ).all()
        assert after == before  # every lot, with its id and its times, is now a buy
        assert conn.execute(text("SELECT flow_in, flow_out, income FROM daily_returns")).one() == (
            Decimal(3050),
            Decimal(0),
            Decimal(0),
        )
        new = conn.execute(
            text(
                "INSERT INTO movements (client_id, asset_id, quantity, price, date)"
                " VALUES (:c, :a, 1, 31, '2025-03-03') RETURNING id"
            ),
            {"c": client, "a": asset},
        ).scalar_one()
        assert new > max(row[0] for row in before)  # the id sequence came along

    migrate_down(empty_database_url, "0007")

    with fresh_engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM allocations")).scalar_one() == 3
        assert conn.execute(text("SELECT net_flow FROM daily_returns")).scalar_one() == 3050
    assert tables(fresh_engine) == BEFORE_LEDGER


def test_0008_refuses_to_go_back_when_the_ledger_holds_more_than_buys(
    empty_database_url: str, fresh_engine: Engine
) -> None:
    migrate(empty_database_url, "head")
    with fresh_engine.begin() as conn:
        client = conn.execute(
            text("INSERT INTO clients (name, email) VALUES ('Ana', 'ana@example.com') RETURNING id")
        ).scalar_one()
        asset = conn.execute(
            text("INSERT INTO assets (symbol, name) VALUES ('PETR4.SA', 'Petrobras') RETURNING id")
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO movements (client_id, asset_id, kind, quantity, price, date) VALUES"
                " (:c, :a, 'buy', 10, 30, '2025-01-02'), (:c, :a, 'sell', 4, 33, '2025-02-03')"
            ),
            {"c": client, "a": asset},
        )

    with pytest.raises(RuntimeError, match="cannot go back below 0008"):
        migrate_down(empty_database_url, "0007")

    assert version(fresh_engine) == "0008"


def test_benchmark_values_from_0009_keep_published_decimals_and_go_back_to_0008(
    empty_database_url: str, fresh_engine: Engine
) -> None:
    insert = text(
        "INSERT INTO benchmark_values (series, date, value, source) "
        "VALUES (:series, :date, :value, :source)"
    )
    migrate(empty_database_url, "head")
    with fresh_engine.begin() as conn:
        conn.execute(
            insert, {"series": "CDI", "date": "2025-01-02", "value": "0.040168", "source": "bcb"}
        )
        conn.execute(
            insert, {"series": "IPCA", "date": "2024-08-01", "value": "-0.02", "source": "bcb"}
        )
        conn.execute(
            insert,
            {"series": "IBOV", "date": "2025-01-02", "value": "120125.37", "source": "yahoo"},
        )
        stored = dict(conn.execute(text("SELECT series, value FROM benchmark_values")).all())
        fetched_at = conn.execute(text("SELECT min(fetched_at) FROM benchmark_values")).scalar_one()
    assert stored == {
        "CDI": Decimal("0.040168"),
        "IPCA": Decimal("-0.02"),
        "IBOV": Decimal("120125.37"),
    }
    assert fetched_at is not None
    assert fetched_at.tzinfo is not None
    for row in (
        {"series": "CDI", "date": "2025-01-02", "value": "0.04", "source": "bcb"},  # PK
        {"series": "CDI", "date": "2025-01-03", "value": "0.04", "source": "anbima"},
        {"series": "", "date": "2025-01-03", "value": "0.04", "source": "bcb"},
    ):
        with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
            conn.execute(insert, row)

    migrate_down(empty_database_url, "0008")
    assert version(fresh_engine) == "0008"
    assert tables(fresh_engine) == BEFORE_BENCHMARKS

    migrate(empty_database_url, "head")
    assert version(fresh_engine) == HEAD
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM benchmark_values")).scalar_one() == 0


def test_asset_class_corrections_from_0010_refuse_unknown_codes_and_go_back_to_0009(
    empty_database_url: str, fresh_engine: Engine
) -> None:
    insert = text("INSERT INTO assets (symbol, name, asset_class) VALUES (:symbol, :name, :code)")
    migrate(empty_database_url, "0009")
    with fresh_engine.begin() as conn:
        conn.execute(text("INSERT INTO assets (symbol, name) VALUES ('PETR4.SA', 'Petrobras')"))

    migrate(empty_database_url, "head")
    assert version(fresh_engine) == HEAD
    with fresh_engine.begin() as conn:  # an asset stored before 0010: its class is derived
        assert conn.execute(text("SELECT asset_class FROM assets")).scalar_one() is None
        conn.execute(insert, {"symbol": "MXRF11.SA", "name": "Maxi Renda", "code": "fiis"})
        conn.execute(insert, {"symbol": "TAEE11.SA", "name": "Taesa", "code": "renda_fixa"})
    with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
        conn.execute(insert, {"symbol": "VALE3.SA", "name": "Vale", "code": "imoveis"})

    migrate_down(empty_database_url, "0009")
    assert version(fresh_engine) == "0009"
    with fresh_engine.connect() as conn:
        columns = conn.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = 'assets'")
        ).scalars()
        assert "asset_class" not in set(columns)
        assert conn.execute(text("SELECT count(*) FROM assets")).scalar_one() == 3

    migrate(empty_database_url, "head")
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(asset_class) FROM assets")).scalar_one() == 0


def test_stored_statements_from_0011_go_with_their_client_and_go_back_to_0010(
    empty_database_url: str, fresh_engine: Engine
) -> None:
    store = text(
        "INSERT INTO statements (client_id, period_start, period_end, fingerprint, pdf, size,"
        " generated_by) VALUES (:c, :s, :e, :f, :pdf, :size, 'scheduler')"
    )
    good = {"s": "2026-11-01", "e": "2026-11-30", "f": "a" * 64, "pdf": b"%PDF-1.4", "size": 8}
    migrate(empty_database_url, "0010")
    with fresh_engine.begin() as conn:
        client = conn.execute(
            text("INSERT INTO clients (name, email) VALUES ('Ana', 'ana@example.com') RETURNING id")
        ).scalar_one()

    migrate(empty_database_url, "head")
    assert version(fresh_engine) == HEAD
    with fresh_engine.begin() as conn:
        conn.execute(store, good | {"c": client})
    for bad in ({"size": 9}, {"e": "2026-10-31"}, {"f": "short"}, {"s": "2026-11-01"}):
        # a size that is not the PDF's, a period that ends before it starts, a fingerprint
        # that is no sha256, the same client and period twice
        with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
            conn.execute(store, good | {"c": client} | bad)
    add_client = text("INSERT INTO clients (name, email) VALUES (:n, :e) RETURNING id")
    with fresh_engine.begin() as conn:
        conn.execute(text("DELETE FROM clients WHERE id = :c"), {"c": client})
        assert conn.execute(text("SELECT count(*) FROM statements")).scalar_one() == 0
        bia = conn.execute(add_client, {"n": "Bia", "e": "bia@example.com"}).scalar_one()
        conn.execute(store, good | {"c": bia})

    migrate_down(empty_database_url, "0010")
    assert version(fresh_engine) == "0010"
    assert tables(fresh_engine) == BEFORE_STATEMENTS
    migrate(empty_database_url, "head")
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM statements")).scalar_one() == 0
