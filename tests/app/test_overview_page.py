"""The overview, every role's landing page: assets under management, clients, movers, runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from core.config import get_settings
from core.db import UnitOfWork
from core.embedded import resolve_redis_url
from core.market.benchmarks import DemoBenchmarks
from core.market.demo import DemoMarketData
from core.market.factory import build_market_data
from core.models import Client, JobStatus
from core.redis_client import redis_for
from core.services import closing
from core.services.benchmarks import benchmark_returns, update_benchmarks
from core.services.figures import client_metrics, overview
from core.services.principal import SYSTEM
from tests.app.conftest import (
    ADMIN_EMAIL,
    READER_EMAIL,
    assert_no_exception,
    create_client,
    hold,
    pt,
    sign_in,
    values,
)

Make = Callable[[], UnitOfWork]
BUY = date(2025, 3, 10)
AS_OF = date(2025, 3, 31)


def metric(at: AppTest, label_key: str) -> str:
    (found,) = [m.value for m in at.metric if m.label == pt(label_key)]
    return found


def test_landing_page_before_any_close(demo_env: Make) -> None:
    create_client(demo_env, name="Ana Lima", email="ana@example.com")
    create_client(demo_env, name="Bia Reis", email="bia@example.com", status="inactive")

    at = sign_in(READER_EMAIL)

    assert_no_exception(at)
    assert values(at.title) == [pt("overview.title")]
    assert pt("market.source.demo") in values(at.warning)
    assert metric(at, "overview.aum") == "—"
    assert pt("overview.no_figures") in values(at.caption)
    assert metric(at, "overview.clients") == "1 / 2"
    assert pt("overview.no_best") in values(at.caption)
    assert pt("overview.no_worst") in values(at.caption)
    assert pt("overview.no_runs") in values(at.caption)
    assert not at.dataframe


@pytest.fixture
def closed_book(demo_env: Make, committed_engine: Engine) -> Make:
    """Two clients with B3 lots, closed through AS_OF by the real backfill."""
    maria = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    joao = create_client(demo_env, name="João Reis", email="joao@example.com")
    hold(demo_env, maria.id, "PETR4.SA", "100", "30", BUY)
    hold(demo_env, joao.id, "VALE3.SA", "50", "60", BUY)
    hold(demo_env, joao.id, "ITUB4.SA", "200", "25", BUY)
    report = closing.backfill(
        committed_engine, DemoMarketData(), BUY, AS_OF, triggered_by="test", actor=SYSTEM
    )
    assert report.status == JobStatus.SUCCESS, report
    return demo_env


def test_assets_under_management_movers_and_runs(closed_book: Make) -> None:
    at = sign_in(ADMIN_EMAIL)

    assert_no_exception(at)
    stored = [client_metrics(closed_book(), client_id) for client_id in _client_ids(closed_book)]
    assert all(m is not None and m.as_of == AS_OF for m in stored)
    aum = sum((m.market_value for m in stored if m is not None), Decimal(0))
    assert metric(at, "overview.aum") == _brl(aum)
    assert pt("overview.as_of", date="31/03/2025") in values(at.caption)
    assert metric(at, "overview.clients") == "2 / 2"

    # The page and this check read the same cached quotes (one batched call, cached).
    settings = get_settings()
    market = build_market_data(settings, redis_for(resolve_redis_url(settings)))
    office = overview(closed_book(), market)
    tables = [table.value for table in at.dataframe]
    best = [m.symbol for m in office.best]
    worst = [m.symbol for m in office.worst]
    # One table per non-empty list (best, then worst), then the runs.
    shown = [list(table[pt("col.ticker")]) for table in tables if pt("col.ticker") in table]
    assert shown == [movers for movers in (best, worst) if movers]
    assert set(best) | set(worst) <= {"PETR4.SA", "VALE3.SA", "ITUB4.SA"}
    # The change and the price are numbers (ratios, reais), formatted by the column config.
    movers = [table for table in tables if pt("col.ticker") in table]
    expected = [found for found in (office.best, office.worst) if found]
    for table, found in zip(movers, expected, strict=True):
        assert list(table[pt("col.daily_change")]) == [float(m.change) for m in found]
        assert list(table[pt("col.price")]) == [float(m.price) for m in found]
        assert list(table[pt("col.currency")]) == ["R$"] * len(found)

    runs = tables[-1]
    assert list(runs.columns) == [
        pt("jobs.col.job"),
        pt("jobs.col.dates"),
        pt("jobs.col.status"),
        pt("jobs.col.finished"),
    ]
    assert runs.iloc[0][pt("jobs.col.job")] == pt("job.name.backfill")
    assert runs.iloc[0][pt("jobs.col.dates")] == "10/03/2025 – 31/03/2025"
    assert runs.iloc[0][pt("jobs.col.status")] == pt("job.status.success")


def _client_ids(make: Make) -> list[int]:
    with make() as uow:
        return list(uow.session.scalars(select(Client.id)))


def _brl(amount: Decimal) -> str:
    text = f"{amount.quantize(Decimal('0.01')):,.2f}"
    return "R$ " + text.replace(",", "_").replace(".", ",").replace("_", ".")


def test_reader_lands_on_the_overview_without_the_jobs_page(demo_env: Make) -> None:
    at = sign_in(READER_EMAIL)

    assert values(at.title) == [pt("overview.title")]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/jobs.py")


def test_the_clients_beside_the_benchmarks(closed_book: Make, committed_engine: Engine) -> None:
    # The benchmark job stores the demo CDI; the overview compares both clients with it
    ran = update_benchmarks(
        committed_engine, DemoBenchmarks(today=lambda: AS_OF), AS_OF, actor=SYSTEM
    )
    assert ran.status == JobStatus.SUCCESS, ran
    at = sign_in(READER_EMAIL)
    assert_no_exception(at)

    assert pt("returns.office_title") in values(at.subheader)
    [table] = [t.value for t in at.dataframe if pt("returns.col.beat_cdi") in t.value]
    month = table.set_index(pt("returns.col.period")).loc[pt("returns.period.month")]
    # Both clients began on 10 March: younger than March, so neither is counted in it
    assert month[pt("returns.col.clients")] == 0
    assert pd.isna(month[pt("returns.col.median")])
    with closed_book() as uow:
        cdi = benchmark_returns(uow, "CDI", date(2025, 3, 1), AS_OF)
    assert cdi.complete
    assert month[pt("returns.col.cdi")] == pytest.approx(float(cdi.cumulative or 0), abs=1e-12)
    assert pt("returns.office_younger") in " ".join(values(at.caption))
