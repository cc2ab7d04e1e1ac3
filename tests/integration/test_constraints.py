"""The database itself refuses bad rows, even from raw SQL that bypasses the services."""

from __future__ import annotations

import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DataError, IntegrityError

from core.documents import is_valid_document

VALID_CPF = "52998224725"
OTHER_CPF = "11144477735"


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


def insert(conn: Connection, sql: str, **params: Any) -> Any:
    """Run an INSERT ... RETURNING (or any statement returning one value) and return it."""
    return conn.execute(text(sql), params).scalar_one()


def refused(conn: Connection, sql: str, constraint: str, **params: Any) -> None:
    """Assert that ``sql`` violates ``constraint``; the connection stays usable afterwards."""
    savepoint = conn.begin_nested()
    with pytest.raises(IntegrityError) as info:
        conn.execute(text(sql), params)
    savepoint.rollback()
    assert info.value.orig is not None
    assert info.value.orig.diag.constraint_name == constraint


def add_client(
    conn: Connection, name: str = "Ana Lima", email: str = "ana@example.com", **extra: Any
) -> int:
    columns = {"name": name, "email": email, **extra}
    names = ", ".join(columns)
    values = ", ".join(f":{c}" for c in columns)
    return int(
        insert(conn, f"INSERT INTO clients ({names}) VALUES ({values}) RETURNING id", **columns)
    )


def add_asset(conn: Connection, symbol: str = "PETR4.SA") -> int:
    return int(
        insert(
            conn,
            "INSERT INTO assets (symbol, name) VALUES (:s, 'Petrobras PN') RETURNING id",
            s=symbol,
        )
    )


# A buy in the ledger, with the lot's field names as parameters.
ALLOCATION = (
    "INSERT INTO movements (client_id, asset_id, quantity, price, date) "
    "VALUES (:client_id, :asset_id, :quantity, :buy_price, :buy_date)"
)


def add_allocation(conn: Connection, client_id: int, asset_id: int, **overrides: Any) -> None:
    params = {
        "client_id": client_id,
        "asset_id": asset_id,
        "quantity": 10,
        "buy_price": 35.5,
        "buy_date": "2024-01-15",
        **overrides,
    }
    conn.execute(text(ALLOCATION), params)


def count(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


# --- clients -----------------------------------------------------------------------------


def test_a_valid_client_row_is_accepted(conn: Connection) -> None:
    client_id = add_client(conn, document=VALID_CPF)
    row = conn.execute(
        text("SELECT status, sort_name, search_text FROM clients WHERE id = :id"), {"id": client_id}
    ).one()
    assert row.status == "active"
    assert row.sort_name == "ana lima"
    assert row.search_text == f"ana lima ana@example.com {VALID_CPF}"


def test_duplicate_email_differing_only_in_case_is_refused(conn: Connection) -> None:
    add_client(conn, email="ana@example.com")
    refused(
        conn,
        "INSERT INTO clients (name, email) VALUES ('Other', 'ANA@Example.COM')",
        "uq_clients_email_lower",
    )
    assert count(conn, "clients") == 1


def test_duplicate_document_is_refused(conn: Connection) -> None:
    add_client(conn, document=VALID_CPF)
    refused(
        conn,
        "INSERT INTO clients (name, email, document) VALUES ('Bia', 'bia@example.com', :d)",
        "uq_clients_document",
        d=VALID_CPF,
    )


@pytest.mark.parametrize(
    "document",
    ["52998224724", "11111111111", "11222333000182", "529.982.247-25", "12abc34501de35", ""],
)
def test_invalid_document_is_refused(conn: Connection, document: str) -> None:
    refused(
        conn,
        "INSERT INTO clients (name, email, document) VALUES ('Ana', 'ana@example.com', :d)",
        "ck_clients_document_valid",
        d=document,
    )


def test_status_deleted_is_refused(conn: Connection) -> None:
    refused(
        conn,
        "INSERT INTO clients (name, email, status) VALUES ('Ana', 'ana@example.com', 'deleted')",
        "ck_clients_status",
    )


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_name_is_refused(conn: Connection, name: str) -> None:
    refused(
        conn,
        "INSERT INTO clients (name, email) VALUES (:n, 'ana@example.com')",
        "ck_clients_name_length",
        n=name,
    )
    assert count(conn, "clients") == 0


@pytest.mark.parametrize("name", ["\t", " \n ", "\u00a0"])
def test_name_of_only_tabs_newlines_or_nbsp_is_refused(conn: Connection, name: str) -> None:
    # The services strip all whitespace (str.strip) before saving, so such a name would be
    # blank to the application; the database rule must agree and not only trim spaces.
    refused(
        conn,
        "INSERT INTO clients (name, email) VALUES (:n, 'ana@example.com')",
        "ck_clients_name_length",
        n=name,
    )


def test_name_over_200_characters_is_refused(conn: Connection) -> None:
    savepoint = conn.begin_nested()
    with pytest.raises(DataError, match="value too long"):
        conn.execute(
            text("INSERT INTO clients (name, email) VALUES (:n, 'ana@example.com')"),
            {"n": "x" * 201},
        )
    savepoint.rollback()
    assert count(conn, "clients") == 0


@pytest.mark.parametrize("email", ["ana.example.com", "@example.com"])
def test_email_without_local_part_and_at_sign_is_refused(conn: Connection, email: str) -> None:
    refused(
        conn,
        "INSERT INTO clients (name, email) VALUES ('Ana', :e)",
        "ck_clients_email_shape",
        e=email,
    )


def test_update_cannot_break_a_rule_either(conn: Connection) -> None:
    client_id = add_client(conn)
    refused(
        conn,
        "UPDATE clients SET document = '52998224724' WHERE id = :id",
        "ck_clients_document_valid",
        id=client_id,
    )


def test_users_refuse_duplicate_email_and_unknown_role(conn: Connection) -> None:
    insert(
        conn,
        "INSERT INTO users (email, name, password_hash, role) "
        "VALUES ('ops@example.com', 'Ops', 'x', 'admin') RETURNING id",
    )
    refused(
        conn,
        "INSERT INTO users (email, name, password_hash, role) "
        "VALUES ('OPS@example.com', 'Ops 2', 'x', 'admin')",
        "uq_users_email_lower",
    )
    refused(
        conn,
        "INSERT INTO users (email, name, password_hash, role) "
        "VALUES ('new@example.com', 'New', 'x', 'superuser')",
        "ck_users_role",
    )


# --- allocations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"quantity": 0}, "ck_movements_quantity"),
        ({"quantity": -1}, "ck_movements_quantity"),
        ({"buy_price": -0.01}, "ck_movements_price"),
        ({"buy_price": 0}, "ck_movements_price"),
    ],
)
def test_allocation_amounts_must_be_positive(
    conn: Connection, overrides: dict[str, Any], constraint: str
) -> None:
    client_id, asset_id = add_client(conn), add_asset(conn)
    params = {
        "client_id": client_id,
        "asset_id": asset_id,
        "quantity": 10,
        "buy_price": 35.5,
        "buy_date": "2024-01-15",
        **overrides,
    }
    refused(conn, ALLOCATION, constraint, **params)


