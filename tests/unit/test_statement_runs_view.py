"""The statements job's runs on the Jobs page: its counts are statements, not assets."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.i18n import Translator
from core.models import JobStatus
from core.services.job_runs import STATEMENTS, RunOut, RunReport
from dashboard.components.job_runs import job_label, report_messages, runs_frame

PT = Translator("pt_BR")


def test_a_partial_statements_run_names_the_failed_statements() -> None:
    run = RunOut.model_validate(
        {
            "id": 9,
            "job_name": STATEMENTS,
            "target_from": date(2026, 11, 1),
            "target_to": date(2026, 11, 30),
            "started_at": datetime(2026, 12, 1, 13, 0, tzinfo=UTC),
            "finished_at": datetime(2026, 12, 1, 13, 1, tzinfo=UTC),
            "status": "partial",
            "tickers_ok": 41,
            "tickers_failed": 1,
            "failed_tickers": ["client 7 2026-11"],
            "rows_written": 41,
            "error": None,
            "triggered_by": "scheduler",
            "details": {"failed": {"client 7 2026-11": "not_drawn"}},
        }
    )
    row = runs_frame([run], PT).iloc[0]
    assert row["Rotina"] == job_label(STATEMENTS, PT) == "Extratos mensais (PDF)"
    assert row["Datas"] == "01/11/2026 – 30/11/2026"
    assert row["Observações"] == "Extratos com falha: client 7 2026-11"


def test_the_message_after_a_manual_run_counts_statements() -> None:
    report = RunReport(
        job_name=STATEMENTS,
        target_from=date(2026, 11, 1),
        target_to=date(2026, 11, 30),
        status=JobStatus.PARTIAL,
        tickers_ok=1204,
        rows_written=1204,
        failed={"client 7 2026-11": "not_drawn"},
    )
    (_, summary), (_, failed) = report_messages(report, PT)
    assert "1.204 extrato(s) gerado(s) e guardado(s) · 1 com falha." in summary
    assert failed.startswith("Extratos com falha: client 7 2026")  # the name escaped
    assert failed.endswith("11 (extrato não gerado)")
