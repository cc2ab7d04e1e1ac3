"""Job runs as the pages show them, and how fresh the live quotes are."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from core.i18n import Translator
from core.market.port import CacheInfo
from core.models import JobStatus
from core.services.job_runs import RunOut, RunReport
from dashboard.components.job_runs import (
    backfill_errors,
    failed_text,
    report_messages,
    runs_frame,
    target_dates,
    triggered_label,
)
from dashboard.components.markdown import escape_markdown
from dashboard.components.market import quotes_freshness

PT = Translator("pt_BR")
EN = Translator("en")
TODAY = date(2025, 3, 31)


@pytest.mark.parametrize(
    ("start", "end", "errors"),
    [
        (date(2025, 3, 1), TODAY, []),
        (TODAY, TODAY, []),
        (TODAY, date(2025, 3, 1), ["jobs.from_after_to"]),
        (date(2025, 3, 1), TODAY + timedelta(days=1), ["jobs.to_future"]),
        (
            TODAY + timedelta(days=3),
            TODAY + timedelta(days=1),
            ["jobs.to_future", "jobs.from_after_to"],
        ),
    ],
    ids=["range", "one-day", "reversed", "future-end", "both"],
)
def test_backfill_errors(start: date, end: date, errors: list[str]) -> None:
    assert backfill_errors(start, end, TODAY) == errors


def test_target_dates() -> None:
    assert target_dates(TODAY, TODAY, PT) == "31/03/2025"
    assert target_dates(date(2025, 3, 10), TODAY, PT) == "10/03/2025 – 31/03/2025"
    assert target_dates(None, TODAY, PT) == "até 31/03/2025"
    assert target_dates(None, TODAY, EN) == "through 2025-03-31"
    assert target_dates(None, None, PT) == "—"


def test_failed_text() -> None:
    assert failed_text(0, None) == "0"
    assert failed_text(2, ["AAPL", "VALE3.SA"]) == "2: AAPL, VALE3.SA"
    assert failed_text(1, None) == "1"


def run(**fields: object) -> RunOut:
    base = {
        "id": 1,
        "job_name": "daily-close",
        "target_from": TODAY,
        "target_to": TODAY,
        "started_at": datetime(2025, 3, 31, 21, 0, 5, tzinfo=UTC),
        "finished_at": datetime(2025, 3, 31, 21, 0, 9, tzinfo=UTC),
        "status": "partial",
        "tickers_ok": 3,
        "tickers_failed": 1,
        "failed_tickers": ["AAPL"],
        "rows_written": 12,
        "error": None,
        "triggered_by": "scheduler",
    }
    return RunOut.model_validate({**base, **fields})


def test_runs_frame_in_sao_paulo_time_with_translated_status() -> None:
    frame = runs_frame([run(), run(id=2, job_name="mystery", finished_at=None)], PT)

    first = frame.iloc[0]
    assert first["Rotina"] == "Fechamento diário"
    # 21:00 UTC is 18:00 in São Paulo: a timestamp, formatted by the column configuration.
    assert first["Início"] == datetime(2025, 3, 31, 18, 0, 5)
    assert first["Situação"] == "parcial"
    assert first["Com falha"] == 1
    assert first["Observações"] == "Ativos com falha: AAPL"
    assert first["Linhas gravadas"] == 12
    assert first["Acionada por"] == "agendador"
    second = frame.iloc[1]
    assert second["Rotina"] == "mystery"  # an unknown job keeps its name
    assert pd.isna(second["Fim"])


def test_who_triggered_a_run_is_translated_an_email_kept() -> None:
    assert triggered_label("scheduler", PT) == "agendador"
    assert triggered_label("cli", PT) == "linha de comando"
    assert triggered_label("scheduler", EN) == "scheduler"
    assert triggered_label("admin@example.com", PT) == "admin@example.com"
    assert triggered_label(None, PT) == ""


def test_compact_runs_frame() -> None:
    frame = runs_frame([run()], EN, compact=True)
    assert list(frame.columns) == ["Job", "Dates", "Status", "Finished"]


def report(status: str, **fields: object) -> RunReport:
    made = RunReport(job_name="daily-close", target_from=TODAY, target_to=TODAY, status=status)
    for name, value in fields.items():
        setattr(made, name, value)
    return made


def test_success_message_has_the_counts() -> None:
    messages = report_messages(report(JobStatus.SUCCESS, tickers_ok=2, rows_written=9), PT)
    assert messages == [
        (
            "success",
            "Fechamento diário (31/03/2025): concluída · 2 ativo(s) ok · 0 com falha · "
            "9 linha(s) gravada(s).",
        )
    ]


def test_counts_in_the_message_group_thousands() -> None:
    done = report(JobStatus.SUCCESS, tickers_ok=1204, rows_written=13791)
    ((_, pt_text),) = report_messages(done, PT)
    assert "1.204 ativo(s) ok" in pt_text
    assert "13.791 linha(s) gravada(s)" in pt_text
    ((_, en_text),) = report_messages(done, EN)
    assert "13,791 row(s)" in en_text


def test_partial_run_lists_the_failed_tickers() -> None:
    messages = report_messages(report(JobStatus.PARTIAL, failed={"AAPL": "no_data"}), EN)
    assert [level for level, _ in messages] == ["warning", "warning"]
    assert messages[1][1] == "Failed assets: AAPL (no quote)"


def test_failed_tickers_are_named_as_text_in_the_message() -> None:
    # The message goes to a Markdown element; a ticker shaped like an address (valid for
    # the ticker rules) must not become a link, nor its dots anything else.
    failed = {"WWW.EVIL.COM": "no_data", "AAPL": "no_data"}
    messages = report_messages(report(JobStatus.PARTIAL, failed=failed), EN)
    expected = f"Failed assets: AAPL (no quote), {escape_markdown('WWW.EVIL.COM')} (no quote)"
    assert messages[1][1] == expected


def test_failed_run_points_to_the_error() -> None:
    messages = report_messages(report(JobStatus.FAILED, error="boom"), PT)
    assert [level for level, _ in messages] == ["error", "error"]
    assert messages[-1][1] == PT("jobs.run_failed")


def test_skipped_run_says_why() -> None:
    saturday = report(JobStatus.SKIPPED)
    saturday.target_from = saturday.target_to = date(2025, 3, 29)
    assert report_messages(saturday, PT) == [("info", PT("jobs.not_session", date="29/03/2025"))]
    # On a trading day, only the lock held by another run skips a job.
    assert report_messages(report(JobStatus.SKIPPED), PT) == [("warning", PT("jobs.locked"))]


def test_skipped_runs_show_the_reason_not_the_raw_error() -> None:
    none_failed = {"tickers_failed": 0, "failed_tickers": None}
    frame = runs_frame(
        [
            run(
                status="skipped",
                target_from=date(2025, 3, 29),
                target_to=date(2025, 3, 29),
                error="2025-03-29 is not a B3 trading day",
                **none_failed,
            ),
            run(id=2, status="skipped", error="another run holds the lock", **none_failed),
            run(id=3, status="failed", error="RuntimeError: boom"),
        ],
        EN,
    )
    assert list(frame["Notes"]) == [
        EN("jobs.not_session", date="2025-03-29"),
        EN("jobs.locked"),
        "RuntimeError: boom · Failed assets: AAPL",  # one column: the error, then tickers
    ]


# -- quote freshness ------------------------------------------------------------------------

NOW = datetime(2025, 3, 31, 15, 0, 0, tzinfo=UTC)


def info(status: str, age: float | None) -> CacheInfo:
    return CacheInfo(status, "k", 60, age)


def test_updated_time_is_now_minus_the_oldest_age() -> None:
    fresh = quotes_freshness([info("hit", 1.5), info("hit", 4.0), info("miss", 0.0)], NOW, 5)
    assert fresh.updated_at == NOW - timedelta(seconds=4)
    assert fresh.age_s == 4.0
    assert fresh.stale is False


def test_older_than_two_intervals_is_stale() -> None:
    assert quotes_freshness([info("hit", 10.0)], NOW, 5).stale is False  # exactly two
    assert quotes_freshness([info("hit", 10.5)], NOW, 5).stale is True


def test_served_stale_is_stale_whatever_its_age() -> None:
    assert quotes_freshness([info("stale", 1.0)], NOW, 5).stale is True


def test_no_ages_count_as_just_fetched() -> None:
    for infos in ([], [CacheInfo("bypass", "k")]):
        fresh = quotes_freshness(infos, NOW, 5)
        assert fresh.updated_at == NOW
        assert fresh.stale is False


def test_what_a_partial_run_could_not_do_is_spelled_out_and_names_are_text() -> None:
    from core.services.job_runs import UnstoredClient

    report = RunReport(
        "backfill",
        date(2025, 3, 3),
        date(2025, 3, 31),
        JobStatus.PARTIAL,
        tickers_ok=3,
        missing={"PETR4.SA": 6, "VALE3.SA": 1},
        dropped={"PETR4.SA": 2},
        revised={"ITUB4.SA": [date(2025, 3, 26)]},
        unstored=[UnstoredClient(7, "**Eve** <b>", date(2025, 3, 3), "net_flow", 2e12)],
    )

    texts = [text for _level, text in report_messages(report, PT)]
    petr4, vale3, itub4 = map(escape_markdown, ["PETR4.SA", "VALE3.SA", "ITUB4.SA"])

    assert f"7 fechamento(s) faltando: {petr4} (6), {vale3} (1)" in texts
    assert f"2 fechamento(s) vieram vazios da fonte: {petr4} (2)" in texts
    assert f"fechamento(s) revisto(s) na fonte e regravado(s): {itub4} (1)" in texts
    assert any(f"{escape_markdown('**Eve** <b>')} (net_flow)" in x for x in texts)
    frame = runs_frame([run_out(report)], EN)
    assert "figures not stored" in frame["Notes"][0]


def run_out(report: RunReport) -> RunOut:
    now = datetime(2025, 3, 31, 22, tzinfo=UTC)
    return RunOut(
        id=1,
        job_name=report.job_name,
        target_from=report.target_from,
        target_to=report.target_to,
        started_at=now,
        finished_at=now,
        status=report.status,
        tickers_ok=report.tickers_ok,
        tickers_failed=len(report.failed),
        failed_tickers=None,
        rows_written=report.rows_written,
        error=None,
        triggered_by="cli",
        details=report.details(),
    )
