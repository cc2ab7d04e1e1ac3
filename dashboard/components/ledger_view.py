"""A client's ledger as a list: movements (compra, venda, provento) and the asset events that
applied to the holding, newest first, filtered by kind and ticker.

The frame goes to ``st.dataframe`` with :func:`ledger_config` (numbers and dates as values;
text shown as it is: tickers are not escaped); the filters are select boxes, whose options
are plain text too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from core.formatting import DASH, format_number, format_percent
from core.i18n import Translator
from core.services.movements import LEDGER_KINDS
from core.trade_schemas import LedgerLineOut, MovementOut
from dashboard.components import columns
from dashboard.components.columns import currency_symbol, number
from dashboard.components.portfolio_table import quantity_text


def line_kind(line: LedgerLineOut) -> str:
    """``buy``, ``sell``, ``income`` or ``event``: what the kind filter compares."""
    if line.movement is not None:
        return line.movement.kind
    return "event"


def _places(number: Decimal, least: int = 2) -> int:
    """Decimals worth showing: at least ``least``, the stored ones that matter, at most 8."""
    exponent = int(number.normalize().as_tuple().exponent)
    return min(8, max(least, -exponent))


def event_label(kind: str | None, ratio: Decimal | None, t: Translator) -> str:
    """An event in the user's words: a split is a desdobramento or a grupamento by ratio."""
    if kind == "split":
        name = t("event_kind.split_up" if (ratio or 0) > 1 else "event_kind.split_down")
    else:
        name = t(f"event_kind.{kind}")
    return t("ledger.event", kind=name)


def _event_detail(line: LedgerLineOut, t: Translator) -> str:
    """The event's ratio (split "2 por 1", bonus or tax rate as a percentage), its value
    per share when it has one, and the quantity it applied to."""
    parts: list[str] = []
    if line.ratio is not None:
        if line.event_kind == "split":
            shown = format_number(line.ratio, t.locale, _places(line.ratio, 0))
            parts.append(t("events.split_ratio", ratio=shown))
        else:
            rate = format_percent(line.ratio, t.locale, _places(line.ratio * 100))
            parts.append(t("ledger.ratio", ratio=rate))
    if line.value:
        value = format_number(line.value, t.locale, _places(line.value))
        parts.append(t("ledger.value", value=value))
    if line.held is not None:
        parts.append(t("ledger.held", held=quantity_text(line.held, t)))
    return " · ".join(parts)


def _movement_cells(movement: MovementOut, t: Translator) -> dict[str, Any]:
    """Quantity, price and fees of a trade, or the amounts of typed income (numbers)."""
    if movement.kind == "income":
        return {
            t("col.quantity"): None,
            t("col.unit_price"): None,
            t("col.fees"): None,
            t("col.amount"): number(movement.amount),
            t("col.tax"): number(movement.tax),
            t("col.detail"): t(f"income_type.{movement.income_type}"),
        }
    return {
        t("col.quantity"): number(movement.quantity),
        t("col.unit_price"): number(movement.price),
        t("col.fees"): number(movement.fees),
        t("col.amount"): None,
        t("col.tax"): None,
        t("col.detail"): "",
    }


LEDGER_COLUMNS = (
    "date",
    "kind",
    "ticker",
    "currency",
    "quantity",
    "unit_price",
    "fees",
    "amount",
    "tax",
    "detail",
)


def ledger_frame(lines: list[LedgerLineOut], t: Translator) -> pd.DataFrame:
    """One line per movement or event, in the order given (the service's newest first).

    Dates, quantities and amounts are values (:func:`ledger_config` formats them), so the
    columns sort; the amounts' currency is a column (a book can mix B3 and US listings).
    An event's ratio and value stay in its detail, a sentence.
    """
    records = []
    for line in lines:
        record: dict[str, Any] = {
            t("col.date"): line.date,
            t("col.kind"): (
                t(f"ledger.kind.{line.movement.kind}")
                if line.movement is not None
                else event_label(line.event_kind, line.ratio, t)
            ),
            t("col.ticker"): line.symbol,
            t("col.currency"): (
                currency_symbol(line.movement.currency) if line.movement is not None else ""
            ),
        }
        if line.movement is not None:
            record |= _movement_cells(line.movement, t)
        else:
            blank = ("quantity", "unit_price", "fees", "amount", "tax")
            record |= {t(f"col.{key}"): None for key in blank}
            record[t("col.detail")] = _event_detail(line, t) or DASH
        records.append(record)
    return pd.DataFrame(records, columns=[t(f"col.{key}") for key in LEDGER_COLUMNS])


def ledger_config(lines: list[LedgerLineOut], t: Translator) -> dict[str, Any]:
    """Dates in the locale's form, money with two decimals, quantities with the decimals
    the trades have, the detail wide."""
    places = columns.quantity_places(
        line.movement.quantity
        for line in lines
        if line.movement is not None and line.movement.kind != "income"
    )
    config: dict[str, Any] = {
        t("col.date"): columns.day(t, width="small"),
        t("col.currency"): columns.text(width=60),
        t("col.quantity"): columns.quantity(places, width="small"),
        t("col.detail"): columns.text(width="large"),
    }
    for key in ("unit_price", "fees", "amount", "tax"):
        config[t(f"col.{key}")] = columns.money(width="small")
    return config


def ledger_filters(symbols: list[str], t: Translator, *, key: str) -> tuple[str | None, str | None]:
    """Draw the kind and ticker filters side by side; return (kind, symbol), None for all."""
    kind_column, symbol_column = st.columns(2)
    kind: str | None = kind_column.selectbox(
        t("ledger.filter_kind"),
        [None, *LEDGER_KINDS],
        format_func=lambda k: t("ledger.all") if k is None else t(f"ledger.kind.{k}"),
        key=f"{key}_kind",
    )
    symbol: str | None = symbol_column.selectbox(
        t("ledger.filter_symbol"),
        [None, *symbols],
        format_func=lambda s: t("ledger.all") if s is None else s,
        key=f"{key}_symbol",
    )
    return kind, symbol


def filtered(
    lines: list[LedgerLineOut], kind: str | None, symbol: str | None
) -> list[LedgerLineOut]:
    """The lines of ``kind`` (buy, sell, income or event) and ``symbol``; None keeps all."""
    return [
        line for line in lines if kind in (None, line_kind(line)) and symbol in (None, line.symbol)
    ]
