"""The ledger and positions exports against the real PostgreSQL (rolled back), hand-checked
in CSV and Excel, with the tiny fixed-quote market of the export tests (PETR4.SA at 33.00
after a 32.00 close)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.db import UnitOfWork
from core.errors import ValidationFailed
from core.models import Asset, Movement
from core.schemas import ClientOut
from core.services.clients import create_client
from core.services.exports import check_queries
from core.services.principal import Principal
from tests.integration.test_exports_service import QuotesOnly, csv_rows, export_entries, run

MakeUow = Callable[[], UnitOfWork]
D = Decimal
Book = dict[str, ClientOut]


@pytest.fixture
def ledger_book(make_uow: MakeUow, admin: Principal) -> Book:
    """Ana buys 100 PETR4 at 30.00 (fees 10.00), sells 40 at 35.00 (fees 5.00) and gets a
    50.00 dividend; Bruno buys 50 at 25.00; João has no ledger."""
    ana = create_client(make_uow(), admin, {"name": "Ana Lima", "email": "ana@example.com"})
    bruno = create_client(make_uow(), admin, {"name": "Bruno Dias", "email": "bruno@example.com"})
    joao = create_client(make_uow(), admin, {"name": "João Gonçalves", "email": "joao@example.com"})
    with make_uow() as uow:
        petr = Asset(symbol="PETR4.SA", name="Petrobras PN", currency="BRL")
        uow.session.add(petr)
        uow.session.flush()
        trade = {"asset_id": petr.id}
        uow.session.add_all(
            [
                Movement(
                    client_id=ana.id,
                    kind="buy",
                    quantity=D(100),
                    price=D("30.00"),
                    fees=D("10.00"),
                    date=date(2026, 1, 5),
                    **trade,
                ),
                Movement(
                    client_id=ana.id,
                    kind="sell",
                    quantity=D(40),
                    price=D("35.00"),
                    fees=D("5.00"),
                    date=date(2026, 2, 2),
                    **trade,
                ),
                Movement(
                    client_id=ana.id,
                    kind="income",
                    quantity=D(0),
                    price=D(0),
                    income_type="dividend",
                    amount=D("50.00"),
                    tax=D(0),
                    date=date(2026, 2, 10),
                    **trade,
                ),
                Movement(
                    client_id=bruno.id,
                    kind="buy",
                    quantity=D(50),
                    price=D("25.00"),
                    date=date(2026, 3, 2),
                    **trade,
                ),
            ]
        )
        uow.commit()
    return {"ana": ana, "bruno": bruno, "joao": joao}


def test_the_ledger_as_csv_in_pt_br_and_filtered_by_client(
    make_uow: MakeUow, admin: Principal, ledger_book: Book
) -> None:
    result, raw = run(make_uow, admin, [{"dataset": "ledger"}])
    header, *rows = csv_rows(raw)
    assert result.rows == {"ledger": 4}
    assert header == [
        "Cliente",
        "E-mail do cliente",
        "Data",
        "Tipo",
        "Ativo",
        "Moeda",
        "Quantidade",
        "Preço",
        "Taxas",
        "Tipo de provento",
        "Valor bruto",
        "Imposto retido",
    ]
    ana = ["Ana Lima", "ana@example.com"]
    assert rows == [
        [*ana, "05/01/2026", "Compra", "PETR4.SA", "BRL", "100", "30,00", "10,00", "", "", ""],
        [*ana, "02/02/2026", "Venda", "PETR4.SA", "BRL", "40", "35,00", "5,00", "", "", ""],
        [
            *ana,
            "10/02/2026",
            "Provento",
            "PETR4.SA",
            "BRL",
            "",
            "",
            "",
            "Dividendo",
            "50,00",
            "0,00",
        ],
        [
            "Bruno Dias",
            "bruno@example.com",
            "02/03/2026",
            "Compra",
            "PETR4.SA",
            "BRL",
            "50",
            "25,00",
            "0,00",
            "",
            "",
            "",
        ],
    ]
    only_bruno = [{"dataset": "ledger", "client_id": ledger_book["bruno"].id}]
    result, raw = run(make_uow, admin, only_bruno, locale="en")
    header, *rows = csv_rows(raw, "en")
    assert header[2:4] == ["Date", "Kind"]
    assert rows == [
        [
            "Bruno Dias",
            "bruno@example.com",
            "2026-03-02",
            "Buy",
            "PETR4.SA",
            "BRL",
            "50",
            "25.00",
            "0.00",
            "",
            "",
            "",
        ]
    ]
    assert result.file_name.startswith(f"anka-ledger-client-{ledger_book['bruno'].id}-")
    assert export_entries(make_uow)[-1]["after"]["datasets"] == [
        {"dataset": "ledger", "filters": {"client_id": ledger_book["bruno"].id}, "rows": 1}
    ]


def test_positions_as_csv_hand_checked(
    make_uow: MakeUow, admin: Principal, ledger_book: Book
) -> None:
    market = QuotesOnly()
    result, raw = run(make_uow, admin, [{"dataset": "positions"}], market=market)
    header, *rows = csv_rows(raw)
    assert result.rows == {"positions": 2}  # João has no ledger: no row
    assert market.calls == [["PETR4.SA"], ["PETR4.SA"]]  # one batched call per client
    assert header[:8] == [
        "Cliente",
        "E-mail do cliente",
        "Ativo",
        "Nome",
        "Moeda",
        "Quantidade",
        "Preço médio",
        "Preço atual",
    ]
    # Ana: paid 100 x 30 + 10 = 3010, preço médio 30.10; the sell of 40 at 35 (fees 5)
    # realises 40 x (35 - 30.10) - 5 = 191 and leaves 60 costing 1806; at 33.00 they are
    # worth 1980 (unrealised 174); total return 1980 + 1395 sold + 50 income - 3010 = 415,
    # 415 / 3010 = 13.7874%; her only position: weight 100%.
    assert rows[0] == [
        "Ana Lima",
        "ana@example.com",
        "PETR4.SA",
        "Petrobras PN",
        "BRL",
        "60",
        "30,10",
        "33,00",
        "1980,00",
        "174,00",
        "191,00",
        "50,00",
        "415,00",
        "13,7874%",
        "1980,00",
        "100,0000%",
        "",
    ]
    # Bruno: 50 at 25.00, worth 1650 at 33.00: +400 (32%).
    assert rows[1] == [
        "Bruno Dias",
        "bruno@example.com",
        "PETR4.SA",
        "Petrobras PN",
        "BRL",
        "50",
        "25,00",
        "33,00",
        "1650,00",
        "400,00",
        "0,00",
        "0,00",
        "400,00",
        "32,0000%",
        "1650,00",
        "100,0000%",
        "",
    ]


def test_ledger_and_positions_workbook_has_typed_cells(
    make_uow: MakeUow, admin: Principal, ledger_book: Book
) -> None:
    ana = ledger_book["ana"].id
    queries = [{"dataset": "ledger", "client_id": ana}, {"dataset": "positions", "client_id": ana}]
    result, raw = run(make_uow, admin, queries, fmt="xlsx", market=QuotesOnly())
    workbook = load_workbook(io.BytesIO(raw))
    assert result.rows == {"ledger": 3, "positions": 1}
    assert workbook.sheetnames == ["Resumo", "Extrato", "Posições"]
    buy, sell, income = (list(row) for row in workbook["Extrato"].iter_rows(min_row=2))
    assert buy[2].value == datetime(2026, 1, 5)
    assert buy[3].value == "Compra"
    assert buy[6].value == 100
    assert buy[7].value == 30
    assert buy[7].number_format == "[$R$-416] #,##0.00######"
    assert buy[8].value == 10
    assert buy[8].number_format == "[$R$-416] #,##0.00"
    assert sell[6].value == 40
    assert (income[6].value, income[7].value, income[8].value) == (None, None, None)
    assert (income[9].value, income[10].value, income[11].value) == ("Dividendo", 50, 0)
    (petr,) = (list(row) for row in workbook["Posições"].iter_rows(min_row=2))
    assert petr[5].value == 60
    assert petr[6].value == pytest.approx(30.1)
    assert petr[6].number_format == "[$R$-416] #,##0.00######"
    assert [petr[i].value for i in (8, 9, 10, 11, 12)] == [1980, 174, 191, 50, 415]
    assert petr[13].value == pytest.approx(415 / 3010)
    assert petr[13].number_format == "0.00%"
    assert petr[15].value == 1


def test_the_new_datasets_take_a_client_filter_only() -> None:
    assert check_queries([{"dataset": "ledger", "client_id": 3}], "csv")
    assert check_queries([{"dataset": "positions"}], "xlsx")
    with pytest.raises(ValidationFailed):
        check_queries([{"dataset": "positions", "search": "ana"}], "csv")
