"""Exports: datasets as typed column lists, streamed into CSV or Excel files.

* :mod:`core.exports.datasets` — what each export holds: columns with a type (text,
  integer, decimal, money, price, percent, date, timestamp) and a header label key.
* :mod:`core.exports.cells` — formula neutralising (CSV injection) and per-locale cell text.
* :mod:`core.exports.csv_writer` — UTF-8 with BOM; ``;`` and decimal comma in pt-BR.
* :mod:`core.exports.xlsx_writer` — openpyxl write-only workbooks with typed cells.

Writers take any iterable of row tuples and never hold more than a row (plus the library's
buffers): the rows come from server-side cursors (:mod:`core.repositories.exports`), so a
million-row export runs in constant memory. The use cases, with role checks and the audit
entry, are in :mod:`core.services.exports`.
"""
