"""Our CSV and Excel files opened by a real spreadsheet: LibreOffice (headless) must show
formula-like text as text and read numbers and dates as such. Skipped where LibreOffice is
not installed (``apt-get install libreoffice-calc-nogui``); one conversion each way."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from core.exports.csv_writer import write_csv
from core.exports.datasets import Column, Dataset, Kind
from core.exports.xlsx_writer import Sheet, write_xlsx
from core.i18n import Translator

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PAYLOADS = ["=1+1", "+1+1", "-1+1", "@SUM(1;2)", "\t=1+1", "\r=1+1"]
DATASET = Dataset(
    "check",
    "export.dataset.clients",
    (
        Column("field.name", Kind.TEXT),
        Column("col.invested", Kind.MONEY),
        Column("export.col.date", Kind.DATE),
    ),
)
# CSV import options: ; separated, " quoted, UTF-8 (76), from line 1, pt-BR (1046) numbers.
CSV_FILTER = "CSV:59,34,76,1,,1046"


def convert(source: Path, target: str, workdir: Path, infilter: str | None = None) -> Path:
    command = [
        str(SOFFICE),
        f"-env:UserInstallation=file://{workdir / 'profile'}",
        "--headless",
        "--convert-to",
        target,
        "--outdir",
        str(workdir / "out"),
        str(source),
    ]
    if infilter:
        command.insert(3, f"--infilter={infilter}")
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    converted = workdir / "out" / f"{source.stem}.{target.split(':')[0]}"
    assert converted.exists(), f"LibreOffice wrote nothing for {source.name}"
    return converted


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_runs_no_formula_from_our_files(tmp_path: Path) -> None:
    t = Translator("pt_BR")
    rows = [(text, Decimal("-1234.5"), date(2026, 3, 9)) for text in PAYLOADS]

    csv_file = tmp_path / "ours.csv"
    with csv_file.open("wb") as out:
        write_csv(DATASET, rows, out, t)
    # The control: the same cell written raw is a formula to LibreOffice.
    raw = tmp_path / "raw.csv"
    raw.write_bytes("\ufeffNome;x\r\n=1+1;1\r\n".encode())
    sheet = load_workbook(convert(csv_file, "xlsx", tmp_path, CSV_FILTER)).active
    control = load_workbook(convert(raw, "xlsx", tmp_path, CSV_FILTER)).active

    assert control["A2"].data_type == "f", "the control must be read as a formula"
    for row, text in zip(sheet.iter_rows(min_row=2), PAYLOADS, strict=True):
        name, amount, day = row
        assert name.data_type == "s"
        assert name.value == "'" + text.replace("\r", "\n")  # LibreOffice keeps LF only
        assert amount.value == -1234.5  # 1234,50 with a decimal comma, still a number
        assert day.is_date

    xlsx_file = tmp_path / "ours.xlsx"
    buffer = io.BytesIO()
    write_xlsx([Sheet(DATASET, rows)], lambda counts: [], buffer, t)
    xlsx_file.write_bytes(buffer.getvalue())
    # Loaded and saved again by LibreOffice: a cell it took for a formula would come back
    # as one (or as its result, 2).
    again = load_workbook(convert(xlsx_file, "xlsx", tmp_path / "again"))
    data = again[t("export.dataset.clients")]
    for row, text in zip(data.iter_rows(min_row=2), PAYLOADS, strict=True):
        assert row[0].data_type == "s"
        assert row[0].value == text
        assert row[1].value == -1234.5
