"""A client's returns as an advisor reads them: the month, year to date, 12 and 24 months and
since inception, each beside CDI, Ibovespa and IPCA over the same days, with "% do CDI";
and the monthly grid Brazilian statements use (docs/benchmarks.md).

The portfolio side is the stored daily series (:mod:`core.analytics.periods`); the
benchmarks are the stored values (:mod:`core.analytics.benchmarks`), read once per series
for the whole range and compounded per period in memory. A benchmark missing a day is
never filled in: its return says it is incomplete, and "% do CDI" is then undefined.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from core import calendars
from core.analytics.benchmarks import BenchmarkReturn, percent_of
from core.analytics.periods import Growth, Period, advisor_periods, monthly_grid
from core.db import UnitOfWork
from core.services.benchmarks import benchmark_over, values_from

SHOWN = ("CDI", "IBOV", "IPCA")  # what every return is shown beside


@dataclass(frozen=True, slots=True)
class Compared:
    """A portfolio's TWR over a period beside each benchmark's, and its "% do CDI" (None
    when the CDI's return is incomplete or zero)."""

    period: Period
    twr: Decimal | None
    benchmarks: dict[str, BenchmarkReturn]
    percent_of_cdi: Decimal | None


@dataclass(frozen=True, slots=True)
class GridYear:
    """One year of the monthly grid: each month with figures, and the year's total."""

    year: int
    months: dict[int, Compared]
    total: Compared


@dataclass(frozen=True, slots=True)
class ClientReturns:
    """What the client page and the statement show: ``as_of`` the latest stored day (None
    before the first figures), the advisor's periods, and the monthly grid."""

    as_of: date | None
    periods: list[Compared] = field(default_factory=list)
    grid: list[GridYear] = field(default_factory=list)


class _Benchmarks:
    """The stored values of the shown benchmarks from one day on, read once."""

    def __init__(self, uow: UnitOfWork, start: date, end: date) -> None:
        self.values = {
            name: uow.benchmarks.values(name, values_from(name, start), end) for name in SHOWN
        }

    def compare(self, period: Period, twr: Decimal | None) -> Compared:
        found = {
            name: benchmark_over(name, self.values[name], period.first, period.end)
            for name in SHOWN
        }
        ratio = None if twr is None else percent_of(twr, found["CDI"])
        return Compared(period, twr, found, ratio)


def compare_growth(uow: UnitOfWork, growth: Growth) -> ClientReturns:
    """The periods and the grid of a stored series (``growth``), beside the benchmarks."""
    if not growth.days:
        return ClientReturns(None)
    first, end = growth.days[0], growth.days[-1]
    periods = advisor_periods(first, end)
    benchmarks = _Benchmarks(uow, min(p.first for p in periods), end)
    compared = [benchmarks.compare(p, growth.twr(p.first, p.end)) for p in periods]
    grid = [
        GridYear(
            row.year,
            {cell.month: benchmarks.compare(cell.period, cell.twr) for cell in row.months},
            benchmarks.compare(row.period, row.total),
        )
        for row in monthly_grid(growth)
    ]
    return ClientReturns(end, compared, grid)


def client_returns(uow: UnitOfWork, client_id: int) -> ClientReturns:
    """The client's returns over the advisor's periods and month by month, each beside
    CDI, Ibovespa and IPCA (empty before the client's first stored figures)."""
    with uow:
        rows = uow.figures_read.daily_series(client_id)
        growth = Growth.of([r.date for r in rows], [r.cumulative_twr for r in rows])
        return compare_growth(uow, growth)


def benchmark_curves(uow: UnitOfWork, days: list[date]) -> dict[str, list[float | None]]:
    """Each shown benchmark's cumulative return from the first of ``days`` (the client's
    stored days, oldest first) to each day, for the TWR chart: CDI compounded over the
    sessions (None from the first session without a rate on: the rest is unknown, not
    guessed), the Ibovespa over its close before the first day (None on a day without a
    close), IPCA month by month, a month in progress pro rata by its sessions (None from
    the first month not published on)."""
    if not days:
        return {}
    first, last = days[0], days[-1]
    values = {name: uow.benchmarks.values(name, values_from(name, first), last) for name in SHOWN}
    return {
        "CDI": _daily_curve(values["CDI"], days),
        "IBOV": _index_curve(values["IBOV"], days),
        "IPCA": _monthly_curve(values["IPCA"], days),
    }


def client_benchmark_curves(uow: UnitOfWork, days: list[date]) -> dict[str, list[float | None]]:
    """:func:`benchmark_curves` in a unit of work of its own (for a page)."""
    with uow:
        return benchmark_curves(uow, days)


def benchmarks_version(uow: UnitOfWork) -> tuple[int, str]:
    """The stored benchmarks' version: it changes with every value added or revised."""
    with uow:
        return uow.benchmarks.version()


def _daily_curve(rates: Mapping[date, Decimal], days: list[date]) -> list[float | None]:
    curve: list[float | None] = []
    growth: float | None = 1.0
    sessions = iter(calendars.sessions(days[0], days[-1]))
    session = next(sessions, None)
    for day in days:
        while session is not None and session <= day:
            rate = rates.get(session)
            growth = None if growth is None or rate is None else growth * (1 + float(rate) / 100)
            session = next(sessions, None)
        curve.append(None if growth is None else growth - 1)
    return curve


def _index_curve(closes: Mapping[date, Decimal], days: list[date]) -> list[float | None]:
    base = closes.get(calendars.previous_session(days[0]))
    if base is None:
        return [None] * len(days)
    return [None if (c := closes.get(day)) is None else float(c / base) - 1 for day in days]


def _monthly_curve(rates: Mapping[date, Decimal], days: list[date]) -> list[float | None]:
    first = days[0]
    curve: list[float | None] = []
    done = 1.0  # the months before the current one, compounded
    month: date | None = None
    month_sessions: list[date] = []
    rate: Decimal | None = None
    for day in days:
        start = day.replace(day=1)
        if start != month:
            if month is not None and rate is not None:
                done *= _month_part(rate, month_sessions, first, month_sessions[-1])
            elif month is not None:
                done = float("nan")  # a month not published: unknown from here on
            month, rate = start, rates.get(start)
            month_sessions = calendars.sessions(
                start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            )
        if rate is None or done != done:
            curve.append(None)
        else:
            curve.append(done * _month_part(rate, month_sessions, first, day) - 1)
    return curve


def _month_part(rate: Decimal, sessions: list[date], first: date, day: date) -> float:
    """A month's IPCA factor for its sessions from ``first`` to ``day`` (pro rata by
    sessions, as :func:`core.analytics.benchmarks.compound_monthly`)."""
    inside = sum(1 for session in sessions if first <= session <= day)
    return float(1 + rate / 100) ** (inside / len(sessions)) if sessions else 1.0
