"""Excel workbooks with typed cells, written in openpyxl's write-only (streaming) mode.

One sheet per dataset, after a first "Summary" sheet that says what was exported, by whom,
when and with which filters. Each dataset sheet has a bold header row frozen in place, an
autofilter over the data, widths set per column, and real typed cells: numbers with BRL (or
the row's currency) money formats, percentages, dates and São Paulo timestamps. A dataset
longer than Excel's 1,048,576 rows continues on a sheet named "<title> (2)".

Write-only mode serialises each row as it is appended (to a temporary file per sheet, zipped
on save), so memory stays flat whatever the number of rows. Its cells cannot be read back
or restyled, which is why widths come from the column definitions, not from the data.

**Text is never a formula.** openpyxl stores a string that starts with ``=`` as a formula
and one equal to an error code (``#N/A``) as an error; such text, and any text with a
formula-like start (see :data:`core.exports.cells.FORMULA_STARTS`), is written as an
explicit string cell with Excel's "quote prefix" style, so it shows exactly as stored and
stays text even when someone edits the cell. Characters XML cannot hold (control
characters other than tab and line breaks) are replaced by U+FFFD.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from core.exports.cells import (
    DATE_FORMATS,
    DATETIME_FORMATS,
    FORMULA_STARTS,
    INTEGER_FORMAT,
    PERCENT_FORMAT,
    excel_datetime,
    money_format,
)
from core.exports.datasets import Dataset, Kind
from core.i18n import Translator

EXCEL_MAX_ROWS = 1_048_576  # per sheet, header included
SHEET_TITLE_MAX = 31
SHEET_TITLE_FORBIDDEN = str.maketrans({c: " " for c in "\\/?*[]:"})
BOLD = Font(bold=True)
MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class Sheet:
    """A dataset and its rows (any iterable, consumed once)."""

    dataset: Dataset
    rows: Iterable[Sequence[Any]]


SummaryLines = Sequence[tuple[str, Any]]
SummaryBuilder = Callable[[Mapping[str, int]], SummaryLines]


def text_cell(ws: WriteOnlyWorksheet, value: str, *, bold: bool = False) -> str | Cell:
    """``value`` as a string cell that no spreadsheet evaluates.

    Plain text is returned as is (openpyxl types it as a string); formula-like text comes
    back as an explicit string cell with the quote-prefix style.
    """
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if not bold and not value.startswith(FORMULA_STARTS) and value not in ERROR_CODES:
        return value
    cell = WriteOnlyCell(ws, value)
    cell.data_type = "s"  # openpyxl typed "=..." as a formula and "#N/A" as an error
    if bold:
        cell.font = BOLD
    if value.startswith(FORMULA_STARTS) or value in ERROR_CODES:
        cell.quotePrefix = True
    return cell


class _Styled:
    """One reusable styled cell per number format: write-only mode serialises a row when it
    is appended, so the same cell object can carry the next row's value."""

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        self.ws = ws
        self.cells: dict[str, Cell] = {}

    def __call__(self, number_format: str, value: Any) -> Cell:
        cell = self.cells.get(number_format)
        if cell is None:
            cell = self.cells[number_format] = WriteOnlyCell(self.ws)
            cell.number_format = number_format
        cell.value = value
        return cell


Converter = Callable[[Any, Sequence[Any]], Any]


def _converters(ws: WriteOnlyWorksheet, dataset: Dataset, locale: str) -> list[Converter]:
    """Per column: a value (and its row) to what ``ws.append`` takes."""
    converters: list[Converter] = []
    for column in dataset.columns:
        styled = _Styled(ws)  # per column: two cells of a row never share an object
        kind = column.kind
        if kind is Kind.TEXT:
            converters.append(lambda v, _row, ws=ws: text_cell(ws, str(v)))
        elif kind is Kind.DECIMAL:
            converters.append(lambda v, _row: v)  # General: every digit, no trailing zeros
        elif kind is Kind.INTEGER:
            converters.append(lambda v, _row, s=styled: s(INTEGER_FORMAT, int(v)))
        elif kind is Kind.PERCENT:
            converters.append(lambda v, _row, s=styled: s(PERCENT_FORMAT, v))
        elif kind is Kind.DATE:
            fmt = DATE_FORMATS.get(locale, DATE_FORMATS["en"])
            converters.append(lambda v, _row, s=styled, f=fmt: s(f, v))
        elif kind is Kind.DATETIME:
            fmt = DATETIME_FORMATS.get(locale, DATETIME_FORMATS["en"])
            converters.append(lambda v, _row, s=styled, f=fmt: s(f, excel_datetime(v)))
        else:  # MONEY / PRICE, in the row's currency
            at = dataset.index(column.currency) if column.currency else None
            converters.append(_money_converter(styled, at, price=kind is Kind.PRICE))
    return converters


