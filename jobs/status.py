"""``python -m jobs status``: the latest runs, and whether the daily close is healthy.

Made for monitoring (a cron check, a container healthcheck): it prints the newest runs and
one verdict line, and its exit code says what is wrong:

* ``0`` healthy: the last daily close did not fail, and closes are stored for the latest B3
  session that is due;
* ``1`` the last daily close failed (its newest run that reached an outcome, skipped runs
  aside);
* ``3`` overdue: no successful (or partial) daily close covers the latest B3 session whose
  close time (18:30 São Paulo) plus the grace period (the scheduler's misfire grace, 60
  minutes, by default) has passed — this includes a database where no daily close ever ran;
* ``4`` the database could not be read.

(``2`` is a usage error or a configuration that Anka refuses, as in every ``jobs`` command.)
A failure wins over overdue. A run that priced none of the tickers it had to is failed (it
writes nothing); a partial close (some tickers failed, closes missing, or a client's
figures not stored) counts as done and is reported on the verdict line with its counts
(docs/jobs.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from core import calendars
from core.config import Settings
from core.db import engine_for
from core.embedded import resolve_database_url
from core.logging_setup import redact
from core.models import JobStatus
from core.services.closing import DAILY_CLOSE
from core.services.job_runs import RunOut, last_finished_run, latest_covered_date, latest_runs
from jobs.runtime import MARKET_TZ
from jobs.scheduler import CLOSE_HOUR, CLOSE_MINUTE, MISFIRE_GRACE_S

HEALTHY, FAILED, OVERDUE, UNREADABLE = 0, 1, 3, 4
EXIT_CODES = f"""exit codes:
  {HEALTHY}  healthy: the last daily close did not fail and the latest due session is closed
  {FAILED}  the last daily close failed
  2  usage error, or a configuration that Anka refuses
  {OVERDUE}  overdue: no daily close covers the latest B3 session due by now
     (closes at {CLOSE_HOUR}:{CLOSE_MINUTE:02d} São Paulo, plus --grace-minutes)
  {UNREADABLE}  the database could not be read"""
DEFAULT_GRACE = timedelta(seconds=MISFIRE_GRACE_S)
ERROR_WIDTH = 60


def now() -> datetime:
    """The current moment (tests fix it)."""
    return datetime.now(UTC)


def due_session(moment: datetime, grace: timedelta = DEFAULT_GRACE) -> date:
    """The latest B3 session whose daily close should have finished by ``moment``."""
    local = (moment - grace).astimezone(MARKET_TZ)
    day = local.date()
    if calendars.is_session(day) and local.time() >= time(CLOSE_HOUR, CLOSE_MINUTE):
        return day
    return calendars.previous_session(day)


@dataclass(frozen=True)
class Health:
    """The verdict on the daily close."""

    code: int
    due: date
    covered: date | None
    last: RunOut | None

    @property
    def message(self) -> str:
        """One line for a person (or an alert)."""
        through = self.covered.isoformat() if self.covered else "never"
        if self.code == FAILED and self.last is not None:
            day = self.last.target_to.isoformat() if self.last.target_to else "?"
            error = redact(" ".join((self.last.error or "no error recorded").split()))
            return f"daily close FAILED: run #{self.last.id} for {day} failed: {error}"
        if self.code == OVERDUE:
            return (
                f"daily close OVERDUE: {self.due.isoformat()} is due and closes are stored"
                f" through {through}"
            )
        partial = self.last is not None and self.last.status == JobStatus.PARTIAL
        note = f" (last run #{self.last.id} was partial: {_gaps(self.last)})" if partial else ""
        return f"daily close OK: closes stored through {through}{note}"


def _gaps(run: RunOut | None) -> str:
    """What a partial run left undone, counted: ``1 ticker failed, 6 closes missing``."""
    if run is None:
        return ""
    details = run.details or {}
    parts = [f"{run.tickers_failed} ticker(s) failed"] if run.tickers_failed else []
    missing = sum((details.get("missing_closes") or {}).values())
    if missing:
        parts.append(f"{missing} close(s) missing")
    unstored = len(details.get("unstored_clients") or [])
    if unstored:
        parts.append(f"{unstored} client(s) whose figures could not be stored")
    return ", ".join(parts) or "see the run"


def assess(engine: Engine, moment: datetime, grace: timedelta = DEFAULT_GRACE) -> Health:
    """Whether the last daily close failed, or the latest due session is not closed."""
    due = due_session(moment, grace)
    last = last_finished_run(engine, DAILY_CLOSE)
    covered = latest_covered_date(engine, DAILY_CLOSE)
    if last is not None and last.status == JobStatus.FAILED:
        code = FAILED
    elif covered is None or covered < due:
        code = OVERDUE
    else:
        code = HEALTHY
    return Health(code=code, due=due, covered=covered, last=last)


def _local(moment: datetime | None) -> str:
    return moment.astimezone(MARKET_TZ).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _short(text: str | None) -> str:
    if not text:
        return ""
    line = redact(" ".join(text.split()))
    return line if len(line) <= ERROR_WIDTH else line[: ERROR_WIDTH - 1] + "…"


def runs_table(runs: Sequence[RunOut]) -> str:
    """The runs as a plain-text table (times in São Paulo)."""
    if not runs:
        return "No job runs recorded yet."
    frame = pd.DataFrame(
        {
            "job": [r.job_name for r in runs],
            "target": [r.target_to.isoformat() if r.target_to else "-" for r in runs],
            "started": [_local(r.started_at) for r in runs],
            "finished": [_local(r.finished_at) for r in runs],
            "status": [r.status for r in runs],
            "tickers ok/failed": [f"{r.tickers_ok}/{r.tickers_failed}" for r in runs],
            "rows": [r.rows_written for r in runs],
            "error": [_short(r.error) for r in runs],
        }
    )
    return frame.to_string(index=False, justify="left")


def report(engine: Engine, *, limit: int, grace: timedelta, moment: datetime) -> int:
    """Print the newest ``limit`` runs and the verdict; return the exit code."""
    try:
        runs = latest_runs(engine, limit=limit) if limit else []
        health = assess(engine, moment, grace)
    except SQLAlchemyError as exc:
        print(f"error: cannot read the job runs: {redact(str(exc).splitlines()[0])}")
        return UNREADABLE
    if limit:
        print(f"Latest {len(runs)} job runs (times in São Paulo):")
        print(runs_table(runs))
        print()
    print(health.message)
    return health.code


def engine(settings: Settings) -> Engine:
    """The database engine (the status needs no Redis and no market data)."""
    return engine_for(resolve_database_url(settings))
