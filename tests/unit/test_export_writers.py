"""The export writers on hand-made rows: CSV per locale (BOM, separators, decimal marks,
dates), formula neutralising, and Excel files read back with openpyxl (typed cells, number
formats, frozen bold header, autofilter, widths, summary sheet, sheets past Excel's limit)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from core.exports.cells import csv_formatter, money_format, neutralise, rounded
from core.exports.csv_writer import write_csv
from core.exports.datasets import ALLOCATIONS, CLIENTS, DAILY_RETURNS, Column, Dataset, Kind
from core.exports.xlsx_writer import Sheet, sheet_title, write_xlsx
from core.i18n import Translator

D = Decimal
PT, EN = Translator("pt_BR"), Translator("en")
INJECTIONS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "＝1+1"]

# One dataset with every kind, and two rows of it.
EVERYTHING = Dataset(
    "everything",
    "export.dataset.clients",
    (
        Column("field.name", Kind.TEXT, 30),
        Column("export.col.id", Kind.INTEGER, 8),
        Column("col.quantity", Kind.DECIMAL),
        Column("col.currency", Kind.TEXT),
        Column("col.invested", Kind.MONEY, currency="col.currency"),
        Column("col.price", Kind.PRICE, currency="col.currency"),
        Column("col.return_pct", Kind.PERCENT),
        Column("export.col.date", Kind.DATE),
        Column("field.created_at", Kind.DATETIME, 20),
    ),
)
ROWS: list[tuple[Any, ...]] = [
    (
        "Conceição Araújo",
        7,
        D("100.00000000"),
        "BRL",
        D("1234567.891"),
        D("25.50000000"),
        D("0.123456789012"),
        date(2026, 3, 9),
        datetime(2026, 3, 9, 21, 30, 5, tzinfo=UTC),  # 18:30:05 in São Paulo
    ),
    ('Ana; "Lima"', 8, D("0.5"), "USD", D("-10.005"), D("0.00012345"), D("-0.05"), None, None),
]


def csv_bytes(dataset: Dataset, rows: Sequence[Sequence[Any]], t: Translator) -> bytes:
    out = io.BytesIO()
    assert write_csv(dataset, rows, out, t) == len(rows)
    return out.getvalue()


def parse_csv(raw: bytes, delimiter: str) -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark first"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def xlsx_book(sheets: list[Sheet], t: Translator, **kwargs: Any) -> tuple[Any, bytes]:
    out = io.BytesIO()
    write_xlsx(sheets, lambda counts: [("Linhas", counts["everything"])], out, t, **kwargs)
    raw = out.getvalue()
    return load_workbook(io.BytesIO(raw)), raw


# -- CSV ------------------------------------------------------------------------------------


def test_csv_pt_br_semicolons_decimal_comma_and_brazilian_dates() -> None:
    raw = csv_bytes(EVERYTHING, ROWS, PT)
    header, first, second = parse_csv(raw, ";")

    assert header == [
        "Nome",
        "Código",
        "Quantidade",
        "Moeda",
        "Investido",
        "Preço atual",
        "Rentab. acumulada",
        "Data",
        "Criado em",
    ]
    assert first == [
        "Conceição Araújo",
        "7",
        "100",
        "BRL",
        "1234567,89",  # no thousands separator: Excel and programs read it as a number
        "25,50",
        "12,3457%",
        "09/03/2026",
        "09/03/2026 18:30:05",
    ]
    assert second == ['Ana; "Lima"', "8", "0,5", "USD", "-10,00", "0,00012345", "-5,0000%", "", ""]
    assert b"\r\n" in raw
    assert raw.count(b";") >= 16


def test_csv_english_commas_decimal_point_and_iso_dates() -> None:
    header, first, second = parse_csv(csv_bytes(EVERYTHING, ROWS, EN), ",")

    assert header[:3] == ["Name", "ID", "Quantity"]
    assert first[4:] == ["1234567.89", "25.50", "12.3457%", "2026-03-09", "2026-03-09 18:30:05"]
    assert second[0] == 'Ana; "Lima"'
    assert second[4] == "-10.00"


@pytest.mark.parametrize("text", INJECTIONS)
def test_csv_text_that_could_run_as_a_formula_gets_a_quote(text: str) -> None:
    rows = [(text, 1, D(1), "BRL", D(-5), D(1), D(0), None, None)]
    _header, row = parse_csv(csv_bytes(EVERYTHING, rows, PT), ";")

    assert row[0] == "'" + text
    assert row[4] == "-5,00", "numbers are Anka's own: a negative amount stays a number"


def test_csv_plain_text_is_left_alone() -> None:
    for text in ["Ana", "a=b", " =1", "ana@example.com", "529.982.247-25", "(11) 9999-0000"]:
        assert neutralise(text) == text


def test_csv_empty_export_is_the_header_only() -> None:
    rows = parse_csv(csv_bytes(DAILY_RETURNS, [], PT), ";")
    assert rows == [[PT(c.label) for c in DAILY_RETURNS.columns]]


def test_csv_streams_any_iterable_in_batches() -> None:
    many = ((f"C{i}", i, D(i), "BRL", D(i), D(i), D(0), None, None) for i in range(2500))
    out = io.BytesIO()
    assert write_csv(EVERYTHING, many, out, EN) == 2500
    lines = parse_csv(out.getvalue(), ",")
    assert len(lines) == 2501
    assert lines[-1][:2] == ["C2499", "2499"]


def test_csv_leaves_the_stream_open() -> None:
    out = io.BytesIO()
    write_csv(CLIENTS, [], out, PT)
    out.write(b"more")  # would raise on a closed stream
    assert out.getvalue().endswith(b"more")


def test_number_rounding_is_half_even_without_negative_zero_and_holds_huge_values() -> None:
    money = csv_formatter(Kind.MONEY, "en")
    percent = csv_formatter(Kind.PERCENT, "pt_BR")
    assert money(D("0.125")) == "0.12"
    assert money(D("0.135")) == "0.14"
    assert money(D("-0.004")) == "0.00"
    assert percent(D("1E+40")) == "1" + "0" * 42 + ",0000%"  # an IRR over a few days
    assert rounded(D("-0.00001"), D("0.01")) == D("0.00")


def test_money_formats_per_currency() -> None:
    assert money_format("BRL") == "[$R$-416] #,##0.00"
    assert money_format(None, price=True) == "[$R$-416] #,##0.00######"
    assert money_format("USD") == '"US$" #,##0.00'
    assert money_format("CHF") == '"CHF" #,##0.00'
    assert money_format('X"Y') == '"XY" #,##0.00'


# -- Excel ----------------------------------------------------------------------------------


def test_xlsx_cells_are_typed_with_number_formats() -> None:
    book, _raw = xlsx_book([Sheet(EVERYTHING, ROWS)], PT)
    ws = book[PT("export.dataset.clients")]
    first = [c for c in ws[2]]

    assert [c.data_type for c in first] == ["s", "n", "n", "s", "n", "n", "n", "d", "d"]
    assert first[1].value == 7
    assert first[1].number_format == "0"
    assert first[2].value == 100
    assert first[2].number_format == "General"
    assert first[4].value == pytest.approx(1234567.891)
    assert first[4].number_format == "[$R$-416] #,##0.00"
    assert first[5].value == pytest.approx(25.5)
    assert first[5].number_format == "[$R$-416] #,##0.00######"
    assert first[6].value == pytest.approx(0.123456789012)
    assert first[6].number_format == "0.00%"
    assert first[7].value == datetime(2026, 3, 9)
    assert first[7].number_format == "dd/mm/yyyy"
    # Excel has no time zones: São Paulo wall-clock time.
    assert first[8].value == datetime(2026, 3, 9, 18, 30, 5)
    assert first[8].number_format == "dd/mm/yyyy hh:mm:ss"
    second = [c for c in ws[3]]
    assert second[4].value == pytest.approx(-10.005)
    assert second[4].number_format == '"US$" #,##0.00'
    assert second[7].value is None
    assert second[8].value is None


def test_xlsx_english_date_formats() -> None:
    book, _raw = xlsx_book([Sheet(EVERYTHING, ROWS)], EN)
    ws = book[EN("export.dataset.clients")]
    assert ws["H2"].number_format == "yyyy-mm-dd"
    assert ws["I2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert ws["A1"].value == "Name"


def test_xlsx_header_is_bold_frozen_filtered_and_columns_sized() -> None:
    book, _raw = xlsx_book([Sheet(EVERYTHING, ROWS)], PT)
    ws = book[PT("export.dataset.clients")]

    assert [c.value for c in ws[1]][:2] == ["Nome", "Código"]
    assert all(c.font.bold for c in ws[1])
    assert not ws["A2"].font.bold
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:I3"
    assert ws.column_dimensions["A"].width == 30
    assert ws.column_dimensions["I"].width == 20


@pytest.mark.parametrize("text", [*INJECTIONS, "#N/A", "#DIV/0!"])
def test_xlsx_formula_like_text_stays_a_string(text: str) -> None:
    rows = [(text, 1, D(1), "BRL", D(1), D(1), D(0), None, None)]
    book, raw = xlsx_book([Sheet(EVERYTHING, rows)], PT)
    cell = book[PT("export.dataset.clients")]["A2"]

    assert cell.data_type == "s"
    assert cell.value == text
    assert cell.quotePrefix, "stays text even when someone edits the cell"
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            assert b"<f>" not in archive.read(name), "no formula anywhere in the file"


def test_xlsx_control_characters_are_replaced_not_fatal() -> None:
    rows = [("bell\x07 here", 1, D(1), "BRL", D(1), D(1), D(0), None, None)]
    book, _raw = xlsx_book([Sheet(EVERYTHING, rows)], PT)
    assert book[PT("export.dataset.clients")]["A2"].value == "bell\ufffd here"


def test_xlsx_summary_sheet_comes_first() -> None:
    out = io.BytesIO()
    at = datetime(2026, 3, 9, 21, 0, tzinfo=UTC)
    counts = write_xlsx(
        [Sheet(EVERYTHING, ROWS)],
        lambda c: [("Quem", "=evil()"), ("Quando", at), ("Linhas", c["everything"])],
        out,
        PT,
    )
    book = load_workbook(io.BytesIO(out.getvalue()))

    assert counts == {"everything": 2}
    assert book.sheetnames == ["Resumo", "Clientes"]
    summary = book["Resumo"]
    assert summary["A1"].value == "Exportação do Anka"
    assert summary["A1"].font.bold
    assert [(r[0].value, r[1].value) for r in summary.iter_rows(min_row=2)] == [
        ("Quem", "=evil()"),
        ("Quando", datetime(2026, 3, 9, 18, 0)),
        ("Linhas", 2),
    ]
    assert summary["B2"].data_type == "s"


def test_xlsx_rows_past_the_sheet_limit_continue_on_a_new_sheet() -> None:
    rows = [(f"C{i}", i, D(i), "BRL", D(i), D(i), D(0), None, None) for i in range(7)]
    book, _raw = xlsx_book([Sheet(EVERYTHING, rows)], PT, max_rows=4)  # header + 3 rows

    assert book.sheetnames == ["Resumo", "Clientes", "Clientes (2)", "Clientes (3)"]
    assert [book[n].max_row for n in book.sheetnames[1:]] == [4, 4, 2]
    assert book["Clientes (3)"]["A2"].value == "C6"
    assert book["Clientes (2)"].auto_filter.ref == "A1:I4"
    assert book["Clientes (2)"]["A1"].value == "Nome"


def test_xlsx_one_sheet_per_dataset() -> None:
    out = io.BytesIO()
    write_xlsx([Sheet(ALLOCATIONS, []), Sheet(DAILY_RETURNS, [])], lambda counts: [], out, EN)
    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["Summary", "Allocations", "Daily returns"]
    assert book["Allocations"].auto_filter.ref == "A1:Q1"


def test_sheet_titles_are_valid_and_unique() -> None:
    taken: set[str] = set()
    assert sheet_title("A/B: [x]?", 1, taken) == "A B   x"
    assert sheet_title("a b   x", 1, taken) == "a b   x ~2"
    long = "x" * 40
    assert len(sheet_title(long, 12, taken)) == 31
    assert sheet_title(long, 12, set()).endswith(" (12)")
