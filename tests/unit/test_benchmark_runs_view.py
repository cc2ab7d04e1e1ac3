"""The benchmark job's runs on the Jobs page, labelled in both languages like the close's."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.i18n import Translator
from core.services.benchmarks import BENCHMARKS
from core.services.job_runs import RunOut
from dashboard.components.job_runs import job_label, runs_frame


def benchmark_run() -> RunOut:
    return RunOut.model_validate(
        {
            "id": 7,
            "job_name": BENCHMARKS,
            "target_from": date(2026, 10, 30),
            "target_to": date(2026, 11, 27),
            "started_at": datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
            "finished_at": datetime(2026, 11, 27, 12, 0, 3, tzinfo=UTC),
            "status": "partial",
            "tickers_ok": 4,
            "tickers_failed": 1,
            "failed_tickers": ["IFIX"],
            "rows_written": 80,
            "error": None,
            "triggered_by": "scheduler",
            "details": {"failed": {"IFIX": "not_found"}},
        }
    )


def test_the_benchmark_job_has_a_label_in_each_language() -> None:
    assert job_label(BENCHMARKS, Translator("pt_BR")).startswith("Índices de referência")
    assert job_label(BENCHMARKS, Translator("en")).startswith("Benchmarks")


def test_its_runs_are_listed_like_the_close() -> None:
    first = runs_frame([benchmark_run()], Translator("pt_BR")).iloc[0]
    assert first["Rotina"] == "Índices de referência (CDI, Selic, IPCA, Ibovespa, IFIX)"
    assert first["Datas"] == "30/10/2026 – 27/11/2026"
    assert first["Situação"] == "parcial"
    assert first["Com falha"] == 1
    assert first["Observações"] == "Séries com falha: IFIX"
    assert first["Linhas gravadas"] == 80


def test_what_its_run_missed_is_said_in_days_of_a_series_not_closes() -> None:
    run = benchmark_run().model_copy(
        update={"details": {"missing_closes": {"CDI": 2}, "dropped_closes": {"IPCA": 1}}}
    )
    notes = runs_frame([run], Translator("pt_BR")).iloc[0]["Observações"]
    assert "2 dia(s) ou mês(es) ainda sem valor publicado: CDI (2)" in notes
    assert "1 valor(es) recusado(s) da fonte: IPCA (1)" in notes
    assert "fechamento" not in notes
