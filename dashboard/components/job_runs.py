"""Job runs as plain data: the runs table, a run's outcome as messages, the backfill checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import pandas as pd

from core import calendars
from core.formatting import DASH, format_date, format_number
from core.i18n import Translator
from core.models import JobStatus
from core.services.job_runs import RunOut, RunReport, unit_of
from dashboard.components import columns
from dashboard.components.columns import local_time
from dashboard.components.markdown import escape_markdown

# How each outcome is shown: st.success, st.warning, st.error or st.info.
LEVELS = {
    JobStatus.SUCCESS: "success",
    JobStatus.PARTIAL: "warning",
    JobStatus.FAILED: "error",
    JobStatus.SKIPPED: "info",
    JobStatus.RUNNING: "info",
}
Message = tuple[str, str]  # (level, text)


def _worded(t: Translator, base: str, unit: str, **params: Any) -> str:
    """``base.unit``'s text, or ``base.assets``' where the unit has no words of its own."""
    key = f"{base}.{unit}"
    text = t(key, **params)
    return t(f"{base}.assets", **params) if text == key else text


def job_label(job_name: str, t: Translator) -> str:
    """A job's name in the user's language (an unknown job keeps its own name)."""
    label = t(f"job.name.{job_name}")
    return job_name if label == f"job.name.{job_name}" else label


def status_label(status: str, t: Translator) -> str:
    """A run's status in the user's language."""
    return t(f"job.status.{status}")


def target_dates(start: date | None, end: date | None, t: Translator) -> str:
    """``10/03/2025``, ``10/03/2025 – 31/03/2025`` or ``até 31/03/2025`` (gap repair)."""
    if start is None and end is None:
        return DASH
    if start is None:
        return t("jobs.through", date=format_date(end, t.locale))
    if end is None or end == start:
        return format_date(start, t.locale)
    return f"{format_date(start, t.locale)} – {format_date(end, t.locale)}"


def failed_text(count: int, tickers: Sequence[str] | None) -> str:
    """``0``, or the count and the failed tickers: ``2: AAPL, VALE3.SA``."""
    if not count:
        return "0"
    return f"{count}: {', '.join(tickers or [])}" if tickers else str(count)


def _day_without_session(run: RunOut | RunReport) -> date | None:
    """The run's single target date, when the B3 did not trade on it."""
    day = run.target_from
    if day is not None and day == run.target_to and not calendars.is_session(day):
        return day
    return None


def skip_reason(run: RunOut | RunReport, t: Translator) -> str:
    """Why a run was skipped, in the user's language: a single date without a B3 session,
    or else the lock held by another run (the only two reasons the jobs skip)."""
    day = _day_without_session(run)
    if day is not None:
        return t("jobs.not_session", date=format_date(day, t.locale))
    return t("jobs.locked")


def error_text(run: RunOut, t: Translator) -> str:
    """The error column: a skipped run's reason translated; a failure's own (technical) text."""
    if run.status == JobStatus.SKIPPED:
        return skip_reason(run, t)
    return run.error or ""


def _plain(text: str) -> str:
    return text


def _counted(counts: dict[str, int], escape: Callable[[str], str]) -> tuple[int, str]:
    listed = ", ".join(f"{escape(s)} ({n})" for s, n in sorted(counts.items()))
    return sum(counts.values()), listed


def details_lines(
    details: dict[str, Any] | None,
    t: Translator,
    escape: Callable[[str], str] = _plain,
    *,
    job_name: str = "",
) -> list[str]:
    """What a run could not do, as sentences (``job_runs.details``): closes (or a
    benchmark's values) missing or sent empty per ticker, revised upstream, and the clients
    whose figures could not be stored, in the words of ``job_name``'s unit
    (:func:`unit_of`). Tickers and names go through ``escape`` (Markdown callers pass
    :func:`~dashboard.components.markdown.escape_markdown`: a name is stored text)."""
    if not details:
        return []
    unit = unit_of(job_name)
    lines = []
    for key, label in (("missing_closes", "missing"), ("dropped_closes", "dropped")):
        if details.get(key):
            count, tickers = _counted(details[key], escape)
            lines.append(_worded(t, f"jobs.detail.{label}", unit, count=count, tickers=tickers))
    if details.get("revised_closes"):
        revised = {s: len(days) for s, days in details["revised_closes"].items()}
        tickers = _counted(revised, escape)[1]
        lines.append(_worded(t, "jobs.detail.revised", unit, tickers=tickers))
    if details.get("unstored_clients"):
        clients = ", ".join(
            f"{escape(str(c.get('name') or '#' + str(c.get('id'))))} ({c.get('column')})"
            for c in details["unstored_clients"]
        )
        lines.append(t("jobs.detail.unstored", clients=clients))
    return lines