def sao_paulo_today(conn: Connection) -> Any:
    # now() is the transaction's start, so this is the same "today" the check constraint uses.
    return conn.execute(text("SELECT (now() AT TIME ZONE 'America/Sao_Paulo')::date")).scalar_one()


def test_buy_date_in_the_future_is_refused(conn: Connection) -> None:
    client_id, asset_id = add_client(conn), add_asset(conn)
    tomorrow = conn.execute(
        text("SELECT (now() AT TIME ZONE 'America/Sao_Paulo')::date + 1")
    ).scalar_one()
    refused(
        conn,
        ALLOCATION,
        "ck_movements_date_past",
        client_id=client_id,
        asset_id=asset_id,
        quantity=10,
        buy_price=35.5,
        buy_date=tomorrow,
    )


def test_buy_date_today_in_sao_paulo_is_accepted(conn: Connection) -> None:
    client_id, asset_id = add_client(conn), add_asset(conn)
    add_allocation(conn, client_id, asset_id, buy_date=sao_paulo_today(conn))
    assert count(conn, "movements") == 1


def test_allocation_for_an_unknown_client_is_refused(conn: Connection) -> None:
    asset_id = add_asset(conn)
    refused(
        conn,
        ALLOCATION,
        "fk_movements_client_id_clients",
        client_id=987654,
        asset_id=asset_id,
        quantity=10,
        buy_price=35.5,
        buy_date="2024-01-15",
    )


def test_allocation_for_an_unknown_asset_is_refused(conn: Connection) -> None:
    client_id = add_client(conn)
    refused(
        conn,
        ALLOCATION,
        "fk_movements_asset_id_assets",
        client_id=client_id,
        asset_id=987654,
        quantity=10,
        buy_price=35.5,
        buy_date="2024-01-15",
    )


def test_an_asset_with_allocations_cannot_be_deleted(conn: Connection) -> None:
    client_id, asset_id = add_client(conn), add_asset(conn)
    add_allocation(conn, client_id, asset_id)
    refused(conn, "DELETE FROM assets WHERE id = :id", "fk_movements_asset_id_assets", id=asset_id)
    assert count(conn, "assets") == 1
    assert count(conn, "movements") == 1


def test_an_asset_without_allocations_can_be_deleted(conn: Connection) -> None:
    asset_id = add_asset(conn)
    conn.execute(text("DELETE FROM assets WHERE id = :id"), {"id": asset_id})
    assert count(conn, "assets") == 0


def test_asset_symbol_must_be_upper_case(conn: Connection) -> None:
    refused(conn, "INSERT INTO assets (symbol, name) VALUES ('petr4.sa', 'x')", "ck_assets_symbol")


