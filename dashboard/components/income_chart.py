"""Income received per month (net of tax), one bar series per currency, never converted:
the positions service keeps each month's income in its asset's currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go

from core.i18n import Translator
from dashboard.components.charts import MONEY_AXIS, MONEY_HOVER, SEPARATORS
from dashboard.components.portfolio_table import money

INCOME_COLOR = "#2e7d32"


def month_label(month: str, locale: str) -> str:
    """``"2025-03"`` as ``03/2025`` in pt-BR, kept as ``2025-03`` in English."""
    if locale != "pt_BR":
        return month
    year, number = month.split("-", 1)
    return f"{number}/{year}"


def _month_start(month: str) -> date:
    year, number = month.split("-", 1)
    return date(int(year), int(number), 1)


def income_chart(by_month: dict[str, Decimal], currency: str, t: Translator) -> go.Figure:
    """Bars of one currency's income per month (months without income are not drawn)."""
    months = sorted(by_month)
    figure = go.Figure(
        go.Bar(
            x=[month_label(m, t.locale) for m in months],
            y=[float(by_month[m]) for m in months],
            customdata=[money(by_month[m], currency, t) for m in months],
            name=t("income.in", currency=currency),
            marker={"color": INCOME_COLOR},
            hovertemplate="%{x}<br>%{customdata}<extra></extra>",
        )
    )
    figure.update_layout(
        title={"text": t("income.in", currency=currency)},
        separators=SEPARATORS.get(t.locale, SEPARATORS["en"]),
        showlegend=False,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    figure.update_xaxes(title_text=t("col.month"), type="category")
    figure.update_yaxes(title_text=currency, tickformat=MONEY_AXIS, hoverformat=MONEY_HOVER)
    return figure


def income_frame(income_by_month: dict[str, dict[str, Decimal]], t: Translator) -> pd.DataFrame:
    """One line per month (newest first), one column per currency; "—" for none that month."""
    currencies = sorted(income_by_month)
    months = sorted({m for by_month in income_by_month.values() for m in by_month}, reverse=True)
    return pd.DataFrame(
        [
            {
                t("col.month"): month_label(month, t.locale),
                **{
                    t("income.in", currency=currency): money(
                        income_by_month[currency].get(month), currency, t
                    )
                    for currency in currencies
                },
            }
            for month in months
        ]
    )
