"""Job bookkeeping: one run at a time per job family (PostgreSQL advisory lock), and a row in
``job_runs`` for every run with its outcome and counts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Engine, func, insert, text, update
from sqlalchemy.exc import SQLAlchemyError

from core.db import UnitOfWork, uow_factory
from core.models import JobRun, JobStatus
from core.repositories.locks import lock_key

log = logging.getLogger(__name__)

# Jobs that write prices and figures share one lock: they must never interleave.
FIGURES_LOCK = "anka:figures"
# The error of a run skipped because another run held the figures lock.
LOCK_TAKEN = "another run holds the lock"
# Held for as long as a scheduler is the one that polls live quotes.
LIVE_QUOTES_LOCK = "anka:live-quotes"
# The statements job only reads figures: it has its own lock, so a close or a backfill
# and the month's statements never wait for each other.
STATEMENTS = "statements"
STATEMENTS_LOCK = "anka:statements"
# The jobs that run under a lock of their own; every other job takes the figures lock.
OWN_LOCKS = {STATEMENTS: STATEMENTS_LOCK}


# What a job's ok and failed counts count: the closes' assets (the default), benchmark
# series, statements.
UNITS = {"benchmarks": "series", STATEMENTS: "statements"}


def unit_of(job_name: str) -> str:
    """What ``job_name``'s ok and failed counts count (``assets``, ``series``,
    ``statements``): its messages name them so."""
    return UNITS.get(job_name, "assets")


def lock_of(job_name: str) -> str:
    """The advisory lock a run of ``job_name`` holds (:data:`FIGURES_LOCK` unless the job
    has its own, :data:`OWN_LOCKS`)."""
    return OWN_LOCKS.get(job_name, FIGURES_LOCK)


@dataclass(frozen=True, slots=True)
class UnstoredClient:
    """A client whose figures a run computed but could not store, from ``since`` on: one
    value (``column``) is beyond what its column holds."""

    client_id: int
    name: str
    since: date
    column: str
    value: float

    def as_json(self) -> dict[str, Any]:
        """The client as ``job_runs.details`` keeps it."""
        return {
            "id": self.client_id,
            "name": self.name,
            "since": self.since.isoformat(),
            "column": self.column,
            "value": self.value if math.isfinite(self.value) else str(self.value),
        }


@dataclass
class RunReport:
    """What a run did, filled in as it goes and stored when it ends.

    Besides the counts, what the run could not do is kept per ticker and per client
    (stored in ``job_runs.details``): ``failed`` (ticker -> reason code) and
    ``failed_details`` (ticker -> what exactly), ``missing`` (ticker -> trading days of
    its market in the run's range left without a close), ``dropped`` (ticker -> closes the
    source sent empty), ``revised`` (ticker -> days whose stored close changed upstream),
    ``unstored`` (clients whose figures could not be stored), and ``events`` (splits and
    dividends stored from market data, by kind).
    """

    job_name: str
    target_from: date | None = None
    target_to: date | None = None
    status: str = JobStatus.RUNNING
    tickers_ok: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    rows_written: int = 0
    error: str | None = None
    run_id: int | None = None
    failed_details: dict[str, str] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    revised: dict[str, list[date]] = field(default_factory=dict)
    unstored: list[UnstoredClient] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)  # events stored, by kind

    @property
    def ok(self) -> bool:
        """True unless the run failed."""
        return self.status != JobStatus.FAILED

    @property
    def incomplete(self) -> bool:
        """Whether something the run should have done is missing: a ticker failed, a
        trading day has no close, or a client's figures could not be stored (a run that
        ends this way is partial, see :func:`outcome`)."""
        return bool(self.failed or self.missing or self.dropped or self.unstored)

    def details(self) -> dict[str, Any] | None:
        """What the run could not do (and the revised closes), as ``job_runs.details``."""
        found: dict[str, Any] = {
            "failed": dict(sorted(self.failed.items())),
            "failed_details": dict(sorted(self.failed_details.items())),
            "missing_closes": dict(sorted(self.missing.items())),
            "dropped_closes": dict(sorted(self.dropped.items())),
            "revised_closes": {
                symbol: [day.isoformat() for day in sorted(days)]
                for symbol, days in sorted(self.revised.items())
            },
            "unstored_clients": [client.as_json() for client in self.unstored],
            "events_stored": dict(sorted(self.events.items())),
        }
        kept = {key: value for key, value in found.items() if value}
        return kept or None


class RunOut(BaseModel):
    """A job run as pages and the status command show it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    job_name: str
    target_from: date | None
    target_to: date | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    tickers_ok: int
    tickers_failed: int
    failed_tickers: list[str] | None
    rows_written: int
    error: str | None
    triggered_by: str | None
    details: dict[str, Any] | None = None


@contextmanager
def locked(engine: Engine, name: str = FIGURES_LOCK) -> Iterator[tuple[bool, Connection]]:
    """Try the advisory lock ``name``; yields whether it was taken and the connection that
    holds it.

    The lock is session-level, so the run's transactions commit freely while it is held,
    and it is released even if the run fails (or the process dies). The run's own record
    is written on that connection too, and a job's reads and writes use it as well
    (``closing.run_job``), which saves a connection checkout each. The connection is in
    autocommit: each statement on it stands alone (no BEGIN and COMMIT round trips) unless
    the caller opens a transaction block, and a failed statement cannot leave an aborted
    transaction that would stop the unlock.
    """
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        got = bool(
            conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(name)}).scalar()
        )
        try:
            yield got, conn
        finally:
            if got:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})
                except SQLAlchemyError:
                    # The connection died (the database restarted, the backend was killed):
                    # a session lock goes with its connection, so there is nothing to undo.
                    log.warning("the %s lock's connection was gone at unlock", name)
                    conn.invalidate()


