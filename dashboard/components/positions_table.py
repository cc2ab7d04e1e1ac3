"""A client's positions (one row per asset, from the ledger) and their totals per currency,
as tables of numbers formatted by Streamlit's column configuration
(:mod:`dashboard.components.columns`), so columns sort by value.

The frames go to ``st.dataframe``, which shows text as it is: tickers and names are not
escaped here (escaping would show the backslashes).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd

from core.i18n import Translator
from core.services.positions import OVERSOLD, PositionRow, PositionsView
from dashboard.components import columns
from dashboard.components.columns import currency_symbol, number


def position_note(row: PositionRow, t: Translator) -> str:
    """Why a row has no figures, or that it is closed, or that its quote is late."""
    if _oversold(row):
        return t("positions.oversold")
    if row.closed:
        return t("positions.closed")
    if row.failure:
        return t(f"market.failed.{row.failure}")
    if row.stale:
        return t("market.stale")
    return ""


def _oversold(row: PositionRow) -> bool:
    """Whether the row's stored ledger sells more than it held (no figures)."""
    return row.failure == OVERSOLD


def _ledger(row: PositionRow, value: Decimal | None) -> float | None:
    """A figure of the ledger walk: empty for an oversold ledger (it could not be walked)."""
    return None if _oversold(row) else number(value)


POSITION_COLUMNS = (
    "ticker",
    "currency",
    "quantity",
    "average_cost",
    "price",
    "daily_change",
    "market_value",
    "total_return",
    "total_return_pct",
    "weight_brl",
    "value_brl",
    "unrealised",
    "realised",
    "income",
    "asset_class",
    "name",
    "note",
)
MONEY = ("average_cost", "price", "market_value", "total_return", "value_brl")
MONEY += ("unrealised", "realised", "income")


def positions_frame(rows: list[PositionRow], t: Translator) -> pd.DataFrame:
    """One line per asset, numbers as numbers (:mod:`dashboard.components.columns`); a
    figure that is not known (no quote, an oversold ledger) is an empty cell, and the note
    says why. What matters comes first, so it is in view on a 1,400 px screen: the ticker
    and its currency (positions mix currencies, so it is a column), the quantity, preço
    médio and price, the day's change, the value, the total return and the weight in the
    whole portfolio; the value in reais, the gains, the income, the class, the name and
    the note follow."""
    records = []
    for row in rows:
        records.append(
            {
                t("col.ticker"): row.symbol,
                t("col.currency"): currency_symbol(row.currency),
                t("col.quantity"): _ledger(row, row.quantity),
                t("col.average_cost"): _ledger(row, row.average_cost),
                t("col.price"): number(row.price),
                t("col.daily_change"): number(row.daily_change),
                t("col.market_value"): number(row.market_value),
                t("col.total_return"): number(row.total_return),
                t("col.total_return_pct"): number(row.total_return_pct),
                t("col.weight_brl"): number(row.weight),
                t("col.value_brl"): number(row.market_value_brl),
                t("col.unrealised"): number(row.unrealised),
                t("col.realised"): _ledger(row, row.realised),
                t("col.income"): _ledger(row, row.income),
                t("col.asset_class"): t(f"asset_class.{row.asset_class or 'none'}"),
                t("col.name"): row.name,
                t("col.note"): position_note(row, t),
            }
        )
    frame = pd.DataFrame(records, columns=[t(f"col.{key}") for key in POSITION_COLUMNS])
    return columns.numbers_from(frame, 2, POSITION_COLUMNS.index("asset_class"))


def positions_config(rows: list[PositionRow], t: Translator) -> dict[str, Any]:
    """How :func:`positions_frame`'s columns read: money with two decimals, the change, the
    return and the weight as percentages, the quantity with the decimals its rows have."""
    places = columns.quantity_places(row.quantity for row in rows)
    config: dict[str, Any] = {
        t("col.ticker"): columns.text(width=85),
        t("col.currency"): columns.text(width=55),
        t("col.quantity"): columns.quantity(places, width=75, label=t("col.short.quantity")),
        t("col.daily_change"): columns.percent(width=70, label=t("col.short.daily_change")),
        t("col.total_return_pct"): columns.percent(width=80),
        t("col.weight_brl"): columns.percent(places=1, width=70),
        t("col.asset_class"): columns.text(width=110),
        t("col.name"): columns.text(width=180),
        t("col.note"): columns.text(width=220),
    }
    for key in MONEY:
        label = t("col.short.market_value") if key == "market_value" else None
        config[t(f"col.{key}")] = columns.money(width=90, label=label)
    return config


TOTAL_COLUMNS = ("bought", "sold", "realised", "income", "market_value", "unrealised")
TOTAL_COLUMNS += ("total_return",)


def position_totals_frame(view: PositionsView, t: Translator) -> pd.DataFrame:
    """One line per currency: bought, sold, realised, income, market value, unrealised and
    total return (market figures over the priced and closed rows only), as numbers."""
    frame = pd.DataFrame(
        [
            {
                t("col.currency"): currency_symbol(totals.currency),
                **{t(f"col.{key}"): number(getattr(totals, key)) for key in TOTAL_COLUMNS},
            }
            for totals in view.totals
        ],
        columns=[t("col.currency"), *(t(f"col.{key}") for key in TOTAL_COLUMNS)],
    )
    return columns.numbers_from(frame, 1)


def totals_config(t: Translator) -> dict[str, Any]:
    """Every amount of :func:`position_totals_frame` as money."""
    config: dict[str, Any] = {t("col.currency"): columns.text(width=70)}
    for key in TOTAL_COLUMNS:
        config[t(f"col.{key}")] = columns.money(width=110)
    return config


def oversold_count(rows: list[PositionRow]) -> int:
    """How many assets have a stored ledger that sells more than it held."""
    return sum(1 for row in rows if _oversold(row))


def weight_missing(view: PositionsView) -> bool:
    """True when open positions are priced but no weight could be given (a rate missing)."""
    priced = [r for r in view.rows if r.market_value is not None and not r.closed]
    return bool(priced) and view.market_value_brl is None
