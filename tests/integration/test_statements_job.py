"""The statements job (core.services.statement_batch) through the real jobs' figures on
demo data: which statements it draws and stores, when it draws them again, and how a run
ends; the stored PDF read back with pdftotext against the stored figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from core.db import UnitOfWork, uow_factory
from core.errors import PermissionDenied
from core.formatting import format_brl
from core.i18n import Translator
from core.market.demo import DemoMarketData
from core.models import JobStatus
from core.services import statement_batch
from core.services.allocations import add_allocation
from core.services.job_runs import FIGURES_LOCK, STATEMENTS_LOCK, locked
from core.services.principal import SYSTEM, Principal
from core.services.statement_batch import due_month, generate_statements
from tests.integration.statement_book import (
    AS_OF,
    MakeUow,
    book_client,
    close_book,
    needs_poppler,
    pdf_text,
)

APRIL_FIRST = date(2025, 4, 1)  # a Tuesday, the first B3 session of April: March is due
MARCH = date(2025, 3, 1)
FEBRUARY = date(2025, 2, 1)
FIRM = "Lima & Reis Investimentos"
PT_NO_FIGURES = Translator("pt_BR")("statement.no_figures")


@pytest.fixture
def make_uow(committed_engine: Engine) -> MakeUow:
    factory = uow_factory(committed_engine)
    return lambda: UnitOfWork(factory)


@pytest.fixture
def book(make_uow: MakeUow, committed_engine: Engine, admin: Principal) -> dict[str, int]:
    """Maria and João active, Ana inactive; all three with figures through March."""
    ids = {
        "maria": book_client(make_uow, admin, {"name": "Maria", "email": "maria@example.com"}),
        "joao": book_client(
            make_uow,
            admin,
            {"name": "João", "email": "joao@example.com"},
            (("ITUB4.SA", "10", "30"),),
        ),
        "ana": book_client(
            make_uow, admin, {"name": "Ana", "email": "ana@example.com", "status": "inactive"}
        ),
    }
    close_book(committed_engine)
    return ids


def run(engine: Engine, **kwargs: object) -> statement_batch.RunReport:
    options: dict[str, object] = {"actor": SYSTEM, "firm": FIRM, "workers": 1} | kwargs
    return generate_statements(engine, "demo", APRIL_FIRST, **options)  # type: ignore[arg-type]


def stored(engine: Engine) -> dict[tuple[int, date], tuple[str, int, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT client_id, period_start, fingerprint, size, generated_at FROM statements")
        )
        return {(c, s): (f, n, g) for c, s, f, n, g in rows}


def stored_pdf(engine: Engine, client_id: int, start: date) -> bytes:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT pdf FROM statements WHERE client_id = :c AND period_start = :s"),
            {"c": client_id, "s": start},
        ).scalar_one()


def value_on(engine: Engine, client_id: int, day: date) -> Decimal:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT market_value FROM daily_returns WHERE client_id = :c AND date = :d"),
            {"c": client_id, "d": day},
        ).scalar_one()


def test_the_due_month_is_the_previous_one_from_the_first_session_on() -> None:
    assert due_month(APRIL_FIRST) == MARCH
    assert due_month(date(2025, 4, 30)) == MARCH
    # 2026-01-01 is a holiday: until the first session (the 2nd), November is still due
    assert due_month(date(2026, 1, 1)) == date(2025, 11, 1)
    assert due_month(date(2026, 1, 2)) == date(2025, 12, 1)


@needs_poppler
def test_every_active_clients_month_is_stored_with_the_stored_figures(
    committed_engine: Engine, book: dict[str, int], tmp_path: Path
) -> None:
    report = run(committed_engine)

    assert report.status == JobStatus.SUCCESS, report
    assert report.rows_written == 2
    assert set(stored(committed_engine)) == {(book["maria"], MARCH), (book["joao"], MARCH)}
    found = pdf_text(stored_pdf(committed_engine, book["maria"], MARCH), tmp_path)
    assert FIRM in found
    assert "Período: 01/03/2025 a 31/03/2025" in found
    assert format_brl(value_on(committed_engine, book["maria"], AS_OF), "pt_BR") in found
    with committed_engine.connect() as conn:
        run_row = conn.execute(
            text("SELECT job_name, status, target_from, target_to FROM job_runs ORDER BY id DESC")
        ).first()
    assert tuple(run_row) == ("statements", "success", MARCH, AS_OF)


def test_a_second_run_draws_nothing_when_nothing_changed(
    committed_engine: Engine, book: dict[str, int]
) -> None:
    run(committed_engine)
    before = stored(committed_engine)

    again = run(committed_engine)

    assert again.status == JobStatus.SUCCESS
    assert again.rows_written == 0
    assert stored(committed_engine) == before  # same fingerprints, same generated_at


@needs_poppler
def test_a_ledger_edit_that_changes_the_month_draws_that_clients_statement_again(
    committed_engine: Engine,
    book: dict[str, int],
    make_uow: MakeUow,
    admin: Principal,
    tmp_path: Path,
) -> None:
    run(committed_engine, month=FEBRUARY)  # February's too, stored
    run(committed_engine)
    before = stored(committed_engine)
    add_allocation(  # recomputes Maria's figures from March 10 at once
        make_uow(),
        DemoMarketData(),
        admin,
        book["maria"],
        {"symbol": "PETR4.SA"},
        {"quantity": "40", "buy_price": "31", "buy_date": date(2025, 3, 10)},
    )

    report = run(committed_engine)

    assert report.rows_written == 1  # Maria's March; February's data did not change
    after = stored(committed_engine)
    assert after[(book["maria"], MARCH)][0] != before[(book["maria"], MARCH)][0]
    assert after[(book["maria"], FEBRUARY)] == before[(book["maria"], FEBRUARY)]
    assert after[(book["joao"], MARCH)] == before[(book["joao"], MARCH)]
    found = pdf_text(stored_pdf(committed_engine, book["maria"], MARCH), tmp_path)
    assert format_brl(value_on(committed_engine, book["maria"], AS_OF), "pt_BR") in found
    assert "PETR4.SA" in found
    assert "31,00" in found


def test_a_new_firm_name_draws_every_stored_statement_again(
    committed_engine: Engine, book: dict[str, int]
) -> None:
    run(committed_engine)

    report = run(committed_engine, firm="Outra Gestora")

    assert report.rows_written == 2


def test_one_client_that_cannot_be_drawn_fails_alone(
    committed_engine: Engine, book: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = statement_batch.client_statement_pdf

    def broken_for_joao(*args: object, **kwargs: object) -> bytes:
        if args[3] == book["joao"]:
            raise ValueError("a value the PDF cannot show")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(statement_batch, "client_statement_pdf", broken_for_joao)

    report = run(committed_engine)

    assert report.status == JobStatus.PARTIAL
    assert report.rows_written == 1
    label = f"client {book['joao']} 2025-03"
    assert report.failed == {label: "not_drawn"}
    assert "a value the PDF cannot show" in report.failed_details[label]
    assert set(stored(committed_engine)) == {(book["maria"], MARCH)}
    # The next run draws what failed, and only that
    monkeypatch.setattr(statement_batch, "client_statement_pdf", real)
    assert run(committed_engine).rows_written == 1


def test_a_run_that_stored_nothing_of_what_was_due_failed(
    committed_engine: Engine, book: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(statement_batch, "client_statement_pdf", broken)

    report = run(committed_engine)

    assert report.status == JobStatus.FAILED
    assert report.error == "no statement stored: all 2 due failed"


def test_nothing_due_is_a_success(committed_engine: Engine) -> None:
    report = run(committed_engine)

    assert report.status == JobStatus.SUCCESS
    assert report.rows_written == 0


def test_a_client_deleted_after_the_plan_fails_alone(
    committed_engine: Engine, book: dict[str, int], make_uow: MakeUow
) -> None:
    with make_uow() as uow:
        dues = statement_batch.plan(uow, MARCH, FIRM, "demo")
    assert [d.client_id for d in dues] == [book["maria"], book["joao"]]
    with committed_engine.begin() as conn:
        conn.execute(text("DELETE FROM clients WHERE id = :c"), {"c": book["joao"]})

    drawn = list(
        statement_batch.draw_all(committed_engine, dues, market_name="demo", firm=FIRM, by="t")
    )

    assert drawn[0].error is None
    assert drawn[0].size > 1_000
    assert drawn[1].error is not None
    assert "NotFound" in drawn[1].error


def test_the_pool_draws_in_worker_processes(
    committed_engine: Engine, book: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_here(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("drawn in the test's process, not in a worker")

    # Spawned workers import the module afresh: this patch reaches this process alone.
    monkeypatch.setattr(statement_batch, "client_statement_pdf", not_here)

    report = run(committed_engine, workers=2)

    assert report.status == JobStatus.SUCCESS, report
    assert report.rows_written == 2
    with committed_engine.connect() as conn:
        by = conn.execute(text("SELECT DISTINCT generated_by, job_run_id FROM statements")).all()
    assert by == [("scheduler", report.run_id)]


def test_only_an_admin_runs_it(committed_engine: Engine, reader: Principal) -> None:
    with pytest.raises(PermissionDenied):
        generate_statements(committed_engine, "demo", APRIL_FIRST, actor=reader, firm=FIRM)


def test_it_has_its_own_lock(committed_engine: Engine, book: dict[str, int]) -> None:
    with locked(committed_engine, FIGURES_LOCK) as (got, _conn):  # a backfill is running
        assert got
        assert run(committed_engine).status == JobStatus.SUCCESS
    with locked(committed_engine, STATEMENTS_LOCK) as (got, _conn):
        assert got
        assert run(committed_engine).status == JobStatus.SKIPPED


def test_a_statements_run_and_a_close_leave_each_others_running_record_alone(
    committed_engine: Engine, book: dict[str, int]
) -> None:
    with committed_engine.begin() as conn:
        ids = conn.execute(
            text(
                "INSERT INTO job_runs (job_name, status) VALUES"
                " ('daily-close', 'running'), ('statements', 'running') RETURNING id"
            )
        ).scalars()
        ids = list(ids)

    run(committed_engine)

    with committed_engine.connect() as conn:
        rows = dict(
            conn.execute(
                text("SELECT job_name, status FROM job_runs WHERE id = ANY(:ids)"), {"ids": ids}
            ).all()
        )
    assert rows == {"daily-close": "running", "statements": "failed"}


def test_statements_switching_from_demo_to_market_data_are_drawn_again(
    committed_engine: Engine, book: dict[str, int]
) -> None:
    run(committed_engine)

    again = generate_statements(
        committed_engine, "yahoo", APRIL_FIRST, actor=SYSTEM, firm=FIRM, workers=1
    )

    assert again.rows_written == 2  # the demo banner must go from every page


def test_a_benchmark_the_statement_does_not_show_draws_nothing_again(
    committed_engine: Engine, book: dict[str, int]
) -> None:
    run(committed_engine)
    with committed_engine.begin() as conn:  # a Selic value revised upstream
        conn.execute(
            text("UPDATE benchmark_values SET value = value + 0.001 WHERE series = 'SELIC'")
        )
    assert run(committed_engine).rows_written == 0
    with committed_engine.begin() as conn:  # a CDI value revised upstream: it is shown
        conn.execute(
            text(
                "UPDATE benchmark_values SET value = value + 0.001 WHERE series = 'CDI'"
                " AND date = '2025-03-20'"
            )
        )
    assert run(committed_engine).rows_written == 2


def test_a_later_buy_of_a_new_asset_leaves_earlier_months_alone(
    committed_engine: Engine, book: dict[str, int], make_uow: MakeUow, admin: Principal
) -> None:
    run(committed_engine, month=FEBRUARY)
    run(committed_engine)
    before = stored(committed_engine)
    add_allocation(  # João's first ITSA4, in March: his February is unchanged
        make_uow(),
        DemoMarketData(),
        admin,
        book["joao"],
        {"symbol": "ITSA4.SA"},
        {"quantity": "10", "buy_price": "10", "buy_date": date(2025, 3, 12)},
    )

    assert run(committed_engine).rows_written == 1
    after = stored(committed_engine)
    assert after[(book["joao"], FEBRUARY)] == before[(book["joao"], FEBRUARY)]
    assert after[(book["joao"], MARCH)] != before[(book["joao"], MARCH)]


@needs_poppler
def test_a_stored_month_that_lost_its_figures_is_drawn_again_once(
    committed_engine: Engine, book: dict[str, int], tmp_path: Path
) -> None:
    run(committed_engine, month=FEBRUARY)
    with committed_engine.begin() as conn:  # João's February figures are gone
        conn.execute(
            text("DELETE FROM daily_returns WHERE client_id = :c AND date < '2025-03-01'"),
            {"c": book["joao"]},
        )

    assert run(committed_engine, month=FEBRUARY).rows_written == 1
    found = pdf_text(stored_pdf(committed_engine, book["joao"], FEBRUARY), tmp_path)
    assert PT_NO_FIGURES in " ".join(found.split())
    assert run(committed_engine, month=FEBRUARY).rows_written == 0
