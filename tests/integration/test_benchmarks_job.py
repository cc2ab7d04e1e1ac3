"""The benchmark job on the real PostgreSQL with real commits (``committed_engine``): what it
asks (from the oldest movement, then from the last stored value, gaps again), what it stores
(idempotent upserts, revisions named), and how it ends (success, partial with the series
named, failed when something was due and nothing came, skipped on the lock).

The book: one client bought PETR4 on 2026-09-15; today is Friday 2026-11-27.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text

from core import calendars
from core.analytics.benchmarks import compound_daily
from core.db import UnitOfWork, uow_factory
from core.errors import PermissionDenied
from core.market import demo_rates, port
from core.market.benchmarks import (
    CDI,
    IBOVESPA,
    IFIX,
    IPCA,
    MONTHLY,
    SELIC,
    DemoBenchmarks,
    Series,
    SeriesFetch,
)
from core.market.catalogue import INDICES
from core.market.demo import DemoMarketData
from core.market.sgs import Rejected
from core.models import JobStatus
from core.services import benchmarks
from core.services.allocations import add_allocation
from core.services.clients import create_client
from core.services.job_runs import latest_runs, locked
from core.services.principal import SYSTEM, Principal

D = Decimal
TODAY = date(2026, 11, 27)
FIRST_BUY = date(2026, 9, 15)
TWO_YEARS = date(2024, 11, 1)  # the first of the month two years before TODAY
CLOCK = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)


def new_uow(engine: Engine) -> UnitOfWork:
    return UnitOfWork(uow_factory(engine))


@pytest.fixture
def demo_market() -> DemoMarketData:
    return DemoMarketData(clock=lambda: CLOCK)


@pytest.fixture
def held(committed_engine: Engine, demo_market: DemoMarketData, admin: Principal) -> None:
    client = create_client(
        new_uow(committed_engine), admin, {"name": "Ana", "email": "ana@example.com"}
    )
    add_allocation(
        new_uow(committed_engine),
        demo_market,
        admin,
        client.id,
        {"symbol": "PETR4.SA"},
        {"quantity": D(100), "buy_price": D("30.00"), "buy_date": FIRST_BUY},
    )


@dataclass
class Scripted:
    """A source answering from the demo values, with per-series faults and edits."""

    inner: DemoBenchmarks
    failing: dict[str, str] = field(default_factory=dict)
    empty: set[str] = field(default_factory=set)
    drop: dict[str, set[date]] = field(default_factory=dict)
    change: dict[str, dict[date, Decimal]] = field(default_factory=dict)
    rejected: dict[str, list[Rejected]] = field(default_factory=dict)
    calls: list[tuple[str, date, date]] = field(default_factory=list)
    name: str = "scripted"

    def fetch(self, series: Series, start: date, end: date) -> SeriesFetch:
        self.calls.append((series.name, start, end))
        if series.name in self.failing:
            return SeriesFetch(source="bcb", failed=self.failing[series.name], detail="test")
        if series.name in self.empty:
            return SeriesFetch(source="demo")
        fetch = self.inner.fetch(series, start, end)
        for day in self.drop.get(series.name, set()):
            fetch.values.pop(day, None)
        fetch.values.update(
            {d: v for d, v in self.change.get(series.name, {}).items() if start <= d <= end}
        )
        fetch.rejected.extend(self.rejected.get(series.name, []))
        return fetch


@pytest.fixture
def source() -> Scripted:
    indices = DemoMarketData(clock=lambda: CLOCK, listings=INDICES)
    return Scripted(DemoBenchmarks(indices, today=lambda: TODAY))


def run(engine: Engine, source: Any, actor: Principal = SYSTEM) -> benchmarks.RunReport:
    return benchmarks.update_benchmarks(engine, source, TODAY, actor=actor)


def stored(engine: Engine, series: str) -> dict[date, tuple[Decimal, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT date, value, source FROM benchmark_values WHERE series = :s"),
            {"s": series},
        )
        return {day: (value, src) for day, value, src in rows}


def test_nothing_held_and_nothing_stored_is_nothing_due(
    committed_engine: Engine, source: Scripted
) -> None:
    report = run(committed_engine, source)
    assert report.status == JobStatus.SUCCESS
    assert source.calls == []
    assert report.rows_written == 0


def test_the_first_run_starts_two_years_back_and_a_rerun_writes_nothing(
    committed_engine: Engine, held: None, source: Scripted
) -> None:
    report = run(committed_engine, source)

    assert report.status == JobStatus.SUCCESS, report
    assert report.failed == {}
    assert report.missing == {}
    asked = {name: (start, end) for name, start, end in source.calls}
    # The first buy is recent: the overview's 24 months start the series in November 2024
    assert asked == {
        "CDI": (TWO_YEARS, TODAY),
        "SELIC": (TWO_YEARS, TODAY),
        "IPCA": (TWO_YEARS, TODAY),  # November 2024 to October 2026 are published
        "IBOV": (date(2024, 10, 31), TODAY),  # the session before
        "IFIX": (date(2024, 10, 31), TODAY),
    }
    cdi = stored(committed_engine, "CDI")
    assert sorted(cdi) == calendars.sessions(TWO_YEARS, TODAY)
    assert cdi[date(2026, 10, 1)] == (demo_rates.daily_rate(date(2026, 10, 1)), "demo")
    ipca = sorted(stored(committed_engine, "IPCA"))
    assert (len(ipca), ipca[0], ipca[-1]) == (24, TWO_YEARS, date(2026, 10, 1))
    assert min(stored(committed_engine, "IBOV")) == date(2024, 10, 31)
    assert report.rows_written == sum(
        len(stored(committed_engine, s.name)) for s in (CDI, SELIC, IPCA, IBOVESPA, IFIX)
    )
    assert report.tickers_ok == 5

    source.calls.clear()
    again = run(committed_engine, source)
    assert again.status == JobStatus.SUCCESS
    assert source.calls == []  # nothing due: yesterday's session and October are stored
    assert again.rows_written == 0
    runs = latest_runs(committed_engine, job_name=benchmarks.BENCHMARKS)
    assert [r.status for r in runs] == ["success", "success"]
    assert (runs[1].target_from, runs[1].target_to) == (date(2024, 10, 31), TODAY)


def test_a_gap_inside_the_stored_range_is_asked_again(
    committed_engine: Engine, held: None, source: Scripted
) -> None:
    run(committed_engine, source)
    with committed_engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM benchmark_values WHERE (series = 'CDI' AND date = '2026-10-07') "
                "OR (series = 'IPCA' AND date = '2026-09-01')"
            )
        )
    source.calls.clear()

    report = run(committed_engine, source)

    assert report.status == JobStatus.SUCCESS
    assert {(n, s) for n, s, _ in source.calls} == {
        ("CDI", date(2026, 10, 7)),
        ("IPCA", date(2026, 9, 1)),
    }
    assert date(2026, 10, 7) in stored(committed_engine, "CDI")
    assert date(2026, 9, 1) in stored(committed_engine, "IPCA")
    assert report.rows_written == 2  # the rest of the range was stored unchanged


def test_a_series_that_fails_makes_the_run_partial_and_names_it(
    committed_engine: Engine, held: None, source: Scripted
) -> None:
    source.failing["IFIX"] = port.NOT_FOUND  # Yahoo may not have IFIX.SA

    report = run(committed_engine, source)

    assert report.status == JobStatus.PARTIAL
    assert report.failed == {"IFIX": port.NOT_FOUND}
    assert report.tickers_ok == 4
    assert stored(committed_engine, "IFIX") == {}
    assert stored(committed_engine, "CDI")
    [row] = latest_runs(committed_engine, job_name=benchmarks.BENCHMARKS)
    assert row.failed_tickers == ["IFIX"]
    assert row.details is not None
    assert row.details["failed"] == {"IFIX": "not_found"}


def test_missing_days_and_rejected_rows_are_counted_and_never_filled_in(
    committed_engine: Engine, held: None, source: Scripted
) -> None:
    source.drop["CDI"] = {date(2026, 10, 7), date(2026, 10, 8)}
    source.rejected["SELIC"] = [Rejected("{'data': '03/10/2026'}", "no value")]

    report = run(committed_engine, source)

    assert report.status == JobStatus.PARTIAL
    assert report.missing == {"CDI": 2}
    assert report.dropped == {"SELIC": 1}
    assert "no value" in report.failed_details["SELIC"]
    assert date(2026, 10, 7) not in stored(committed_engine, "CDI")


def test_nothing_fetched_when_something_was_due_fails_the_run(
    committed_engine: Engine, held: None, source: Scripted
) -> None:
    source.failing.update({"CDI": port.UNAVAILABLE, "SELIC": port.UNAVAILABLE})
    source.failing.update({"IBOV": port.RATE_LIMITED})
    source.empty.update({"IPCA", "IFIX"})  # answered, with nothing in it

    report = run(committed_engine, source)

    assert report.status == JobStatus.FAILED
    assert report.error is not None
    assert report.error.startswith("nothing fetched")
    assert "CDI (unavailable)" in report.error
    assert "IPCA (no values)" in report.error
    assert report.rows_written == 0
    [row] = latest_runs(committed_engine, job_name=benchmarks.BENCHMARKS)
    assert row.status == "failed"


def test_a_value_revised_upstream_is_replaced_and_named(
    committed_engine: Engine, held: None, source: Scripted
) -> None:
    run(committed_engine, source)
    with committed_engine.begin() as conn:
        conn.execute(
            text("DELETE FROM benchmark_values WHERE series = 'CDI' AND date = '2026-10-09'")
        )
    source.change["CDI"] = {date(2026, 10, 13): D("0.044000")}

    report = run(committed_engine, source)

    assert report.status == JobStatus.SUCCESS
    assert report.revised == {"CDI": [date(2026, 10, 13)]}
    assert stored(committed_engine, "CDI")[date(2026, 10, 13)][0] == D("0.044000")
    assert report.rows_written == 2  # the gap and the revision


def test_a_run_meeting_the_lock_taken_is_skipped(
    committed_engine: Engine, held: None, source: Scripted
) -> None:
    with locked(committed_engine) as (got, _conn):
        assert got
        report = run(committed_engine, source)
    assert report.status == JobStatus.SKIPPED
    assert source.calls == []


def test_only_an_admin_may_run_it(
    committed_engine: Engine, source: Scripted, reader: Principal
) -> None:
    with pytest.raises(PermissionDenied):
        run(committed_engine, source, reader)


def test_benchmark_returns_read_what_the_job_stored(
    committed_engine: Engine, held: None, source: Scripted
) -> None:
    run(committed_engine, source)
    start, end = date(2026, 10, 15), date(2026, 11, 13)
    with new_uow(committed_engine) as uow:
        cdi = benchmarks.benchmark_returns(uow, "CDI", start, end)
        ipca = benchmarks.benchmark_returns(uow, "IPCA", date(2026, 9, 1), date(2026, 11, 13))
        ibov = benchmarks.benchmark_returns(uow, "IBOV", start, end)
    rates = {d: demo_rates.daily_rate(d) for d in calendars.sessions(start, end)}
    assert cdi == compound_daily("CDI", rates, start, end)
    assert cdi.complete
    assert cdi.cumulative is not None
    assert D("0.008") < cdi.cumulative < D("0.012")
    # November's IPCA is not published by 27/11: the period says so.
    assert ipca.missing == (date(2026, 11, 1),)
    assert not ipca.complete
    assert ibov.complete
    assert ibov.cumulative is not None


def test_series_catalogue_is_the_documented_one() -> None:
    assert (CDI.code, SELIC.code, IPCA.code) == (12, 11, 433)
    assert (IBOVESPA.symbol, IFIX.symbol) == ("^BVSP", "IFIX.SA")
    assert IPCA.frequency == MONTHLY
