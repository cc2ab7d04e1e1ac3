"""``python -m jobs status`` on the real PostgreSQL: hand-made ``job_runs`` rows and a fixed
"now", for every verdict and its exit code (what monitoring reads)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

import jobs.__main__ as cli
from core.config import get_settings
from jobs import status
from jobs.runtime import MARKET_TZ

THURSDAY, FRIDAY = date(2026, 11, 26), date(2026, 11, 27)
HOLIDAY = date(2026, 11, 20)  # Consciência Negra, a Friday: B3 closed
SECRET = "pg-Pa55word-in-an-error"


def sp(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MARKET_TZ)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    monkeypatch.setenv("ANKA_DATABASE_URL", database_url)
    monkeypatch.setenv("ANKA_ENV", "test")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Fix the status command's "now"."""

    def fix(moment: datetime) -> None:
        monkeypatch.setattr(status, "now", lambda: moment)

    return fix


def add_run(
    engine: Engine,
    target: date | None,
    run_status: str,
    started: datetime,
    *,
    job: str = "daily-close",
    error: str | None = None,
    ok: int = 3,
    failed: int = 0,
    rows: int = 120,
) -> None:
    finished = None if run_status == "running" else started + timedelta(seconds=4)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO job_runs (job_name, target_from, target_to, started_at, finished_at,"
                " status, tickers_ok, tickers_failed, rows_written, error, triggered_by)"
                " VALUES (:job, :target, :target, :started, :finished, :status, :ok, :failed,"
                " :rows, :error, 'scheduler')"
            ),
            {
                "job": job,
                "target": target,
                "started": started,
                "finished": finished,
                "status": run_status,
                "ok": ok,
                "failed": failed,
                "rows": rows,
                "error": error,
            },
        )


# -- which session is due ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("moment", "grace_min", "due"),
    [
        (sp(FRIDAY, 19, 0), 60, THURSDAY),  # Friday's close may still be running
        (sp(FRIDAY, 19, 31), 60, FRIDAY),
        (sp(FRIDAY, 18, 30), 0, FRIDAY),
        (sp(FRIDAY, 18, 29), 0, THURSDAY),
        (sp(date(2026, 11, 28), 12), 60, FRIDAY),  # Saturday
        (sp(date(2026, 11, 30), 10), 60, FRIDAY),  # Monday morning
        (sp(HOLIDAY, 22), 60, date(2026, 11, 19)),
        (sp(date(2026, 11, 23), 9), 60, date(2026, 11, 19)),  # the Monday after it
        (sp(date(2026, 11, 28), 0, 20), 120, FRIDAY),  # 22:20 Friday, past midnight in UTC
    ],
)
def test_due_session(moment: datetime, grace_min: int, due: date) -> None:
    assert status.due_session(moment, timedelta(minutes=grace_min)) == due


