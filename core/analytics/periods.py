"""The periods an advisor reads a return over, and a portfolio's TWR over each
(docs/benchmarks.md, "Periods").

A period is a range of days [start, end]. The portfolio's return over it chains its stored
cumulative TWR: ``(1 + TWR_end) / (1 + TWR_before) - 1``, where TWR_end is the last stored
day on or before ``end`` and TWR_before the last stored day before ``start`` (the growth
before the first stored day is 1: a portfolio starts at nothing). A portfolio that began
inside the period is measured from its first day: the period is then *partial*, and the
benchmarks beside it are measured over the same shortened period, so both cover the same
days.

The advisor's periods, ending on the latest stored day: the month (from its first day),
the year to date (from 1 January), 12 and 24 months (from the day after the same date one
or two years before) and since inception (from the first stored day). The monthly grid
has each calendar month the series touches and each year's total.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

ONE = Decimal(1)
PERIODS = ("month", "ytd", "12m", "24m", "inception")


@dataclass(frozen=True, slots=True)
class Period:
    """A named range of days; ``start`` is where it was asked to start, ``first`` where the
    portfolio's figures start inside it (later than ``start`` when it is partial)."""

    key: str
    start: date
    first: date
    end: date

    @property
    def partial(self) -> bool:
        """Whether the portfolio began after the period's start."""
        return self.first > self.start


@dataclass(frozen=True, slots=True)
class Growth:
    """A portfolio's stored days and its growth on each (1 + cumulative TWR), oldest first."""

    days: Sequence[date]
    growth: Sequence[Decimal]

    @classmethod
    def of(cls, days: Sequence[date], cumulative_twr: Sequence[Decimal]) -> Growth:
        """From stored days and their cumulative TWR."""
        return cls(list(days), [ONE + Decimal(twr) for twr in cumulative_twr])

    def on_or_before(self, day: date) -> Decimal | None:
        """The growth of the last stored day on or before ``day`` (None before the first)."""
        index = bisect_right(self.days, day)
        return self.growth[index - 1] if index else None

    def before(self, day: date) -> Decimal:
        """The growth of the last stored day before ``day`` (1 before the first)."""
        index = bisect_left(self.days, day)
        return self.growth[index - 1] if index else ONE

    def twr(self, start: date, end: date) -> Decimal | None:
        """The TWR over [start, end]; None when nothing is stored through ``end``."""
        last = self.on_or_before(end)
        if last is None or end < start:
            return None
        return last / self.before(start) - ONE


def _years_before(day: date, years: int) -> date:
    """The same date ``years`` earlier (28 February for a 29th in a non-leap year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def advisor_periods(first: date, end: date) -> list[Period]:
    """The month, year to date, 12 and 24 months and since inception, ending on ``end``,
    for a portfolio whose figures start on ``first``."""
    starts = {
        "month": end.replace(day=1),
        "ytd": date(end.year, 1, 1),
        "12m": _years_before(end, 1) + timedelta(days=1),
        "24m": _years_before(end, 2) + timedelta(days=1),
        "inception": first,
    }
    return [Period(key, start, max(start, first), end) for key, start in starts.items()]


@dataclass(frozen=True, slots=True)
class MonthCell:
    """One month of the grid: its period (partial in the first month) and the TWR."""

    year: int
    month: int
    period: Period
    twr: Decimal


@dataclass(frozen=True, slots=True)
class YearRow:
    """One year of the grid: its months (only those with figures) and its total."""

    year: int
    months: list[MonthCell]
    period: Period
    total: Decimal


def _month_end(month_start: date) -> date:
    return (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def monthly_grid(growth: Growth) -> list[YearRow]:
    """Every calendar month the stored days touch, with its TWR, and each year's total
    (the months chained), oldest year first."""
    if not growth.days:
        return []
    first, last = growth.days[0], growth.days[-1]
    rows: list[YearRow] = []
    for year in range(first.year, last.year + 1):
        cells: list[MonthCell] = []
        for month in range(1, 13):
            start = date(year, month, 1)
            end = min(_month_end(start), last)
            if end < first or start > last:
                continue
            period = Period("month", start, max(start, first), end)
            twr = growth.twr(period.first, end)
            if twr is not None:
                cells.append(MonthCell(year, month, period, twr))
        year_start = date(year, 1, 1)
        year_end = min(date(year, 12, 31), last)
        year_period = Period("year", year_start, max(year_start, first), year_end)
        total = growth.twr(year_period.first, year_end)
        if cells and total is not None:
            rows.append(YearRow(year, cells, year_period, total))
    return rows
