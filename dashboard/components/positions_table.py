"""A client's positions (one row per asset, from the ledger) and their totals per currency,
formatted for the user's locale.

The frames go to ``st.dataframe``, which shows text as it is: tickers and names are not
escaped here (escaping would show the backslashes).
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from core.formatting import DASH, format_brl, format_percent
from core.i18n import Translator
from core.services.positions import OVERSOLD, PositionRow, PositionsView
from dashboard.components.portfolio_table import money, quantity_text


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


def _ledger_money(row: PositionRow, value: Decimal | None, t: Translator) -> str:
    """A figure of the ledger walk: "—" for an oversold ledger (it could not be walked)."""
    return money(None if _oversold(row) else value, row.currency, t)


def positions_frame(rows: list[PositionRow], t: Translator) -> pd.DataFrame:
    """One line per asset; "—" where a figure is not known (no quote, oversold ledger)."""
    records = []
    for row in rows:
        cur = row.currency
        records.append(
            {
                t("col.ticker"): row.symbol,
                t("col.name"): row.name,
                t("col.asset_class"): t(f"asset_class.{row.asset_class or 'none'}"),
                t("col.quantity"): DASH if _oversold(row) else quantity_text(row.quantity, t),
                t("col.average_cost"): _ledger_money(row, row.average_cost, t),
                t("col.price"): money(row.price, cur, t),
                t("col.daily_change"): format_percent(row.daily_change, t.locale),
                t("col.market_value"): money(row.market_value, cur, t),
                t("col.unrealised"): money(row.unrealised, cur, t),
                t("col.realised"): _ledger_money(row, row.realised, t),
                t("col.income"): _ledger_money(row, row.income, t),
                t("col.total_return"): money(row.total_return, cur, t),
                t("col.total_return_pct"): format_percent(row.total_return_pct, t.locale),
                t("col.value_brl"): format_brl(row.market_value_brl, t.locale),
                t("col.weight_brl"): format_percent(row.weight, t.locale, 1),
                t("col.note"): position_note(row, t),
            }
        )
    return pd.DataFrame(records)


def position_totals_frame(view: PositionsView, t: Translator) -> pd.DataFrame:
    """One line per currency: bought, sold, realised, income, market value, unrealised and
    total return (market figures over the priced and closed rows only)."""
    return pd.DataFrame(
        [
            {
                t("col.currency"): totals.currency,
                t("col.bought"): money(totals.bought, totals.currency, t),
                t("col.sold"): money(totals.sold, totals.currency, t),
                t("col.realised"): money(totals.realised, totals.currency, t),
                t("col.income"): money(totals.income, totals.currency, t),
                t("col.market_value"): money(totals.market_value, totals.currency, t),
                t("col.unrealised"): money(totals.unrealised, totals.currency, t),
                t("col.total_return"): money(totals.total_return, totals.currency, t),
            }
            for totals in view.totals
        ]
    )


def oversold_count(rows: list[PositionRow]) -> int:
    """How many assets have a stored ledger that sells more than it held."""
    return sum(1 for row in rows if _oversold(row))


def weight_missing(view: PositionsView) -> bool:
    """True when open positions are priced but no weight could be given (a rate missing)."""
    priced = [r for r in view.rows if r.market_value is not None and not r.closed]
    return bool(priced) and view.market_value_brl is None
