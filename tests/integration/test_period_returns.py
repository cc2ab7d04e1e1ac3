"""A client's returns over the advisor's periods and month by month, beside the stored
benchmarks (core.services.period_returns), against hand-computed values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from core import calendars
from core.db import UnitOfWork
from core.models import DailyReturn, PortfolioMetric
from core.services.benchmarks import benchmark_returns
from core.services.clients import create_client
from core.services.office_returns import office_returns
from core.services.period_returns import benchmark_curves, client_returns
from core.services.principal import Principal

D = Decimal
MakeUow = Callable[[], UnitOfWork]


def cdi(sessions: int) -> Decimal:
    """CDI at 0.05 % a session compounded over ``sessions``."""
    return D("1.0005") ** sessions - 1


def same(found: Decimal | None, expected: Decimal) -> bool:
    """Equal to 20 decimal places (a product and a power round their last digit apart)."""
    return found is not None and abs(found - expected) < D("1e-20")


FIRST, LAST = date(2025, 12, 30), date(2026, 3, 10)
# The stored series: inception 2025-12-30, +2 % in January, +3 % in February, -2 % in March
SERIES = [
    (FIRST, "0"),
    (date(2026, 1, 30), "0.02"),
    (date(2026, 2, 27), "0.0506"),
    (LAST, "0.029588"),
]


@pytest.fixture
def client_id(make_uow: MakeUow, admin: Principal) -> int:
    """A client with the stored series above, CDI at 0.05 % on every session from
    inception, the Ibovespa from 120,000 (+100 a session) and IPCA for December to
    February (March not yet published)."""
    client = create_client(make_uow(), admin, {"name": "Ana Lima", "email": "ana@example.com"})
    with make_uow() as uow:
        uow.session.add_all(
            DailyReturn(
                client_id=client.id,
                date=day,
                market_value=D(1000) * (1 + D(twr)),
                flow_in=D(1000) if day == FIRST else D(0),
                daily_return=D(0),
                cumulative_twr=D(twr),
            )
            for day, twr in SERIES
        )
        sessions = calendars.sessions(date(2025, 12, 29), LAST)
        uow.benchmarks.upsert("CDI", {day: D("0.05") for day in sessions[1:]}, "demo")
        uow.benchmarks.upsert(
            "IBOV", {day: D(120_000 + 100 * n) for n, day in enumerate(sessions)}, "demo"
        )
        ipca = {
            date(2025, 12, 1): D("0.33"),
            date(2026, 1, 1): D("0.16"),
            date(2026, 2, 1): D("0.70"),
        }
        uow.benchmarks.upsert("IPCA", ipca, "demo")
        uow.commit()
    return client.id


def test_the_periods_beside_cdi_ibovespa_and_ipca(make_uow: MakeUow, client_id: int) -> None:
    found = client_returns(make_uow(), client_id)
    periods = {row.period.key: row for row in found.periods}

    assert found.as_of == LAST
    month = periods["month"]
    assert month.twr == D("-0.02")
    # CDI over the 7 sessions of 2–10 March: 1.0005^7 - 1
    assert same(month.benchmarks["CDI"].cumulative, cdi(7))
    assert month.benchmarks["CDI"].complete
    assert same(month.percent_of_cdi, D("-0.02") / cdi(7))
    assert float(month.percent_of_cdi or 0) == pytest.approx(-5.70572, abs=1e-5)
    # Ibovespa from the close of 27 February (session 40 of the list: 124,000) to 124,700
    assert month.benchmarks["IBOV"].cumulative == D(124_700) / D(124_000) - 1
    # IPCA of March is not published: incomplete, and said so
    assert not month.benchmarks["IPCA"].complete
    assert month.benchmarks["IPCA"].missing == (date(2026, 3, 1),)

    ytd = periods["ytd"]
    assert ytd.twr == D("0.029588")
    assert same(ytd.benchmarks["CDI"].cumulative, cdi(46))  # 46 sessions
    assert float(ytd.percent_of_cdi or 0) == pytest.approx(1.27201906, abs=1e-8)  # 127 % do CDI

    twelve = periods["12m"]  # the client is younger than 12 months: from inception
    assert twelve.period.partial
    assert twelve.period.first == FIRST
    assert twelve.twr == D("0.029588")
    assert same(twelve.benchmarks["CDI"].cumulative, cdi(47))  # from 30 December


def test_the_monthly_grid_with_percent_of_cdi(make_uow: MakeUow, client_id: int) -> None:
    grid = client_returns(make_uow(), client_id).grid

    assert [year.year for year in grid] == [2025, 2026]
    assert sorted(grid[1].months) == [1, 2, 3]
    january = grid[1].months[1]
    assert january.twr == D("0.02")
    assert same(january.benchmarks["CDI"].cumulative, cdi(21))  # 21 sessions
    assert same(january.percent_of_cdi, D("0.02") / cdi(21))
    assert january.benchmarks["IPCA"].cumulative == D("0.0016")
    february = grid[1].months[2]
    assert february.twr == D("0.03")
    assert same(february.benchmarks["CDI"].cumulative, cdi(18))  # Carnival: 18
    assert grid[1].total.twr == D("0.029588")
    assert same(grid[1].total.percent_of_cdi, D("0.029588") / cdi(46))


def test_a_missing_cdi_day_makes_percent_of_cdi_undefined(
    make_uow: MakeUow, client_id: int
) -> None:
    with make_uow() as uow:
        uow.session.execute(
            text("DELETE FROM benchmark_values WHERE series = 'CDI' AND date = '2026-03-04'")
        )
        uow.commit()
    month = {r.period.key: r for r in client_returns(make_uow(), client_id).periods}["month"]

    assert month.benchmarks["CDI"].missing == (date(2026, 3, 4),)
    assert month.percent_of_cdi is None  # never computed from an invented day
    assert month.twr == D("-0.02")


def test_a_client_without_figures_has_no_returns(make_uow: MakeUow, admin: Principal) -> None:
    other = create_client(make_uow(), admin, {"name": "Bruno Dias", "email": "b@example.com"})
    found = client_returns(make_uow(), other.id)

    assert found.as_of is None
    assert found.periods == []
    assert found.grid == []


def test_the_office_beside_the_benchmarks(
    make_uow: MakeUow, admin: Principal, client_id: int
) -> None:
    # A second client began on 5 March (+1 % since): it is younger than every period
    other = create_client(make_uow(), admin, {"name": "Bruno Dias", "email": "b@example.com"})
    with make_uow() as uow:
        uow.session.add_all(
            DailyReturn(
                client_id=other.id,
                date=day,
                market_value=D(500) * (1 + D(twr)),
                flow_in=D(500) if day == date(2026, 3, 5) else D(0),
                daily_return=D(0),
                cumulative_twr=D(twr),
            )
            for day, twr in ((date(2026, 3, 5), "0"), (LAST, "0.01"))
        )
        uow.session.add_all(
            PortfolioMetric(
                client_id=cid,
                as_of=LAST,
                market_value=D(1000),
                invested=D(1000),
            )
            for cid in (client_id, other.id)
        )
        uow.commit()
    found = office_returns(make_uow())
    periods = {row.period.key: row for row in found.periods}

    assert found.as_of == LAST
    assert list(periods) == ["month", "ytd", "12m", "24m"]
    month = periods["month"]
    assert (month.clients, month.younger) == (1, 1)  # Bruno began inside March
    assert month.median_twr == D("-0.02")
    assert month.beat_cdi == 0  # -2 % against 1.0005^7 - 1
    assert same(month.benchmarks["CDI"].cumulative, cdi(7))
    ytd = periods["ytd"]
    assert ytd.median_twr == D("0.029588")
    assert ytd.beat_cdi == 1  # 2.9588 % against 1.0005^46 - 1 = 2.326 %
    twelve = periods["12m"]  # nobody covers it, and the CDI is not stored that far back
    assert (twelve.clients, twelve.younger, twelve.median_twr) == (0, 2, None)
    assert twelve.beat_cdi is None
    assert not twelve.benchmarks["CDI"].complete


def test_an_office_without_figures_has_no_returns(make_uow: MakeUow) -> None:
    assert office_returns(make_uow()).as_of is None


def test_the_benchmark_curves_for_the_twr_chart(make_uow: MakeUow, client_id: int) -> None:
    days = [day for day, _ in SERIES]
    with make_uow() as uow:
        curves = benchmark_curves(uow, days)
        ipca_january = benchmark_returns(uow, "IPCA", FIRST, date(2026, 1, 30))

    # CDI from 30/12/2025: 1, 22, 40 and 47 sessions
    assert curves["CDI"] == pytest.approx([float(cdi(n)) for n in (1, 22, 40, 47)], abs=1e-12)
    # Ibovespa over its close of 29/12/2025 (120,000), +100 a session
    assert curves["IBOV"] == pytest.approx(
        [100 / 120_000, 2_200 / 120_000, 4_000 / 120_000, 4_700 / 120_000]
    )
    # IPCA: December pro rata (1 session of its month), January whole; March is unpublished
    assert curves["IPCA"][1] == pytest.approx(float(ipca_january.cumulative or 0), abs=1e-12)
    assert curves["IPCA"][3] is None
