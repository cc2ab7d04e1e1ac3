"""The office's returns at a glance, for the overview: over the month, the year to date, 12
and 24 months to the latest close, the benchmarks' returns and how the clients did beside
them — the median client's TWR and how many clients beat the CDI.

A client counts over a period only when its figures cover the whole period (a client that
began inside it is left out of the median and the count, and the number left out is shown):
a three-day-old portfolio "beating" a year of CDI says nothing. Each client's TWR comes from
its stored cumulative TWR on the latest day and on the session before the period
(:meth:`core.repositories.figures_read.FiguresReadRepository.period_twrs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from statistics import median

from core import calendars
from core.analytics.benchmarks import BenchmarkReturn
from core.analytics.periods import Period, advisor_periods
from core.db import UnitOfWork
from core.services.benchmarks import benchmark_returns

SHOWN = ("CDI", "IBOV", "IPCA")
OFFICE_PERIODS = ("month", "ytd", "12m", "24m")


@dataclass(frozen=True, slots=True)
class OfficePeriod:
    """One period: the benchmarks' returns, the clients whose figures cover it, their
    median TWR, how many beat the CDI (None when the CDI is incomplete), how many were left
    out for starting inside it."""

    period: Period
    benchmarks: dict[str, BenchmarkReturn]
    clients: int
    median_twr: Decimal | None
    beat_cdi: int | None
    younger: int


@dataclass(frozen=True, slots=True)
class OfficeReturns:
    """The overview's returns as of the latest stored close (None before any figures)."""

    as_of: date | None
    periods: list[OfficePeriod] = field(default_factory=list)


def _period(uow: UnitOfWork, period: Period) -> OfficePeriod:
    found = {name: benchmark_returns(uow, name, period.start, period.end) for name in SHOWN}
    rows = uow.figures_read.period_twrs(period.end, calendars.previous_session(period.start))
    covered = [twr for _client, twr, partial in rows if not partial]
    cdi = found["CDI"]
    beat = sum(1 for twr in covered if twr > (cdi.cumulative or 0)) if cdi.complete else None
    return OfficePeriod(
        period,
        found,
        len(covered),
        median(covered) if covered else None,
        beat,
        len(rows) - len(covered),
    )


def office_returns(uow: UnitOfWork) -> OfficeReturns:
    """The benchmarks and the clients over the month, year, 12 and 24 months to the latest
    stored close."""
    with uow:
        latest = uow.figures_read.latest_close()
        if latest is None:
            return OfficeReturns(None)
        periods = [p for p in advisor_periods(latest, latest) if p.key in OFFICE_PERIODS]
        # advisor_periods measures a portfolio from its first day; the office's periods are
        # the whole ranges (each client's coverage is decided per client above)
        whole = [Period(p.key, p.start, p.start, p.end) for p in periods]
        return OfficeReturns(latest, [_period(uow, p) for p in whole])
