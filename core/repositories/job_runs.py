"""Reads of ``job_runs``: the newest runs, a job's last outcome, its latest covered date.

Runs are written on the job's own connection (:mod:`core.services.job_runs`), not in a
unit of work, so that a run's record survives the rollback of its work.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import JobRun, JobStatus


class JobRunRepository:
    """Reads ``job_runs`` inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def latest(self, *, job_name: str | None = None, limit: int = 20) -> list[JobRun]:
        """The newest runs first (of one job, or of all)."""
        stmt = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
        if job_name:
            stmt = stmt.where(JobRun.job_name == job_name)
        return list(self.session.scalars(stmt))

    def last_finished(self, job_name: str) -> JobRun | None:
        """The newest run of ``job_name`` that ran to an outcome (not running, not skipped)."""
        stmt = (
            select(JobRun)
            .where(
                JobRun.job_name == job_name,
                JobRun.status.not_in([JobStatus.RUNNING, JobStatus.SKIPPED]),
            )
            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def latest_covered_date(self, job_name: str) -> date | None:
        """The latest target date that a run of ``job_name`` completed (success or partial)."""
        stmt = select(func.max(JobRun.target_to)).where(
            JobRun.job_name == job_name,
            JobRun.status.in_([JobStatus.SUCCESS, JobStatus.PARTIAL]),
        )
        return self.session.scalar(stmt)
