"""Jobs (admins only): the scheduler's runs, and the daily close, a backfill or a month's
statements run by hand.

A manual run is synchronous (the page waits under a spinner) and goes through the same
service as the scheduler, so it takes the same advisory lock and is recorded in job_runs
like any other run, triggered by the admin's e-mail. The runs table is drawn after the
forms, so a run just made is already in it.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from core.errors import PermissionDenied
from core.formatting import DASH
from core.services import closing
from core.services.job_runs import latest_runs
from core.services.statement_batch import due_month, generate_statements
from core.trade_schemas import EARLIEST_DATE, today_in_brazil
from dashboard import runtime
from dashboard.components import columns
from dashboard.components.date_field import DateEntry, date_field
from dashboard.components.feedback import guarded
from dashboard.components.job_runs import (
    Message,
    backfill_errors,
    report_messages,
    runs_config,
    runs_frame,
)
from dashboard.components.stored_statements import month_name

RUNS = 50

t = runtime.translator()
actor = runtime.principal()


def _show(messages: list[Message]) -> None:
    for level, text in messages:
        getattr(st, level)(text)


def _date(label_key: str, value: date, today: date, key: str) -> DateEntry:
    """A typed date (its field named by its label's key), refused with its message under it
    when unreadable, after today or before 1900."""
    return date_field(
        t(label_key), label_key, t, value=value, key=key, earliest=EARLIEST_DATE, latest=today
    )


def _refused(*entries: DateEntry) -> bool:
    """Say which typed dates are refused, labelled; True when one is (nothing runs then)."""
    lines = [
        f"**{t(entry.field)}:** {t(key, **params)}"
        for entry in entries
        if entry.problem
        for key, params in [entry.problem]
    ]
    if lines:
        st.error("\n\n".join([t("clients.fix_fields"), *lines]))
    return bool(lines)


def _daily_close(today: date) -> None:
    with st.form("jobs_close"):
        st.markdown(f"**{t('jobs.close')}**")
        day = _date("jobs.close_date", today, today, "jobs_close_date")
        submitted = st.form_submit_button(t("jobs.close_submit"), type="primary")
    if not submitted or _refused(day) or day.value is None:
        return
    with st.spinner(t("jobs.running")):
        report = closing.daily_close(
            runtime.engine(),
            runtime.market(),
            day.value,
            actor=actor,
            triggered_by=actor.email,
        )
    _show(report_messages(report, t))


def _backfill(today: date) -> None:
    with st.form("jobs_backfill"):
        st.markdown(f"**{t('jobs.backfill')}**")
        from_col, to_col = st.columns(2)
        with from_col:
            start = _date("jobs.from", today.replace(day=1), today, "jobs_from")
        with to_col:
            end = _date("jobs.to", today, today, "jobs_to")
        submitted = st.form_submit_button(t("jobs.backfill_submit"), type="primary")
    if not submitted or _refused(start, end) or start.value is None or end.value is None:
        return
    errors = backfill_errors(start.value, end.value, today)
    if errors:
        st.error("\n\n".join(t(key) for key in errors))
        return
    bar = st.progress(0.0, text=t("jobs.running"))

    def progress(done: int, total: int) -> None:
        bar.progress(
            done / total if total else 1.0, text=t("jobs.progress", done=done, total=total)
        )

    report = closing.backfill(
        runtime.engine(),
        runtime.market(),
        start.value,
        end.value,
        actor=actor,
        triggered_by=actor.email,
        progress=progress,
    )
    bar.empty()
    _show(report_messages(report, t))


STATEMENT_MONTHS = 24  # how far back the statements form offers months


def _statements(today: date) -> None:
    """Draw a month's statements now (what is missing or changed, as the scheduler does)."""
    due = due_month(today)
    months = [due]
    while len(months) < STATEMENT_MONTHS:
        previous = months[-1] - timedelta(days=1)
        months.append(previous.replace(day=1))
    with st.form("jobs_statements"):
        st.markdown(f"**{t('jobs.statements')}**")
        month = st.selectbox(
            t("statement.month"), months, format_func=lambda m: month_name(m, t), key="jobs_month"
        )
        submitted = st.form_submit_button(t("jobs.statements_submit"), type="primary")
        st.caption(t("jobs.statements_help"))
    if not submitted:
        return
    settings = runtime.settings()
    with st.spinner(t("jobs.running")):
        report = generate_statements(
            runtime.engine(),
            settings.market_data,
            today,
            actor=actor,
            firm=settings.firm_name,
            triggered_by=actor.email,
            month=month,
            # In the dashboard's own process, one at a time: a pool spawned from a page
            # would run the page's script in each worker. The scheduler and the CLI
            # draw on every core.
            workers=1,
        )
    _show(report_messages(report, t))


def _runs() -> None:
    st.subheader(t("jobs.runs"))
    runs = latest_runs(runtime.engine(), limit=RUNS)
    if runs:
        columns.table(
            runs_frame(runs, t),
            hide_index=True,
            width="stretch",
            column_config=runs_config(t),
            placeholder=DASH,
        )
    else:
        st.info(t("jobs.empty"))


st.title(t("jobs.title"))
with guarded(t):
    if not actor.is_admin:  # not registered for readers; refuse anyway if reached
        raise PermissionDenied()
    today = today_in_brazil()
    close_col, backfill_col, statements_col = st.columns(3)
    with close_col:
        _daily_close(today)
    with backfill_col:
        _backfill(today)
    with statements_col:
        _statements(today)
    _runs()
