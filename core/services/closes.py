"""Closes for the scheduler's runs: fetching them, checking each ticker on its own, and
telling what is missing, revised, or never priced.

A ticker is checked on its own: a close that ``prices.close`` cannot hold (zero, negative,
beyond 10^12, not finite) fails that ticker with ``invalid_value`` and its detail, never the
batch. Every trading day of a ticker's own market in the run's range that is left without a
close is counted (``RunReport.missing``), and so is every close the source sent empty
(``RunReport.dropped``). A run that asked for closes and got none from any ticker whose
market traded priced nothing: :func:`priced_nothing` says so, and the run fails without
writing figures (see docs/jobs.md).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from core import calendars
from core.analytics import fx
from core.db import UnitOfWork
from core.limits import price_fits
from core.market import port
from core.market.port import AssetEvent, MarketData
from core.repositories.ledger import HeldAsset
from core.services.job_runs import RunReport

Closes = dict[tuple[int, date], Decimal]
ZERO = Decimal(0)


EventRow = tuple[int, str, date, Decimal, Decimal, str]
"""An asset event as stored: asset_id, kind, ex_date, ratio, value, source."""


def fetch(
    market: MarketData,
    held: Sequence[HeldAsset],
    start: date,
    end: date,
    report: RunReport,
    events: list[EventRow] | None = None,
) -> Closes:
    """Closes (as traded) of the held tickers in [start, end], one batched request set;
    each ticker's failure, its detail and its dropped closes go into ``report``, and its
    splits and dividends into ``events`` (when given) as rows to store."""
    if not held:
        return {}
    by_symbol = {h.symbol: h.asset_id for h in held}
    batch = market.history(sorted(by_symbol), start, end)
    closes: Closes = {}
    for symbol, series in batch.closes.items():
        asset_id = by_symbol.get(symbol)
        if asset_id is None:
            continue
        inside = {day: price for day, price in series.items() if start <= day <= end}
        bad = sorted((day, price) for day, price in inside.items() if not price_fits(price))
        if bad:
            day, price = bad[0]
            report.failed[symbol] = port.INVALID
            report.failed_details[symbol] = (
                f"{len(bad)} close(s) outside what prices can hold, the first {price:.6g}"
                f" on {day.isoformat()}"
            )
            continue
        closes.update(((asset_id, day), price) for day, price in inside.items())
        if events is not None:
            source = "yahoo" if market.name == "yahoo" else "demo"
            events.extend(_event_rows(asset_id, batch.events.get(symbol, []), source))
    report.failed.update({s: r for s, r in batch.failed.items() if s in by_symbol})
    report.failed_details.update({s: d for s, d in batch.details.items() if s in by_symbol})
    report.dropped.update({s: n for s, n in batch.dropped.items() if n and s in by_symbol})
    return closes


def _event_rows(asset_id: int, found: Sequence[AssetEvent], source: str) -> list[EventRow]:
    """The storable rows of a ticker's events: a split with a ratio other than 1, a
    dividend with a positive amount (stored as a dividend; an admin may retype it as JCP)."""
    rows: list[EventRow] = []
    for event in found:
        if event.kind == "split" and event.ratio and event.ratio > 0 and event.ratio != 1:
            rows.append((asset_id, "split", event.ex_date, event.ratio, ZERO, source))
        elif event.kind == "dividend" and event.amount and event.amount > 0:
            rows.append((asset_id, "dividend", event.ex_date, ZERO, event.amount, source))
    return rows


def store_events(uow: UnitOfWork, rows: list[EventRow], report: RunReport) -> date | None:
    """Store the fetched events in their own transaction, before the book is read, so the
    figures computed next apply them; the new or changed ones are counted in
    ``report.events``. Returns the earliest ex-date among those (figures are recomputed
    from there), None when nothing changed."""
    if not rows:
        return None
    with uow.transaction():
        changed = uow.ledger.store_events(rows)
    for kind, _day in changed:
        report.events[kind] = report.events.get(kind, 0) + 1
    return min((day for _kind, day in changed), default=None)


def with_rates(uow: UnitOfWork, held: Sequence[HeldAsset]) -> list[HeldAsset]:
    """``held`` plus the exchange-rate series its currencies need, from the first day any
    asset in that currency was held (the rate rows are created on first use; the caller
    commits, unless its session is in autocommit like a job's)."""
    firsts: dict[str, date] = {}
    for asset in held:
        pair = fx.pair_for(asset.currency)
        if pair is not None:
            firsts[pair.symbol] = min(asset.first_buy, firsts.get(pair.symbol, asset.first_buy))
    ids = uow.prices.ensure_rate_assets(sorted(firsts))
    mine = {asset.symbol for asset in held}
    extra = [
        HeldAsset(ids[symbol], symbol, first, fx.BASE)
        for symbol, first in sorted(firsts.items())
        if symbol not in mine
    ]
    return [*held, *extra]


class Sessions:
    """Each market's trading days in [start, end], computed once per calendar: a run asks
    them for every held ticker."""

    def __init__(self, start: date, end: date) -> None:
        self.start, self.end = start, end
        self._by_calendar: dict[str, list[date]] = {}

    def of(self, asset: HeldAsset) -> list[date]:
        """The trading days of ``asset``'s market in the range since it was first held."""
        name = calendars.calendar_name_for(asset.symbol)
        days = self._by_calendar.get(name)
        if days is None:
            days = self._by_calendar[name] = calendars.sessions(self.start, self.end, name)
        return days[bisect.bisect_left(days, asset.first_buy) :]


def expected(held: Sequence[HeldAsset], sessions: Sessions) -> list[HeldAsset]:
    """The held tickers whose market traded on some day of the range since first held: the
    ones a run must price (a US ticker on a US holiday has nothing to price)."""
    return [asset for asset in held if sessions.of(asset)]


def priced_nothing(wanted: Sequence[HeldAsset], closes: Closes, report: RunReport) -> str | None:
    """Why the run failed when none of the tickers it had to price got a close, else None.

    ``wanted`` are the tickers whose market traded (see :func:`expected`); ``closes`` every
    close the run has for them in its range (fetched, or already stored for a day it
    re-asks)."""
    if not wanted:
        return None
    priced = {asset_id for asset_id, _day in closes}
    if any(asset.asset_id in priced for asset in wanted):
        return None
    reasons: dict[str, int] = {}
    for asset in wanted:
        reason = report.failed.setdefault(asset.symbol, port.NO_DATA)
        reasons[reason] = reasons.get(reason, 0) + 1
    summary = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
    return f"no ticker priced: all {len(wanted)} failed ({summary}); no figures written"


def count_missing(
    uow: UnitOfWork,
    held: Sequence[HeldAsset],
    closes: Closes,
    sessions: Sessions,
    report: RunReport,
) -> None:
    """Count, per ticker that did not fail outright, its market's trading days in the range
    with no close fetched nor stored (``report.missing``)."""
    have: dict[int, set[date]] = {}
    for asset_id, day in closes:
        have.setdefault(asset_id, set()).add(day)
    gaps = {
        asset: [day for day in sessions.of(asset) if day not in have.get(asset.asset_id, ())]
        for asset in held
        if asset.symbol not in report.failed
    }
    gaps = {asset: days for asset, days in gaps.items() if days}
    if not gaps:
        return
    stored = uow.prices.dates_since([a.asset_id for a in gaps], sessions.start)
    for asset, days in gaps.items():
        left = [day for day in days if day not in stored.get(asset.asset_id, set())]
        if left:
            report.missing[asset.symbol] = len(left)


def revisions(
    fetched: Closes,
    stored: dict[tuple[int, date], Decimal],
    symbols: dict[int, str],
    report: RunReport,
) -> Closes:
    """The fetched closes worth writing: new ones, and stored ones whose value changed
    upstream (each revision noted in ``report.revised``); an unchanged repeat is left out."""
    keep: Closes = {}
    for key, price in fetched.items():
        before = stored.get(key)
        if before is None:
            keep[key] = price
        elif before != price:
            keep[key] = price
            report.revised.setdefault(symbols[key[0]], []).append(key[1])
    return keep


def missing_on(held: Sequence[HeldAsset], closes: Closes, day: date) -> dict[str, str]:
    """Held tickers whose market traded on ``day`` but for which no close is known."""
    return {
        h.symbol: port.NO_DATA
        for h in held
        if calendars.is_session(day, calendars.calendar_name_for(h.symbol))
        and (h.asset_id, day) not in closes
        and h.first_buy <= day
    }


def missing_closes(
    held: Sequence[HeldAsset], existing: dict[int, set[date]], through: date
) -> dict[str, list[date]]:
    """Trading days (on each ticker's own market) since it was first held with no close."""
    missing: dict[str, list[date]] = {}
    for asset in held:
        expected_days = calendars.sessions(
            asset.first_buy, through, calendars.calendar_name_for(asset.symbol)
        )
        gaps = [d for d in expected_days if d not in existing.get(asset.asset_id, set())]
        if gaps:
            missing[asset.symbol] = gaps
    return missing
