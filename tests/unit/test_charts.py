"""The chart builders: traces, plotted values, and locale-aware axes, from hand-made data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.i18n import Translator
from core.services.figures import DailyPoint
from core.services.portfolio import AllocationRow
from dashboard.components.charts import (
    FLAT_COLOR,
    GAIN_COLOR,
    LOSS_COLOR,
    allocation_by_asset,
    allocation_chart,
    allocation_charts,
    daily_returns_chart,
    return_colors,
    twr_chart,
    value_chart,
)

PT = Translator("pt_BR")
EN = Translator("en")
DAYS = [date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)]


def point(day: date, value: str, invested: str, daily: str, twr: str) -> DailyPoint:
    return DailyPoint(
        date=day,
        market_value=Decimal(value),
        flow_in=Decimal(0),
        flow_out=Decimal(0),
        invested=Decimal(invested),
        daily_return=Decimal(daily),
        cumulative_twr=Decimal(twr),
    )


@pytest.fixture
def points() -> list[DailyPoint]:
    return [
        point(DAYS[0], "1000", "1000", "0.01", "0.01"),
        point(DAYS[1], "980.5", "1000", "-0.0195", "-0.009695"),
        point(DAYS[2], "1500", "1500", "0", "-0.009695"),
    ]


def lot(
    symbol: str, currency: str | None, market_value: str | None, allocation_id: int = 1
) -> AllocationRow:
    return AllocationRow(
        allocation_id=allocation_id,
        symbol=symbol,
        name=symbol,
        currency=currency,
        quantity=Decimal(1),
        buy_price=Decimal(1),
        buy_date=DAYS[0],
        invested=Decimal(1),
        market_value=None if market_value is None else Decimal(market_value),
    )


# -- value over time ------------------------------------------------------------------------


def test_value_chart_has_market_value_and_invested_lines(points: list[DailyPoint]) -> None:
    figure = value_chart(points, PT)

    market, invested = figure.data
    assert (market.name, invested.name) == ("Valor de mercado", "Capital investido")
    assert market.type == invested.type == "scatter"
    assert list(market.x) == DAYS
    assert list(market.y) == [1000.0, 980.5, 1500.0]
    assert list(invested.y) == [1000.0, 1000.0, 1500.0]
    assert invested.line.dash == "dash"
    assert figure.layout.yaxis.title.text == "Valor (R$)"
    assert figure.layout.yaxis.tickformat == ",.0f"
    assert market.hovertemplate == "%{y:,.2f}"


@pytest.mark.parametrize(
    ("translator", "separators", "dates", "axis"),
    [(PT, ",.", "%d/%m/%Y", "Data"), (EN, ".,", "%Y-%m-%d", "Date")],
    ids=["pt_BR", "en"],
)
def test_every_history_chart_follows_the_locale(
    points: list[DailyPoint], translator: Translator, separators: str, dates: str, axis: str
) -> None:
    for build in (value_chart, twr_chart, daily_returns_chart):
        layout = build(points, translator).layout
        # plotly's separators: decimal mark first, then the thousands separator.
        assert layout.separators == separators
        assert layout.xaxis.tickformat == dates
        assert layout.xaxis.hoverformat == dates
        assert layout.xaxis.title.text == axis


# -- returns ----------------------------------------------------------------------------------


def test_twr_chart_plots_the_cumulative_ratio_on_a_percent_axis(
    points: list[DailyPoint],
) -> None:
    figure = twr_chart(points, PT)

    (line,) = figure.data
    assert line.name == "TWR acumulado"
    assert list(line.y) == [0.01, -0.009695, -0.009695]
    # Ratios stay ratios: the "%" formats show 0.01 as 1,0% (pt-BR separators).
    assert figure.layout.yaxis.tickformat == ".1%"
    assert line.hovertemplate == "%{y:.2%}"


def test_the_benchmarks_share_the_twr_axis_from_the_same_start(
    points: list[DailyPoint],
) -> None:
    curves = {"CDI": [0.0004, 0.0008, 0.0012], "IBOV": [0.01, None, -0.02], "IPCA": [None] * 3}
    figure = twr_chart(points, PT, curves)

    names = [trace.name for trace in figure.data]
    assert names == ["TWR acumulado", "CDI", "Ibovespa"]  # an IPCA with no value is left out
    cdi, ibov = figure.data[1], figure.data[2]
    assert list(cdi.y) == [0.0004, 0.0008, 0.0012]
    assert list(cdi.x) == list(figure.data[0].x)  # the portfolio's days
    assert list(ibov.y) == [0.01, None, -0.02]  # a gap stays a gap
    assert ibov.line.dash == "dash"
    assert not ibov.connectgaps


def test_daily_returns_are_green_and_red_bars(points: list[DailyPoint]) -> None:
    figure = daily_returns_chart(points, EN)

    (bars,) = figure.data
    assert bars.type == "bar"
    assert bars.name == "Daily return"
    assert list(bars.y) == [0.01, -0.0195, 0.0]
    assert list(bars.marker.color) == [GAIN_COLOR, LOSS_COLOR, FLAT_COLOR]
    assert figure.layout.yaxis.tickformat == ".1%"
    assert bars.hovertemplate == "%{y:.2%}"
    assert figure.layout.showlegend is False


def test_return_colors_edges() -> None:
    assert return_colors([]) == []
    assert return_colors([Decimal("1e-12"), Decimal("-1e-12"), Decimal(0)]) == [
        GAIN_COLOR,
        LOSS_COLOR,
        FLAT_COLOR,
    ]


def test_no_points_gives_empty_traces_not_an_error() -> None:
    assert [len(trace.y) for trace in value_chart([], PT).data] == [0, 0]
    assert len(twr_chart([], PT).data[0].y) == 0
    assert len(daily_returns_chart([], PT).data[0].y) == 0


def test_a_single_point() -> None:
    one = [point(DAYS[0], "10", "10", "0", "0")]
    assert list(twr_chart(one, PT).data[0].y) == [0.0]
    assert list(daily_returns_chart(one, PT).data[0].marker.color) == [FLAT_COLOR]


# -- allocation ---------------------------------------------------------------------------


def test_allocation_adds_lots_of_a_ticker_and_leaves_unpriced_out() -> None:
    rows = [
        lot("PETR4.SA", "BRL", "1000", 1),
        lot("VALE3.SA", "BRL", "3000", 2),
        lot("PETR4.SA", "BRL", "500", 3),
        lot("ITUB4.SA", "BRL", None, 4),  # no quote: not a zero slice
        lot("AAPL", "USD", "200", 5),
    ]

    assert allocation_by_asset(rows, "BRL") == {
        "VALE3.SA": Decimal(3000),
        "PETR4.SA": Decimal(1500),
    }
    figure = allocation_chart(rows, "BRL", PT)
    (donut,) = figure.data
    assert donut.type == "pie"
    assert donut.hole > 0
    assert list(donut.labels) == ["VALE3.SA", "PETR4.SA"]
    assert list(donut.values) == [3000.0, 1500.0]
    assert list(donut.customdata) == ["R$ 3.000,00", "R$ 1.500,00"]
    assert "percent" in donut.textinfo
    assert figure.layout.title.text == "Alocação por ativo em BRL"
    assert figure.layout.separators == ",."


def test_one_donut_per_currency_with_priced_lots() -> None:
    rows = [
        lot("PETR4.SA", "BRL", "1000", 1),
        lot("AAPL", "USD", "200", 2),
        lot("BTC-USD", "USD", "50", 3),
        lot("NOPE", "EUR", None, 4),
    ]

    charts = allocation_charts(rows, EN)

    assert list(charts) == ["BRL", "USD"]
    usd = charts["USD"].data[0]
    assert list(usd.labels) == ["AAPL", "BTC-USD"]
    assert list(usd.customdata) == ["US$ 200.00", "US$ 50.00"]
    assert charts["USD"].layout.title.text == "Allocation by asset in USD"


def test_no_priced_lot_gives_no_donut() -> None:
    assert allocation_charts([lot("PETR4.SA", "BRL", None)], PT) == {}
    assert allocation_charts([], PT) == {}
