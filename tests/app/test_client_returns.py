"""The client page's returns beside the benchmarks, on demo data stored by the real jobs
(the close's backfill and the benchmark job), through the real page."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from core.db import UnitOfWork
from core.market.benchmarks import DemoBenchmarks
from core.market.demo import DemoMarketData
from core.models import JobStatus
from core.schemas import ClientOut
from core.services import closing
from core.services.benchmarks import benchmark_returns, update_benchmarks
from core.services.figures import client_metrics
from core.services.principal import SYSTEM
from tests.app.conftest import (
    READER_EMAIL,
    assert_no_exception,
    create_client,
    hold,
    pt,
    sign_in,
)

Make = Callable[[], UnitOfWork]
BUY = date(2025, 3, 10)
AS_OF = date(2025, 3, 31)


@pytest.fixture
def maria(demo_env: Make, committed_engine: Engine) -> ClientOut:
    client = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    hold(demo_env, client.id, "PETR4.SA", "100", "30", BUY)
    report = closing.backfill(committed_engine, DemoMarketData(), BUY, AS_OF, actor=SYSTEM)
    assert report.status == JobStatus.SUCCESS, report
    source = DemoBenchmarks(today=lambda: AS_OF)
    ran = update_benchmarks(committed_engine, source, AS_OF, actor=SYSTEM)
    assert ran.status == JobStatus.SUCCESS, ran
    return client


def open_detail(client_id: int) -> AppTest:
    at = sign_in(READER_EMAIL)
    at.query_params["client"] = str(client_id)
    at.switch_page("app_pages/client_detail.py").run()
    assert_no_exception(at)
    return at


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    found = [df.value for df in at.dataframe if column in df.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def test_the_periods_show_the_portfolio_beside_the_stored_cdi(
    demo_env: Make, maria: ClientOut
) -> None:
    at = open_detail(maria.id)
    periods = frame_with(at, pt("returns.col.percent_cdi")).set_index(pt("returns.col.period"))

    assert pt("returns.title") in [h.value for h in at.subheader]
    # Since inception: the stored TWR, the CDI compounded over the same sessions, their ratio
    metrics = client_metrics(demo_env(), maria.id)
    assert metrics is not None
    with demo_env() as uow:
        cdi = benchmark_returns(uow, "CDI", BUY, AS_OF)
    assert cdi.complete
    row = periods.loc[pt("returns.period.inception")]
    assert row[pt("returns.col.portfolio")] == pytest.approx(float(metrics.twr or 0), abs=1e-12)
    assert row[pt("returns.col.cdi")] == pytest.approx(float(cdi.cumulative or 0), abs=1e-12)
    assert row[pt("returns.col.percent_cdi")] == pytest.approx(
        float(Decimal(metrics.twr or 0) / (cdi.cumulative or 1)), rel=1e-9
    )
    # Cells are numbers (they sort as numbers); the 12 months are younger than the client
    assert periods[pt("returns.col.cdi")].dtype == float
    twelve = pt("returns.period.partial", label=pt("returns.period.12m"), since="10/03/2025")
    assert twelve in periods.index


def test_the_monthly_grid_has_march_and_its_percent_of_cdi(
    demo_env: Make, maria: ClientOut
) -> None:
    at = open_detail(maria.id)
    grid = frame_with(at, pt("month.short.3"))

    lines = list(grid[pt("returns.col.line")])
    assert lines == [pt("returns.line.portfolio"), pt("returns.line.percent_cdi")]
    assert list(grid[pt("returns.col.year")]) == ["2025", "2025"]
    metrics = client_metrics(demo_env(), maria.id)
    assert metrics is not None
    march = grid[pt("month.short.3")].tolist()
    assert march[0] == pytest.approx(float(metrics.twr or 0), abs=1e-12)  # all of it in March
    assert pd.isna(grid[pt("month.short.2")].tolist()[0])  # before the first buy: empty


def test_no_table_on_the_page_shows_none_for_an_empty_cell(
    demo_env: Make, maria: ClientOut
) -> None:
    # Streamlit draws a missing value as "None" unless the table says otherwise: every
    # table goes through dashboard.components.columns.table, which shows "—".
    at = open_detail(maria.id)
    grid = frame_with(at, pt("month.short.3"))

    assert grid[pt("month.short.1")].dtype == float  # January, before any figure: NaN
    assert at.dataframe
    assert all(df.proto.HasField("placeholder") for df in at.dataframe)
    assert {df.proto.placeholder for df in at.dataframe} <= {"—", ""}


def test_a_client_without_figures_shows_no_returns(demo_env: Make) -> None:
    client = create_client(demo_env, name="Sem Números", email="sem@example.com")
    at = open_detail(client.id)

    assert pt("returns.title") not in [h.value for h in at.subheader]


def test_the_statement_section_offers_the_months_with_figures(
    demo_env: Make, maria: ClientOut
) -> None:
    at = open_detail(maria.id)

    assert pt("statement.title") in [h.value for h in at.subheader]
    [month] = [s for s in at.selectbox if s.label == pt("statement.month")]
    assert month.options == [f"{pt('month.short.3')}/2025"]  # the figures are all in March
    buttons = [b for b in at.get("download_button") if b.proto.label == pt("statement.download")]
    assert len(buttons) == 1


def test_the_twr_chart_draws_the_benchmarks_from_the_same_first_day(
    demo_env: Make, maria: ClientOut
) -> None:
    at = open_detail(maria.id)
    at.session_state[f"detail_chart_tab_{maria.id}"] = pt("chart.tab.twr")  # lazy tabs
    at.run()
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    [twr] = [f for f in figures if f["data"] and f["data"][0].get("name") == pt("chart.twr")]
    names = [trace["name"] for trace in twr["data"]]

    assert names[:3] == [pt("chart.twr"), pt("returns.col.cdi"), pt("returns.col.ibov")]
    portfolio, cdi = twr["data"][0], twr["data"][1]
    assert cdi["x"] == portfolio["x"]  # the same days, from the same first day
    with demo_env() as uow:
        first_day = benchmark_returns(uow, "CDI", BUY, BUY)
    assert cdi["y"][0] == pytest.approx(float(first_day.cumulative or 0), abs=1e-12)