def _money_converter(styled: _Styled, at: int | None, *, price: bool) -> Converter:
    """Amounts formatted in the currency found at ``at`` in the row (reais without one)."""
    formats: dict[str | None, str] = {}

    def convert(value: Any, row: Sequence[Any]) -> Cell:
        currency = row[at] if at is not None else None
        fmt = formats.get(currency)
        if fmt is None:
            fmt = formats[currency] = money_format(currency, price=price)
        return styled(fmt, value)

    return convert


def sheet_title(title: str, part: int, taken: set[str]) -> str:
    """A valid, unique sheet name: no ``\\ / ? * [ ] :``, at most 31 characters."""
    base = title.translate(SHEET_TITLE_FORBIDDEN).strip() or "Sheet"
    suffix = f" ({part})" if part > 1 else ""
    name = base[: SHEET_TITLE_MAX - len(suffix)] + suffix
    n = 2
    while name.lower() in taken:
        extra = f" ~{n}"
        name = base[: SHEET_TITLE_MAX - len(suffix) - len(extra)] + suffix + extra
        n += 1
    taken.add(name.lower())
    return name


def _start_sheet(wb: Workbook, title: str, dataset: Dataset, t: Translator) -> WriteOnlyWorksheet:
    ws = wb.create_sheet(title)
    # Both are written at the top of the sheet's XML: set them before the first row.
    ws.freeze_panes = "A2"
    for i, column in enumerate(dataset.columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = column.width
    ws.append([text_cell(ws, t(column.label), bold=True) for column in dataset.columns])
    return ws


def _finish_sheet(ws: WriteOnlyWorksheet, dataset: Dataset, rows: int) -> None:
    last = get_column_letter(len(dataset.columns))
    ws.auto_filter.ref = f"A1:{last}{rows + 1}"


def _write_dataset(
    wb: Workbook, sheet: Sheet, t: Translator, max_rows: int, taken: set[str]
) -> int:
    dataset = sheet.dataset
    per_sheet = max_rows - 1  # the header takes a row
    part = 1
    ws = _start_sheet(wb, sheet_title(t(dataset.title), part, taken), dataset, t)
    converters = _converters(ws, dataset, t.locale)
    total = in_sheet = 0
    for row in sheet.rows:
        if in_sheet == per_sheet:
            _finish_sheet(ws, dataset, in_sheet)
            part += 1
            ws = _start_sheet(wb, sheet_title(t(dataset.title), part, taken), dataset, t)
            converters = _converters(ws, dataset, t.locale)
            in_sheet = 0
        ws.append(
            [
                None if value is None else convert(value, row)
                for convert, value in zip(converters, row, strict=True)
            ]
        )
        in_sheet += 1
        total += 1
    _finish_sheet(ws, dataset, in_sheet)
    return total


def _write_summary(ws: WriteOnlyWorksheet, title: str, lines: SummaryLines, t: Translator) -> None:
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 70
    styled = _Styled(ws)
    ws.append([text_cell(ws, title, bold=True)])
    for label, value in lines:
        if hasattr(value, "tzinfo"):  # a timestamp
            fmt = DATETIME_FORMATS.get(t.locale, DATETIME_FORMATS["en"])
            shown: Any = styled(fmt, excel_datetime(value))
        elif isinstance(value, int):
            shown = styled(INTEGER_FORMAT, value)
        else:
            shown = text_cell(ws, str(value))
        ws.append([text_cell(ws, label, bold=True), shown])


def write_xlsx(
    sheets: Sequence[Sheet],
    summary: SummaryBuilder,
    out: BinaryIO,
    t: Translator,
    *,
    max_rows: int = EXCEL_MAX_ROWS,
) -> dict[str, int]:
    """Write the workbook to ``out``; returns the rows written per dataset name.

    ``summary`` receives those counts and returns the summary sheet's (label, value) lines;
    the summary is the first sheet though it is written last.
    """
    wb = Workbook(write_only=True)
    wb.properties.creator = "Anka"
    taken: set[str] = set()
    summary_ws = wb.create_sheet(sheet_title(t("export.summary.sheet"), 1, taken))
    counts: dict[str, int] = {}
    for sheet in sheets:
        counts[sheet.dataset.name] = _write_dataset(wb, sheet, t, max_rows, taken)
    _write_summary(summary_ws, t("export.summary.title"), summary(counts), t)
    wb.save(out)
    return counts
