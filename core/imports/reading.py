"""Reading an uploaded file into a header and numbered rows of raw cells.

Accepted: CSV and Excel ``.xlsx``, recognised by their content (magic bytes), not only by
the name, and refused with a clear message otherwise (old ``.xls``, PDFs, images, a
renamed file, an empty or oversized file, too many rows).

CSV text is decoded as UTF-8 (with or without a BOM), UTF-16 when it starts with its BOM,
else Windows-1252 — what Excel in Portuguese writes ("CSV (separado por vírgulas)") — and
ISO-8859-1 as the last resort (it decodes any byte). Decoding strictly in that order is
deterministic: valid UTF-8 is almost never accidentally valid cp1252 text and vice versa,
where a statistical detector may guess a neighbouring code page for a short Portuguese
file. The separator is the one of ``;``, ``,`` or tab that splits the header line into the
most columns (Excel in Portuguese writes ``;`` because ``,`` is its decimal mark).

``.xlsx`` is read with openpyxl in read-only mode without evaluating anything: a formula
cell arrives as its formula text (``=...``) and is refused by validation. Only the first
worksheet is read.

Row numbers are those a spreadsheet shows: the header is row 1. Blank rows are skipped but
keep their numbers, so row 7 in a report is row 7 in Excel.
"""

from __future__ import annotations

import csv
import io
import logging
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from openpyxl import load_workbook

from core.errors import AnkaError

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024  # 5 MB: far above a few thousand rows, small enough to read at once
MAX_ROWS = 5000  # data rows (blank rows not counted); one import is one transaction
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024  # an .xlsx that expands beyond this is refused
DELIMITERS = (";", ",", "\t")

Cell = str | int | float | Decimal | date | datetime | bool | None

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx
# Other common files people pick by mistake; anything with a NUL byte is refused as well.
BINARY_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x1f\x8b",
    b"7z\xbc\xaf",
    b"Rar!",
    b"{\\rtf",
)
CSV_EXTENSIONS = {".csv"}
XLSX_EXTENSIONS = {".xlsx"}
ENCODING_LABELS = {
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
    "latin-1": "ISO-8859-1",
}


class ImportFileError(AnkaError):
    """The file as a whole cannot be imported (type, size, encoding, layout)."""

    key = "import.file.unreadable"


@dataclass(slots=True)
class Table:
    """A file's header and its non-blank data rows, each with its spreadsheet row number."""

    file_format: str  # "csv" or "xlsx"
    header: list[str]
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None


def read_table(
    file_name: str, data: bytes, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> Table:
    """Read ``data`` (the uploaded bytes of ``file_name``) or raise :class:`ImportFileError`."""
    if len(data) > max_bytes:
        raise ImportFileError("import.file.too_large", max=max_bytes // (1024 * 1024))
    if not data.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe\x00"):
        raise ImportFileError("import.file.empty")
    if data.startswith(OLE_MAGIC):
        raise ImportFileError("import.file.xls")
    extension = PurePath(file_name or "").suffix.lower()
    if extension not in CSV_EXTENSIONS | XLSX_EXTENSIONS:
        raise ImportFileError("import.file.type")
    if data.startswith(ZIP_MAGIC):
        if extension not in XLSX_EXTENSIONS:
            raise ImportFileError("import.file.mismatch", ext=extension.lstrip("."))
        return _read_xlsx(data, max_rows)
    if extension in XLSX_EXTENSIONS:
        raise ImportFileError("import.file.mismatch", ext=extension.lstrip("."))
    return _read_csv(data, max_rows)


# -- CSV -------------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with (see the module docstring)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data, "utf-8-sig"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16"), "utf-16"
    if any(data.startswith(magic) for magic in BINARY_MAGIC) or b"\x00" in data:
        raise ImportFileError("import.file.type")
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ImportFileError("import.file.encoding", encoding=ENCODING_LABELS[encoding]) from exc


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def detect_delimiter(text: str) -> str:
    """The separator that splits the header line into the most columns (``;`` on a tie)."""
    line = _first_line(text)
    counts = []
    for delimiter in DELIMITERS:
        try:
            fields = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            fields = []
        counts.append((len(fields), delimiter))
    best = max(count for count, _ in counts)
    return next(delimiter for count, delimiter in counts if count == best)


def _read_csv(data: bytes, max_rows: int) -> Table:
    text, encoding = decode(data)
    delimiter = detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    table = Table("csv", [], encoding=encoding, delimiter=delimiter)
    try:
        _collect(table, enumerate(reader, start=1), max_rows)
    except csv.Error as exc:
        raise ImportFileError("import.file.malformed_csv", line=reader.line_num) from exc
    return table


# -- XLSX ------------------------------------------------------------------------------------


def _read_xlsx(data: bytes, max_rows: int) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileError("import.file.bad_xlsx") from exc
    if "xl/workbook.xml" not in names:
        raise ImportFileError("import.file.bad_xlsx")  # a .docx or any other zip
    if expanded > MAX_UNZIPPED_BYTES:
        raise ImportFileError("import.file.bad_xlsx")  # a zip bomb, not a spreadsheet
    table = Table("xlsx", [])
    try:
        with warnings.catch_warnings():
            # "Workbook contains no default style" and similar notes about foreign writers.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            try:
                sheet = workbook.worksheets[0]
                sheet.reset_dimensions()  # don't trust a stored A1:XFD1048576 dimension
                _collect(
                    table, enumerate(sheet.iter_rows(min_row=1, values_only=True), 1), max_rows
                )
            finally:
                workbook.close()
    except ImportFileError:
        raise
    except Exception as exc:  # any failure to parse someone's file means "unreadable"
        log.info("unreadable xlsx upload: %r", exc)
        raise ImportFileError("import.file.bad_xlsx") from exc
    return table


# -- both ------------------------------------------------------------------------------------


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _collect(table: Table, numbered: Any, max_rows: int) -> None:
    """Header from the first non-blank row, then the non-blank data rows (ragged allowed)."""
    for number, cells in numbered:
        row = list(cells)
        if all(_blank(cell) for cell in row):
            continue
        if not table.header:
            while row and _blank(row[-1]):
                row.pop()
            table.header = ["" if cell is None else str(cell).strip() for cell in row]
            continue
        if len(table.rows) >= max_rows:
            raise ImportFileError("import.file.too_many_rows", max=max_rows)
        table.rows.append((number, row))
    if not table.header:
        raise ImportFileError("import.file.empty")
    if not table.rows:
        raise ImportFileError("import.file.no_rows")
