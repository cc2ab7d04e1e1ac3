"""The import preview table and messages, in both languages, from hand-made reports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.i18n import Translator
from core.imports.report import ImportReport, Reason, RowResult
from dashboard.components.import_preview import (
    preview_frame,
    read_as,
    reason_text,
    summary_lines,
)
from dashboard.components.markdown import escape_markdown

PT = Translator("pt_BR")
EN = Translator("en")


def lots_report() -> ImportReport:
    good = RowResult(
        row=2,
        raw={},
        values={
            "client": "52998224725",
            "symbol": "PETR4.SA",
            "quantity": Decimal("1000"),
            "buy_price": Decimal("1234.5"),
            "buy_date": date(2025, 3, 10),
        },
        action="create",
    )
    bad = RowResult(
        row=4,
        raw={
            "client": "ana@example.com",
            "symbol": "PETR4.SA",
            "quantity": "-5",
            "buy_price": "abc",
            "buy_date": "31/02/2025",
        },
        reasons=[
            Reason("import.row.date", {}, "buy_date"),
            Reason("import.row.duplicate", {"row": 2}, None),
        ],
    )
    return ImportReport(
        kind="allocations",
        file_name="lotes.csv",
        file_format="csv",
        encoding="cp1252",
        delimiter=";",
        rows=[good, bad],
    )


def test_valid_rows_show_what_was_read_in_the_users_format() -> None:
    pt = preview_frame(lots_report(), PT)
    assert list(pt.columns) == [
        "Linha",
        "Válida",
        "Ao importar",
        "Cliente (e-mail ou CPF/CNPJ)",
        "Ativo",
        "Quantidade",
        "Preço de compra",
        "Data de compra",
        "Motivos",
    ]
    assert pt.iloc[0].tolist() == [
        2,
        "✓",
        "criar",
        "52998224725",
        "PETR4.SA",
        "1.000",
        "1.234,50",
        "10/03/2025",
        "",
    ]
    en = preview_frame(lots_report(), EN)
    assert en.iloc[0].tolist()[5:8] == ["1,000", "1,234.50", "2025-03-10"]


def test_refused_rows_show_the_cells_as_typed_and_the_reasons() -> None:
    pt = preview_frame(lots_report(), PT, only_invalid=True)
    assert pt.iloc[0].tolist() == [
        4,
        "✗",
        "",
        "ana@example.com",
        "PETR4.SA",
        "-5",
        "abc",
        "31/02/2025",
        "Data de compra: Data inválida: use dd/mm/aaaa ou aaaa-mm-dd.; Repete a linha 2.",
    ]
    assert len(pt) == 1


def test_clients_document_and_status_are_shown_formatted() -> None:
    row = RowResult(
        row=2,
        raw={},
        values={
            "name": "Maria",
            "email": "m@example.com",
            "document": "52998224725",
            "status": "inactive",
        },
        action="update",
    )
    report = ImportReport(kind="clients", file_name="c.xlsx", file_format="xlsx", rows=[row])
    frame = preview_frame(report, EN)
    assert frame.iloc[0].tolist() == [
        2,
        "✓",
        "update",
        "Maria",
        "m@example.com",
        "529.982.247-25",
        "",
        "Inactive",
        "",
        "",
    ]
    assert read_as(report, EN) == "Read as an Excel sheet (first sheet)"


def test_summary_and_how_the_file_was_read() -> None:
    report = lots_report()
    assert summary_lines(report, PT) == (
        "2 linha(s): 1 válida(s), 1 com erro.",
        "Ao importar: 1 a criar, 0 a atualizar, 0 sem alteração.",
    )
    assert read_as(report, PT) == "Lido como CSV · Windows-1252 · separador “;”"
    report.delimiter, report.encoding = "\t", "utf-8-sig"
    assert read_as(report, EN) == "Read as CSV · UTF-8 (BOM) · separator “tab”"
    assert read_as(ImportReport(kind="clients", file_name="x"), EN) is None


def test_file_reasons_have_no_column_prefix() -> None:
    reason = Reason("import.file.too_large", {"max": 5})
    assert (
        reason_text(reason, EN) == "The file is over the 5 MB limit: split it into smaller files."
    )


def test_text_from_the_file_is_escaped_for_markdown() -> None:
    link = "[Clique aqui](https://evil.example)"
    reason = Reason("import.file.unknown_columns", {"columns": link, "expected": "Nome"})
    shown = reason_text(reason, PT, markdown=True)
    assert escape_markdown(link) in shown  # the brackets cannot make a link
    assert r"\[Clique aqui\]\(" in shown
    assert link in reason_text(reason, PT)  # a table cell shows it as is