def triggered_label(triggered_by: str | None, t: Translator) -> str:
    """Who started a run: the scheduler or the command line in the user's words, or the
    admin's e-mail as stored."""
    if not triggered_by:
        return ""
    label = t(f"jobs.by.{triggered_by}")
    return triggered_by if label == f"jobs.by.{triggered_by}" else label


def notes_text(run: RunOut, t: Translator) -> str:
    """What to read about a run, in one column: why it was skipped or its error, the failed
    tickers, and what it could not do (:func:`details_lines`)."""
    parts = [error_text(run, t)]
    unit = unit_of(run.job_name)
    if run.failed_tickers:
        tickers = ", ".join(run.failed_tickers)
        parts.append(_worded(t, "jobs.failed", unit, tickers=tickers))
    parts.extend(details_lines(run.details, t, job_name=run.job_name))
    return " · ".join(part for part in parts if part)


def runs_frame(runs: Sequence[RunOut], t: Translator, *, compact: bool = False) -> pd.DataFrame:
    """The runs, newest first; ``compact`` keeps job, dates, status and finish time.

    Times are São Paulo timestamps and the counts numbers (:func:`runs_config` formats
    them). What to read comes first, so it is in view on a 1,400 px screen: the job, its
    dates, status and start, then "Observações", where the error, the failed tickers and
    the details share one column; the counts, who started it and the end time follow.
    """
    records = []
    for run in runs:
        record = {
            t("jobs.col.job"): job_label(run.job_name, t),
            t("jobs.col.dates"): target_dates(run.target_from, run.target_to, t),
            t("jobs.col.status"): status_label(run.status, t),
            t("jobs.col.started"): local_time(run.started_at),
            t("jobs.col.notes"): notes_text(run, t),
            t("jobs.col.ok"): run.tickers_ok,
            t("jobs.col.failed"): run.tickers_failed,
            t("jobs.col.rows"): run.rows_written,
            t("jobs.col.by"): triggered_label(run.triggered_by, t),
            t("jobs.col.finished"): local_time(run.finished_at),
        }
        if compact:
            keep = ("job", "dates", "status", "finished")
            record = {t(f"jobs.col.{k}"): record[t(f"jobs.col.{k}")] for k in keep}
        records.append(record)
    return pd.DataFrame(records)


def runs_config(t: Translator) -> dict[str, Any]:
    """Times in the locale's form; counts grouped; the notes take the room left."""
    config: dict[str, Any] = {
        t("jobs.col.job"): columns.text(width=150),
        t("jobs.col.dates"): columns.text(width=160),
        t("jobs.col.status"): columns.text(width=85),
        t("jobs.col.started"): columns.timestamp(t),
        t("jobs.col.finished"): columns.timestamp(t),
        t("jobs.col.notes"): columns.text(width="large"),
        t("jobs.col.by"): columns.text(width=130),
    }
    for key in ("ok", "failed", "rows"):
        config[t(f"jobs.col.{key}")] = columns.quantity(width=80)
    return config


def report_messages(report: RunReport, t: Translator) -> list[Message]:
    """What to tell the admin after a manual run: a skipped run's reason (see
    :func:`skip_reason`), or the outcome with its counts, and the failed tickers (as
    Markdown, for ``st.success`` and the other message boxes: the tickers are escaped)."""
    if report.status == JobStatus.SKIPPED:
        level = "info" if _day_without_session(report) else "warning"
        return [(level, skip_reason(report, t))]
    unit = unit_of(report.job_name)
    summary = _worded(
        t,
        "jobs.result",
        unit,
        job=job_label(report.job_name, t),
        dates=target_dates(report.target_from, report.target_to, t),
        status=status_label(report.status, t),
        ok=format_number(report.tickers_ok, t.locale, 0),
        failed=format_number(len(report.failed), t.locale, 0),
        rows=format_number(report.rows_written, t.locale, 0),  # 13.791 linha(s), not 13791
    )
    messages: list[Message] = [(LEVELS.get(JobStatus(report.status), "info"), summary)]
    if report.failed:
        tickers = ", ".join(
            f"{escape_markdown(s)} ({t('market.failed.' + r)})"
            for s, r in sorted(report.failed.items())
        )
        messages.append(("warning", _worded(t, "jobs.failed", unit, tickers=tickers)))
    lines = details_lines(report.details(), t, escape_markdown, job_name=report.job_name)
    messages.extend(("warning", line) for line in lines)
    if report.status == JobStatus.FAILED:
        messages.append(("error", t("jobs.run_failed")))
    return messages


def backfill_errors(start: date, end: date, today: date) -> list[str]:
    """Catalogue keys of what is wrong with a backfill range (empty when it can run)."""
    errors = []
    if end > today:
        errors.append("jobs.to_future")
    if start > end:
        errors.append("jobs.from_after_to")
    return errors