def test_deleting_a_client_cascades_to_its_figures(conn: Connection) -> None:
    ana, bia = add_client(conn), add_client(conn, "Bia Lima", "bia@example.com")
    asset_id = add_asset(conn)
    for client_id in (ana, bia):
        add_allocation(conn, client_id, asset_id)
        conn.execute(
            text(
                "INSERT INTO daily_returns "
                "(client_id, date, market_value, flow_in, daily_return, cumulative_twr) "
                "VALUES (:c, '2024-01-15', 355, 355, 0, 0)"
            ),
            {"c": client_id},
        )
        conn.execute(
            text(
                "INSERT INTO portfolio_metrics (client_id, as_of, market_value, invested) "
                "VALUES (:c, '2024-01-15', 355, 355)"
            ),
            {"c": client_id},
        )

    conn.execute(text("DELETE FROM clients WHERE id = :id"), {"id": ana})

    for table in ("movements", "daily_returns", "portfolio_metrics"):
        owners = conn.execute(text(f"SELECT client_id FROM {table}")).scalars().all()
        assert owners == [bia], table
    assert count(conn, "assets") == 1


def test_deleting_a_user_keeps_the_audit_entry_without_actor(conn: Connection) -> None:
    user_id = insert(
        conn,
        "INSERT INTO users (email, name, password_hash, role) "
        "VALUES ('ops@example.com', 'Ops', 'x', 'admin') RETURNING id",
    )
    entry_id = insert(
        conn,
        "INSERT INTO audit_log (actor_id, actor_email, action, entity, entity_id) "
        "VALUES (:u, 'ops@example.com', 'create', 'client', '1') RETURNING id",
        u=user_id,
    )
    conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})
    row = conn.execute(
        text("SELECT actor_id, actor_email FROM audit_log WHERE id = :id"), {"id": entry_id}
    ).one()
    assert row.actor_id is None
    assert row.actor_email == "ops@example.com"


def test_audit_action_must_be_known(conn: Connection) -> None:
    refused(
        conn,
        "INSERT INTO audit_log (actor_email, action, entity, entity_id) "
        "VALUES ('x', 'drop', 'client', '1')",
        "ck_audit_log_action",
    )


# --- anka_valid_document agrees with core.documents --------------------------------------

DOCUMENT_SAMPLES = [
    ("52998224725", True),
    ("11144477735", True),
    ("11222333000181", True),
    ("12ABC34501DE35", True),
    ("52998224724", False),
    ("52998224715", False),
    ("11222333000182", False),
    ("12ABC34501DE36", False),
    ("12ABD34501DE35", False),
    ("12abc34501de35", False),
    ("12ABC34501DEA5", False),
    ("00000000000", False),
    ("99999999999", False),
    ("00000000000000", False),
    ("AAAAAAAAAAAAAA", False),
    ("529.982.247-25", False),
    ("11.222.333/0001-81", False),
    ("5299822472", False),
    ("529982247250", False),
    ("1122233300018", False),
    ("", False),
    ("52998224725\n", False),
    ("５２９９８２２４７２５", False),
]


def sql_valid_document(conn: Connection, doc: str) -> bool:
    return bool(conn.execute(text("SELECT anka_valid_document(:d)"), {"d": doc}).scalar_one())


@pytest.mark.parametrize(("doc", "expected"), DOCUMENT_SAMPLES)
def test_sql_and_python_document_rules_agree(conn: Connection, doc: str, expected: bool) -> None:
    assert sql_valid_document(conn, doc) is expected
    assert is_valid_document(doc) is expected


def test_sql_document_function_returns_null_for_null(conn: Connection) -> None:
    # STRICT: NULL in, NULL out, so "document IS NULL OR ..." lets clients have no document.
    assert conn.execute(text("SELECT anka_valid_document(NULL)")).scalar_one() is None


ALPHANUMERIC = string.digits + string.ascii_uppercase
SUFFIXES = [f"{n:02d}" for n in range(100)]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.text(alphabet=string.digits, min_size=9, max_size=9),
        st.text(alphabet=ALPHANUMERIC, min_size=12, max_size=12),
    )
)
def test_sql_and_python_accept_the_same_check_digits(conn: Connection, body: str) -> None:
    """For any body, try all 100 check-digit pairs: both sides accept exactly the same ones."""
    sql_valid = set(
        conn.execute(
            text(
                "SELECT s FROM unnest(CAST(:s AS text[])) AS s WHERE anka_valid_document(:b || s)"
            ),
            {"s": SUFFIXES, "b": body},
        ).scalars()
    )
    python_valid = {s for s in SUFFIXES if is_valid_document(body + s)}
    assert sql_valid == python_valid
    # One pair is right, unless the whole document would be a single repeated character.
    assert len(python_valid) == 1 or len(set(body)) == 1
