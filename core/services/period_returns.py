"""A client's returns as an advisor reads them: the month, year to date, 12 and 24 months and
since inception, each beside CDI, Ibovespa and IPCA over the same days, with "% do CDI";
and the monthly grid Brazilian statements use (docs/benchmarks.md).

The portfolio side is the stored daily series (:mod:`core.analytics.periods`); the
benchmarks are the stored values (:mod:`core.analytics.benchmarks`), read once per series
for the whole range and compounded per period in memory. A benchmark missing a day is
never filled in: its return says it is incomplete, and "% do CDI" is then undefined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

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
