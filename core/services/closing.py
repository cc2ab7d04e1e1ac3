"""The scheduler's jobs: daily close, backfill, gap repair (and the live-quote refresh).

Each run takes the figures advisory lock (a second scheduler or a manual run at the same
time is skipped, never double-writes), records itself in ``job_runs``, fetches closes for
every held ticker in batches (:mod:`core.services.closes`), and writes each date's closes
and every client's daily return in one transaction — all or nothing, idempotent (a rerun
replaces the same rows; :mod:`core.services.recompute`). The daily close is one date; a
backfill commits up to 20 dates per transaction, never splitting one. The run's last date
also gets every client's metrics (value, invested, return, TWR, IRR). A run uses one
connection, the lock's: its record, its session and its write transactions.

Where stored figures start is decided per client: the day after its last stored daily
return, or its first buy date; changing a lot deletes the figures from its buy date on
(see :mod:`core.services.allocations`), so the next run recomputes exactly what changed.
A ticker that failed is reported and retried by the next run's gap repair; its last close
is carried meanwhile, and good data is never overwritten by a failure.

How a run ends (docs/jobs.md): **failed** when it raised, or when none of the tickers it
had to price (those whose market traded) got a close — then nothing is written;
**partial** when it wrote figures but something is missing (a ticker failed, a trading
day has no close, a client's figures could not be stored), all named in the run;
**success** otherwise; **skipped** when the lock was taken or the day is no B3 session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from core import calendars
from core.db import UnitOfWork, uow_factory
from core.market.port import MarketData
from core.models import JobStatus
from core.services import closes
from core.services.closes import Closes, Sessions
from core.services.job_runs import (
    LOCK_TAKEN,
    RunReport,
    fail_abandoned_runs,
    lock_of,
    locked,
    record_outcome,
    start_run,
)
from core.services.principal import Principal, require_admin
from core.services.recompute import Progress, recompute

log = logging.getLogger(__name__)

DAILY_CLOSE = "daily-close"
BACKFILL = "backfill"
GAP_REPAIR = "gap-repair"
RECENT_DAYS = 7  # the daily close also re-asks the last week, to catch late and revised closes


def _noop(_done: int, _total: int) -> None:
    return None


def _fail(report: RunReport, reason: str) -> None:
    report.status = JobStatus.FAILED
    report.error = reason


def run_job(
    engine: Engine,
    job_name: str,
    body: Callable[[RunReport, UnitOfWork], None],
    *,
    target_from: date | None,
    target_to: date | None,
    triggered_by: str,
) -> RunReport:
    """Run ``body`` under its job's lock (the figures lock unless the job has its own,
    :func:`~core.services.job_runs.lock_of`), recorded in job_runs; never raises.

    ``body`` gets the report to fill in and a unit of work on the lock's own connection,
    in autocommit: each read sees the latest committed data, as in a READ COMMITTED
    transaction, without BEGIN and COMMIT round trips or another connection; writes go in
    transaction blocks on it (:meth:`core.db.UnitOfWork.transaction`).
    """
    report = RunReport(job_name=job_name, target_from=target_from, target_to=target_to)
    with locked(engine, lock_of(job_name)) as (got, conn):
        start_run(conn, report, triggered_by)
        if not got:
            report.status = JobStatus.SKIPPED
            report.error = LOCK_TAKEN
        else:
            try:
                fail_abandoned_runs(conn, report)
                factory = sessionmaker(bind=conn, autoflush=False, expire_on_commit=False)
                with UnitOfWork(factory) as uow:
                    body(report, uow)
                if report.status == JobStatus.RUNNING:
                    report.status = JobStatus.PARTIAL if report.incomplete else JobStatus.SUCCESS
            except Exception as exc:  # recorded, not raised: the scheduler keeps going
                log.exception("%s failed", job_name)
                report.status = JobStatus.FAILED
                report.error = f"{type(exc).__name__}: {exc}"[:2000]
        record_outcome(engine, conn, report)
    return report


# -- the jobs -----------------------------------------------------------------------------
def daily_close(
    engine: Engine,
    market: MarketData,
    day: date,
    *,
    actor: Principal,
    triggered_by: str = "scheduler",
) -> RunReport:
    """Closes of ``day`` for every held ticker, then every affected client's figures.

    Only an admin (or :data:`~core.services.principal.SYSTEM`) may run it: anyone else gets
    :class:`~core.errors.PermissionDenied` before anything is fetched or recorded."""
    require_admin(actor)

    def body(report: RunReport, uow: UnitOfWork) -> None:
        if not calendars.is_session(day):
            report.status = JobStatus.SKIPPED
            report.error = f"{day.isoformat()} is not a B3 trading day"
            return
        week_start = day - timedelta(days=RECENT_DAYS)
        held = closes.with_rates(uow, uow.ledger.held_assets())
        stored = uow.prices.closes_since([h.asset_id for h in held], week_start)
        events: list[closes.EventRow] = []
        fetched = closes.fetch(market, held, week_start, day, report, events)
        on_day = {key: price for key, price in {**stored, **fetched}.items() if key[1] == day}
        wanted = closes.expected(held, Sessions(day, day))
        failure = closes.priced_nothing(wanted, on_day, report)
        if failure:
            _fail(report, failure)
            return
        # Earlier days matter when a close arrived that we did not have (late data) or
        # changed upstream (revised): figures are recomputed from the earliest such day.
        symbols = {h.asset_id: h.symbol for h in held}
        fetched = closes.revisions(fetched, stored, symbols, report) | {
            key: price for key, price in fetched.items() if key[1] == day
        }
        for symbol, reason in closes.missing_on(held, on_day, day).items():
            report.failed.setdefault(symbol, reason)
        report.tickers_ok = len(held) - len(report.failed)
        since = closes.store_events(uow, events, report)
        recompute(uow, report, through=day, fetched=fetched, since=since)

    return run_job(
        engine, DAILY_CLOSE, body, target_from=day, target_to=day, triggered_by=triggered_by
    )


def backfill(
    engine: Engine,
    market: MarketData,
    start: date,
    end: date,
    *,
    actor: Principal,
    triggered_by: str = "cli",
    progress: Progress = _noop,
) -> RunReport:
    """Fetch closes for [start, end] and recompute every client's figures from ``start``
    (admins only, as :func:`daily_close`)."""
    require_admin(actor)

    def body(report: RunReport, uow: UnitOfWork) -> None:
        held = closes.with_rates(uow, uow.ledger.held_assets())
        events: list[closes.EventRow] = []
        fetched = closes.fetch(market, held, start, end, report, events)
        sessions = Sessions(start, end)
        failure = closes.priced_nothing(closes.expected(held, sessions), fetched, report)
        if failure:
            _fail(report, failure)
            return
        closes.count_missing(uow, held, fetched, sessions, report)
        report.tickers_ok = len(held) - len(report.failed)
        closes.store_events(uow, events, report)
        recompute(uow, report, through=end, fetched=fetched, since=start, progress=progress)

    return run_job(
        engine, BACKFILL, body, target_from=start, target_to=end, triggered_by=triggered_by
    )


def repair_gaps(
    engine: Engine,
    market: MarketData,
    through: date,
    *,
    actor: Principal,
    triggered_by: str = "scheduler",
) -> RunReport:
    """Backfill closes missing since each lot's buy date, and any figures not yet stored
    (admins only, as :func:`daily_close`)."""
    require_admin(actor)

    def body(report: RunReport, uow: UnitOfWork) -> None:
        held = closes.with_rates(uow, uow.ledger.held_assets())
        first = min((h.first_buy for h in held), default=through)
        existing = uow.prices.dates_since([h.asset_id for h in held], first)
        gaps = closes.missing_closes(held, existing, through)
        fetched: Closes = {}
        events: list[closes.EventRow] = []
        if gaps:
            wanted = [h for h in held if h.symbol in gaps]
            start = min(min(days) for days in gaps.values())
            fetched = closes.fetch(market, wanted, start, through, report, events)
            failure = closes.priced_nothing(wanted, fetched, report)
            if failure:
                _fail(report, failure)
                return
            closes.count_missing(uow, wanted, fetched, Sessions(start, through), report)
            known = {(a, d) for a, days in existing.items() for d in days}
            fetched = {k: v for k, v in fetched.items() if k not in known}
        report.tickers_ok = len(held) - len(report.failed)
        since = closes.store_events(uow, events, report)
        recompute(uow, report, through=through, fetched=fetched, since=since)

    return run_job(
        engine, GAP_REPAIR, body, target_from=None, target_to=through, triggered_by=triggered_by
    )


def held_symbols(engine: Engine, *, actor: Principal) -> list[str]:
    """Tickers somebody holds, and the exchange rates they need (what the live poller asks
    quotes for). It creates the rate series' asset rows on first use: a write, so admins
    only (the scheduler passes :data:`~core.services.principal.SYSTEM`)."""
    require_admin(actor)
    with UnitOfWork(uow_factory(engine)) as uow:
        held = closes.with_rates(uow, uow.ledger.held_assets())
        uow.commit()
        return [h.symbol for h in held]
