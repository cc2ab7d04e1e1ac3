"""Movements imports against the real PostgreSQL (rolled back): buys, sells and income in
one file, the no-oversell rule counting the file's earlier rows, income only for a held
asset, English headers, idempotent re-imports, and the allocations file still as buys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import UnitOfWork
from core.imports.report import ImportRejected, ImportReport
from core.market.demo import DemoMarketData
from core.models import Asset, AssetEvent, AuditEntry, Client, Movement
from core.services.allocations import add_allocation
from core.services.clients import create_client
from core.services.imports import commit_import, preview_import
from core.services.movements import add_sell
from core.services.principal import Principal
from tests.integration.test_allocations_service import fixed_clock

MakeUow = Callable[[], UnitOfWork]
D = Decimal
HEADER = (
    "Cliente;Ativo;Tipo;Data;Quantidade;Preço;Taxas;Tipo de provento;Valor bruto;Imposto retido"
)
EN_HEADER = "Client,Ticker,Kind,Date,Quantity,Price,Fees,Income type,Gross amount,Tax withheld"


def csv_file(header: str, *rows: str) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8")


@pytest.fixture
def demo() -> DemoMarketData:
    return DemoMarketData(clock=fixed_clock)


@pytest.fixture
def maria(make_uow: MakeUow, admin: Principal) -> int:
    return create_client(
        make_uow(),
        admin,
        {"name": "Maria", "email": "maria@example.com", "document": "52998224725"},
    ).id


def preview(
    make_uow: MakeUow, market: Any, actor: Principal, data: bytes, locale: str = "pt_BR"
) -> ImportReport:
    return preview_import(make_uow(), market, actor, "movements", "m.csv", data, locale)


def commit(
    make_uow: MakeUow, market: Any, actor: Principal, data: bytes, locale: str = "pt_BR"
) -> Any:
    return commit_import(make_uow(), market, actor, "movements", "m.csv", data, locale)


def reasons(report: ImportReport) -> dict[int, list[tuple[str | None, str, dict[str, Any]]]]:
    return {
        row.row: [(r.field, r.key, r.params) for r in row.reasons]
        for row in report.rows
        if not row.valid
    }


def ledger(make_uow: MakeUow) -> list[tuple[Any, ...]]:
    with make_uow() as uow:
        rows = uow.session.execute(
            select(
                Client.email,
                Asset.symbol,
                Movement.kind,
                Movement.date,
                Movement.quantity,
                Movement.price,
                Movement.fees,
                Movement.income_type,
                Movement.amount,
                Movement.tax,
            )
            .join(Client, Client.id == Movement.client_id)
            .join(Asset, Asset.id == Movement.asset_id)
            .order_by(Movement.date, Movement.id)
        )
        return [tuple(row) for row in rows]


def count(make_uow: MakeUow, model: type[Any]) -> int:
    with make_uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


FILE = csv_file(
    HEADER,
    "maria@example.com;petr4;compra;10/03/2025;100;30,50;4,90;;;",
    "529.982.247-25;PETR4.SA;Venda;02/06/2025;40;38,10;4,90;;;",
    "maria@example.com;PETR4.SA;PROVENTO;20/08/2025;;;;Dividendo;45,60;",
    "maria@example.com;PETR4.SA;provento;21/08/2025;;;;JCP;100;15",
)


def test_a_buy_a_partial_sell_and_income_import_every_row(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    report = preview(make_uow, demo, admin, FILE)
    assert report.ok, reasons(report)
    assert report.actions()["create"] == 4
    assert count(make_uow, Movement) == 0  # a preview writes nothing

    outcome = commit(make_uow, demo, admin, FILE)

    assert (outcome.created, outcome.updated, outcome.unchanged) == (4, 0, 0)
    assert ledger(make_uow) == [
        (
            "maria@example.com",
            "PETR4.SA",
            "buy",
            date(2025, 3, 10),
            D(100),
            D("30.5"),
            D("4.9"),
            None,
            D(0),
            D(0),
        ),
        (
            "maria@example.com",
            "PETR4.SA",
            "sell",
            date(2025, 6, 2),
            D(40),
            D("38.1"),
            D("4.9"),
            None,
            D(0),
            D(0),
        ),
        (
            "maria@example.com",
            "PETR4.SA",
            "income",
            date(2025, 8, 20),
            D(0),
            D(0),
            D(0),
            "dividend",
            D("45.6"),
            D(0),
        ),
        (
            "maria@example.com",
            "PETR4.SA",
            "income",
            date(2025, 8, 21),
            D(0),
            D(0),
            D(0),
            "jcp",
            D(100),
            D(15),
        ),
    ]
    with make_uow() as uow:
        after = uow.session.scalars(
            select(AuditEntry.after).where(AuditEntry.entity == "import")
        ).one()
    assert (after["kind"], after["created"], after["clients"]) == ("movements", 4, [maria])

    again = commit(make_uow, demo, admin, FILE)  # re-importing adds nothing
    assert (again.created, again.unchanged) == (0, 4)
    assert count(make_uow, Movement) == 4


def test_a_sell_beyond_what_is_held_counting_earlier_rows_is_refused_and_nothing_stored(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    add_allocation(
        make_uow(),
        demo,
        admin,
        maria,
        {"symbol": "PETR4.SA"},
        {"quantity": "100", "buy_price": "30", "buy_date": "2025-03-10"},
    )
    data = csv_file(
        HEADER,
        # Listed out of date order: the walk takes the 05/05 sell first.
        "maria@example.com;PETR4.SA;venda;06/05/2025;50;32;;;;",
        "maria@example.com;PETR4.SA;venda;05/05/2025;60;31;;;;",
        "maria@example.com;PETR4.SA;compra;07/05/2025;10;33;;;;",
        "maria@example.com;PETR4.SA;venda;08/05/2025;50;34;;;;",
    )
    report = preview(make_uow, demo, admin, data)
    assert reasons(report) == {
        2: [
            (
                "quantity",
                "validation.oversold",
                {
                    "quantity": "50",
                    "held": "40",
                    "date": "06/05/2025",
                    "quantity_en": "50",
                    "held_en": "40",
                    "date_iso": "2025-05-06",
                },
            )
        ]
    }  # judged without row 2, row 5 sells 50 of 40 + 10 bought on 07/05
    with pytest.raises(ImportRejected) as caught:
        commit(make_uow, demo, admin, data)
    assert list(reasons(caught.value.report)) == [2]
    assert count(make_uow, Movement) == 1  # the stored buy only
    with make_uow() as uow:
        assert not list(
            uow.session.scalars(select(AuditEntry).where(AuditEntry.entity == "import"))
        )


def test_sells_and_income_need_the_asset_held_in_the_store_or_earlier_in_the_file(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    data = csv_file(
        HEADER,
        "maria@example.com;VALE3.SA;provento;01/03/2025;;;;dividendo;10;",  # before the buy
        "maria@example.com;VALE3.SA;compra;10/03/2025;10;60;;;;",
        "maria@example.com;VALE3.SA;provento;11/03/2025;;;;rendimento;5;",
        "maria@example.com;ITUB4.SA;venda;11/03/2025;1;30;;;;",
        "maria@example.com;ITUB4.SA;compra;11/03/2025;1;30;;5;;",  # income cells on a buy
        "maria@example.com;VALE3.SA;troca;11/03/2025;1;30;;;;",
        "nobody@example.com;VALE3.SA;compra;11/03/2025;1;30;;;;",
    )
    report = preview(make_uow, demo, admin, data)
    found = reasons(report)
    assert found[2] == [("symbol", "validation.asset_not_held", {"symbol": "VALE3.SA"})]
    assert found[5] == [("symbol", "validation.asset_not_held", {"symbol": "ITUB4.SA"})]
    assert found[6] == [("income_type", "import.row.not_for_kind", {})]
    assert found[7] == [("kind", "import.row.kind", {})]
    assert found[8] == [("client", "import.row.client_not_found", {})]
    assert sorted(found) == [2, 5, 6, 7, 8]
    with pytest.raises(ImportRejected):
        commit(make_uow, demo, admin, data)
    assert count(make_uow, Movement) == 0
    assert count(make_uow, Asset) == 0


def test_english_headers_and_words(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    data = csv_file(
        EN_HEADER,
        "maria@example.com,PETR4.SA,Buy,2025-03-10,100,30.5,1.5,,,",
        "maria@example.com,PETR4.SA,sell,2025-03-11,100,31,1.5,,,",  # closes the position
        "maria@example.com,PETR4.SA,Income,2025-03-12,,,,Distribution,7.25,0.25",
    )
    outcome = commit(make_uow, demo, admin, data, "en")
    assert outcome.created == 3
    assert [row[2:] for row in ledger(make_uow)] == [
        ("buy", date(2025, 3, 10), D(100), D("30.5"), D("1.5"), None, D(0), D(0)),
        ("sell", date(2025, 3, 11), D(100), D(31), D("1.5"), None, D(0), D(0)),
        ("income", date(2025, 3, 12), D(0), D(0), D(0), "rendimento", D("7.25"), D("0.25")),
    ]


def test_the_allocations_file_still_imports_as_buys(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    data = csv_file(
        "Cliente;Ativo;Quantidade;Preço de compra;Data de compra",
        "maria@example.com;PETR4.SA;100;30,50;10/03/2025",
    )
    outcome = commit_import(make_uow(), demo, admin, "allocations", "a.csv", data, "pt_BR")
    assert outcome.created == 1
    assert ledger(make_uow) == [
        (
            "maria@example.com",
            "PETR4.SA",
            "buy",
            date(2025, 3, 10),
            D(100),
            D("30.5"),
            D(0),
            None,
            D(0),
            D(0),
        )
    ]
    # A movements file with that same buy recognises it.
    same = csv_file(HEADER, "maria@example.com;PETR4.SA;compra;10/03/2025;100;30,5;;;;")
    assert [row.action for row in preview(make_uow, demo, admin, same).rows] == ["unchanged"]


def test_a_stored_split_counts_for_shares_bought_in_the_file(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    joao = create_client(make_uow(), admin, {"name": "João", "email": "joao@example.com"}).id
    add_allocation(  # PETR4.SA is stored (held by João), with a 2-for-1 split on 01/04
        make_uow(),
        demo,
        admin,
        joao,
        {"symbol": "PETR4.SA"},
        {"quantity": "1", "buy_price": "30", "buy_date": "2025-03-03"},
    )
    with make_uow() as uow:
        petr = uow.assets.by_symbol("PETR4.SA")
        assert petr is not None
        uow.session.add(
            AssetEvent(
                asset_id=petr.id,
                kind="split",
                ex_date=date(2025, 4, 1),
                ratio=D(2),
                value=D(0),
                source="admin",
            )
        )
        uow.commit()
    data = csv_file(
        HEADER,
        "maria@example.com;PETR4.SA;venda;05/04/2025;20;16;;;;",  # 10 bought became 20
        "maria@example.com;PETR4.SA;compra;10/03/2025;10;30;;;;",
        "maria@example.com;PETR4.SA;venda;06/04/2025;1;16;;;;",  # one more than held
    )
    report = preview(make_uow, demo, admin, data)
    assert list(reasons(report)) == [4]
    assert reasons(report)[4][0][1:] == (
        "validation.oversold",
        {
            "quantity": "1",
            "held": "0",
            "date": "06/04/2025",
            "quantity_en": "1",
            "held_en": "0",
            "date_iso": "2025-04-06",
        },
    )


def test_a_backdated_sell_that_uncovers_a_stored_later_sell_is_refused(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: int
) -> None:
    add_allocation(
        make_uow(),
        demo,
        admin,
        maria,
        {"symbol": "PETR4.SA"},
        {"quantity": "100", "buy_price": "30", "buy_date": "2025-03-10"},
    )
    add_sell(
        make_uow(),
        admin,
        maria,
        "PETR4.SA",
        {"quantity": "80", "price": "35", "date": "2025-05-10"},
    )
    data = csv_file(HEADER, "maria@example.com;PETR4.SA;venda;01/04/2025;30;32;;;;")
    report = preview(make_uow, demo, admin, data)
    ((field_name, key, params),) = reasons(report)[2]
    assert (field_name, key) == ("quantity", "validation.oversold_later")
    assert (params["quantity"], params["held"], params["date"]) == ("80", "70", "10/05/2025")
    with pytest.raises(ImportRejected):
        commit(make_uow, demo, admin, data)
    assert count(make_uow, Movement) == 2
