"""Imports against the real PostgreSQL (rolled back): preview, all-or-nothing commit, audit,
idempotent re-imports, matching stored clients, tickers checked against market data.

Market data is the real demo adapter on a fixed clock, or, for failures and call counting,
the small port-only adapter of the allocation tests.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select, text

from core.db import UnitOfWork, uow_factory
from core.errors import PermissionDenied
from core.imports.report import ImportOutcome, ImportRejected, ImportReport
from core.market.demo import DemoMarketData
from core.models import Asset, AuditEntry, Client, DailyReturn, Movement
from core.services.allocations import add_allocation
from core.services.clients import create_client
from core.services.exports import export
from core.services.imports import commit_import, preview_import
from core.services.principal import Principal
from tests.integration.test_allocations_service import FakeMarket, fixed_clock

MakeUow = Callable[[], UnitOfWork]
D = Decimal
CPF_MARIA = "52998224725"  # valid check digits
CPF_JOAO = "11144477735"
CNPJ_ACME = "11222333000181"
CLIENT_HEADER = "Nome;E-mail;CPF/CNPJ;Telefone;Situação;Observações"
LOT_HEADER = "Cliente;Ativo;Quantidade;Preço de compra;Data de compra"


def csv_file(header: str, *rows: str) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8")


@pytest.fixture
def demo() -> DemoMarketData:
    return DemoMarketData(clock=fixed_clock)


def preview(
    make_uow: MakeUow, market: Any, actor: Principal, kind: str, data: bytes
) -> ImportReport:
    return preview_import(make_uow(), market, actor, kind, f"{kind}.csv", data, "pt_BR")  # type: ignore[arg-type]


def commit(make_uow: MakeUow, market: Any, actor: Principal, kind: str, data: bytes) -> Any:
    return commit_import(make_uow(), market, actor, kind, f"{kind}.csv", data, "pt_BR")  # type: ignore[arg-type]


def rejected(
    make_uow: MakeUow, market: Any, actor: Principal, kind: str, data: bytes
) -> ImportReport:
    with pytest.raises(ImportRejected) as caught:
        commit(make_uow, market, actor, kind, data)
    return caught.value.report


def reasons(report: ImportReport) -> dict[int, list[tuple[str | None, str, dict[str, Any]]]]:
    return {
        row.row: [(r.field, r.key, r.params) for r in row.reasons]
        for row in report.rows
        if not row.valid
    }


def count(make_uow: MakeUow, model: type[Any], **where: Any) -> int:
    with make_uow() as uow:
        stmt = select(func.count()).select_from(model).filter_by(**where)
        return int(uow.session.scalar(stmt) or 0)


def stored_clients(make_uow: MakeUow) -> list[tuple[Any, ...]]:
    with make_uow() as uow:
        rows = uow.session.execute(
            select(
                Client.name,
                Client.email,
                Client.document,
                Client.phone,
                Client.status,
                Client.notes,
            ).order_by(Client.id)
        )
        return [tuple(row) for row in rows]


def import_audit(make_uow: MakeUow) -> list[tuple[str, str, str, Any, Any]]:
    stmt = select(AuditEntry).where(AuditEntry.entity == "import").order_by(AuditEntry.id)
    with make_uow() as uow:
        return [
            (e.action, e.entity_id, e.actor_email, e.before, e.after)
            for e in uow.session.scalars(stmt)
        ]


def stored_lots(make_uow: MakeUow) -> list[tuple[str, str, Decimal, Decimal, date]]:
    with make_uow() as uow:
        rows = uow.session.execute(
            select(
                Client.email,
                Asset.symbol,
                Movement.quantity,
                Movement.price,
                Movement.date,
            )
            .join(Client, Client.id == Movement.client_id)
            .join(Asset, Asset.id == Movement.asset_id)
            .order_by(Movement.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def refuse_at_the_database(make_uow: MakeUow, table: str, condition: str) -> None:
    """A constraint only this test has (rolled back with it): the database refuses a row
    the checks before the writes accepted, as a concurrent change or an unforeseen rule
    would."""
    with make_uow() as uow:
        uow.session.execute(
            text(f"ALTER TABLE {table} ADD CONSTRAINT ck_test_refuse CHECK ({condition})")
        )
        uow.commit()


# -- clients -------------------------------------------------------------------------------


CLIENTS = csv_file(
    CLIENT_HEADER,
    f"Maria Souza;maria@example.com;{CPF_MARIA};+55 11 98765-4321;Ativo;VIP",
    "João Lima;joao@example.com;;;Inativo;",
    "ACME Ltda;contato@acme.com.br;11.222.333/0001-81;;;",
)


def test_clients_preview_writes_nothing_then_commit_stores_them_and_audits_once(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData
) -> None:
    report = preview(make_uow, demo, admin, "clients", CLIENTS)

    assert report.ok
    assert [row.action for row in report.rows] == ["create", "create", "create"]
    assert report.actions() == {"create": 3, "update": 0, "unchanged": 0}
    assert count(make_uow, Client) == 0
    assert import_audit(make_uow) == []

    outcome = commit(make_uow, demo, admin, "clients", CLIENTS)

    assert (outcome.rows, outcome.created, outcome.updated, outcome.unchanged) == (3, 3, 0, 0)
    assert stored_clients(make_uow) == [
        ("Maria Souza", "maria@example.com", CPF_MARIA, "+55 11 98765-4321", "active", "VIP"),
        ("João Lima", "joao@example.com", None, None, "inactive", None),
        ("ACME Ltda", "contato@acme.com.br", CNPJ_ACME, None, "active", None),
    ]
    ((action, entity_id, actor, before, after),) = import_audit(make_uow)
    assert (action, entity_id, actor, before) == (
        "create",
        outcome.audit_entity_id,
        admin.email,
        None,
    )
    assert len(entity_id) == 64  # the file's SHA-256
    with make_uow() as uow:
        ids = list(uow.session.scalars(select(Client.id).order_by(Client.id)))
    assert after == {
        "kind": "clients",
        "file_name": "clients.csv",
        "rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "created_ids": ids,
        "updated_clients": [],
    }
    assert demo.calls["quotes"] == 0  # clients need no market data


def test_reimporting_the_same_clients_file_changes_nothing(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData
) -> None:
    first = commit(make_uow, demo, admin, "clients", CLIENTS)
    before = stored_clients(make_uow)

    report = preview(make_uow, demo, admin, "clients", CLIENTS)
    assert [row.action for row in report.rows] == ["unchanged"] * 3
    again = commit(make_uow, demo, admin, "clients", CLIENTS)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert stored_clients(make_uow) == before
    audit = import_audit(make_uow)
    assert [entry[1] for entry in audit] == [first.audit_entity_id] * 2  # same file, same id
    assert (audit[1][4]["created"], audit[1][4]["unchanged"]) == (0, 3)


def test_stored_clients_are_matched_by_document_then_e_mail_and_blank_cells_keep_values(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData
) -> None:
    maria = create_client(
        make_uow(),
        admin,
        {"name": "Maria", "email": "maria@old.example.com", "document": CPF_MARIA, "notes": "keep"},
    )
    joao = create_client(make_uow(), admin, {"name": "João Lima", "email": "joao@example.com"})
    ana = create_client(
        make_uow(), admin, {"name": "Ana", "email": "ana@example.com", "phone": "11 3333-4444"}
    )
    data = csv_file(
        CLIENT_HEADER,
        # Found by CPF: the e-mail changes, the blank notes cell keeps "keep".
        f"Maria Souza;maria@example.com;{CPF_MARIA};;;",
        # Found by e-mail (case ignored): gains a CPF.
        f"João Lima;JOAO@example.com;{CPF_JOAO};;;",
        # Found by e-mail, nothing differs.
        "Ana;ana@example.com;;11 3333-4444;Ativo;",
        "Bia;bia@example.com;;;;",
    )

    report = preview(make_uow, demo, admin, "clients", data)
    assert [row.action for row in report.rows] == ["update", "update", "unchanged", "create"]
    outcome = commit(make_uow, demo, admin, "clients", data)

    assert (outcome.created, outcome.updated, outcome.unchanged) == (1, 2, 1)
    assert stored_clients(make_uow) == [
        ("Maria Souza", "maria@example.com", CPF_MARIA, None, "active", "keep"),
        ("João Lima", "JOAO@example.com", CPF_JOAO, None, "active", None),
        ("Ana", "ana@example.com", None, "11 3333-4444", "active", None),
        ("Bia", "bia@example.com", None, None, "active", None),
    ]
    ((_, _, _, _, after),) = import_audit(make_uow)
    assert after["updated_clients"] == [
        {
            "id": maria.id,
            "before": {"name": "Maria", "email": "maria@old.example.com"},
            "after": {"name": "Maria Souza", "email": "maria@example.com"},
        },
        {
            "id": joao.id,
            "before": {"email": "joao@example.com", "document": None},
            "after": {"email": "JOAO@example.com", "document": CPF_JOAO},
        },
    ]
    assert ana.id not in after["created_ids"]


def test_keys_pointing_at_two_clients_are_refused_not_guessed(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData
) -> None:
    create_client(
        make_uow(), admin, {"name": "Maria", "email": "maria@example.com", "document": CPF_MARIA}
    )
    create_client(
        make_uow(), admin, {"name": "João", "email": "joao@example.com", "document": CPF_JOAO}
    )
    before = stored_clients(make_uow)
    data = csv_file(
        CLIENT_HEADER,
        f"Maria;joao@example.com;{CPF_MARIA};;;",  # Maria's CPF with João's e-mail
        f"Maria;maria@example.com;{CNPJ_ACME};;;",  # Maria's e-mail with another document
    )

    report = preview(make_uow, demo, admin, "clients", data)
    assert reasons(report) == {
        2: [("email", "import.row.email_other_client", {})],
        3: [("document", "import.row.document_differs", {})],
    }
    assert reasons(rejected(make_uow, demo, admin, "clients", data)) == reasons(report)
    assert stored_clients(make_uow) == before
    assert import_audit(make_uow) == []


def test_two_rows_matching_one_stored_client_are_refused(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData
) -> None:
    create_client(
        make_uow(), admin, {"name": "Maria", "email": "maria@example.com", "document": CPF_MARIA}
    )
    data = csv_file(
        CLIENT_HEADER,
        f"Maria Souza;maria.souza@example.com;{CPF_MARIA};;;",  # by CPF: a new e-mail
        "Maria S.;maria@example.com;;;;",  # by the old e-mail: the same client again
    )
    assert reasons(preview(make_uow, demo, admin, "clients", data)) == {
        3: [(None, "import.row.duplicate", {"row": 2})]
    }


def test_a_file_with_one_bad_row_stores_nothing(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData
) -> None:
    data = csv_file(
        CLIENT_HEADER,
        "Maria;maria@example.com;;;;",
        "João;joao@;;;;",
        "Ana;ana@example.com;;;;",
    )
    report = rejected(make_uow, demo, admin, "clients", data)
    assert reasons(report) == {3: [("email", "validation.email", {})]}
    assert report.valid_count == 2
    assert count(make_uow, Client) == 0
    assert import_audit(make_uow) == []


def test_a_row_the_database_refuses_while_writing_rolls_back_the_whole_import(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData
) -> None:
    create_client(make_uow(), admin, {"name": "Maria", "email": "maria@example.com"})
    refuse_at_the_database(make_uow, "clients", "email <> 'boom@example.com'")
    data = csv_file(
        CLIENT_HEADER,
        "Maria Souza;maria@example.com;;;;",  # an update, written first
        "Ana;ana@example.com;;;;",  # a creation, written second
        "Boom;boom@example.com;;;;",  # refused by the database, third
        "Bia;bia@example.com;;;;",
    )
    assert preview(make_uow, demo, admin, "clients", data).ok  # no check before writing sees it

    report = rejected(make_uow, demo, admin, "clients", data)

    assert reasons(report) == {4: [(None, "validation.rejected_by_database", {})]}
    assert stored_clients(make_uow) == [("Maria", "maria@example.com", None, None, "active", None)]
    assert import_audit(make_uow) == []


def test_an_update_the_database_refuses_rolls_back_the_whole_import(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData
) -> None:
    create_client(make_uow(), admin, {"name": "Maria", "email": "maria@example.com"})
    create_client(make_uow(), admin, {"name": "Ana", "email": "ana@example.com"})
    refuse_at_the_database(make_uow, "clients", "name <> 'Boom'")
    data = csv_file(
        CLIENT_HEADER,
        "Bia;bia@example.com;;;;",
        "Maria Souza;maria@example.com;;;;",
        "Boom;ana@example.com;;;;",
    )

    report = rejected(make_uow, demo, admin, "clients", data)

    assert reasons(report) == {4: [(None, "validation.rejected_by_database", {})]}
    assert stored_clients(make_uow) == [
        ("Maria", "maria@example.com", None, None, "active", None),
        ("Ana", "ana@example.com", None, None, "active", None),
    ]
    assert import_audit(make_uow) == []


def test_read_only_can_neither_preview_nor_commit(
    make_uow: MakeUow, reader: Principal, demo: DemoMarketData
) -> None:
    with pytest.raises(PermissionDenied):
        preview(make_uow, demo, reader, "clients", CLIENTS)
    with pytest.raises(PermissionDenied):
        commit(make_uow, demo, reader, "clients", CLIENTS)
    assert count(make_uow, Client) == 0
    assert count(make_uow, AuditEntry) == 0


def test_a_file_that_cannot_be_read_is_reported_without_touching_anything(
    make_uow: MakeUow, admin: Principal
) -> None:
    market = FakeMarket()
    report = preview_import(
        make_uow(), market, admin, "allocations", "l.csv", b"%PDF-1.7\n", "pt_BR"
    )
    assert [(r.key, r.params) for r in report.file_errors] == [("import.file.type", {})]
    assert report.rows == []
    with pytest.raises(ImportRejected):
        commit_import(make_uow(), market, admin, "allocations", "l.csv", b"%PDF-1.7\n", "pt_BR")
    assert market.calls == []


# -- allocations ---------------------------------------------------------------------------


@pytest.fixture
def maria(make_uow: MakeUow, admin: Principal) -> int:
    return create_client(
        make_uow(), admin, {"name": "Maria", "email": "maria@example.com", "document": CPF_MARIA}
    ).id


LOTS = csv_file(
    LOT_HEADER,
    "maria@example.com;petr4.sa;100;30,50;10/03/2025",
    "529.982.247-25;VALE3.SA;1.000;62,1;2025-03-12",  # the same client by CPF; 1.000 = 1000
    "MARIA@example.com;PETR4.SA;0,5;31;2025-03-11",
)


def test_allocations_create_assets_from_market_data_and_lots_and_audit_once(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    with make_uow() as uow:  # stored figures from before and after the earliest new lot
        for day in (date(2025, 3, 7), date(2025, 3, 10), date(2025, 3, 12)):
            uow.session.add(
                DailyReturn(
                    client_id=maria,
                    date=day,
                    market_value=D(1),
                    flow_in=D(0),
                    daily_return=D(0),
                    cumulative_twr=D(0),
                )
            )
        uow.commit()

    report = preview(make_uow, demo, admin, "allocations", LOTS)
    assert report.ok
    assert report.actions()["create"] == 3
    assert count(make_uow, Asset) == 0  # the preview creates nothing

    outcome = commit(make_uow, demo, admin, "allocations", LOTS)

    assert (outcome.created, outcome.updated, outcome.unchanged) == (3, 0, 0)
    assert stored_lots(make_uow) == [
        ("maria@example.com", "PETR4.SA", D("100"), D("30.5"), date(2025, 3, 10)),
        ("maria@example.com", "VALE3.SA", D("1000"), D("62.1"), date(2025, 3, 12)),
        ("maria@example.com", "PETR4.SA", D("0.5"), D("31"), date(2025, 3, 11)),
    ]
    with make_uow() as uow:
        petr = uow.assets.by_symbol("PETR4.SA")
        assert petr is not None
        assert (petr.name, petr.exchange, petr.currency, petr.first_trade_date) == (
            "Petróleo Brasileiro S.A. - Petrobras",
            "São Paulo",
            "BRL",
            date(2015, 1, 2),
        )
        planted = select(DailyReturn.date).where(
            DailyReturn.client_id == maria, DailyReturn.market_value == D(1)
        )
        figures = list(uow.session.scalars(planted))
        lot_ids = list(uow.session.scalars(select(Movement.id).order_by(Movement.id)))
    # From the earliest new buy date on, the stored figures were dropped (or recomputed).
    assert figures == [date(2025, 3, 7)]
    ((action, _, _, _, after),) = import_audit(make_uow)
    assert action == "create"
    assert after == {
        "kind": "allocations",
        "file_name": "allocations.csv",
        "rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "created_ids": lot_ids,
        "clients": [maria],
    }
    assert count(make_uow, AuditEntry, entity="allocation") == 0  # one entry for the import


def test_reimporting_allocations_adds_nothing_and_recognises_lots_stored_by_hand(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    add_allocation(
        make_uow(),
        demo,
        admin,
        maria,
        {"symbol": "PETR4.SA"},
        {"quantity": "100", "buy_price": "30.5", "buy_date": "2025-03-10"},
    )
    quotes_before = demo.calls["quotes"]

    first = commit(make_uow, demo, admin, "allocations", LOTS)
    assert (first.created, first.unchanged) == (2, 1)  # "100;30,50" is the stored 100 @ 30.5
    again = preview(make_uow, demo, admin, "allocations", LOTS)
    assert [row.action for row in again.rows] == ["unchanged"] * 3
    second = commit(make_uow, demo, admin, "allocations", LOTS)

    assert (second.created, second.unchanged) == (0, 3)
    assert count(make_uow, Movement) == 3
    assert count(make_uow, Asset) == 2
    # Only VALE3.SA was new, asked once by the first commit (and not by its preview here).
    assert demo.calls["quotes"] == quotes_before + 1


def test_unknown_tickers_are_reported_per_row_and_never_created(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    data = csv_file(
        LOT_HEADER,
        "maria@example.com;PETR4.SA;100;30;10/03/2025",
        "maria@example.com;NOPE3.SA;10;5;10/03/2025",
        "maria@example.com;NOPE3.SA;20;5;11/03/2025",
    )
    expected = {
        3: [("symbol", "validation.symbol_unknown", {"symbol": "NOPE3.SA"})],
        4: [("symbol", "validation.symbol_unknown", {"symbol": "NOPE3.SA"})],
    }
    assert reasons(preview(make_uow, demo, admin, "allocations", data)) == expected
    assert reasons(rejected(make_uow, demo, admin, "allocations", data)) == expected
    assert count(make_uow, Asset) == 0
    assert count(make_uow, Movement) == 0


def test_bare_b3_codes_are_imported_on_their_b3_listings(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    data = csv_file(
        LOT_HEADER,
        "maria@example.com;PETR4;100;30,50;10/03/2025",
        "maria@example.com;vale3;10;62,1;11/03/2025",
        "maria@example.com;PETR4.SA;5;31;12/03/2025",  # the same asset as row 2
        "maria@example.com;nope3;1;5;12/03/2025",
    )
    unknown = {5: [("symbol", "validation.symbol_unknown", {"symbol": "NOPE3.SA"})]}
    assert reasons(preview(make_uow, demo, admin, "allocations", data)) == unknown

    outcome = commit(make_uow, demo, admin, "allocations", data[: data.rindex(b"maria")])

    assert outcome.created == 3
    assert stored_lots(make_uow) == [
        ("maria@example.com", "PETR4.SA", D("100"), D("30.5"), date(2025, 3, 10)),
        ("maria@example.com", "VALE3.SA", D("10"), D("62.1"), date(2025, 3, 11)),
        ("maria@example.com", "PETR4.SA", D("5"), D("31"), date(2025, 3, 12)),
    ]
    with make_uow() as uow:
        assert sorted(uow.session.scalars(select(Asset.symbol))) == ["PETR4.SA", "VALE3.SA"]
    again = preview(make_uow, demo, admin, "allocations", data[: data.rindex(b"maria")])
    assert [row.action for row in again.rows] == ["unchanged"] * 3


def test_market_data_down_is_not_called_an_unknown_ticker(
    make_uow: MakeUow, admin: Principal, maria: int
) -> None:
    market = FakeMarket({"PETR4.SA": ("33", "32", "BRL")}, failed={"VALE3.SA": "rate_limited"})
    report = preview(make_uow, market, admin, "allocations", LOTS)
    assert reasons(report) == {3: [("symbol", "market.failed.rate_limited", {})]}


def test_new_tickers_are_checked_in_one_batched_call_and_held_ones_not_at_all(
    make_uow: MakeUow, admin: Principal, maria: int
) -> None:
    prices = {s: ("10", "10", "BRL") for s in ("PETR4.SA", "VALE3.SA", "ITUB4.SA")}
    market = FakeMarket(prices)
    add_allocation(
        make_uow(),
        market,
        admin,
        maria,
        {"symbol": "ITUB4.SA"},
        {"quantity": "1", "buy_price": "1", "buy_date": "2025-01-02"},
    )
    market.calls.clear()
    data = csv_file(
        LOT_HEADER,
        *(
            f"maria@example.com;{s};{q};10;10/03/2025"
            for q, s in enumerate(["VALE3.SA", "ITUB4.SA", "PETR4.SA", "VALE3.SA"], 1)
        ),
    )

    preview(make_uow, market, admin, "allocations", data)
    assert market.calls == [["PETR4.SA", "VALE3.SA"]]
    commit(make_uow, market, admin, "allocations", data)
    assert market.calls == [["PETR4.SA", "VALE3.SA"]] * 2
    assert count(make_uow, Movement) == 5


def test_allocation_rows_follow_the_allocation_services_rules(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    data = csv_file(
        LOT_HEADER,
        "maria@example.com;PETR4.SA;100;30;31/12/2014",  # before the demo's first trading day
        "ninguem@example.com;PETR4.SA;100;30;10/03/2025",
        "111.444.777-35;PETR4.SA;100;30;10/03/2025",  # a valid CPF nobody has
        "maria@example.com;PETR4.SA;100;30;10/03/2025",
        f"{CPF_MARIA};PETR4.SA;100,00;30,00;2025-03-10",  # the row above, by CPF
    )
    assert reasons(preview(make_uow, demo, admin, "allocations", data)) == {
        2: [("buy_date", "validation.before_first_trade", {"date": "2015-01-02"})],
        3: [("client", "import.row.client_not_found", {})],
        4: [("client", "import.row.client_not_found", {})],
        6: [(None, "import.row.duplicate", {"row": 5})],
    }
    assert count(make_uow, Asset) == 0


def test_a_lot_the_database_refuses_rolls_back_the_new_assets_too(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    refuse_at_the_database(make_uow, "movements", "quantity <> 7")
    data = csv_file(
        LOT_HEADER,
        "maria@example.com;PETR4.SA;100;30;10/03/2025",
        "maria@example.com;VALE3.SA;7;60;10/03/2025",
    )

    report = rejected(make_uow, demo, admin, "allocations", data)

    assert reasons(report) == {3: [(None, "validation.rejected_by_database", {})]}
    assert count(make_uow, Asset) == 0
    assert count(make_uow, Movement) == 0
    assert import_audit(make_uow) == []


# -- two admins importing the same file at once (real commits) ------------------------------


def test_the_same_file_imported_twice_at_once_is_stored_once(
    committed_engine: Engine, admin: Principal, demo: DemoMarketData
) -> None:
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def worker(index: int) -> None:
        uow = UnitOfWork(uow_factory(committed_engine))
        try:
            barrier.wait(timeout=10)
            results[index] = commit_import(uow, demo, admin, "clients", "c.csv", CLIENTS, "pt_BR")
        except Exception as exc:  # collected and asserted on below
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # The imports take turns (advisory lock): the second finds the first's clients.
    outcomes = sorted((r.created, r.unchanged) for r in results if isinstance(r, ImportOutcome))
    assert outcomes == [(0, 3), (3, 0)], results
    with committed_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM clients")).scalar() == 3
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 2


@pytest.mark.parametrize("locale", ["pt_BR", "en"])
def test_an_exported_clients_csv_edited_and_imported_back(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, locale: str
) -> None:
    create_client(
        make_uow(),
        admin,
        {"name": "Maria Lima", "email": "maria@example.com", "document": CPF_MARIA},
    )
    create_client(
        make_uow(),
        admin,
        {"name": "João Souza", "email": "joao@example.com", "phone": "+55 11 98765-4321"},
    )
    out = io.BytesIO()
    export(make_uow(), None, admin, [{"dataset": "clients"}], "csv", out, locale)
    exported = out.getvalue()
    assert "'+55 11 98765-4321" in exported.decode("utf-8-sig")  # neutralised on the way out

    # As exported: ID and timestamps skipped, the quote dropped, nothing to change.
    again = commit_import(make_uow(), demo, admin, "clients", "c.csv", exported, locale)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert ("João Souza", "joao@example.com", None, "+55 11 98765-4321") in [
        row[:4] for row in stored_clients(make_uow)
    ]

    # Edited in a spreadsheet: Maria's name corrected, a formula typed into a note.
    text = exported.decode("utf-8-sig").replace("Maria Lima", "Maria Lima Costa")
    edited = commit_import(
        make_uow(), demo, admin, "clients", "c.csv", text.encode("utf-8-sig"), locale
    )
    assert (edited.created, edited.updated, edited.unchanged) == (0, 1, 1)
    assert stored_clients(make_uow)[0][0] == "Maria Lima Costa"
    separator = ";" if locale == "pt_BR" else ","
    header, *rows = text.splitlines()
    tainted = rows[0].split(separator)
    tainted[1] = '\'=HYPERLINK("http://x")'
    bad = "\r\n".join([header, separator.join(tainted), *rows[1:]]).encode("utf-8-sig")
    report = preview_import(make_uow(), demo, admin, "clients", "c.csv", bad, locale)
    assert [r.key for row in report.rows for r in row.reasons] == ["validation.formula"]


UNICODE_SPACES = ["\u00a0", "\u2003", "\u3000", "\u205f", "\u2028"]


@pytest.mark.parametrize("space", UNICODE_SPACES, ids=["nbsp", "em", "ideographic", "mmsp", "ls"])
@pytest.mark.parametrize("start", ["=", "@", "+", "-"])
def test_a_formula_behind_a_unicode_space_is_refused_and_nothing_is_stored(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, space: str, start: str
) -> None:
    formula = f'{space}{start}HYPERLINK("http://evil.example","clique")'
    data = csv_file(
        CLIENT_HEADER,
        f"{formula};maria@example.com;;;;",
        f"Ana;ana@example.com;;{space}+55 11 98765-4321;;{formula}",
    )
    report = preview(make_uow, demo, admin, "clients", data)
    assert reasons(report) == {
        2: [("name", "validation.formula", {})],
        3: [("notes", "validation.formula", {})],
    }
    rejected(make_uow, demo, admin, "clients", data)
    assert stored_clients(make_uow) == []


def test_a_note_marked_as_text_survives_the_round_trip(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData
) -> None:
    # The spreadsheet convention ('- text) marks a leading sign as text: stored as text,
    # exported with the quote again, imported back unchanged; a formula stays refused.
    data = csv_file(CLIENT_HEADER, "Ana;ana@example.com;;;;'- ligar na segunda")
    assert commit(make_uow, demo, admin, "clients", data).created == 1
    assert stored_clients(make_uow)[0][5] == "- ligar na segunda"
    out = io.BytesIO()
    export(make_uow(), None, admin, [{"dataset": "clients"}], "csv", out, "pt_BR")
    assert "'- ligar na segunda" in out.getvalue().decode("utf-8-sig")
    again = commit_import(make_uow(), demo, admin, "clients", "c.csv", out.getvalue(), "pt_BR")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    unquoted = csv_file(CLIENT_HEADER, "Ana;ana@example.com;;;;- ligar na segunda")
    assert reasons(preview(make_uow, demo, admin, "clients", unquoted)) == {
        2: [("notes", "validation.formula", {})]
    }


def test_an_allocations_workbook_whose_cpf_lost_its_leading_zero_finds_the_client(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData
) -> None:
    ana = create_client(
        make_uow(), admin, {"name": "Ana", "email": "ana@example.com", "document": "01000000028"}
    )
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(LOT_HEADER.split(";"))
    sheet.append([1000000028, "PETR4.SA", 100, 30.5, date(2025, 3, 10)])  # Excel dropped the 0
    buffer = io.BytesIO()
    workbook.save(buffer)

    outcome = commit_import(
        make_uow(), demo, admin, "allocations", "lots.xlsx", buffer.getvalue(), "pt_BR"
    )

    assert outcome.created == 1
    assert stored_lots(make_uow) == [
        ("ana@example.com", "PETR4.SA", D("100"), D("30.5"), date(2025, 3, 10))
    ]
    assert ana.id
