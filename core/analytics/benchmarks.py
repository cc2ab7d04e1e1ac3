"""A benchmark's cumulative return over a period, from its stored values (docs/benchmarks.md).

* A daily rate (CDI, Selic, percent per day) compounds over the B3 sessions of the period:
  ``prod(1 + rate_d / 100) - 1``; a session without a value is listed as missing.
* An index (Ibovespa, IFIX) is ``close_end / close_before_start - 1``: the close of the
  period's last session over the close of the session before its first day.
* A monthly rate (IPCA, percent per month) compounds month by month, each month raised to
  the fraction of its B3 sessions that fall inside the period (pro rata by business days:
  a whole month counts 1, the 5 sessions of a 20-session month count 5/20).

Nothing is interpolated. The result says whether it is complete; when it is not, the
cumulative return is over the values present and is not the benchmark's return of the
period ("% do CDI" refuses it, see :func:`percent_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from core import calendars

ONE = Decimal(1)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class BenchmarkReturn:
    """A benchmark's cumulative return over [start, end] (a ratio: 0.0123 is 1.23 %), None
    when nothing could be computed; ``missing`` lists the sessions (for IPCA, the months'
    first days) without a value, and ``complete`` is True only when none is missing."""

    series: str
    start: date
    end: date
    cumulative: Decimal | None
    missing: tuple[date, ...]

    @property
    def complete(self) -> bool:
        """Whether every value the period needs is stored."""
        return not self.missing and self.cumulative is not None


def compound_daily(
    series: str, values: Mapping[date, Decimal], start: date, end: date
) -> BenchmarkReturn:
    """A daily rate compounded over the B3 sessions in [start, end]."""
    factor = ONE
    missing: list[date] = []
    for day in calendars.sessions(start, end):
        rate = values.get(day)
        if rate is None:
            missing.append(day)
        else:
            factor *= ONE + rate / HUNDRED
    return BenchmarkReturn(series, start, end, factor - ONE, tuple(missing))


def index_return(
    series: str, closes: Mapping[date, Decimal], start: date, end: date
) -> BenchmarkReturn:
    """An index's return from the close before ``start`` to the last close through
    ``end``; missing sessions (the base one included) are listed."""
    base_day = calendars.previous_session(start)
    days = [base_day, *calendars.sessions(start, end)]
    missing = tuple(day for day in days if day not in closes)
    base = closes.get(base_day)
    present = [day for day in days[1:] if day in closes]
    if base is None or not present:
        return BenchmarkReturn(series, start, end, None, missing)
    return BenchmarkReturn(series, start, end, closes[present[-1]] / base - ONE, missing)


def _months(start: date, end: date) -> list[date]:
    month = date(start.year, start.month, 1)
    found = []
    while month <= end:
        found.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return found


def month_fraction(month: date, start: date, end: date) -> tuple[int, int]:
    """How many of the B3 sessions of ``month`` fall in [start, end], and how many it has."""
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    sessions = calendars.sessions(month, last)
    inside = sum(1 for day in sessions if start <= day <= end)
    return inside, len(sessions)


def compound_monthly(
    series: str, values: Mapping[date, Decimal], start: date, end: date
) -> BenchmarkReturn:
    """A monthly rate (keyed by the month's first day) compounded over [start, end], a
    partly covered month pro rata by its B3 sessions."""
    factor = ONE
    missing: list[date] = []
    for month in _months(start, end):
        inside, total = month_fraction(month, start, end)
        if not inside:
            continue
        rate = values.get(month)
        if rate is None:
            missing.append(month)
            continue
        growth = ONE + rate / HUNDRED
        factor *= growth if inside == total else growth ** (Decimal(inside) / Decimal(total))
    return BenchmarkReturn(series, start, end, factor - ONE, tuple(missing))


def percent_of(twr: Decimal, benchmark: BenchmarkReturn) -> Decimal | None:
    """ "% do CDI" (as a ratio: 1.10 is 110 %): the portfolio's TWR of the period over the
    benchmark's cumulative return of the same period; None when the benchmark is
    incomplete or its return is 0 (undefined)."""
    if not benchmark.complete or not benchmark.cumulative:
        return None
    return twr / benchmark.cumulative
