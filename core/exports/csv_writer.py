"""CSV that Excel opens correctly in the user's locale, written row by row.

UTF-8 with a byte-order mark (without it Excel reads UTF-8 as Windows-1252 and breaks
accents). pt-BR uses ``;`` between fields and ``,`` as the decimal mark — what Excel
configured for Brazil expects — and dates as ``dd/mm/aaaa``; English uses ``,``, ``.`` and
ISO dates. Text cells are formula-neutralised (:func:`core.exports.cells.neutralise`);
fields holding the separator, quotes or line breaks are quoted by the ``csv`` module.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any, BinaryIO

from core.exports.cells import csv_formatter, neutralise
from core.exports.datasets import Dataset
from core.i18n import Translator

ENCODING = "utf-8-sig"  # writes the BOM first
BATCH = 1000  # rows handed to the csv module at a time


def delimiter(locale: str) -> str:
    """``;`` in pt-BR (the comma is the decimal mark there), ``,`` in English."""
    return ";" if locale == "pt_BR" else ","


def write_csv(dataset: Dataset, rows: Iterable[Sequence[Any]], out: BinaryIO, t: Translator) -> int:
    """Write the header and ``rows`` to the binary stream ``out``; returns the rows written.

    ``out`` is left open (and not rewound); rows are formatted and written in batches, so
    memory does not grow with the number of rows.
    """
    text = io.TextIOWrapper(out, encoding=ENCODING, newline="", write_through=False)
    try:
        writer = csv.writer(text, delimiter=delimiter(t.locale), lineterminator="\r\n")
        # Headers come from the catalogue, but go through the same guard as any text.
        writer.writerow([neutralise(t(column.label)) for column in dataset.columns])
        formatters = [csv_formatter(column.kind, t.locale) for column in dataset.columns]
        count = 0
        batch: list[list[str]] = []
        for row in rows:
            batch.append(
                [
                    "" if value is None else fmt(value)
                    for fmt, value in zip(formatters, row, strict=True)
                ]
            )
            if len(batch) >= BATCH:
                writer.writerows(batch)
                count += len(batch)
                batch.clear()
        writer.writerows(batch)
        count += len(batch)
        text.flush()
    finally:
        text.detach()  # hand ``out`` back to the caller open
    return count
