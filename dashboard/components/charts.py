"""Plotly figures of a client's portfolio: value, cumulative TWR, daily returns, allocation.

Builders take plain data (the stored :class:`DailyPoint` series, the live
:class:`AllocationRow` list) and a :class:`Translator`, and return figures labelled in the
user's language. pt-BR gets the decimal comma and the dot for thousands (plotly's
``separators``) and ``dd/mm/aaaa`` dates; English gets ISO dates. Ratios are plotted as
ratios (0.0123) and shown as percentages by the axis and hover formats, so ``12,3%`` and
``12.3%`` come from the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import plotly.graph_objects as go

from core.i18n import Translator
from core.services.figures import DailyPoint
from core.services.portfolio import AllocationRow
from dashboard.components.portfolio_table import money

SEPARATORS = {"pt_BR": ",.", "en": ".,"}
DATE_FORMATS = {"pt_BR": "%d/%m/%Y", "en": "%Y-%m-%d"}
MARKET_VALUE_COLOR = "#1565c0"
INVESTED_COLOR = "#9e9e9e"
TWR_COLOR = "#6a1b9a"
GAIN_COLOR = "#2e7d32"
LOSS_COLOR = "#c62828"
FLAT_COLOR = "#9e9e9e"
PERCENT_AXIS = ".1%"
PERCENT_HOVER = ".2%"
MONEY_AXIS = ",.0f"
MONEY_HOVER = ",.2f"
DONUT_HOLE = 0.55


def _localised(figure: go.Figure, t: Translator, *, y_title: str, y_format: str) -> go.Figure:
    """Separators, date axis, y axis format and a compact layout for the user's locale."""
    date_format = DATE_FORMATS.get(t.locale, DATE_FORMATS["en"])
    figure.update_layout(
        separators=SEPARATORS.get(t.locale, SEPARATORS["en"]),
        hovermode="x unified",
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    figure.update_xaxes(title_text=t("chart.date"), tickformat=date_format, hoverformat=date_format)
    figure.update_yaxes(title_text=y_title, tickformat=y_format)
    return figure


def _floats(values: Sequence[Decimal]) -> list[float]:
    return [float(v) for v in values]


def value_chart(points: Sequence[DailyPoint], t: Translator) -> go.Figure:
    """Market value and invested capital per day (two lines; no points gives no lines)."""
    days = [p.date for p in points]
    figure = go.Figure()
    for name, values, color, dash in (
        (t("chart.market_value"), [p.market_value for p in points], MARKET_VALUE_COLOR, None),
        (t("chart.invested"), [p.invested for p in points], INVESTED_COLOR, "dash"),
    ):
        figure.add_trace(
            go.Scatter(
                x=days,
                y=_floats(values),
                name=name,
                mode="lines",
                line={"color": color, "dash": dash},
                hovertemplate=f"%{{y:{MONEY_HOVER}}}",
            )
        )
    return _localised(figure, t, y_title=t("chart.value_axis"), y_format=MONEY_AXIS)


BENCHMARK_LINES = {  # the benchmarks on the TWR chart: dashed, quieter than the portfolio
    "CDI": "#6c757d",
    "IBOV": "#1f77b4",
    "IPCA": "#d62728",
}


def twr_chart(
    points: Sequence[DailyPoint],
    t: Translator,
    benchmarks: Mapping[str, Sequence[float | None]] | None = None,
) -> go.Figure:
    """Cumulative time-weighted return per day, on a percentage axis; with ``benchmarks``
    (each one's cumulative return from the same first day, one value per point, None
    where unknown: :func:`core.services.period_returns.benchmark_curves`) as dashed lines
    on the same axis."""
    days = [p.date for p in points]
    figure = go.Figure(
        go.Scatter(
            x=days,
            y=_floats([p.cumulative_twr for p in points]),
            name=t("chart.twr"),
            mode="lines",
            line={"color": TWR_COLOR},
            fill="tozeroy",
            hovertemplate=f"%{{y:{PERCENT_HOVER}}}",
        )
    )
    for name, curve in (benchmarks or {}).items():
        if not any(value is not None for value in curve):
            continue
        figure.add_trace(
            go.Scatter(
                x=days,
                y=list(curve),
                name=t(f"returns.col.{name.lower()}"),
                mode="lines",
                line={"color": BENCHMARK_LINES.get(name), "dash": "dash", "width": 1.5},
                connectgaps=False,
                hovertemplate=f"%{{y:{PERCENT_HOVER}}}",
            )
        )
    return _localised(figure, t, y_title=t("chart.twr"), y_format=PERCENT_AXIS)


def return_colors(returns: Sequence[Decimal]) -> list[str]:
    """Green for a gain, red for a loss, grey for a flat day."""
    return [GAIN_COLOR if r > 0 else LOSS_COLOR if r < 0 else FLAT_COLOR for r in returns]


def daily_returns_chart(points: Sequence[DailyPoint], t: Translator) -> go.Figure:
    """Each day's time-weighted return as a bar (green up, red down), percentage axis."""
    returns = [p.daily_return for p in points]
    figure = go.Figure(
        go.Bar(
            x=[p.date for p in points],
            y=_floats(returns),
            name=t("chart.daily_return"),
            marker={"color": return_colors(returns)},
            hovertemplate=f"%{{y:{PERCENT_HOVER}}}",
        )
    )
    figure.update_layout(showlegend=False)
    return _localised(figure, t, y_title=t("chart.daily_return"), y_format=PERCENT_AXIS)


def allocation_by_asset(rows: Sequence[AllocationRow], currency: str) -> dict[str, Decimal]:
    """Market value per ticker among the priced lots in ``currency`` (lots of one ticker
    added together), largest first. Unpriced lots are left out, never counted as zero."""
    totals: dict[str, Decimal] = {}
    for row in rows:
        if (row.currency or "?") != currency or row.market_value is None:
            continue
        totals[row.symbol] = totals.get(row.symbol, Decimal(0)) + row.market_value
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def allocation_chart(rows: Sequence[AllocationRow], currency: str, t: Translator) -> go.Figure:
    """A donut of the market value per ticker in one currency (hover shows the amount)."""
    by_asset = allocation_by_asset(rows, currency)
    figure = go.Figure(
        go.Pie(
            labels=list(by_asset),
            values=_floats(list(by_asset.values())),
            customdata=[money(v, currency, t) for v in by_asset.values()],
            hole=DONUT_HOLE,
            sort=False,
            textinfo="label+percent",
            hovertemplate="%{label}<br>%{customdata}<br>%{percent}<extra></extra>",
        )
    )
    figure.update_layout(
        title={"text": t("chart.allocation_in", currency=currency)},
        separators=SEPARATORS.get(t.locale, SEPARATORS["en"]),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return figure


def allocation_charts(rows: Sequence[AllocationRow], t: Translator) -> dict[str, go.Figure]:
    """One donut per currency that has at least one priced lot, by currency code."""
    currencies = sorted({row.currency or "?" for row in rows if row.market_value is not None})
    return {currency: allocation_chart(rows, currency, t) for currency in currencies}
