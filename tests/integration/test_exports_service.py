"""Export use cases against the real PostgreSQL (rolled back): what each dataset holds,
hand-checked, in CSV and Excel, the filters, the role check, validation and the audit entry.

Market data is a tiny adapter with hand-picked quotes (PETR4.SA at 33.00 after a 32.00
close; AAPL not found), so every live figure below can be checked by hand.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from core.db import UnitOfWork
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.market.port import HistoryBatch, Quote, QuoteBatch, SearchResult
from core.models import Asset, AuditEntry, DailyReturn, Movement, PortfolioMetric
from core.repositories import exports as export_rows
from core.schemas import ClientOut
from core.services.clients import create_client
from core.services.exports import ExportResult, check_queries, daily_rows, export, file_name
from core.services.principal import Principal

MakeUow = Callable[[], UnitOfWork]
D = Decimal
NOW = datetime(2026, 3, 10, 21, 45, tzinfo=UTC)  # 18:45 in São Paulo


class QuotesOnly:
    """Answers ``quotes()`` from fixed prices; AAPL is not found. Counts calls."""

    name = "yahoo"  # stands in for the live source: the summary labels its quotes

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def search(self, query: str, limit: int = 10) -> SearchResult:
        raise AssertionError("not expected")

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        raise AssertionError("not expected")

    def quotes(self, symbols: list[str]) -> QuoteBatch:
        self.calls.append(list(symbols))
        batch = QuoteBatch()
        for symbol in symbols:
            if symbol == "PETR4.SA":
                batch.quotes[symbol] = Quote(symbol, D("33.00"), D("32.00"), "BRL", NOW, "fake")
            else:
                batch.failed[symbol] = "not_found"
        return batch


Book = dict[str, ClientOut]


@pytest.fixture
def book(make_uow: MakeUow, admin: Principal) -> Book:
    """Three clients; Ana holds PETR4 and AAPL, Bruno (inactive) PETR4, João nothing."""
    ana = create_client(
        make_uow(),
        admin,
        {
            "name": "Ana Lima",
            "email": "ana@example.com",
            "document": "529.982.247-25",
            "phone": "+55 11 98888-7777",
        },
    )
    with make_uow() as uow:
        # Stored before the forms refused formula-like text: the export must still defuse it.
        uow.session.execute(
            text("UPDATE clients SET notes = :notes WHERE id = :id"),
            {"notes": '=HYPERLINK("http://evil.example","clique")', "id": ana.id},
        )
        uow.commit()
    bruno = create_client(
        make_uow(),
        admin,
        {"name": "Bruno Dias", "email": "bruno@example.com", "status": "inactive"},
    )
    joao = create_client(make_uow(), admin, {"name": "João Gonçalves", "email": "joao@example.com"})
    with make_uow() as uow:
        petr = Asset(symbol="PETR4.SA", name="Petrobras PN", currency="BRL")
        aapl = Asset(symbol="AAPL", name="Apple Inc.", currency="USD")
        uow.session.add_all([petr, aapl])
        uow.session.flush()
        uow.session.add_all(
            [
                Movement(
                    client_id=ana.id,
                    asset_id=petr.id,
                    quantity=D(100),
                    price=D("30.00"),
                    date=date(2026, 1, 5),
                ),
                Movement(
                    client_id=ana.id,
                    asset_id=aapl.id,
                    quantity=D(10),
                    price=D("150.00"),
                    date=date(2026, 2, 2),
                ),
                Movement(
                    client_id=bruno.id,
                    asset_id=petr.id,
                    quantity=D(50),
                    price=D("25.00"),
                    date=date(2026, 3, 2),
                ),
            ]
        )
        series = [  # date, market value, net flow, daily return, cumulative TWR
            (ana.id, date(2026, 1, 5), "3000", "3000", "0", "0"),
            (ana.id, date(2026, 1, 6), "3150", "0", "0.05", "0.05"),
            (ana.id, date(2026, 1, 7), "3087", "0", "-0.02", "0.029"),
            (ana.id, date(2026, 2, 2), "4700", "1500", "0.024634837", "0.054349247"),
            (bruno.id, date(2026, 3, 2), "1250", "1250", "0", "0"),
        ]
        uow.session.add_all(
            DailyReturn(
                client_id=cid,
                date=day,
                market_value=D(mv),
                flow_in=D(flow),
                daily_return=D(r),
                cumulative_twr=D(twr),
            )
            for cid, day, mv, flow, r, twr in series
        )
        uow.session.add_all(
            [
                PortfolioMetric(
                    client_id=ana.id,
                    as_of=date(2026, 2, 1),
                    market_value=D("3087"),
                    invested=D("3000"),
                    accumulated_return=D("0.029"),
                    twr=D("0.029"),
                    irr=D("0.5"),
                ),
                PortfolioMetric(
                    client_id=ana.id,
                    as_of=date(2026, 2, 2),
                    market_value=D("4700"),
                    invested=D("4500"),
                    accumulated_return=D("0.044444444444"),
                    twr=D("0.054349247"),
                    irr=None,
                ),
            ]
        )
        uow.commit()
    return {"ana": ana, "bruno": bruno, "joao": joao}


def run(
    make_uow: MakeUow,
    actor: Principal,
    queries: list[dict[str, Any]],
    fmt: str = "csv",
    locale: str = "pt_BR",
    market: QuotesOnly | None = None,
) -> tuple[ExportResult, bytes]:
    out = io.BytesIO()
    result = export(make_uow(), market, actor, queries, fmt, out, locale, now=NOW)
    return result, out.getvalue()


def csv_rows(raw: bytes, locale: str = "pt_BR") -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    return list(
        csv.reader(io.StringIO(text, newline=""), delimiter=";" if locale == "pt_BR" else ",")
    )


def export_entries(make_uow: MakeUow) -> list[dict[str, Any]]:
    """The export audit entries, oldest first, read while their session is open."""
    with make_uow() as uow:
        stmt = select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id)
        return [
            {
                "action": e.action,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "actor_email": e.actor_email,
                "before": e.before,
                "after": e.after,
            }
            for e in uow.session.scalars(stmt)
        ]


# -- clients --------------------------------------------------------------------------------


def test_clients_csv_in_pt_br(make_uow: MakeUow, admin: Principal, book: Book) -> None:
    result, raw = run(make_uow, admin, [{"dataset": "clients"}])
    header, *rows = csv_rows(raw)

    assert result.rows == {"clients": 3}
    assert result.mime == "text/csv"
    assert result.file_name == "anka-clients-20260310-1845.csv"
    assert header == [
        "Código",
        "Nome",
        "E-mail",
        "CPF/CNPJ",
        "Telefone",
        "Situação",
        "Observações",
        "Criado em",
        "Atualizado em",
    ]
    assert [r[1] for r in rows] == ["Ana Lima", "Bruno Dias", "João Gonçalves"]
    ana = rows[0]
    assert ana[0] == str(book["ana"].id)
    assert ana[3] == "529.982.247-25"  # formatted: stays text in Excel, keeps leading zeros
    assert ana[4] == "'+55 11 98888-7777"  # a leading + would start a formula
    assert ana[5] == "Ativo"
    assert ana[6] == '\'=HYPERLINK("http://evil.example","clique")'
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", ana[7])
    assert rows[1][5] == "Inativo"
    assert rows[2][3] == ""
    assert rows[2][6] == ""


def test_clients_follow_the_list_filters(make_uow: MakeUow, admin: Principal, book: Book) -> None:
    _result, raw = run(make_uow, admin, [{"dataset": "clients", "status": "active"}])
    assert [r[1] for r in csv_rows(raw)[1:]] == ["Ana Lima", "João Gonçalves"]

    # The same matching as the clients list: accents and case folded, CPF with punctuation.
    _result, raw = run(make_uow, admin, [{"dataset": "clients", "search": "GONCALVES"}])
    assert [r[1] for r in csv_rows(raw)[1:]] == ["João Gonçalves"]
    _result, raw = run(make_uow, admin, [{"dataset": "clients", "search": "529.982.247"}])
    assert [r[1] for r in csv_rows(raw)[1:]] == ["Ana Lima"]


def test_clients_csv_in_english(make_uow: MakeUow, admin: Principal, book: Book) -> None:
    _result, raw = run(make_uow, admin, [{"dataset": "clients"}], locale="en")
    header, ana, *_ = csv_rows(raw, "en")
    assert header[:3] == ["ID", "Name", "E-mail"]
    assert ana[5] == "Active"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", ana[7])


# -- allocations ----------------------------------------------------------------------------


def test_allocations_with_live_figures(make_uow: MakeUow, admin: Principal, book: Book) -> None:
    market = QuotesOnly()
    result, raw = run(make_uow, admin, [{"dataset": "allocations"}], market=market)
    header, *rows = csv_rows(raw)

    assert market.calls == [["AAPL", "PETR4.SA"]], "one batched call for the whole export"
    assert result.rows == {"allocations": 3}
    assert header[:5] == ["Cliente", "E-mail do cliente", "Ativo", "Nome", "Moeda"]
    # 100 x 30.00 = 3,000.00 in; at 33.00: 3,300.00, +300.00 (10%); 33/32 - 1 = 3.125%.
    assert rows[0] == [
        "Ana Lima",
        "ana@example.com",
        "AAPL",
        "Apple Inc.",
        "USD",
        "10",
        "150,00",
        "02/02/2026",
        "1500,00",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "ativo não encontrado",
    ]
    assert rows[1] == [
        "Ana Lima",
        "ana@example.com",
        "PETR4.SA",
        "Petrobras PN",
        "BRL",
        "100",
        "30,00",
        "05/01/2026",
        "3000,00",
        "33,00",
        "32,00",
        "3,1250%",
        "10,0000%",
        "300,00",
        "3300,00",
        "100,0000%",
        "",
    ]
    # Bruno: 50 x 25.00 = 1,250.00; at 33.00: 1,650.00, +400.00 (32%).
    assert rows[2][0] == "Bruno Dias"
    assert rows[2][8:16] == [
        "1250,00",
        "33,00",
        "32,00",
        "3,1250%",
        "32,0000%",
        "400,00",
        "1650,00",
        "100,0000%",
    ]


def test_allocations_of_one_client_as_a_workbook(
    make_uow: MakeUow, admin: Principal, book: Book
) -> None:
    market = QuotesOnly()
    queries = [{"dataset": "allocations", "client_id": book["ana"].id}]
    result, raw = run(make_uow, admin, queries, fmt="xlsx", market=market)
    workbook = load_workbook(io.BytesIO(raw))

    assert market.calls == [["AAPL", "PETR4.SA"]]
    assert result.rows == {"allocations": 2}
    assert result.file_name == f"anka-allocations-client-{book['ana'].id}-20260310-1845.xlsx"
    assert workbook.sheetnames == ["Resumo", "Alocações"]
    sheet = workbook["Alocações"]
    aapl, petr = ([c for c in row] for row in sheet.iter_rows(min_row=2))
    assert petr[2].value == "PETR4.SA"
    assert petr[8].value == 3000
    assert petr[8].number_format == "[$R$-416] #,##0.00"
    assert petr[9].value == 33
    assert petr[9].number_format == "[$R$-416] #,##0.00######"
    assert petr[11].value == pytest.approx(0.03125)
    assert petr[11].number_format == "0.00%"
    assert petr[12].value == pytest.approx(0.1)
    assert petr[7].value == datetime(2026, 1, 5)
    assert aapl[6].value == 150
    assert aapl[6].number_format == '"US$" #,##0.00######'
    assert aapl[9].value is None
    assert aapl[16].value == "ativo não encontrado"
    summary = {r[0].value: r[1].value for r in workbook["Resumo"].iter_rows(min_row=2)}
    assert summary["Filtros de Alocações"] == "Cliente: Ana Lima (ana@example.com)"
    assert summary["Cotações"] == "Cotações do Yahoo Finance (podem ter atraso)."


def test_allocations_without_lots_ask_no_quotes(
    make_uow: MakeUow, admin: Principal, book: Book
) -> None:
    market = QuotesOnly()
    queries = [{"dataset": "allocations", "client_id": book["joao"].id}]
    result, raw = run(make_uow, admin, queries, market=market)
    assert market.calls == []
    assert result.rows == {"allocations": 0}
    assert len(csv_rows(raw)) == 1


def test_allocations_need_market_data(make_uow: MakeUow, admin: Principal, book: Book) -> None:
    with pytest.raises(ValueError, match="market data"):
        run(make_uow, admin, [{"dataset": "allocations"}], market=None)


# -- daily returns --------------------------------------------------------------------------


def test_daily_returns_in_a_date_range(make_uow: MakeUow, admin: Principal, book: Book) -> None:
    queries = [
        {
            "dataset": "daily_returns",
            "client_id": book["ana"].id,
            "start": date(2026, 1, 6),
            "end": date(2026, 2, 2),
        }
    ]
    result, raw = run(make_uow, admin, queries)
    header, *rows = csv_rows(raw)

    assert result.rows == {"daily_returns": 3}
    assert header[2:] == [
        "Data",
        "Valor de mercado",
        "Aportes do dia",
        "Resgates e proventos do dia",
        "Investido",
        "Retorno do dia",
        "TWR acumulado",
    ]
    # Invested counts the 3,000.00 that came in on 05/01, before the range starts.
    assert [r[2:] for r in rows] == [
        ["06/01/2026", "3150,00", "0,00", "0,00", "3000,00", "5,0000%", "5,0000%"],
        ["07/01/2026", "3087,00", "0,00", "0,00", "3000,00", "-2,0000%", "2,9000%"],
        ["02/02/2026", "4700,00", "1500,00", "0,00", "4500,00", "2,4635%", "5,4349%"],
    ]
    assert rows[0][:2] == ["Ana Lima", "ana@example.com"]


def test_daily_returns_of_every_client_in_english(
    make_uow: MakeUow, admin: Principal, book: Book
) -> None:
    _result, raw = run(make_uow, admin, [{"dataset": "daily_returns"}], locale="en")
    rows = csv_rows(raw, "en")[1:]
    assert [(r[0], r[2]) for r in rows] == [
        ("Ana Lima", "2026-01-05"),
        ("Ana Lima", "2026-01-06"),
        ("Ana Lima", "2026-01-07"),
        ("Ana Lima", "2026-02-02"),
        ("Bruno Dias", "2026-03-02"),
    ]
    assert rows[0][3:] == ["3000.00", "3000.00", "0.00", "3000.00", "0.0000%", "0.0000%"]
    assert rows[-1][6] == "1250.00"


def test_daily_returns_up_to_an_end_date(make_uow: MakeUow, admin: Principal, book: Book) -> None:
    queries = [{"dataset": "daily_returns", "end": date(2026, 1, 6)}]
    _result, raw = run(make_uow, admin, queries)
    assert [r[2] for r in csv_rows(raw)[1:]] == ["05/01/2026", "06/01/2026"]


# -- portfolio summary ----------------------------------------------------------------------


def test_portfolio_summary_from_the_last_close(
    make_uow: MakeUow, admin: Principal, book: Book
) -> None:
    result, raw = run(make_uow, admin, [{"dataset": "portfolio_summary"}])
    header, ana, bruno, joao = csv_rows(raw)

    assert result.rows == {"portfolio_summary": 3}
    assert header == [
        "Cliente",
        "E-mail do cliente",
        "Situação",
        "Fechamento de",
        "Investido",
        "Valor de mercado",
        "Rentab. acumulada",
        "TWR",
        "TIR (a.a.)",
    ]
    # The latest close (02/02), not the one before; an undefined IRR is empty, never 0.
    assert ana == [
        "Ana Lima",
        "ana@example.com",
        "Ativo",
        "02/02/2026",
        "4500,00",
        "4700,00",
        "4,4444%",
        "5,4349%",
        "",
    ]
    assert bruno == ["Bruno Dias", "bruno@example.com", "Inativo", "", "", "", "", "", ""]
    assert joao[0] == "João Gonçalves"


def test_portfolio_summary_workbook_has_typed_figures(
    make_uow: MakeUow, admin: Principal, book: Book
) -> None:
    queries = [{"dataset": "portfolio_summary", "status": "active"}]
    _result, raw = run(make_uow, admin, queries, fmt="xlsx", locale="en")
    workbook = load_workbook(io.BytesIO(raw))
    sheet = workbook["Portfolio summary"]

    assert sheet.max_row == 3  # header, Ana, João (Bruno is inactive)
    ana = [c for c in sheet[2]]
    assert ana[3].value == datetime(2026, 2, 2)
    assert ana[3].number_format == "yyyy-mm-dd"
    assert ana[4].value == 4500
    assert ana[4].number_format == "[$R$-416] #,##0.00"
    assert ana[6].value == pytest.approx(0.044444444444)
    assert ana[6].number_format == "0.00%"
    assert ana[8].value is None
    summary = {r[0].value: r[1].value for r in workbook["Summary"].iter_rows(min_row=2)}
    assert summary["Filters of Portfolio summary"] == "Status: Active"
    assert summary["Rows in Portfolio summary"] == 2


# -- workbook, audit, roles, validation -----------------------------------------------------


def test_client_workbook_with_two_sheets_and_a_summary(
    make_uow: MakeUow, reader: Principal, book: Book
) -> None:
    ana = book["ana"].id
    queries = [
        {"dataset": "allocations", "client_id": ana},
        {"dataset": "daily_returns", "client_id": ana, "start": date(2026, 1, 6)},
    ]
    result, raw = run(make_uow, reader, queries, fmt="xlsx", market=QuotesOnly())
    workbook = load_workbook(io.BytesIO(raw))

    assert result.rows == {"allocations": 2, "daily_returns": 3}
    assert result.file_name == f"anka-allocations-daily-returns-client-{ana}-20260310-1845.xlsx"
    assert workbook.sheetnames == ["Resumo", "Alocações", "Retornos diários"]
    for name in workbook.sheetnames[1:]:
        assert workbook[name].freeze_panes == "A2"
    assert workbook["Retornos diários"].auto_filter.ref == "A1:I4"
    summary = [(r[0].value, r[1].value) for r in workbook["Resumo"].iter_rows(min_row=2)]
    assert summary[:2] == [
        ("Exportado por", "reader@example.com"),
        ("Exportado em (horário de Brasília)", datetime(2026, 3, 10, 18, 45)),
    ]
    assert ("Linhas em Retornos diários", 3) in summary
    assert (
        "Filtros de Retornos diários",
        "Cliente: Ana Lima (ana@example.com) · De: 06/01/2026",
    ) in summary


def test_every_export_is_audited_with_its_filters(
    make_uow: MakeUow, reader: Principal, book: Book
) -> None:
    run(make_uow, reader, [{"dataset": "clients", "search": "ana", "status": "active"}])
    queries = [{"dataset": "daily_returns", "client_id": book["ana"].id, "end": date(2026, 1, 7)}]
    run(make_uow, reader, queries, fmt="xlsx")

    first, second = export_entries(make_uow)
    assert (first["action"], first["entity"], first["entity_id"]) == ("export", "export", "clients")
    assert first["actor_email"] == "reader@example.com"
    assert first["before"] is None
    assert first["after"] == {
        "format": "csv",
        "datasets": [
            {"dataset": "clients", "filters": {"search": "ana", "status": "active"}, "rows": 1}
        ],
    }
    assert second["after"] == {
        "format": "xlsx",
        "datasets": [
            {
                "dataset": "daily_returns",
                "filters": {"client_id": book["ana"].id, "end": "2026-01-07"},
                "rows": 3,
            }
        ],
    }


def test_only_known_roles_may_export(make_uow: MakeUow, book: Book) -> None:
    stranger = Principal(user_id=None, email="x@example.com", role="guest")  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        run(make_uow, stranger, [{"dataset": "clients"}])
    assert export_entries(make_uow) == []


def test_an_unknown_client_is_not_found_and_not_audited(
    make_uow: MakeUow, admin: Principal, book: Book
) -> None:
    out = io.BytesIO()
    with pytest.raises(NotFound):
        export(
            make_uow(),
            None,
            admin,
            [{"dataset": "daily_returns", "client_id": 999999}],
            "csv",
            out,
            "pt_BR",
        )
    assert export_entries(make_uow) == []
    assert out.getvalue() == b""


@pytest.mark.parametrize(
    ("queries", "fmt", "field", "key"),
    [
        (
            [{"dataset": "daily_returns", "start": date(2026, 2, 1), "end": date(2026, 1, 1)}],
            "csv",
            "end",
            "validation.date_range",
        ),
        ([{"dataset": "clients", "client_id": 1}], "csv", "client_id", "validation.unknown_field"),
        (
            [{"dataset": "allocations", "start": date(2026, 1, 1)}],
            "csv",
            "start",
            "validation.unknown_field",
        ),
        ([{"dataset": "clients", "search": "x" * 101}], "csv", "search", "validation.too_long"),
        ([{"dataset": "clients", "status": "sleeping"}], "csv", "status", "validation.choice"),
        ([{"dataset": "prices"}], "csv", "dataset", "validation.choice"),
        ([{"dataset": "clients", "colour": "red"}], "csv", "colour", "validation.unknown_field"),
        (
            [{"dataset": "clients"}, {"dataset": "portfolio_summary"}],
            "csv",
            "dataset",
            "validation.invalid",
        ),
        ([{"dataset": "clients"}, {"dataset": "clients"}], "xlsx", "dataset", "validation.invalid"),
        ([], "xlsx", "dataset", "validation.invalid"),
        ([{"dataset": "clients"}], "pdf", "format", "validation.choice"),
    ],
)
def test_refused_choices(
    make_uow: MakeUow,
    admin: Principal,
    queries: list[dict[str, Any]],
    fmt: str,
    field: str,
    key: str,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_queries(queries, fmt)
    assert caught.value.field_errors[field][0] == key
    with pytest.raises(ValidationFailed):
        run(make_uow, admin, queries, fmt=fmt)
    assert export_entries(make_uow) == []


def test_rows_come_from_a_server_side_cursor_a_chunk_at_a_time(
    make_uow: MakeUow, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_rows, "CHUNK", 2)
    with make_uow() as uow:
        rows = uow.exports.daily_returns(None, None, None)
        first = next(rows)
        # Mid-stream the query is an open cursor on the server, not a fetched result.
        cursors = uow.session.execute(text("SELECT count(*) FROM pg_cursors")).scalar_one()
        rest = list(rows)
        left = uow.session.execute(text("SELECT count(*) FROM pg_cursors")).scalar_one()

    assert cursors == 1
    assert left == 0, "closed once read"
    assert [first[2], *(r[2] for r in rest)] == [
        date(2026, 1, 5),
        date(2026, 1, 6),
        date(2026, 1, 7),
        date(2026, 2, 2),
        date(2026, 3, 2),
    ]


def test_daily_rows_counts_what_the_export_would_hold(make_uow: MakeUow, book: Book) -> None:
    ana = book["ana"].id
    assert daily_rows(make_uow(), {"dataset": "daily_returns"}) == 5
    assert daily_rows(make_uow(), {"dataset": "daily_returns", "client_id": ana}) == 4
    bounded = {"dataset": "daily_returns", "start": date(2026, 1, 6), "end": date(2026, 2, 2)}
    assert daily_rows(make_uow(), bounded) == 3


def test_file_names_say_demo_prices() -> None:
    parsed = check_queries([{"dataset": "allocations"}], "csv")
    assert (
        file_name(parsed, "csv", NOW, market_name="demo")
        == "anka-allocations-demo-20260310-1845.csv"
    )
    summary = check_queries([{"dataset": "portfolio_summary"}], "csv")
    assert (
        file_name(summary, "csv", NOW, market_name="demo")
        == "anka-portfolio-summary-20260310-1845.csv"
    )
