"""Import validation without a database: columns, cells, per-row reasons, duplicates,
both locales' numbers and dates, and the templates read back."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from core.exports.datasets import CLIENTS
from core.i18n import translate
from core.imports import cells
from core.imports.columns import IGNORED, fold_header, map_header, template_headers
from core.imports.report import ImportReport, Reason
from core.imports.templates import template_csv, template_xlsx
from core.imports.validation import check_file
from core.trade_schemas import today_in_brazil

D = Decimal
CLIENT_HEADER = "Nome;E-mail;CPF/CNPJ;Telefone;Situação;Observações"
LOT_HEADER = "Cliente;Ativo;Quantidade;Preço de compra;Data de compra"


def csv_file(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def reasons(report: ImportReport) -> dict[int, list[tuple[str | None, str, dict[str, Any]]]]:
    """Row number -> (field, key, params) of each refused row."""
    return {
        row.row: [(r.field, r.key, r.params) for r in row.reasons]
        for row in report.rows
        if not row.valid
    }


def lots(*rows: str, locale: str = "pt_BR") -> ImportReport:
    return check_file("allocations", "lotes.csv", csv_file(LOT_HEADER, *rows), locale)


def clients(*rows: str, header: str = CLIENT_HEADER) -> ImportReport:
    return check_file("clients", "clientes.csv", csv_file(header, *rows), "pt_BR")


# -- header --------------------------------------------------------------------------------


def test_header_names_ignore_case_accents_and_punctuation() -> None:
    assert fold_header("  Preço de Compra ") == "preco_de_compra"
    assert fold_header("E-MAIL") == "e_mail"
    assert fold_header("CPF/CNPJ") == "cpf_cnpj"
    mapping = map_header(
        "clients", ["NOME", "email", "cpf", "SITUACAO", "observacoes", "Phone"], "pt_BR"
    )
    assert mapping.errors == []
    assert mapping.fields == ["name", "email", "document", "status", "notes", "phone"]


def test_english_and_portuguese_headers_map_the_same() -> None:
    english = map_header("allocations", template_headers("allocations", "en"), "pt_BR")
    portuguese = map_header("allocations", template_headers("allocations", "pt_BR"), "en")
    assert (
        english.fields
        == portuguese.fields
        == [
            "client",
            "symbol",
            "quantity",
            "buy_price",
            "buy_date",
        ]
    )
    synonyms = map_header(
        "allocations", ["e-mail do cliente", "ticker", "qtd", "preço", "data"], "en"
    )
    assert synonyms.errors == []


def test_missing_unknown_and_repeated_columns_are_reported_by_name() -> None:
    report = clients("Maria;maria@example.com;x", header="Nome;Idade;Nome")
    assert report.rows == []
    assert report.file_errors == [
        Reason("import.file.missing_columns", {"columns": "E-mail"}),
        Reason(
            "import.file.unknown_columns",
            {
                "columns": "Idade",
                "expected": "Nome, E-mail, CPF/CNPJ, Telefone, Situação, Observações",
            },
        ),
        Reason("import.file.repeated_columns", {"columns": "Nome"}),
    ]
    assert not report.ok


def test_missing_columns_are_named_in_the_users_language() -> None:
    report = check_file("allocations", "l.csv", csv_file("Client,Asset", "a@b.com,X"), "en")
    assert report.file_errors == [
        Reason("import.file.missing_columns", {"columns": "Quantity, Buy price, Buy date"})
    ]


def test_a_blank_header_over_empty_cells_is_fine_but_data_under_it_is_not() -> None:
    report = clients(
        "Maria;maria@example.com;;;;;",
        "Ana;ana@example.com;;;;;;sobrando",
        header=CLIENT_HEADER + ";",
    )
    assert report.file_errors == []
    assert reasons(report) == {3: [(None, "import.row.extra_cells", {})]}


# -- cells ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        '=HYPERLINK("http://x","y")',
        "@SUM(A1:A2)",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "  =1",
        "\t=1",
        "\r\n@x",
    ],
)
def test_formulas_are_recognised(text: str) -> None:
    assert cells.is_formula(text)


@pytest.mark.parametrize(
    "value",
    ["-5", "-1.234,56", "+55 (11) 98765-4321", "-", "+", "a=b", "maria@example.com", 5, None],
)
def test_numbers_phones_and_plain_text_are_not_formulas(value: Any) -> None:
    assert not cells.is_formula(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10/03/2025", date(2025, 3, 10)),
        ("1/3/2025", date(2025, 3, 1)),
        ("10-03-2025", date(2025, 3, 10)),
        ("10.03.2025", date(2025, 3, 10)),
        ("2025-03-10", date(2025, 3, 10)),
        (" 2025-03-10T00:00:00 ", date(2025, 3, 10)),
        ("2025-03-10 00:00", date(2025, 3, 10)),
        (datetime(2025, 3, 10), date(2025, 3, 10)),
        (date(2025, 3, 10), date(2025, 3, 10)),
    ],
)
def test_dates_day_first_or_iso(value: Any, expected: date) -> None:
    assert cells.date_value(value) == expected


@pytest.mark.parametrize(
    "value", ["31/02/2025", "10/03/25", "2025/03/10", "março 2025", "2025-03-10T14:30", 45726, ""]
)
def test_other_dates_are_refused(value: Any) -> None:
    with pytest.raises(cells.CellError) as caught:
        cells.date_value(value)
    assert caught.value.key == "import.row.date"


def test_document_gets_back_the_zeros_excel_drops() -> None:
    assert cells.document_value(1234567890) == "01234567890"  # CPF 012.345.678-90 as a number
    assert cells.document_value("1234567000195") == "01234567000195"  # a 13-digit CNPJ
    assert cells.document_value("529.982.247-25") == "529.982.247-25"  # untouched
    assert cells.document_value("52998224725") == "52998224725"


def test_status_in_either_language() -> None:
    assert [cells.status_value(v) for v in ("Ativo", "INATIVO", "active", "Inactive")] == [
        "active",
        "inactive",
        "active",
        "inactive",
    ]
    assert cells.status_value("talvez") == "talvez"  # left for the schema to refuse


def test_cell_text_shows_numbers_as_typed() -> None:
    assert [cells.cell_text(v) for v in (100, 30.5, 100.0, True, None, datetime(2025, 3, 10))] == [
        "100",
        "30.5",
        "100",
        "TRUE",
        "",
        "2025-03-10",
    ]


# -- clients -------------------------------------------------------------------------------


def test_clients_rows_are_read_with_the_schema_rules() -> None:
    report = clients(
        "  Maria Souza ;Maria@Example.com;529.982.247-25;+55 11 98765-4321;Inativo;VIP",
        "João Lima;joao@example.com;;;;",
    )

    assert report.ok
    assert (report.file_format, report.encoding, report.delimiter) == ("csv", "utf-8", ";")
    first, second = report.rows
    assert first.row == 2
    assert first.values == {
        "name": "Maria Souza",
        "email": "Maria@example.com",  # the domain is case-insensitive, the local part kept
        "document": "52998224725",
        "phone": "+55 11 98765-4321",
        "status": "inactive",
        "notes": "VIP",
    }
    # Blank cells are left out (an update would keep the stored values).
    assert second.values == {"name": "João Lima", "email": "joao@example.com"}


def test_each_bad_cell_gets_its_reason() -> None:
    report = clients(
        "Maria;maria@;;;;",
        ";joao@example.com;111.111.111-11;abc;talvez;",
        '=HYPERLINK("http://evil","Clique");ana@example.com;;;;',
        "Bia;@SUM(1);;;;",
    )
    assert reasons(report) == {
        2: [("email", "validation.email", {})],
        3: [
            ("name", "validation.required", {}),
            ("document", "validation.document", {}),
            ("phone", "validation.phone", {}),
            ("status", "validation.choice", {}),
        ],
        4: [("name", "validation.formula", {})],
        5: [("email", "validation.formula", {})],
    }
    assert report.valid_count == 0
    assert not report.ok


def test_duplicated_clients_in_the_file_point_at_the_first_row() -> None:
    report = clients(
        "Maria;maria@example.com;529.982.247-25;;;",
        "Maria de novo;MARIA@example.com;;;;",
        "Outra;outra@example.com;52998224725;;;",
        "Ana;ana@example.com;;;;",
    )
    assert reasons(report) == {
        3: [("email", "import.row.duplicate", {"row": 2})],
        4: [("document", "import.row.duplicate", {"row": 2})],
    }
    assert report.valid_count == 2


# -- allocations: numbers, dates, locales --------------------------------------------------


def lot_values(report: ImportReport) -> list[tuple[Decimal, Decimal, date]]:
    return [
        (r.values["quantity"], r.values["buy_price"], r.values["buy_date"]) for r in report.rows
    ]


def test_pt_br_file_numbers_and_dates() -> None:
    report = lots(
        "ana@example.com;petr4.sa;1.000;1.234,56;10/03/2025",
        "ana@example.com;VALE3.SA;0,5;62,1;2025-03-11",
    )
    assert report.ok
    assert [r.values["symbol"] for r in report.rows] == ["PETR4.SA", "VALE3.SA"]
    # "1.000" in a pt-BR session is one thousand, as in the forms.
    assert lot_values(report) == [
        (D("1000"), D("1234.56"), date(2025, 3, 10)),
        (D("0.5"), D("62.1"), date(2025, 3, 11)),
    ]


def test_en_file_numbers_and_dates() -> None:
    data = csv_file(
        "Client,Asset,Quantity,Buy price,Buy date",
        'ana@example.com,PETR4.SA,"1,000","1,234.56",2025-03-10',
        "ana@example.com,VALE3.SA,1.000,62.10,10/03/2025",
    )
    report = check_file("allocations", "lots.csv", data, "en")
    assert report.ok
    assert report.delimiter == ","
    # In English "1,000" is one thousand and "1.000" is one; dd/mm/yyyy is still day first.
    assert lot_values(report) == [
        (D("1000"), D("1234.56"), date(2025, 3, 10)),
        (D("1"), D("62.10"), date(2025, 3, 10)),
    ]


def test_unambiguous_numbers_read_the_same_in_either_session() -> None:
    row = "ana@example.com;PETR4.SA;1.234,5;1,234.56;10/03/2025"
    assert lot_values(lots(row, locale="pt_BR")) == lot_values(lots(row, locale="en"))
    assert lot_values(lots(row))[0][:2] == (D("1234.5"), D("1234.56"))


def test_bad_lot_cells_get_the_allocation_rules_reasons() -> None:
    tomorrow = (today_in_brazil() + timedelta(days=1)).strftime("%d/%m/%Y")
    report = lots(
        "ana@example.com;PETR4.SA;-5;abc;31/02/2025",
        f";<script>;0;1,123456789;{tomorrow}",
        "ana@example.com;PETR4.SA;=2*50;30;1899-12-31",
    )
    assert reasons(report) == {
        2: [
            ("buy_date", "import.row.date", {}),
            ("quantity", "validation.positive", {}),  # a negative number, not a formula
            ("buy_price", "validation.number", {}),
        ],
        3: [
            ("client", "validation.required", {}),
            ("symbol", "validation.symbol", {}),
            ("quantity", "validation.positive", {}),
            ("buy_price", "validation.decimals", {"max": 8}),
            ("buy_date", "validation.future_date", {}),
        ],
        4: [
            ("quantity", "validation.formula", {}),
            ("buy_date", "validation.too_old", {}),
        ],
    }


def test_cp1252_file_from_brazilian_excel() -> None:
    data = csv_file(
        "Cliente;Ativo;Quantidade;Preço de compra;Data de compra",
        "joão@example.com;PETR4.SA;10;30,5;10/03/2025",
        encoding="cp1252",
    )
    report = check_file("allocations", "lotes.csv", data, "pt_BR")
    assert report.encoding == "cp1252"
    assert report.ok
    assert report.rows[0].values["client"] == "joão@example.com"


def test_xlsx_typed_cells_and_formula_cells() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Cliente", "Ativo", "Quantidade", "Preço de compra", "Data de compra"])
    sheet.append([52998224725, "PETR4.SA", 100, 30.5, datetime(2025, 3, 10)])
    sheet.append(["ana@example.com", "VALE3.SA", "=C2/2", "62,10", "11/03/2025"])
    sheet.append(["ana@example.com", "VALE3.SA", 1, datetime(2025, 1, 1), 45726])
    buffer = io.BytesIO()
    workbook.save(buffer)

    report = check_file("allocations", "lotes.xlsx", buffer.getvalue(), "pt_BR")

    first = report.rows[0]
    assert first.valid
    assert first.values == {
        "client": "52998224725",
        "symbol": "PETR4.SA",
        "quantity": D("100"),
        "buy_price": D("30.5"),
        "buy_date": date(2025, 3, 10),
    }
    assert reasons(report) == {
        3: [("quantity", "validation.formula", {})],
        4: [("buy_date", "import.row.date", {}), ("buy_price", "validation.number", {})],
    }
    assert report.rows[1].raw["quantity"] == "=C2/2"


# -- templates -----------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["pt_BR", "en"])
@pytest.mark.parametrize("kind", ["clients", "allocations"])
def test_templates_read_back_as_one_valid_row(kind: Any, locale: str) -> None:
    for name, data in (
        ("t.csv", template_csv(kind, locale)),
        ("t.xlsx", template_xlsx(kind, locale)),
    ):
        report = check_file(kind, name, data, locale)
        assert report.ok, (name, report.file_errors, reasons(report))
        assert len(report.rows) == 1


def test_csv_template_is_what_excel_expects_in_each_language() -> None:
    assert template_csv("allocations", "pt_BR").decode("utf-8") == (
        "\ufeffCliente (e-mail ou CPF/CNPJ);Ativo;Quantidade;Preço de compra;Data de compra\r\n"
        "maria.souza@example.com;PETR4.SA;100;1234,56;10/03/2025\r\n"
    )
    assert template_csv("clients", "en").decode("utf-8") == (
        "\ufeffName,E-mail,CPF/CNPJ,Phone,Status,Notes\r\n"
        "Maria Souza,maria.souza@example.com,404.428.201-35,+55 11 98765-4321,Active,\r\n"
    )


def test_xlsx_template_has_typed_cells() -> None:
    sheet = load_workbook(io.BytesIO(template_xlsx("allocations", "pt_BR"))).worksheets[0]
    header, example = list(sheet.iter_rows(values_only=True))
    assert header == (
        "Cliente (e-mail ou CPF/CNPJ)",
        "Ativo",
        "Quantidade",
        "Preço de compra",
        "Data de compra",
    )
    assert example == ("maria.souza@example.com", "PETR4.SA", 100, 1234.56, datetime(2025, 3, 10))
    assert sheet["E2"].number_format == "dd/mm/yyyy"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("'+55 11 98765-4321", ("+55 11 98765-4321", True)),
        ("'=1+1", ("=1+1", True)),
        ("'-5", ("-5", True)),
        ("'@home", ("@home", True)),
        ("'plain", ("'plain", False)),  # a quote before ordinary text is the user's
        ("d'Ávila", ("d'Ávila", False)),
        (12, (12, False)),
        (None, (None, False)),
    ],
)
def test_the_export_quote_is_dropped_only_before_formula_like_text(
    cell: object, expected: object
) -> None:
    assert cells.unquoted(cell) == expected


@pytest.mark.parametrize(
    ("cell", "quoted", "refused"),
    [
        ("- ligar na segunda", True, False),  # the export wrote '- ligar na segunda
        ("+ VIP", True, False),
        ('=HYPERLINK("http://x")', True, True),
        ("@SUM(1)", True, True),
        ("- ligar na segunda", False, True),  # unquoted: a spreadsheet would run it
        ('＝HYPERLINK("http://x")', False, True),  # full-width forms
        ("＠SUM(1)", False, True),
        ("＋cmd", False, True),
        ("-5", False, False),  # a number (refused later as negative)
        ("+55 11 98765-4321", False, False),  # a phone
    ],
)
def test_formula_text(cell: str, quoted: bool, refused: bool) -> None:
    assert cells.is_formula(cell, quoted=quoted) is refused


UNICODE_SPACES = ["\u00a0", "\u2003", "\u3000", "\u205f", "\u2028"]
SPACE_IDS = ["nbsp", "em", "ideographic", "mmsp", "ls"]


@pytest.mark.parametrize("space", UNICODE_SPACES, ids=SPACE_IDS)
@pytest.mark.parametrize("start", ["=", "@", "+", "-"])
def test_a_unicode_space_before_the_formula_does_not_hide_it(space: str, start: str) -> None:
    # The schema trims every Unicode space before storing: the rule judges that text.
    cell = f'{space}{start}HYPERLINK("http://evil.example")'
    assert cells.is_formula(cell)
    report = clients(f"{cell};maria@example.com;;;;", f"Ana;ana@example.com;;;;{cell}")
    assert reasons(report) == {
        2: [("name", "validation.formula", {})],
        3: [("notes", "validation.formula", {})],
    }


@pytest.mark.parametrize("space", UNICODE_SPACES, ids=SPACE_IDS)
def test_a_unicode_space_before_a_phone_or_a_negative_amount_changes_nothing(space: str) -> None:
    report = clients(f"Ana;ana@example.com;;{space}+55 11 98765-4321;;")
    assert report.ok
    assert report.rows[0].values["phone"] == "+55 11 98765-4321"
    lot = lots(f"ana@example.com;PETR4.SA;{space}-5;30;10/03/2025")
    assert reasons(lot) == {2: [("quantity", "validation.positive", {})]}


def test_an_excel_array_formula_is_refused_not_stored_as_its_repr() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Nome", "E-mail", "Observações"])
    sheet.append(["Maria", "maria@example.com", None])
    sheet["C2"] = ArrayFormula("C2", '=HYPERLINK("http://evil","x")')
    buffer = io.BytesIO()
    workbook.save(buffer)

    report = check_file("clients", "c.xlsx", buffer.getvalue(), "pt_BR")

    (row,) = report.rows
    assert not row.valid
    assert [(r.field, r.key) for r in row.reasons] == [("notes", "validation.formula")]
    assert row.raw["notes"] == '=HYPERLINK("http://evil","x")'


def test_an_exported_clients_header_maps_with_its_extra_columns_skipped() -> None:
    # The header the clients export writes (its own column list, not a copy of it).
    header = [translate(column.label, "pt_BR") for column in CLIENTS.columns]
    mapping = map_header("clients", header, "pt_BR")
    assert mapping.errors == []
    assert mapping.fields == [
        IGNORED,
        "name",
        "email",
        "document",
        "phone",
        "status",
        "notes",
        IGNORED,
        IGNORED,
    ]
