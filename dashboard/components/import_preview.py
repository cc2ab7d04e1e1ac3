"""The import preview as plain data: a report in, localised messages and a DataFrame out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from core.documents import format_document
from core.formatting import DASH, format_date, format_number
from core.i18n import Translator
from core.imports.columns import COLUMNS
from core.imports.reading import ENCODING_LABELS
from core.imports.report import ImportReport, Reason, RowResult
from dashboard.components import columns
from dashboard.components.markdown import escape_params


def reason_text(reason: Reason, t: Translator, *, markdown: bool = False) -> str:
    """One reason in the user's language, prefixed with its column when it has one; with
    ``markdown``, what came from the file (the params) is escaped for a Markdown element."""
    params = reason.params
    if markdown:
        params = escape_params(params)
    message = t(reason.key, **params)
    if reason.field is None:
        return message
    return f"{field_label(reason.field, t)}: {message}"


def field_label(field: str, t: Translator) -> str:
    """The column's name as the template in the user's language calls it."""
    for kind_columns in COLUMNS.values():
        for column in kind_columns:
            if column.field == field:
                return t(column.label_key)
    return t(f"field.{field}")


def _places(value: Decimal) -> int:
    return max(0, -int(value.normalize().as_tuple().exponent))


def display_value(field: str, value: Any, t: Translator) -> str:
    """A parsed value as the user reads it in their locale (what will be stored)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        places = _places(value)
        priced = field in ("buy_price", "price", "fees", "amount", "tax")
        return format_number(value, t.locale, max(2, places) if priced else places)
    if isinstance(value, date):
        return format_date(value, t.locale)
    if field == "document":
        return format_document(str(value))
    if field == "status":
        return t(f"status.{value}")
    if field == "kind":
        return t(f"movement_kind.{value}")
    if field == "income_type":
        return t(f"income_type.{value}")
    return str(value)


NUMERIC = frozenset({"quantity", "buy_price", "price", "fees", "amount", "tax"})
PRICED = frozenset({"buy_price", "price", "fees", "amount", "tax"})
DATES = frozenset({"buy_date", "date"})


def _cell(row: RowResult, field: str, t: Translator) -> Any:
    """A number or a date as read (None when the cell could not be read: its reason quotes
    what was typed), any other cell as read or, refused, as typed."""
    if field in NUMERIC:
        return None if field not in row.values else float(row.values[field])
    if field in DATES:
        return row.values.get(field)
    if field in row.values:
        return display_value(field, row.values[field], t)
    return row.raw.get(field, "")


def _reasons(row: RowResult, t: Translator) -> str:
    """The row's reasons; one about a number or a date that could not be read (its cell is
    empty) quotes what was typed (“abc”). Text cells show what was typed themselves."""
    texts = []
    for reason in row.reasons:
        text = reason_text(reason, t)
        field = reason.field or ""
        typed = row.raw.get(field, "").strip()
        if field in NUMERIC | DATES and field not in row.values and typed:
            text = f"{text} (“{typed}”)"
        texts.append(text)
    return "; ".join(texts)


def _changes(row: RowResult, t: Translator) -> str:
    """An update's changes: ``Nome: Maria → Maria Souza`` (stored → in the file)."""
    return ", ".join(
        f"{field_label(field, t)}: {display_value(field, old, t) or DASH} → "
        f"{display_value(field, row.values.get(field), t) or DASH}"
        for field, old in row.previous.items()
    )


def preview_frame(
    report: ImportReport, t: Translator, *, only_invalid: bool = False
) -> pd.DataFrame:
    """One line per row: number, valid or not, what an import does, the reasons, then the
    values (the reasons come first, so they are in view on a 1,400 px screen).

    Numbers and dates are values (formatted by :func:`preview_config` with the decimals
    the file has, so a misread separator shows: ``1,234`` read as 1.234 is not 1.234,00);
    a refused cell is empty and its reason quotes what was typed. An import of clients
    also says which stored client a row matches and, for an update, the stored and new
    values of what changes.
    """
    fields = [column.field for column in COLUMNS[report.kind]]
    headers = [field_label(field, t) for field in fields]
    clients = report.kind == "clients"
    lines = []
    for row in report.rows:
        if only_invalid and row.valid:
            continue
        line: dict[str, Any] = {
            t("import.col.row"): row.row,
            t("import.col.valid"): "✓" if row.valid else "✗",
            t("import.col.action"): t(f"import.action.{row.action}") if row.action else "",
            t("import.col.reasons"): _reasons(row, t),
        }
        if clients:
            line[t("import.col.matched")] = row.matched or ""
            line[t("import.col.changes")] = _changes(row, t)
        for field, header in zip(fields, headers, strict=True):
            line[header] = _cell(row, field, t)
        lines.append(line)
    columns_ = [
        t("import.col.row"),
        t("import.col.valid"),
        t("import.col.action"),
        t("import.col.reasons"),
        *([t("import.col.matched"), t("import.col.changes")] if clients else []),
        *headers,
    ]
    return pd.DataFrame(lines, columns=columns_)


def preview_config(report: ImportReport, t: Translator) -> dict[str, Any]:
    """Numbers with the decimals the file has (two at least for money), dates in the
    locale's form, the reasons and changes wide, the flags narrow."""
    config: dict[str, Any] = {
        t("import.col.row"): columns.quantity(width=55),
        t("import.col.valid"): columns.text(width=55),
        t("import.col.action"): columns.text(width=90),
        t("import.col.reasons"): columns.text(width=300),
        t("import.col.matched"): columns.text(width=180),
        t("import.col.changes"): columns.text(width=400),
    }
    for column in COLUMNS[report.kind]:
        field = column.field
        if field in NUMERIC:
            found = [row.values.get(field) for row in report.rows]
            places = columns.quantity_places(found)
            places = max(2, places) if field in PRICED else places
            config[t(column.label_key)] = columns.quantity(places, width="small")
        elif field in DATES:
            config[t(column.label_key)] = columns.day(t, width="small")
    return config


def summary_lines(report: ImportReport, t: Translator) -> tuple[str, str]:
    """How many rows are valid, and what an import would do with them."""
    counts = report.actions()

    def count(value: int) -> str:
        return format_number(value, t.locale, 0)  # 13.791 linha(s), not 13791

    return (
        t(
            "import.summary",
            total=count(len(report.rows)),
            valid=count(report.valid_count),
            invalid=count(report.invalid_count),
        ),
        t(
            "import.plan",
            create=count(counts["create"]),
            update=count(counts["update"]),
            unchanged=count(counts["unchanged"]),
        ),
    )


def read_as(report: ImportReport, t: Translator) -> str | None:
    """How the file was read (format, encoding, separator), for the caption."""
    if report.file_format == "xlsx":
        return t("import.read_as_xlsx")
    if report.file_format == "csv":
        delimiter = t("import.tab") if report.delimiter == "\t" else report.delimiter
        encoding = ENCODING_LABELS.get(report.encoding or "", report.encoding)
        return t("import.read_as_csv", encoding=encoding, delimiter=delimiter)
    return None
