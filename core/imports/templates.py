"""Import templates: the header row and example rows (one; three for movements: a buy, a
partial sell, a dividend), in the user's language.

The CSV follows what Excel expects in that language (pt-BR: ``;`` separator, decimal comma,
``dd/mm/aaaa``; English: ``,`` separator, decimal point, ISO dates) and starts with a UTF-8
BOM so Excel shows the accents right. The ``.xlsx`` has typed cells: numbers as numbers,
the date as a date, CPF/CNPJ and phone as text (a number would lose leading zeros).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from core.i18n import translate
from core.imports.columns import COLUMNS, template_headers
from core.imports.report import Kind

# Example values: a made-up client holding a B3 lot. The CPF, 404.428.201-35, passes the
# check digits and is the one SERPRO's Consulta CPF documentation uses for its demo
# ("Nome do CPF 404.428.201-35"): a test number, not a person's (529.982.247-25, the
# example before, circulates widely and may well belong to someone).
EXAMPLES: dict[Kind, dict[str, Any]] = {
    "clients": {
        "name": "Maria Souza",
        "email": "maria.souza@example.com",
        "document": "404.428.201-35",
        "phone": "+55 11 98765-4321",
        "status": "status.active",
        "notes": "",
    },
    "allocations": {
        "client": "maria.souza@example.com",
        "symbol": "PETR4.SA",
        "quantity": Decimal("100"),
        "buy_price": Decimal("1234.56"),
        "buy_date": date(2025, 3, 10),
    },
}
# Movements: a buy, a partial sell and a dividend of that lot (blank where a kind has none).
MOVEMENT_EXAMPLES: tuple[dict[str, Any], ...] = (
    {
        "client": "maria.souza@example.com",
        "symbol": "PETR4.SA",
        "kind": "movement_kind.buy",
        "date": date(2025, 3, 10),
        "quantity": Decimal("100"),
        "price": Decimal("34.56"),
        "fees": Decimal("4.90"),
    },
    {
        "client": "maria.souza@example.com",
        "symbol": "PETR4.SA",
        "kind": "movement_kind.sell",
        "date": date(2025, 6, 2),
        "quantity": Decimal("40"),
        "price": Decimal("38.10"),
        "fees": Decimal("4.90"),
    },
    {
        "client": "maria.souza@example.com",
        "symbol": "PETR4.SA",
        "kind": "movement_kind.income",
        "date": date(2025, 8, 20),
        "income_type": "income_type.dividend",
        "amount": Decimal("45.60"),
        "tax": Decimal("0"),
    },
)
TRANSLATED = ("status", "kind", "income_type")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"


def _examples(kind: Kind, locale: str) -> list[list[Any]]:
    """The example rows in column order, words in ``locale`` (None for a blank cell)."""
    rows = MOVEMENT_EXAMPLES if kind == "movements" else (EXAMPLES[kind],)
    out = []
    for example in rows:
        values = []
        for column in COLUMNS[kind]:
            value = example.get(column.field)
            translated = column.field in TRANSLATED and value is not None
            values.append(translate(value, locale) if translated else value)
        out.append(values)
    return out


def _csv_cell(value: Any, locale: str) -> str:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text.replace(".", ",") if locale == "pt_BR" else text
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y") if locale == "pt_BR" else value.isoformat()
    return "" if value is None else str(value)


def template_csv(kind: Kind, locale: str) -> bytes:
    """The CSV template (UTF-8 with BOM) for ``kind`` in ``locale``."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";" if locale == "pt_BR" else ",", lineterminator="\r\n")
    writer.writerow(template_headers(kind, locale))
    for example in _examples(kind, locale):
        writer.writerow([_csv_cell(value, locale) for value in example])
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(kind: Kind, locale: str) -> bytes:
    """The ``.xlsx`` template for ``kind`` in ``locale`` (one sheet, typed cells)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Anka"
    headers = template_headers(kind, locale)
    sheet.append(headers)
    examples = _examples(kind, locale)
    for example in examples:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in example])
    date_format = "dd/mm/yyyy" if locale == "pt_BR" else "yyyy-mm-dd"
    for row in sheet.iter_rows(min_row=2, max_row=1 + len(examples)):
        for cell in row:
            if isinstance(cell.value, date):
                cell.number_format = date_format
            elif isinstance(cell.value, str):
                cell.number_format = "@"  # text: keeps a CPF's leading zeros
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(14, len(header) + 4)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