# -- verdicts ------------------------------------------------------------------------------
def test_healthy_prints_the_runs_and_exits_0(
    env: None, committed_engine: Engine, at: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    add_run(committed_engine, THURSDAY, "success", sp(THURSDAY, 18, 30))
    add_run(committed_engine, None, "success", sp(FRIDAY, 7), job="gap-repair", rows=0)
    add_run(committed_engine, FRIDAY, "partial", sp(FRIDAY, 18, 30), ok=2, failed=1, rows=80)
    at(sp(date(2026, 11, 28), 9))

    code = cli.main(["status"])

    out = capsys.readouterr().out
    assert code == status.HEALTHY, out
    lines = out.splitlines()
    assert lines[0] == "Latest 3 job runs (times in São Paulo):"
    header = lines[1].split()
    assert header[:5] == ["job", "target", "started", "finished", "status"]
    assert lines[2].split()[:7] == [
        "daily-close",
        "2026-11-27",
        "2026-11-27",
        "18:30:00",
        "2026-11-27",
        "18:30:04",
        "partial",
    ]
    assert lines[2].split()[7:9] == ["2/1", "80"]
    assert lines[3].split()[:2] == ["gap-repair", "-"]
    assert lines[-1] == (
        "daily close OK: closes stored through 2026-11-27"
        " (last run #3 was partial: 1 ticker(s) failed)"
    )


def test_last_daily_close_failed_exits_1_with_its_error_redacted(
    env: None, committed_engine: Engine, at: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    add_run(committed_engine, THURSDAY, "success", sp(THURSDAY, 18, 30))
    add_run(
        committed_engine,
        FRIDAY,
        "failed",
        sp(FRIDAY, 18, 30),
        error=f"OperationalError: postgresql://anka:{SECRET}@db/anka is down",
        ok=0,
        rows=0,
    )
    at(sp(FRIDAY, 19, 0))  # Friday not due yet: the failure alone decides

    code = cli.main(["status"])

    out = capsys.readouterr().out
    assert code == status.FAILED
    assert out.splitlines()[-1] == (
        "daily close FAILED: run #2 for 2026-11-27 failed:"
        " OperationalError: postgresql://anka:***@db/anka is down"
    )
    assert SECRET not in out


def test_a_failure_wins_over_overdue_and_a_later_success_clears_it(
    env: None, committed_engine: Engine, at: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    add_run(committed_engine, THURSDAY, "failed", sp(THURSDAY, 18, 30), error="Yahoo down")
    at(sp(date(2026, 11, 28), 9))
    assert cli.main(["status", "--limit", "0"]) == status.FAILED

    add_run(committed_engine, FRIDAY, "success", sp(FRIDAY, 18, 30))
    assert cli.main(["status", "--limit", "0"]) == status.HEALTHY
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "daily close FAILED: run #1 for 2026-11-26 failed: Yahoo down",
        "daily close OK: closes stored through 2026-11-27",
    ]


def test_overdue_when_the_due_session_has_no_close_exits_3(
    env: None, committed_engine: Engine, at: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    add_run(committed_engine, THURSDAY, "success", sp(THURSDAY, 18, 30))
    at(sp(FRIDAY, 19, 45))

    assert cli.main(["status", "--limit", "0"]) == status.OVERDUE
    # With a longer grace Friday is not due yet.
    assert cli.main(["status", "--limit", "0", "--grace-minutes", "120"]) == status.HEALTHY

    out = capsys.readouterr().out.splitlines()
    assert out == [
        "daily close OVERDUE: 2026-11-27 is due and closes are stored through 2026-11-26",
        "daily close OK: closes stored through 2026-11-26",
    ]


def test_skipped_and_running_runs_neither_fail_nor_cover(
    env: None, committed_engine: Engine, at: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    add_run(committed_engine, THURSDAY, "failed", sp(THURSDAY, 18, 30), error="boom")
    add_run(committed_engine, date(2026, 11, 19), "success", sp(THURSDAY, 20))  # an old rerun
    add_run(committed_engine, FRIDAY, "skipped", sp(FRIDAY, 18, 30))
    add_run(committed_engine, FRIDAY, "running", sp(FRIDAY, 19))
    at(sp(date(2026, 11, 28), 9))

    # The newest finished run is the old rerun (success): no failure, but Friday is missing.
    assert cli.main(["status", "--limit", "0"]) == status.OVERDUE
    assert "stored through 2026-11-19" in capsys.readouterr().out


def test_a_backfill_is_not_a_daily_close(
    env: None, committed_engine: Engine, at: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    add_run(committed_engine, FRIDAY, "success", sp(FRIDAY, 20), job="backfill")
    at(sp(date(2026, 11, 28), 9))

    assert cli.main(["status"]) == status.OVERDUE
    out = capsys.readouterr().out
    assert "backfill" in out
    assert out.splitlines()[-1] == (
        "daily close OVERDUE: 2026-11-27 is due and closes are stored through never"
    )


def test_no_runs_at_all_is_overdue(
    env: None, committed_engine: Engine, at: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    at(sp(FRIDAY, 12))

    assert cli.main(["status"]) == status.OVERDUE
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "No job runs recorded yet."


def test_limit_bounds_the_table_and_long_errors_are_cut(
    env: None, committed_engine: Engine, at: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(5):
        add_run(committed_engine, THURSDAY, "success", sp(THURSDAY, 18, 30 + i))
    add_run(committed_engine, FRIDAY, "failed", sp(FRIDAY, 18, 30), error="x\n" + "y" * 200)
    at(sp(FRIDAY, 20))

    assert cli.main(["status", "--limit", "2"]) == status.FAILED
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Latest 2 job runs (times in São Paulo):"
    assert len(lines) == 2 + 2 + 2  # title, header, 2 runs, blank, verdict
    assert lines[2].endswith("x " + "y" * (status.ERROR_WIDTH - 3) + "…")


def test_an_unreadable_database_exits_4(
    monkeypatch: pytest.MonkeyPatch, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy.engine import make_url

    missing = make_url(database_url).set(database="anka_no_such_database")
    monkeypatch.setenv("ANKA_DATABASE_URL", missing.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        assert cli.main(["status"]) == status.UNREADABLE
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert out.startswith("error: cannot read the job runs:")
    assert "anka_no_such_database" in out


def test_a_refused_configuration_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANKA_ENV", "production")
    monkeypatch.setenv("ANKA_DATABASE_URL", f"postgresql://anka:{SECRET}@db/anka")
    monkeypatch.delenv("ANKA_COOKIE_KEY", raising=False)
    get_settings.cache_clear()
    try:
        assert cli.main(["status"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "ANKA_COOKIE_KEY must be a random secret" in err


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["status", "--help"], ["--help"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert "exit codes:" in out
        for line in (
            "0  healthy",
            "1  the last daily close failed",
            "3  overdue",
            "4  the database could not be read",
        ):
            assert line in out


@pytest.mark.parametrize("argv", [["status", "--limit", "-1"], ["status", "--grace-minutes", "x"]])
def test_bad_numbers_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "not a whole number >= 0" in capsys.readouterr().err
