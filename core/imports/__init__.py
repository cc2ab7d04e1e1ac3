"""Importing clients and allocations from CSV or Excel files (no Streamlit here).

:mod:`~core.imports.reading` turns the uploaded bytes into a header and rows (type, size,
encoding and separator checks), :mod:`~core.imports.columns` maps the header to fields,
:mod:`~core.imports.validation` checks every row with the schemas of :mod:`core.schemas`,
and :mod:`~core.imports.templates` writes the templates. The checks that need stored data
and the all-or-nothing commit live in :mod:`core.services.imports`.
"""
