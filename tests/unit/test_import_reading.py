"""Reading uploads: type by content, size and row limits, encodings, separators, xlsx cells."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook

from core.imports.reading import MAX_BYTES, MAX_ROWS, ImportFileError, read_table

CLIENTS_CSV = "Nome;E-mail;Observações\nJoão Gonçalves;joao@example.com;ação preferencial\n"


def refused(name: str, data: bytes, **limits: Any) -> tuple[str, dict[str, Any]]:
    """The message key and params ``read_table`` refuses the file with."""
    with pytest.raises(ImportFileError) as caught:
        read_table(name, data, **limits)
    return caught.value.key, caught.value.params


def xlsx(rows: list[list[Any]], **cells: Any) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    for ref, value in cells.items():
        sheet[ref] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# -- encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (CLIENTS_CSV.encode("utf-8"), "utf-8"),
        (CLIENTS_CSV.encode("utf-8-sig"), "utf-8-sig"),
        (CLIENTS_CSV.encode("cp1252"), "cp1252"),  # what Excel in Portuguese saves
        (CLIENTS_CSV.encode("utf-16"), "utf-16"),  # Excel's "Unicode text", with its BOM
    ],
    ids=["utf-8", "utf-8-bom", "cp1252", "utf-16"],
)
def test_accents_survive_every_encoding_excel_writes(data: bytes, encoding: str) -> None:
    table = read_table("clientes.csv", data)

    assert table.encoding == encoding
    assert table.header == ["Nome", "E-mail", "Observações"]  # no BOM glued to "Nome"
    assert table.rows == [(2, ["João Gonçalves", "joao@example.com", "ação preferencial"])]


def test_bytes_cp1252_does_not_define_fall_back_to_latin_1() -> None:
    # 0x81 is undefined in cp1252 and invalid UTF-8; ISO-8859-1 maps it to U+0081.
    data = "Nome;E-mail\nJosé;jose@example.com\n".encode("latin-1").replace(b"Jos", b"\x81Jos")
    table = read_table("clientes.csv", data)
    assert table.encoding == "latin-1"
    assert table.rows[0][1][0] == "\x81José"


def test_a_bom_that_lies_is_reported() -> None:
    data = b"\xef\xbb\xbfNome;E-mail\nJos\xe9;jose@example.com\n"  # cp1252 body after a UTF-8 BOM
    assert refused("c.csv", data) == ("import.file.encoding", {"encoding": "UTF-8 (BOM)"})


# -- separators ----------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", ",", "\t"], ids=["semicolon", "comma", "tab"])
def test_separator_is_detected_from_the_header(delimiter: str) -> None:
    price = '"1.234,56"' if delimiter == "," else "1.234,56"
    text = delimiter.join(["Cliente", "Ativo", "Preço"]) + "\n"
    text += delimiter.join(["ana@example.com", "PETR4.SA", price]) + "\n"

    table = read_table("lotes.csv", text.encode())

    assert table.delimiter == delimiter
    assert table.header == ["Cliente", "Ativo", "Preço"]
    assert table.rows == [(2, ["ana@example.com", "PETR4.SA", "1.234,56"])]


def test_quoted_cells_keep_separators_and_line_breaks() -> None:
    data = b'Nome,Notas\n"Souza, Maria","linha 1\nlinha 2; fim"\nJo\xc3\xa3o,x\n'
    table = read_table("c.csv", data)
    assert table.delimiter == ","
    # Row numbers count records (what a spreadsheet shows), not physical lines.
    assert table.rows == [(2, ["Souza, Maria", "linha 1\nlinha 2; fim"]), (3, ["João", "x"])]


def test_unterminated_quote_is_malformed() -> None:
    data = b'Nome;Notas\nMaria;ok\nJoao;"sem fim\n'
    # Line 3 is where the quote opens.
    assert refused("c.csv", data) == ("import.file.malformed_csv", {"line": 3})


# -- type, size, emptiness -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "key"),
    [
        ("c.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "import.file.type"),
        ("c.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "import.file.type"),
        ("c.csv", b"Nome;E-mail\nMa\x00ria;m@example.com\n", "import.file.type"),
        ("c.pdf", b"Nome;E-mail\nMaria;m@example.com\n", "import.file.type"),
        ("clientes", b"Nome;E-mail\nMaria;m@example.com\n", "import.file.type"),
        ("c.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "import.file.xls"),
        ("c.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "import.file.xls"),
        ("c.xlsx", b"Nome;E-mail\nMaria;m@example.com\n", "import.file.mismatch"),
        ("c.csv", b"PK\x03\x04rest-of-a-zip", "import.file.mismatch"),
        ("c.xlsx", b"PK\x03\x04not really a zip", "import.file.bad_xlsx"),
    ],
    ids=[
        "pdf-named-csv",
        "png-named-csv",
        "nul-bytes",
        "pdf-extension",
        "no-extension",
        "old-xls",
        "encrypted-xlsx",
        "text-named-xlsx",
        "zip-named-csv",
        "broken-zip",
    ],
)
def test_files_that_are_not_csv_or_excel_are_refused(name: str, data: bytes, key: str) -> None:
    assert refused(name, data)[0] == key


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")  # a .docx renamed
    assert refused("c.xlsx", buffer.getvalue())[0] == "import.file.bad_xlsx"


def test_a_zip_bomb_is_refused_before_it_is_opened() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (101 * 1024 * 1024))
    assert len(buffer.getvalue()) < MAX_BYTES
    assert refused("c.xlsx", buffer.getvalue())[0] == "import.file.bad_xlsx"


@pytest.mark.parametrize(
    "data",
    [b"", b"\xef\xbb\xbf", b"\r\n \n\t\n", b";;;\n;;\n"],
    ids=["0-bytes", "bom", "blank", "seps"],
)
def test_empty_files_are_refused(data: bytes) -> None:
    assert refused("c.csv", data)[0] == "import.file.empty"


def test_a_header_alone_has_no_rows() -> None:
    assert refused("c.csv", b"Nome;E-mail\n\n;\n")[0] == "import.file.no_rows"
    assert refused("c.xlsx", xlsx([["Nome", "E-mail"]]))[0] == "import.file.no_rows"


def test_size_limit_is_five_megabytes_and_said_so() -> None:
    header = "Nome;Observações\n".encode()
    row = b"Maria;" + b"x" * 1993 + b"\n"  # 2,000 bytes a row
    body = row * ((MAX_BYTES - len(header)) // len(row))
    just_under = header + body + b"Ana;" + b"y" * (MAX_BYTES - len(header) - len(body) - 5) + b"\n"
    assert len(just_under) == MAX_BYTES
    assert len(read_table("c.csv", just_under).rows) == len(body) // len(row) + 1

    assert refused("c.csv", just_under + b"x") == ("import.file.too_large", {"max": 5})


def test_row_limit_counts_data_rows_only() -> None:
    lines = ["Nome;E-mail", *(f"C{i};c{i}@example.com" for i in range(MAX_ROWS))]
    at_limit = "\n\n".join(lines).encode()  # blank lines in between are not counted
    table = read_table("c.csv", at_limit)
    assert len(table.rows) == MAX_ROWS
    assert table.rows[-1][0] == 2 * MAX_ROWS + 1  # spreadsheet row numbers include blanks

    over = (at_limit.decode() + "\nUm;a-mais@example.com").encode()
    assert refused("c.csv", over) == ("import.file.too_many_rows", {"max": MAX_ROWS})


# -- xlsx ----------------------------------------------------------------------------------


def test_xlsx_cells_arrive_typed_with_spreadsheet_row_numbers() -> None:
    data = xlsx(
        [
            ["Cliente", "Ativo", "Quantidade", "Preço", "Data"],
            ["ana@example.com", "PETR4.SA", 100, 30.5, datetime(2025, 3, 10)],
            [],
            ["ana@example.com", "VALE3.SA", "=C2*2", "62,10", "10/03/2025"],
        ],
        G6="late note",  # a cell past the header, two rows below
    )

    table = read_table("lotes.xlsx", data)

    assert (table.file_format, table.encoding, table.delimiter) == ("xlsx", None, None)
    assert table.header == ["Cliente", "Ativo", "Quantidade", "Preço", "Data"]
    assert table.rows == [
        (2, ["ana@example.com", "PETR4.SA", 100, 30.5, datetime(2025, 3, 10)]),
        # Formulas are not evaluated: they arrive as their text, for validation to refuse.
        (4, ["ana@example.com", "VALE3.SA", "=C2*2", "62,10", "10/03/2025"]),
        (6, [None, None, None, None, None, None, "late note"]),
    ]


def test_xlsx_reads_the_first_sheet_only() -> None:
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.append(["Nome", "E-mail"])
    first.append(["Maria", "maria@example.com"])
    workbook.create_sheet("Outra").append(["ignored", "sheet"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    table = read_table("c.xlsx", buffer.getvalue())

    assert table.header == ["Nome", "E-mail"]
    assert table.rows == [(2, ["Maria", "maria@example.com"])]


def test_xlsx_row_limit() -> None:
    rows = [["Nome", "E-mail"], *([f"C{i}", f"c{i}@example.com"] for i in range(4))]
    assert len(read_table("c.xlsx", xlsx(rows), max_rows=4).rows) == 4
    assert refused("c.xlsx", xlsx(rows), max_rows=3) == ("import.file.too_many_rows", {"max": 3})
