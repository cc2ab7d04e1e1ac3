"""The allocations table and totals of a client, formatted for the user's locale."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pandas as pd

from core.formatting import DASH, format_brl, format_date, format_number, format_percent
from core.i18n import Translator
from core.services.figures import Mover
from core.services.portfolio import AllocationRow, CurrencyTotals, PortfolioView
from dashboard.components.markdown import escape_markdown


def money(value: Decimal | None, currency: str | None, t: Translator) -> str:
    """An amount with its currency: ``R$ 1.234,56`` for BRL, ``US$ 10,00`` for USD."""
    if value is None:
        return DASH
    symbol = {"BRL": "R$", "USD": "US$", "EUR": "€", "GBP": "£"}.get(currency or "", currency or "")
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol} {format_number(abs(value), t.locale)}".strip()


def quantity_text(value: Decimal, t: Translator) -> str:
    """A quantity for display: grouped, without trailing zeros (``1.000``, ``2,5``)."""
    return format_number(value, t.locale, 8).rstrip("0").rstrip(",.")


def allocations_frame(rows: list[AllocationRow], t: Translator) -> pd.DataFrame:
    """One line per lot; a lot without a quote shows "—" and the reason."""
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
                t("col.name"): row.name,
                t("col.quantity"): quantity_text(row.quantity, t),
                t("col.buy_price"): money(row.buy_price, row.currency, t),
                t("col.buy_date"): format_date(row.buy_date, t.locale),
                t("col.invested"): money(row.invested, row.currency, t),
                t("col.price"): money(row.price, row.currency, t),
                t("col.daily_change"): format_percent(row.daily_change, t.locale),
                t("col.return_pct"): format_percent(row.accumulated_return, t.locale),
                t("col.gain"): money(row.gain, row.currency, t),
                t("col.market_value"): money(row.market_value, row.currency, t),
                t("col.weight"): format_percent(row.weight, t.locale, 1),
                t("col.note"): note,
            }
        )
    return pd.DataFrame(records)


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
    """Held tickers with today's change and price, in the order given (the change comes
    right after the ticker, so it stays in view in a narrow column)."""
    columns = [t("col.ticker"), t("col.daily_change"), t("col.price"), t("col.name")]
    return pd.DataFrame(
        [
            {
                t("col.ticker"): m.symbol,
                t("col.daily_change"): format_percent(m.change, t.locale),
                t("col.price"): money(m.price, m.currency, t),
                t("col.name"): m.name,
            }
            for m in movers
        ],
        columns=columns,
    )
