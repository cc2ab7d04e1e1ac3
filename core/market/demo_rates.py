"""Synthetic CDI, Selic and IPCA for the demo (``ANKA_MARKET_DATA=demo``, ``make demo``).

Deterministic functions of the date (the same day always gets the same rate), published
like the SGS series they stand for and stored with source ``demo``:

* CDI (SGS 12): one value per B3 session, percent per day with 6 decimals, from an annual
  rate that drifts between 10 % and 14 % a year over a four-year cycle;
* Selic (SGS 11): the same with the annual rate 0.10 percentage point higher;
* IPCA (SGS 433): one value per month, percent per month with 2 decimals, between about
  0.1 % and 0.7 %, dated on the month's first day and published only once the 15th of the
  next month has passed (IBGE publishes around the 10th).

Nothing after "today" is produced.
"""

from __future__ import annotations

import math
import zlib
from datetime import date
from decimal import Decimal

from core import calendars

SESSIONS_PER_YEAR = 252
CYCLE_DAYS = 4 * 365.25
ORIGIN = date(2015, 1, 1)
SIX = Decimal("0.000001")
TWO = Decimal("0.01")
IPCA_PUBLISHED_DAY = 15  # of the following month


def cdi_annual(day: date, spread: float = 0.0) -> float:
    """The synthetic annual CDI on ``day`` (a ratio, 0.10 to 0.14), plus ``spread``."""
    phase = 2 * math.pi * (day - ORIGIN).days / CYCLE_DAYS
    return 0.12 + 0.02 * math.sin(phase) + spread


def daily_rate(day: date, spread: float = 0.0) -> Decimal:
    """The published form of a daily rate: percent per day with 6 decimals."""
    per_day = (1 + cdi_annual(day, spread)) ** (1 / SESSIONS_PER_YEAR) - 1
    return Decimal(repr(per_day * 100)).quantize(SIX)


def daily_series(start: date, end: date, today: date, spread: float = 0.0) -> dict[date, Decimal]:
    """A value per B3 session in [start, min(end, today)]."""
    return {day: daily_rate(day, spread) for day in calendars.sessions(start, min(end, today))}


def ipca_published(month: date, today: date) -> bool:
    """Whether the month starting on ``month`` is published by ``today``."""
    year, number = (month.year + 1, 1) if month.month == 12 else (month.year, month.month + 1)
    return today >= date(year, number, IPCA_PUBLISHED_DAY)


def ipca_rate(month: date) -> Decimal:
    """The synthetic IPCA of the month starting on ``month``: percent, 2 decimals."""
    seed = zlib.crc32(f"ipca:{month.year}-{month.month}".encode())
    noise = (seed % 21 - 10) / 100  # -0.10 .. +0.10
    seasonal = 0.15 * math.cos(2 * math.pi * (month.month - 2) / 12)
    return Decimal(repr(0.40 + seasonal + noise)).quantize(TWO)


def monthly_series(start: date, end: date, today: date) -> dict[date, Decimal]:
    """A value per month whose first day is in [start, end] and that is published by
    ``today``, keyed by that first day."""
    found: dict[date, Decimal] = {}
    month = date(start.year, start.month, 1)
    if month < start:
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    while month <= end and ipca_published(month, today):
        found[month] = ipca_rate(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return found
