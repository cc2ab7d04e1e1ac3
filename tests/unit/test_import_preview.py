"""The import preview table and messages, in both languages, from hand-made reports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

from core.i18n import Translator
from core.imports.report import ImportReport, Reason, RowResult
from dashboard.components.import_preview import (
    preview_config,
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


def test_valid_rows_show_what_was_read_as_numbers_and_dates() -> None:
    pt = preview_frame(lots_report(), PT)
    assert list(pt.columns) == [
        "Linha",
        "Válida",
        "Ao importar",
        "Motivos",  # before the values: in view on a 1,400 px screen
        "Cliente (e-mail ou CPF/CNPJ)",
        "Ativo",
        "Quantidade",
        "Preço de compra",
        "Data de compra",
    ]
    assert pt.iloc[0].tolist() == [
        2,
        "✓",
        "criar",
        "",
        "52998224725",
        "PETR4.SA",
        1000.0,
        1234.5,
        date(2025, 3, 10),
    ]
    # The column configuration shows the decimals the file has (two at least for money).
    config = {k: v for k, v in preview_config(lots_report(), PT).items() if k in pt.columns}
    quantity, price = config["Quantidade"]["type_config"], config["Preço de compra"]["type_config"]
    assert (quantity["format"], quantity["step"]) == ("localized", 1)
    assert (price["format"], price["step"]) == ("localized", 0.01)
    assert config["Data de compra"]["type_config"]["format"] == "DD/MM/YYYY"
    en = preview_config(lots_report(), EN)
    assert en["Buy date"]["type_config"]["format"] == "YYYY-MM-DD"


def test_refused_rows_leave_unread_cells_empty_and_quote_them_in_the_reasons() -> None:
    pt = preview_frame(lots_report(), PT, only_invalid=True)
    row = pt.iloc[0].tolist()
    assert row[:6] == [
        4,
        "✗",
        "",
        "Data de compra: Data inválida: use dd/mm/aaaa ou aaaa-mm-dd. (“31/02/2025”); "
        "Repete a linha 2.",
        "ana@example.com",
        "PETR4.SA",
    ]
    assert all(pd.isna(cell) for cell in row[6:])  # not read: no number, no date
    assert len(pt) == 1


def test_an_update_names_the_stored_client_and_the_old_and_new_values() -> None:
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
        matched="Maria Souza · m@example.com",
        previous={"name": "Maria Souza", "status": "active"},
    )
    report = ImportReport(kind="clients", file_name="c.xlsx", file_format="xlsx", rows=[row])
    frame = preview_frame(report, EN)
    assert frame.iloc[0].tolist() == [
        2,
        "✓",
        "update",
        "",
        "Maria Souza · m@example.com",
        "Name: Maria Souza → Maria, Status: Active → Inactive",
        "Maria",
        "m@example.com",
        "529.982.247-25",
        "",
        "Inactive",
        "",
    ]
    assert read_as(report, EN) == "Read as an Excel sheet (first sheet)"


def test_summary_and_how_the_file_was_read() -> None:
    report = lots_report()
    assert summary_lines(report, PT) == (
        "2 linha(s): 1 válida(s), 1 com erro.",
        "Ao importar: 1 a criar, 0 a atualizar, 0 sem alteração.",
    )
    report.rows = report.rows * 6000  # 12.000 rows: the counts group thousands
    assert summary_lines(report, PT)[0] == "12.000 linha(s): 6.000 válida(s), 6.000 com erro."
    assert summary_lines(report, EN)[0].startswith("12,000 row(s): 6,000 valid")
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
