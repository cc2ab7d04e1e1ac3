"""The benchmark job (CDI, Selic, IPCA, Ibovespa, IFIX kept in ``benchmark_values``) and the
benchmark returns read from what it stored (docs/benchmarks.md).

Each run plans, per series, what to ask: the days due (B3 sessions through the last
finished one; for IPCA the months published by now) from where the series starts — the
oldest movement's date (the session before it for an index, whose return needs the close
before a period; the month's first day for IPCA), or its first stored value — that have no
stored value. Usually that is the day after the last stored value; a day missing inside the
stored range (a gap) moves the start back to it, so gaps are asked again, and so does a
movement older than anything stored. The request runs from the first such day through
today. The values are upserted (a repeated value writes nothing, a revised one is replaced
and named).

The run takes the figures lock and is recorded in ``job_runs`` like the close
(:func:`core.services.closing.run_job`). Its outcome, in the close's vocabulary
(docs/jobs.md): **failed** when something was due and no due series sent a single value;
**partial** when it stored values but a series failed (reason per series), days due are
still without a value (counted per series), or rows were rejected (counted, with why);
**success** otherwise, also when nothing was due; **skipped** when the lock was taken.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from core import calendars
from core.analytics.benchmarks import (
    BenchmarkReturn,
    compound_daily,
    compound_monthly,
    index_return,
)
from core.db import UnitOfWork, uow_factory
from core.market import demo_rates
from core.market.benchmarks import (
    BY_NAME,
    LEVEL,
    MONTHLY,
    SERIES,
    BenchmarkSource,
    Series,
    SeriesFetch,
)
from core.models import JobStatus
from core.services.closing import run_job
from core.services.job_runs import RunReport
from core.services.principal import Principal, require_admin

log = logging.getLogger(__name__)

BENCHMARKS = "benchmarks"


@dataclass(frozen=True, slots=True)
class Plan:
    """What one run asks of one series: [start, end], and the days due in it (sessions,
    or months' first days, that should have a value by now)."""

    series: Series
    start: date
    end: date
    due: tuple[date, ...]


def _next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def due_days(series: Series, start: date, today: date) -> list[date]:
    """The days of ``series`` from ``start`` that should be published by ``today``: B3
    sessions through the last finished one (today's value may still be on its way); for
    IPCA the first days of the months published by today (see
    :func:`core.market.demo_rates.ipca_published`)."""
    if series.frequency == MONTHLY:
        months = []
        month = start if start.day == 1 else _next_month(start)
        while demo_rates.ipca_published(month, today):
            months.append(month)
            month = _next_month(month)
        return months
    return calendars.sessions(start, calendars.previous_session(today))


OFFICE_YEARS = 2  # the overview compares the clients with 24 months of benchmarks


def origin(series: Series, first_movement: date, today: date | None = None) -> date:
    """Where a series starts: the oldest movement's date, or the first day of the month
    two years before ``today`` when that is earlier (the overview's 24 months need it
    whatever the clients hold); the session before it for an index, the month's first day
    for a monthly rate."""
    start = first_movement
    if today is not None:
        start = min(start, date(today.year - OFFICE_YEARS, today.month, 1))
    if series.unit == LEVEL:
        return calendars.previous_session(start)
    if series.frequency == MONTHLY:
        return start.replace(day=1)
    return start


def plan(uow: UnitOfWork, today: date, wanted: tuple[Series, ...] = SERIES) -> list[Plan]:
    """What each series needs asked (see the module docstring): its days due from where it
    starts (:func:`origin`, or its first stored value when that is earlier or nothing is
    held) through today that have no stored value; the request runs
    from the first of them to today. A series with nothing due is left out."""
    bounds = uow.benchmarks.bounds()
    first_movement = uow.benchmarks.first_movement_date()
    plans = []
    for series in wanted:
        starts = [bounds[series.name][0]] if series.name in bounds else []
        if first_movement is not None:
            starts.append(origin(series, first_movement, today))
        if not starts:
            continue  # nothing held, nothing stored: nothing to compare with yet
        begin = min(starts)
        stored = uow.benchmarks.dates(series.name, begin, today)
        due = [day for day in due_days(series, begin, today) if day not in stored]
        if due:
            plans.append(Plan(series, due[0], today, tuple(due)))
    return plans


def _store(engine: Engine, plan_: Plan, fetch: SeriesFetch, report: RunReport) -> int:
    """Store one series' values in their own transaction; the due days still missing."""
    name = plan_.series.name
    with UnitOfWork(uow_factory(engine)) as uow:
        written, revised = uow.benchmarks.upsert(name, fetch.values, fetch.source)
        stored = uow.benchmarks.dates(name, plan_.start, plan_.end)
        uow.commit()
    report.rows_written += written
    if revised:
        report.revised[name] = revised
    return sum(1 for day in plan_.due if day not in stored)


def _note_rejected(name: str, fetch: SeriesFetch, report: RunReport) -> None:
    if not fetch.rejected:
        return
    report.dropped[name] = len(fetch.rejected)
    first = fetch.rejected[0]
    report.failed_details[name] = (
        f"{len(fetch.rejected)} row(s) rejected, the first {first.row} ({first.reason})"
    )


def update_benchmarks(
    engine: Engine,
    source: BenchmarkSource,
    today: date,
    *,
    actor: Principal,
    triggered_by: str = "scheduler",
    wanted: tuple[Series, ...] = SERIES,
) -> RunReport:
    """Fetch and store every benchmark series that has days due (admins only, as the
    close): what the run asked, stored and could not get is in the returned report."""
    require_admin(actor)
    with UnitOfWork(uow_factory(engine)) as uow:
        plans = plan(uow, today, wanted)

    def body(report: RunReport, _uow: UnitOfWork) -> None:
        fetched_any = False
        for item in plans:
            name = item.series.name
            fetch = source.fetch(item.series, item.start, item.end)
            if fetch.failed is not None:
                report.failed[name] = fetch.failed
                if fetch.detail:
                    report.failed_details[name] = fetch.detail
                log.warning("benchmark %s failed: %s (%s)", name, fetch.failed, fetch.detail)
                continue
            _note_rejected(name, fetch, report)
            fetched_any = fetched_any or bool(fetch.values)
            left = _store(engine, item, fetch, report)
            if left:
                report.missing[name] = left
        report.tickers_ok = len(plans) - len(report.failed)
        if plans and not fetched_any:
            names = ", ".join(
                f"{p.series.name} ({report.failed.get(p.series.name, 'no values')})" for p in plans
            )
            report.status = JobStatus.FAILED
            report.error = f"nothing fetched: every series due sent no value: {names}"

    return run_job(
        engine,
        BENCHMARKS,
        body,
        target_from=min((p.start for p in plans), default=None),
        target_to=today,
        triggered_by=triggered_by,
    )


def values_from(series: str, start: date) -> date:
    """The first stored day ``series``' return from ``start`` needs: the session before
    for an index (its base close), the month's first day for a monthly rate."""
    kind = BY_NAME[series]
    if kind.unit == LEVEL:
        return calendars.previous_session(start)
    if kind.frequency == MONTHLY:
        return start.replace(day=1)
    return start


def benchmark_over(
    series: str, values: Mapping[date, Decimal], start: date, end: date
) -> BenchmarkReturn:
    """``series``' return over [start, end] from its stored ``values`` (reaching back to
    :func:`values_from`), compounded as its kind requires."""
    kind = BY_NAME[series]
    if kind.unit == LEVEL:
        return index_return(series, values, start, end)
    if kind.frequency == MONTHLY:
        return compound_monthly(series, values, start, end)
    return compound_daily(series, values, start, end)


def benchmark_returns(uow: UnitOfWork, series: str, start: date, end: date) -> BenchmarkReturn:
    """The cumulative return of ``series`` (``CDI``, ``SELIC``, ``IPCA``, ``IBOV``,
    ``IFIX``) over [start, end] from the stored values, and whether it is complete (the
    sessions or months without a value are listed): what a portfolio's return of the same
    period is compared with."""
    values = uow.benchmarks.values(series, values_from(series, start), end)
    return benchmark_over(series, values, start, end)
