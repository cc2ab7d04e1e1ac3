"""Figures in reais for a client holding a US ticker: the scheduler fetches and stores the
USD/BRL closes, values the lot at each day's rate and counts its money in at the rate of
its buy date. Hand-checked against the demo adapter's closes on a fixed clock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from core.market.catalogue import CATALOGUE
from core.market.demo import DemoMarketData
from core.models import JobStatus
from core.services import closing
from core.services.clients import create_client
from core.services.principal import SYSTEM, Principal
from tests.integration.test_closing_jobs import (
    FRIDAY,
    add_lot,
    close_of,
    daily,
    fixed_clock,
    metrics,
    new_uow,
    prices,
    runs,
)

D = Decimal
US_BUY = date(2026, 11, 10)  # a Tuesday: NYSE, B3 and the currency market all open
BR_BUY = date(2026, 11, 3)
EXACT = D("1e-6")  # stored MV has 8 places; the product below is exact to far less


@pytest.fixture
def demo() -> DemoMarketData:
    return DemoMarketData(clock=fixed_clock)


@pytest.fixture
def davi(committed_engine: Engine, demo: DemoMarketData, admin: Principal) -> int:
    client = create_client(new_uow(committed_engine), admin, {"name": "Davi", "email": "d@x.com"})
    add_lot(committed_engine, demo, admin, client.id, "PETR4.SA", "100", "30.00", BR_BUY)
    add_lot(committed_engine, demo, admin, client.id, "AAPL", "10", "200.00", US_BUY)
    return client.id


def test_a_us_lot_is_valued_in_reais_at_each_days_rate(
    committed_engine: Engine, demo: DemoMarketData, davi: int
) -> None:
    # Gap repair fetches every close since the first buy (the rate series too).
    report = closing.repair_gaps(committed_engine, demo, FRIDAY, actor=SYSTEM)

    assert report.status == JobStatus.SUCCESS
    rate_fri = close_of(demo, "USDBRL=X", FRIDAY)
    rate_buy = close_of(demo, "USDBRL=X", US_BUY)
    # The rate series is stored like any close.
    assert ("USDBRL=X", FRIDAY, rate_fri, "market") in prices(committed_engine, since=FRIDAY)

    expected_mv = (
        100 * close_of(demo, "PETR4.SA", FRIDAY) + 10 * close_of(demo, "AAPL", FRIDAY) * rate_fri
    )
    (friday,) = daily(committed_engine, day=FRIDAY)
    assert abs(friday[2] - expected_mv) < EXACT

    # The dollars went in on the buy date at that day's rate: 10 x 200.00 x rate.
    (buy_day,) = daily(committed_engine, day=US_BUY)
    assert buy_day[3] == 2000 * rate_buy
    (metric,) = metrics(committed_engine)
    assert metric[3] == 3000 + 2000 * rate_buy  # invested, in reais
    assert abs(metric[4] - (metric[2] / metric[3] - 1)) < D("1e-11")


def test_the_live_poller_also_asks_for_the_rate(committed_engine: Engine, davi: int) -> None:
    assert set(closing.held_symbols(committed_engine, actor=SYSTEM)) == {
        "AAPL",
        "PETR4.SA",
        "USDBRL=X",
    }


def test_without_any_rate_the_run_fails_and_writes_no_figures(
    committed_engine: Engine, davi: int
) -> None:
    no_rates = DemoMarketData(
        clock=fixed_clock, listings=[x for x in CATALOGUE if x.symbol != "USDBRL=X"]
    )

    report = closing.daily_close(committed_engine, no_rates, FRIDAY, actor=SYSTEM)

    assert report.status == JobStatus.FAILED
    assert "USDBRL=X" in (report.error or "")
    assert daily(committed_engine) == []
    assert metrics(committed_engine) == []
    assert runs(committed_engine)[-1].status == JobStatus.FAILED
