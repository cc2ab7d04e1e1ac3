"""Table cells that stay numbers and dates, shown through Streamlit's column configuration.

The frames the pages draw hold numbers (floats), dates and timestamps, never text made from
them, so a column sorts by value. How they read is set here, once for every table:

- **Money**: ``NumberColumn`` in the ``"localized"`` preset with two decimals (``step``
  0.01). The reader's browser groups thousands and places the decimal mark (``1.234,56`` in
  a pt-BR browser, ``1,234.56`` in an English one): Streamlit's printf formats cannot
  (``"R$ %.2f"`` always shows a dot decimal and no grouping), and its ``"dollar"`` /
  ``"euro"`` presets are other currencies. The currency is in the header when the table has
  one (``Valor (R$)``, :func:`in_currency`), or in a column of its own when the rows mix
  currencies (the allocations: a lot in US$ beside one in R$).
- **Percentages**: ratios (0.1234) in the ``"percent"`` preset, two decimals (``12,34%``).
- **Quantities and counts**: ``"localized"``, with as many decimals as the column needs (at
  most 8: a fraction of a bitcoin), none for counts.
- **Dates**: ``DateColumn`` as ``DD/MM/YYYY`` in pt-BR and ISO ``YYYY-MM-DD`` in English
  (:func:`core.formatting.format_date`'s forms); **timestamps** as ``DatetimeColumn`` in São
  Paulo time, to the second (:func:`local_time` converts the stored UTC).

An empty cell is ``None`` or NaN, shown as ``—`` by :func:`table` (every page draws its
tables through it). Text a table holds beside the numbers (a reason, a note) stays text.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import pandas as pd
import streamlit as st

from core.formatting import DASH, DISPLAY_TZ
from core.i18n import Translator

Width = Literal["small", "medium", "large"] | int | None
MONEY_STEP = 0.01
PERCENT_STEP = 0.0001  # the "percent" preset shows two decimals fewer than the step has
QUANTITY_PLACES_MAX = 8
TIMESTAMP_PX = 150  # "02/12/2026 03:42:20" and a little room
DATE_PX = 95
SYMBOLS = {"BRL": "R$", "USD": "US$", "EUR": "€", "GBP": "£"}


def number(value: Decimal | float | int | None) -> float | None:
    """A cell's value: a float, or None for an empty cell (a NaN or infinity too)."""
    if value is None:
        return None
    result = float(value)
    return result if result == result and abs(result) != float("inf") else None


def numbers_from(frame: pd.DataFrame, first: int, last: int | None = None) -> pd.DataFrame:
    """The frame with its columns from ``first`` (up to ``last``, excluded) as floats: an
    empty cell is NaN, drawn blank (a column holding only ``None`` would be text, and show
    "None")."""
    return frame.astype({column: "float64" for column in frame.columns[first:last]})


def table(data: pd.DataFrame, *, container: Any = None, **kwargs: Any) -> Any:
    """``st.dataframe`` as every page draws it: without the index, the page's width, and
    an empty cell shown as ``—`` (Streamlit would show "None"); ``kwargs`` override these
    and pass the rest (column configuration, selection, key). Returns what it returns."""
    options: dict[str, Any] = {"hide_index": True, "width": "stretch", "placeholder": DASH}
    return (container or st).dataframe(data, **(options | kwargs))


def currency_symbol(currency: str | None) -> str:
    """``R$`` for BRL, ``US$`` for USD...; an unknown code stays as it is."""
    return SYMBOLS.get(currency or "", currency or "")


def in_currency(label: str, currency: str) -> str:
    """A header naming the currency of its amounts: ``Valor (R$)``."""
    return f"{label} ({currency_symbol(currency)})"


def money(*, width: Width = None, help: str | None = None, label: str | None = None) -> Any:
    """An amount with two decimals, grouped in the reader's locale (``label``: a shorter
    header, the full one in ``help``)."""
    return st.column_config.NumberColumn(
        label, format="localized", step=MONEY_STEP, width=width, help=help
    )


def percent(
    *, places: int = 2, width: Width = None, help: str | None = None, label: str | None = None
) -> Any:
    """A ratio as a percentage with ``places`` decimals."""
    step = float(Decimal(1).scaleb(-(places + 2)))
    return st.column_config.NumberColumn(label, format="percent", step=step, width=width, help=help)


def quantity_places(values: Iterable[Decimal | float | int | None]) -> int:
    """The decimals the column's quantities need (trailing zeros dropped), at most 8."""
    places = 0
    for value in values:
        if value is None:
            continue
        exponent = int(Decimal(str(value)).normalize().as_tuple().exponent)
        places = max(places, -exponent)
    return min(places, QUANTITY_PLACES_MAX)


def quantity(
    places: int = 0, *, width: Width = None, help: str | None = None, label: str | None = None
) -> Any:
    """A quantity or a count, grouped, with ``places`` decimals."""
    step = float(Decimal(1).scaleb(-places)) if places else 1
    return st.column_config.NumberColumn(
        label, format="localized", step=step, width=width, help=help
    )


def date_format(t: Translator) -> str:
    """``DD/MM/YYYY`` in pt-BR, ``YYYY-MM-DD`` in English."""
    return "DD/MM/YYYY" if t.locale == "pt_BR" else "YYYY-MM-DD"


def day(
    t: Translator, *, width: Width = DATE_PX, help: str | None = None, label: str | None = None
) -> Any:
    """A date in the locale's form."""
    return st.column_config.DateColumn(label, format=date_format(t), width=width, help=help)


def timestamp(t: Translator, *, width: Width = TIMESTAMP_PX) -> Any:
    """A timestamp in São Paulo time, to the second (cells from :func:`local_time`)."""
    return st.column_config.DatetimeColumn(format=f"{date_format(t)} HH:mm:ss", width=width)


def local_time(value: datetime | None) -> datetime | None:
    """A stored UTC timestamp as São Paulo wall-clock time (naive: shown as it is)."""
    if value is None:
        return None
    return value.astimezone(DISPLAY_TZ).replace(tzinfo=None)


def text(*, width: Width = None, help: str | None = None) -> Any:
    """A text column of a set width."""
    return st.column_config.TextColumn(width=width, help=help)
