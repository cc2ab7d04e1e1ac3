"""The allocations table and totals of a client: the table as numbers with its column
configuration, the totals formatted for the user's locale."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pandas as pd

from core.formatting import DASH, format_brl, format_number, format_percent, format_quantity
from core.i18n import Translator
from core.services.figures import Mover
from core.services.portfolio import AllocationRow, CurrencyTotals, PortfolioView
from dashboard.components import columns
from dashboard.components.columns import currency_symbol, number
from dashboard.components.markdown import escape_markdown


def money(value: Decimal | None, currency: str | None, t: Translator) -> str:
    """An amount with its currency as text: ``R$ 1.234,56`` for BRL, ``US$ 10,00`` for USD
    (for metrics and sentences; tables hold numbers, see :mod:`dashboard.components.columns`)."""
    if value is None:
        return DASH
    symbol = currency_symbol(currency)
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol} {format_number(abs(value), t.locale)}".strip()


def quantity_text(value: Decimal, t: Translator) -> str:
    """A quantity for display: grouped, without trailing zeros (``1.000``, ``2,5``)."""
    return format_quantity(value, t.locale)


def allocations_frame(rows: list[AllocationRow], t: Translator) -> pd.DataFrame:
    """One line per lot, numbers as numbers (:mod:`dashboard.components.columns`); a lot
    without a quote has empty price cells and the reason in the note.

    The key figures come first, so they are in view on a 1,400 px screen: ticker, currency
    (the lots mix currencies, so it is a column, not the header), quantity, what was paid,
    the price and its change, the result and the weight; the name and the note close the row.
    """
    records = []
    for row in rows:
        note = ""
        if row.failure:
            note = t(f"market.failed.{row.failure}")
        elif row.stale:
            note = t("market.stale")
        records.append(
            {
                t("col.ticker"): row.symbol,
                t("col.currency"): currency_symbol(row.currency),
                t("col.quantity"): number(row.quantity),
                t("col.buy_date"): row.buy_date,
                t("col.buy_price"): number(row.buy_price),
                t("col.invested"): number(row.invested),
                t("col.price"): number(row.price),
                t("col.daily_change"): number(row.daily_change),
                t("col.return_pct"): number(row.accumulated_return),
                t("col.gain"): number(row.gain),
                t("col.market_value"): number(row.market_value),
                t("col.weight"): number(row.weight),
                t("col.name"): row.name,
                t("col.note"): note,
            }
        )
    return pd.DataFrame(records, columns=_allocation_columns(t))


def _allocation_columns(t: Translator) -> list[str]:
    keys = (
        "ticker",
        "currency",
        "quantity",
        "buy_date",
        "buy_price",
        "invested",
        "price",
        "daily_change",
        "return_pct",
        "gain",
        "market_value",
        "weight",
        "name",
        "note",
    )
    return [t(f"col.{key}") for key in keys]


def allocations_config(rows: list[AllocationRow], t: Translator) -> dict[str, Any]:
    """How :func:`allocations_frame`'s columns read: money with two decimals, the change and
    the return as percentages, the weight with one decimal, the quantity with the decimals
    its lots have."""
    places = columns.quantity_places(row.quantity for row in rows)

    # Pixel widths that keep every figure through the weight in view at 1,400 px; the
    # longer headers shortened (the full one is the header's tooltip).
    def short(key: str) -> dict[str, str]:
        return {"label": t(f"col.short.{key}"), "help": t(f"col.{key}")}

    config: dict[str, Any] = {
        t("col.ticker"): columns.text(width=85),
        t("col.currency"): columns.text(width=55),
        t("col.quantity"): columns.quantity(places, width=75, **short("quantity")),
        t("col.buy_date"): columns.day(t, width=90, **short("buy_date")),
        t("col.weight"): columns.percent(places=1, width=60),
        t("col.name"): columns.text(width=180),
        t("col.note"): columns.text(width=250),
    }
    for key in ("buy_price", "invested", "price", "gain", "market_value"):
        extra = short(key) if key in ("buy_price", "market_value") else {}
        config[t(f"col.{key}")] = columns.money(width=85, **extra)
    for key in ("daily_change", "return_pct"):
        config[t(f"col.{key}")] = columns.percent(width=80, **short(key))
    return config


def totals_lines(totals: CurrencyTotals, t: Translator) -> dict[str, str]:
    """The headline figures for one currency, labelled and formatted."""
    return {
        t("detail.invested"): money(totals.invested, totals.currency, t),
        t("detail.market_value"): money(totals.market_value, totals.currency, t),
        t("detail.gain"): money(totals.gain, totals.currency, t),
        t("detail.return"): format_percent(totals.accumulated_return, t.locale),
    }


def reais_line(view: PortfolioView, t: Translator) -> str | None:
    """For a portfolio with lots in other currencies: its market value in reais at the live
    rates, with the rates used; or why it cannot be given. None for an all-BRL portfolio.
    The line is Markdown (``st.markdown``): the currency codes, from market data, are escaped."""
    if not view.rates and view.market_value_brl is None:
        if any(line.currency not in ("BRL", "?") for line in view.totals):
            return t("detail.total_brl_missing")
        return None
    if view.market_value_brl is None:
        return t("detail.total_brl_missing")
    rates = ", ".join(
        f"{escape_markdown(currency)}/BRL {format_number(rate, t.locale, 4)}"
        for currency, rate in sorted(view.rates.items())
    )
    value = format_brl(view.market_value_brl, t.locale)
    return t("detail.total_brl", value=value, rates=rates)


def movers_frame(movers: Sequence[Mover], t: Translator) -> pd.DataFrame:
    """Held tickers with today's change (a ratio) and price, in the order given (the change
    comes right after the ticker, so it stays in view in a narrow column); the price's
    currency is beside it, as the tickers may mix currencies."""
    columns_ = [
        t("col.ticker"),
        t("col.daily_change"),
        t("col.price"),
        t("col.currency"),
        t("col.name"),
    ]
    return pd.DataFrame(
        [
            {
                t("col.ticker"): m.symbol,
                t("col.daily_change"): number(m.change),
                t("col.price"): number(m.price),
                t("col.currency"): currency_symbol(m.currency),
                t("col.name"): m.name,
            }
            for m in movers
        ],
        columns=columns_,
    )


def movers_config(t: Translator) -> dict[str, Any]:
    """The change as a percentage, the price as money."""
    return {
        t("col.ticker"): columns.text(width="small"),
        t("col.daily_change"): columns.percent(width="small"),
        t("col.price"): columns.money(width="small"),
        t("col.currency"): columns.text(width=60),
    }
