"""Per-row validation of an import, without the database: the schemas decide, as in forms.

Clients go through :class:`core.schemas.ClientCreate`; allocations through
:class:`core.trade_schemas.AssetIn` (the ticker) and
:class:`core.trade_schemas.AllocationIn` (quantity,
buy price, buy date: positive amounts in either locale's format, a date neither in the
future nor absurdly old); movements (buys, sells, income) through
:mod:`core.imports.movement_rows`. What needs stored data — does the client exist, does market data
know the ticker, is the buy date before the asset's first trading day, is the row new or
already stored — is checked by :mod:`core.services.imports`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from core.errors import ValidationFailed
from core.imports import cells
from core.imports.columns import IGNORED, Mapping, map_header
from core.imports.movement_rows import movement_row
from core.imports.reading import Cell, ImportFileError, Table, read_table
from core.imports.report import ImportReport, Kind, Reason, RowResult
from core.schemas import ClientCreate, parse
from core.trade_schemas import AllocationIn, AssetIn

CLIENT_FIELDS = ("name", "email", "document", "phone", "status", "notes")


def validate_table(kind: Kind, table: Table, locale: str) -> tuple[Mapping, list[RowResult]]:
    """The header mapping and, when the header is fine, one result per data row."""
    mapping = map_header(kind, table.header, locale)
    if mapping.errors:
        return mapping, []
    check = {"clients": _client_row, "allocations": _allocation_row, "movements": movement_row}[
        kind
    ]
    rows = [check(_cells(number, row, mapping), locale) for number, row in table.rows]
    if kind == "clients":
        mark_duplicates(rows, "email", lambda r: str(r.values["email"]).casefold())
        mark_duplicates(rows, "document", lambda r: r.values.get("document"))
    return mapping, rows


Cells = tuple[RowResult, dict[str, Cell], set[str]]


def _cells(number: int, row: list[Cell], mapping: Mapping) -> Cells:
    """The row's cells by field, and the fields whose text was marked as text (``'``);
    formulas and cells past the header are refused here (the schemas refuse formula-like
    text again, by the same rule, where the form's fields are validated)."""
    result = RowResult(row=number, raw={})
    by_field: dict[str, Cell] = {}
    marked: set[str] = set()
    for position, cell in enumerate(row):
        field = mapping.fields[position] if position < len(mapping.fields) else None
        if field == IGNORED:
            continue
        cell, quoted = cells.unquoted(cell)
        if field is None:
            if not cells.is_blank(cell):
                result.refuse("import.row.extra_cells")
            continue
        result.raw[field] = cells.cell_text(cell)
        if quoted:
            marked.add(field)
        if cells.is_formula(cell, quoted=quoted):
            result.refuse("validation.formula", field)
        elif not cells.is_blank(cell):
            by_field[field] = cell
    return result, by_field, marked


def _refuse_all(result: RowResult, error: ValidationFailed) -> None:
    for field, (key, params) in error.field_errors.items():
        result.refuse(key, field, **params)


def _client_row(parts: Cells, locale: str) -> RowResult:
    result, by_field, marked = parts
    data: dict[str, Any] = {}
    for field, cell in by_field.items():
        if field == "document":
            data[field] = cells.document_value(cell)
        elif field == "status":
            data[field] = cells.status_value(cell)
        else:
            data[field] = cells.text_value(cell)
    try:
        client = parse(ClientCreate, data, marked_as_text=marked)
    except ValidationFailed as error:
        _refuse_all(result, error)
        return result
    if result.valid:
        # Only what the file gives: a blank cell leaves a stored value as it is.
        result.values = {
            f: getattr(client, f) for f in CLIENT_FIELDS if f in client.model_fields_set
        }
    return result


def _allocation_row(parts: Cells, locale: str) -> RowResult:
    result, by_field, _marked = parts
    client = cells.text_value(by_field["client"]) if "client" in by_field else ""
    if client and "@" not in client:  # a CPF/CNPJ, maybe a number that lost its zeros
        client = cells.document_value(by_field["client"])
    if not client:
        result.refuse("validation.required", "client")
    symbol: str | None = None
    try:
        symbol = parse(AssetIn, {"symbol": cells.text_value(by_field.get("symbol"))}).symbol
    except ValidationFailed as error:
        _refuse_all(result, error)
    lot: dict[str, Any] = {
        f: cells.number_value(by_field[f], locale)
        for f in ("quantity", "buy_price")
        if f in by_field
    }
    if "buy_date" in by_field:
        try:
            lot["buy_date"] = cells.date_value(by_field["buy_date"])
        except cells.CellError as error:
            result.refuse(error.key, "buy_date")
    try:
        checked = parse(AllocationIn, lot)
    except ValidationFailed as error:
        _refuse_all(result, error)
        return result
    if result.valid and symbol:
        # The allocations file has no fees column: its buys are stored with none.
        lot_values = checked.model_dump(exclude={"fees"})
        result.values = {"client": client, "symbol": symbol, **lot_values}
    return result


def mark_duplicates(
    rows: Iterable[RowResult],
    field: str | None,
    key: Callable[[RowResult], Hashable | None],
) -> None:
    """Refuse every valid row whose ``key`` repeats an earlier row's (naming that row)."""
    first: dict[Hashable, int] = {}
    for row in rows:
        if not row.valid:
            continue
        value = key(row)
        if value is None:
            continue
        if value in first:
            row.refuse("import.row.duplicate", field, row=first[value])
        else:
            first[value] = row.row


def check_file(kind: Kind, file_name: str, data: bytes, locale: str) -> ImportReport:
    """Read and validate an uploaded file on its own (no database): the report a preview
    and a commit both start from. File-level problems land in ``file_errors``."""
    report = ImportReport(kind=kind, file_name=file_name, sha256=hashlib.sha256(data).hexdigest())
    try:
        table = read_table(file_name, data)
    except ImportFileError as error:
        report.file_errors.append(Reason(error.key, error.params))
        return report
    report.file_format = table.file_format
    report.encoding = table.encoding
    report.delimiter = table.delimiter
    mapping, report.rows = validate_table(kind, table, locale)
    report.file_errors = mapping.errors
    report.columns = [field for field in mapping.fields if field and field != IGNORED]
    return report
