"""The jobs page (admins): the runs table, the daily close and a backfill run by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from core.config import get_settings
from core.db import UnitOfWork
from core.formatting import format_date
from core.i18n import translate
from core.models import DailyReturn, JobRun, PortfolioMetric
from core.services import closing
from core.services.job_runs import RunOut
from core.trade_schemas import today_in_brazil
from tests.app.conftest import (
    ADMIN_EMAIL,
    READER_EMAIL,
    assert_no_exception,
    button,
    create_client,
    hold,
    landing_title,
    pt,
    sign_in,
    values,
)

Make = Callable[[], UnitOfWork]
BUY = date(2025, 3, 10)
CLOSE = date(2025, 3, 31)  # a Monday, a B3 session
SATURDAY = date(2025, 3, 29)


@pytest.fixture
def book(demo_env: Make) -> Make:
    """One client holding a B3 lot on demo data."""
    maria = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    hold(demo_env, maria.id, "PETR4.SA", "100", "30", BUY)
    return demo_env


def open_jobs() -> AppTest:
    at = sign_in(ADMIN_EMAIL)
    at.switch_page("app_pages/jobs.py").run()
    assert_no_exception(at)
    assert values(at.title) == [pt("jobs.title")]
    return at


def runs(make: Make) -> list[RunOut]:
    with make() as uow:
        return [
            RunOut.model_validate(run)
            for run in uow.session.scalars(select(JobRun).order_by(JobRun.id))
        ]


def count(make: Make, model: type) -> int:
    with make() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def typed(day: date, locale: str = "pt_BR") -> str:
    """A date as typed in the page's language (dd/mm/aaaa, or ISO in English)."""
    return format_date(day, locale)


def run_close(at: AppTest, day: date, label: str | None = None, locale: str = "pt_BR") -> None:
    at.text_input(key="jobs_close_date").input(typed(day, locale))
    (submit,) = [b for b in at.button if b.label == (label or pt("jobs.close_submit"))]
    submit.click().run()
    assert_no_exception(at)


def run_backfill(at: AppTest, start: date, end: date) -> None:
    at.text_input(key="jobs_from").input(typed(start))
    at.text_input(key="jobs_to").input(typed(end))
    button(at, "jobs.backfill_submit").click().run()
    assert_no_exception(at)


def test_empty_page_defaults_to_today(book: Make) -> None:
    at = open_jobs()

    assert values(at.info) == [pt("jobs.empty")]
    assert at.text_input(key="jobs_close_date").value == typed(today_in_brazil())
    assert at.text_input(key="jobs_to").value == typed(today_in_brazil())
    assert not at.dataframe


def test_daily_close_button_records_a_run(book: Make) -> None:
    at = open_jobs()

    run_close(at, CLOSE)

    (run,) = runs(book)
    assert run.job_name == closing.DAILY_CLOSE
    assert (run.target_from, run.target_to) == (CLOSE, CLOSE)
    assert run.status == "success"
    assert run.triggered_by == ADMIN_EMAIL
    assert run.finished_at is not None
    assert count(book, PortfolioMetric) == 1
    summary = pt(
        "jobs.result.assets",
        job=pt("job.name.daily-close"),
        dates="31/03/2025",
        status=pt("job.status.success"),
        ok=1,
        failed=0,
        rows=run.rows_written,
    )
    assert values(at.success) == [summary]
    table = at.dataframe[0].value
    row = table.iloc[0]
    assert row[pt("jobs.col.job")] == pt("job.name.daily-close")
    assert row[pt("jobs.col.dates")] == "31/03/2025"
    assert row[pt("jobs.col.status")] == pt("job.status.success")
    assert row[pt("jobs.col.failed")] == 0
    assert row[pt("jobs.col.by")] == ADMIN_EMAIL
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    for column, moment in (("started", run.started_at), ("finished", run.finished_at)):
        # São Paulo time, as a timestamp the column configuration shows to the second.
        shown = moment.astimezone(sao_paulo).replace(tzinfo=None)
        assert row[pt(f"jobs.col.{column}")] == shown


