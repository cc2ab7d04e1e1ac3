"""Turning raw cells (CSV text or typed ``.xlsx`` values) into what the schemas validate.

The schemas in :mod:`core.schemas` do the validating (and read numbers in either locale's
format, and refuse formula-like text); this module only bridges the spreadsheet world:
formula cells and the ``'`` that marks text, Excel numbers and dates, CPFs that lost their
leading zeros, and dates typed as text.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from core.exports.cells import FORMULA_STARTS
from core.formatting import ungroup_number
from core.i18n import CATALOGUE, translate
from core.imports.reading import Cell
from core.schemas import formula_like

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00)?)?$")
_DAY_FIRST_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DIGITS = re.compile(r"^[0-9]+$")
CPF_LENGTH = 11
CNPJ_LENGTH = 14


class CellError(ValueError):
    """A cell that cannot be read as its column requires; ``key`` is the message key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def unquoted(cell: Cell) -> tuple[Cell, bool]:
    """A text cell without the ``'`` that marks formula-like text as plain text — what
    Anka's CSV export writes (``'+55 11 ...``, ``'- ligar na segunda``) and the spreadsheet
    convention — and whether it had one, so an exported file imports back as it was."""
    if isinstance(cell, str) and cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:], True
    return cell, False


def is_formula(cell: Cell, *, quoted: bool = False) -> bool:
    """True for a cell that a spreadsheet would run as a formula: an Excel formula object (an
    array or data-table formula is not text), or formula-like text by the schemas' one rule
    (:func:`core.schemas.formula_like`, judged on the text as it would be stored, so no
    Unicode space before ``=`` hides it), which applies to every column, amounts and dates
    included (``-5`` is a number, refused later as negative).

    ``quoted`` text (see :func:`unquoted`) was marked as text by its author: a leading sign
    is then just text (``- ligar na segunda``), but ``=`` and ``@`` are still refused.
    """
    if isinstance(cell, ArrayFormula | DataTableFormula):
        return True
    if not isinstance(cell, str):
        return False
    return formula_like(cell, marked_as_text=quoted)


def _plain_number(value: int | float | Decimal) -> str:
    text = format(Decimal(str(value)), "f")
    return text[:-2] if text.endswith(".0") else text


def cell_text(cell: Cell) -> str:
    """The cell as the user typed it, for the preview of a refused row."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return str(cell).upper()
    if isinstance(cell, int | float | Decimal):
        return _plain_number(cell)
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, ArrayFormula | DataTableFormula):
        return str(cell.text if isinstance(cell, ArrayFormula) else "=TABLE()")
    return str(cell).strip()


def is_blank(cell: Cell) -> bool:
    """True for an empty cell (or one with spaces only)."""
    return cell_text(cell) == ""


def text_value(cell: Cell) -> str:
    """A text field's value (numbers typed in Excel become their digits)."""
    return cell_text(cell)


def number_value(cell: Cell, locale: str) -> Any:
    """An amount for the schema: Excel numbers exactly as stored, text in either format.

    A lone thousands separator (``1.000``) is read the way ``locale`` means it, as in the
    forms; the preview shows the number read, so the user sees which it was.
    """
    if isinstance(cell, bool | date):
        return cell_text(cell)  # not a number: the schema says so
    if isinstance(cell, int | float | Decimal):
        return Decimal(str(cell))
    return ungroup_number(cell_text(cell), locale)


def date_value(cell: Cell) -> date:
    """A date from an Excel date cell, or text as ``dd/mm/aaaa`` or ISO ``aaaa-mm-dd``."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if not isinstance(cell, str):
        raise CellError("import.row.date")
    text = cell.strip()
    if match := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DAY_FIRST_DATE.match(text):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise CellError("import.row.date")
    try:
        return date(year, month, day)
    except ValueError as exc:  # 31/02/2025
        raise CellError("import.row.date") from exc


def document_value(cell: Cell) -> str:
    """A CPF/CNPJ, with the leading zeros Excel drops from numbers put back.

    ``1234567890`` (a CPF typed as a number) becomes ``01234567890``; 12 or 13 digits
    become a 14-digit CNPJ. The check digits still decide whether it is valid.
    """
    text = cell_text(cell)
    if _DIGITS.match(text):
        if len(text) < CPF_LENGTH:
            return text.zfill(CPF_LENGTH)
        if CPF_LENGTH < len(text) < CNPJ_LENGTH:
            return text.zfill(CNPJ_LENGTH)
    return text


def _fold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).casefold()


_STATUS = {
    _fold(name): status
    for status in ("active", "inactive")
    for name in (status, *(translate(f"status.{status}", loc) for loc in CATALOGUE))
}


def status_value(cell: Cell) -> str:
    """``Ativo``/``Inativo``/``active``/``inactive`` (any case) to the stored status; other
    text passes through for the schema to refuse."""
    text = cell_text(cell)
    return _STATUS.get(_fold(text), text)
