"""The import preview as plain data: a report in, localised messages and a DataFrame out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from core.documents import format_document
from core.formatting import format_date, format_number
from core.i18n import Translator
from core.imports.columns import COLUMNS
from core.imports.reading import ENCODING_LABELS
from core.imports.report import ImportReport, Reason, RowResult
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
    for columns in COLUMNS.values():
        for column in columns:
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


def _cell(row: RowResult, field: str, t: Translator) -> str:
    if field in row.values:
        return display_value(field, row.values[field], t)
    return row.raw.get(field, "")


def preview_frame(
    report: ImportReport, t: Translator, *, only_invalid: bool = False
) -> pd.DataFrame:
    """One line per row: number, valid or not, what an import does, the values, reasons.

    A valid row shows the values as read (numbers and dates in the user's format), so a
    misread separator is visible before anything is stored; a refused row shows its cells
    as typed.
    """
    fields = [column.field for column in COLUMNS[report.kind]]
    headers = [field_label(field, t) for field in fields]
    lines = []
    for row in report.rows:
        if only_invalid and row.valid:
            continue
        line: dict[str, Any] = {
            t("import.col.row"): row.row,
            t("import.col.valid"): "✓" if row.valid else "✗",
            t("import.col.action"): t(f"import.action.{row.action}") if row.action else "",
        }
        for field, header in zip(fields, headers, strict=True):
            line[header] = _cell(row, field, t)
        line[t("import.col.reasons")] = "; ".join(reason_text(r, t) for r in row.reasons)
        lines.append(line)
    columns = [
        t("import.col.row"),
        t("import.col.valid"),
        t("import.col.action"),
        *headers,
        t("import.col.reasons"),
    ]
    return pd.DataFrame(lines, columns=columns)


def summary_lines(report: ImportReport, t: Translator) -> tuple[str, str]:
    """How many rows are valid, and what an import would do with them."""
    counts = report.actions()
    return (
        t(
            "import.summary",
            total=len(report.rows),
            valid=report.valid_count,
            invalid=report.invalid_count,
        ),
        t(
            "import.plan",
            create=counts["create"],
            update=counts["update"],
            unchanged=counts["unchanged"],
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