def test_close_on_a_day_without_session_says_why(book: Make) -> None:
    at = open_jobs()

    run_close(at, SATURDAY)

    assert values(at.info) == [pt("jobs.not_session", date="29/03/2025")]
    (run,) = runs(book)
    assert run.status == "skipped"
    assert at.dataframe[0].value.iloc[0][pt("jobs.col.status")] == pt("job.status.skipped")
    assert count(book, DailyReturn) == 0


def test_backfill_computes_the_range(book: Make) -> None:
    at = open_jobs()

    run_backfill(at, BUY, CLOSE)

    (run,) = runs(book)
    assert run.job_name == closing.BACKFILL
    assert (run.target_from, run.target_to, run.status) == (BUY, CLOSE, "success")
    assert count(book, DailyReturn) == 16  # B3 sessions from 10/03 to 31/03/2025
    (message,) = values(at.success)
    assert message.startswith(f"{pt('job.name.backfill')} (10/03/2025 – 31/03/2025)")


def test_backfill_refuses_to_before_from_and_stores_nothing(book: Make) -> None:
    at = open_jobs()

    run_backfill(at, CLOSE, BUY)

    assert values(at.error) == [pt("jobs.from_after_to")]
    assert runs(book) == []
    assert count(book, DailyReturn) == 0
    assert values(at.info) == [pt("jobs.empty")]


def test_dates_cannot_go_past_today(book: Make) -> None:
    # A typed date after today is refused in our words, and nothing runs (see also
    # tests/app/test_form_outcomes.py and tests/unit/test_job_runs_view.py).
    at = open_jobs()
    tomorrow = typed(today_in_brazil() + timedelta(days=1))

    for key, submit in (
        ("jobs_close_date", "jobs.close_submit"),
        ("jobs_from", "jobs.backfill_submit"),
    ):
        at.text_input(key=key).input(tomorrow)
        button(at, submit).click().run()
        assert_no_exception(at)
        assert pt("validation.future_date") in " ".join(values(at.error))

    assert runs(book) == []


def test_english_labels(book: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKA_LOCALE", "en")
    get_settings.cache_clear()
    at = sign_in(ADMIN_EMAIL)
    at.switch_page("app_pages/jobs.py").run()
    run_close(at, CLOSE, label="Run the close now", locale="en")

    assert values(at.title) == ["Jobs"]
    row = at.dataframe[0].value.iloc[0]
    assert row["Job"] == "Daily close"
    assert row["Dates"] == "2025-03-31"
    assert row["Status"] == translate("job.status.success", "en")


def test_reader_cannot_reach_the_jobs_page(book: Make) -> None:
    at = sign_in(READER_EMAIL)

    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/jobs.py")
    at._page_hash = calc_hash("jobs")  # what typing /jobs asks for
    at.run()

    assert_no_exception(at)
    assert values(at.title) == [landing_title()]
    assert pt("jobs.close_submit") not in [b.label for b in at.button]
    assert runs(book) == []


def test_a_months_statements_drawn_by_hand(book: Make) -> None:
    at = open_jobs()
    run_backfill(at, BUY, CLOSE)

    at.selectbox(key="jobs_month").select(date(2025, 3, 1))
    button(at, "jobs.statements_submit").click().run()

    assert_no_exception(at)
    statements = [run for run in runs(book) if run.job_name == "statements"]
    assert statements[0].target_from == date(2025, 3, 1)
    assert [(r.status, r.rows_written, r.triggered_by) for r in statements] == [
        ("success", 1, ADMIN_EMAIL)
    ]
    summary = pt(
        "jobs.result.statements",
        job=pt("job.name.statements"),
        dates="01/03/2025 – 31/03/2025",
        status=pt("job.status.success"),
        ok=1,
        failed=0,
        rows=1,
    )
    assert summary in values(at.success)
    # Again: nothing changed, nothing drawn
    button(at, "jobs.statements_submit").click().run()
    assert [r.rows_written for r in runs(book) if r.job_name == "statements"] == [1, 0]
