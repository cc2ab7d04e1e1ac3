"""Exchange calendars (from ``exchange_calendars``): B3 sessions for the scheduler, and the
calendar of each ticker's own market for finding closes that are really missing.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

import exchange_calendars as xc
import pandas as pd

B3 = "BVMF"
NYSE = "XNYS"
ALWAYS = "24/7"
WEEKDAYS = "24/5"
EARLIEST = "2000-01-01"


@lru_cache(maxsize=8)
def _calendar(name: str) -> xc.ExchangeCalendar:
    return xc.get_calendar(name, start=EARLIEST)


def calendar_name_for(symbol: str) -> str:
    """The calendar a ticker trades on: B3 for ``.SA``, every day for crypto, weekdays for
    currencies, NYSE otherwise (our advisors' US tickers)."""
    if symbol.endswith(".SA"):
        return B3
    if symbol.endswith("-USD") or symbol.endswith("-BRL"):
        return ALWAYS
    if symbol.endswith("=X"):
        return WEEKDAYS
    return NYSE


def sessions(start: date, end: date, calendar: str = B3) -> list[date]:
    """Trading days in [start, end] (inclusive) on ``calendar``."""
    if end < start:
        return []
    cal = _calendar(calendar)
    first = max(pd.Timestamp(start), cal.first_session)
    last = min(pd.Timestamp(end), cal.last_session)
    if last < first:
        return []
    return [ts.date() for ts in cal.sessions_in_range(first, last)]


@lru_cache(maxsize=8192)
def is_session(day: date, calendar: str = B3) -> bool:
    """True when ``calendar`` trades on ``day`` (remembered: a job asks it for every held
    ticker, and calendars do not change while the process runs)."""
    return bool(_calendar(calendar).is_session(pd.Timestamp(day)))


def previous_session(day: date, calendar: str = B3) -> date:
    """The last trading day strictly before ``day``."""
    cal = _calendar(calendar)
    moment = pd.Timestamp(day)
    if cal.is_session(moment):
        return cal.previous_session(moment).date()
    return cal.date_to_session(moment, direction="previous").date()


def is_open_at(moment: datetime, calendar: str = B3) -> bool:
    """True while ``calendar``'s regular session is open at ``moment`` (timezone-aware)."""
    return bool(_calendar(calendar).is_open_on_minute(pd.Timestamp(moment), ignore_breaks=True))