class Leadership:
    """Which of several scheduler processes does a recurring job: the one holding the
    advisory lock ``name`` on a connection it keeps open.

    A lock taken and released around each run would not do for a job that runs every few
    seconds: two schedulers would simply take turns, and both would run it. The holder
    keeps the lock until it stops (or its connection or process dies, which frees it), and
    the others find it taken on every tick; one of them takes over at its next tick after
    the holder is gone.
    """

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._conn: Connection | None = None

    def held(self) -> bool:
        """True when this process holds the lock now (taking it if it is free)."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                return True
            except SQLAlchemyError:  # a broken connection: the lock went with it
                log.warning("lost the %s lock's connection", self.name)
                self._drop()
        try:
            conn = self.engine.connect()
            conn.execution_options(isolation_level="AUTOCOMMIT")
            key = {"k": lock_key(self.name)}
            if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), key).scalar():
                self._conn = conn
                log.info("took the %s lock", self.name)
                return True
            conn.close()
        except SQLAlchemyError:  # database down: nobody can be sure of the lock; do not run
            log.warning("could not try the %s lock", self.name, exc_info=True)
        return False

    def release(self) -> None:
        """Let another process take the job (at stop)."""
        if self._conn is not None:
            try:
                self._conn.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(self.name)}
                )
            finally:
                self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except SQLAlchemyError:  # already broken
                log.debug("closing the %s lock's connection failed", self.name)


def start_run(conn: Connection, report: RunReport, triggered_by: str) -> None:
    """Record that a run started (committed at once on ``conn``, so it is visible)."""
    report.run_id = conn.execute(
        insert(JobRun)
        .values(
            job_name=report.job_name,
            target_from=report.target_from,
            target_to=report.target_to,
            triggered_by=triggered_by,
        )
        .returning(JobRun.id)
    ).scalar_one()
    conn.commit()


INTERRUPTED = "interrupted: its process or the database stopped before it finished"


def fail_abandoned_runs(conn: Connection, report: RunReport) -> int:
    """Mark failed every other ``running`` run of the jobs that share this run's lock
    (:func:`lock_of`); call holding that lock, which proves none of them is still going (a
    run holds it until it records its outcome). A running job under another lock is left
    alone. How many were marked."""
    lock = lock_of(report.job_name)
    own = [name for name, held in OWN_LOCKS.items() if held == lock]
    same_lock = JobRun.job_name.in_(own) if own else JobRun.job_name.not_in(list(OWN_LOCKS))
    result = conn.execute(
        update(JobRun)
        .where(JobRun.status == JobStatus.RUNNING, JobRun.id != report.run_id, same_lock)
        .values(status=JobStatus.FAILED, finished_at=func.now(), error=INTERRUPTED)
    )
    conn.commit()
    marked = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if marked:
        log.warning("%s interrupted run(s) marked failed", marked)
    return marked


def record_outcome(engine: Engine, conn: Connection, report: RunReport) -> None:
    """Store the outcome on the run's connection or, when that connection is gone, on a
    fresh one; never raises (a database that is down leaves the row to
    :func:`fail_abandoned_runs` at the next run)."""
    try:
        finish_run(conn, report)
        return
    except SQLAlchemyError:
        log.warning("run %s: its connection is gone, recording on a fresh one", report.run_id)
    try:
        with engine.connect() as fresh:
            finish_run(fresh, report)
    except SQLAlchemyError:
        log.exception(
            "run %s: its outcome (%s) could not be recorded", report.run_id, report.status
        )


def finish_run(conn: Connection, report: RunReport) -> None:
    """Store the run's outcome and counts (committed on ``conn``)."""
    conn.execute(
        update(JobRun)
        .where(JobRun.id == report.run_id)
        .values(
            finished_at=func.now(),
            status=report.status,
            tickers_ok=report.tickers_ok,
            tickers_failed=len(report.failed),
            failed_tickers=sorted(report.failed) or None,
            rows_written=report.rows_written,
            error=report.error,
            details=report.details(),
        )
    )
    conn.commit()


def latest_runs(engine: Engine, *, job_name: str | None = None, limit: int = 20) -> list[RunOut]:
    """The newest runs first."""
    with UnitOfWork(uow_factory(engine)) as uow:
        runs = uow.job_runs.latest(job_name=job_name, limit=limit)
        return [RunOut.model_validate(r) for r in runs]


def last_finished_run(engine: Engine, job_name: str) -> RunOut | None:
    """The newest run of ``job_name`` that ran to an outcome (not running, not skipped)."""
    with UnitOfWork(uow_factory(engine)) as uow:
        run = uow.job_runs.last_finished(job_name)
        return RunOut.model_validate(run) if run else None


def latest_covered_date(engine: Engine, job_name: str) -> date | None:
    """The latest target date that a run of ``job_name`` completed (success or partial)."""
    with UnitOfWork(uow_factory(engine)) as uow:
        return uow.job_runs.latest_covered_date(job_name)
