"""The client statement (core.services.statements + core.reports.statement_pdf): built from
figures stored by the real jobs on demo data, rendered to PDF, read back with poppler
(pdftotext for the text and numbers, pdftoppm for the pages as images) and checked against
the stored figures."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Row, text

from core.db import UnitOfWork, uow_factory
from core.formatting import format_brl, format_percent
from core.i18n import Translator
from core.market.demo import DemoMarketData
from core.reports.statement_pdf import render_statement
from core.services.benchmarks import benchmark_returns
from core.services.principal import Principal
from core.services.statements import month_period, statement_data
from tests.integration.statement_book import (
    AS_OF,
    MakeUow,
    book_client,
    close_book,
    needs_poppler,
    pdf_text,
)

PT = Translator("pt_BR")


@pytest.fixture
def make_uow(committed_engine: Engine) -> MakeUow:
    """Units of work that commit: the jobs read what they wrote on their own connections."""
    factory = uow_factory(committed_engine)
    return lambda: UnitOfWork(factory)


@pytest.fixture
def maria(make_uow: MakeUow, committed_engine: Engine, admin: Principal) -> int:
    client = book_client(
        make_uow,
        admin,
        {"name": "Maria <b>Souza</b>", "email": "maria@example.com", "document": "529.982.247-25"},
    )
    close_book(committed_engine)
    return client


def stored_day(engine: Engine, client_id: int, where: str, day: date) -> Row[Any]:
    """The client's stored market value and cumulative TWR on the day ``where`` picks."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT market_value, cumulative_twr FROM daily_returns "
                f"WHERE client_id = :c AND {where}"
            ),
            {"c": client_id, "d": day},
        ).one()


def test_the_march_statement_says_what_is_stored(
    make_uow: MakeUow, committed_engine: Engine, maria: int, admin: Principal
) -> None:
    start, end = month_period(2025, 3)
    data = statement_data(
        make_uow, DemoMarketData().name, admin, maria, start, end, firm="Lima & Reis Investimentos"
    )

    before = stored_day(committed_engine, maria, "date < :d ORDER BY date DESC LIMIT 1", start)
    last = stored_day(committed_engine, maria, "date = :d", AS_OF)
    s = data.summary
    assert s is not None
    assert data.as_of == AS_OF
    assert s.value_start == before.market_value
    assert s.value_end == last.market_value
    assert (s.money_in, s.money_out) == (Decimal(0), Decimal(0))  # bought in February
    assert s.result == last.market_value - before.market_value
    assert s.twr == (1 + last.cumulative_twr) / (1 + before.cumulative_twr) - 1
    with make_uow() as uow:
        cdi = benchmark_returns(uow, "CDI", start, AS_OF)
    assert cdi.complete
    assert s.percent_of_cdi == s.twr / cdi.cumulative
    assert [row.symbol for row in data.positions.rows] == ["PETR4.SA", "VALE3.SA"]
    assert data.movements == []  # nothing moved in March


@needs_poppler
def test_the_pdf_shows_those_numbers_and_says_it_is_demo_data(
    make_uow: MakeUow, maria: int, admin: Principal, tmp_path: Path
) -> None:
    start, end = month_period(2025, 3)
    data = statement_data(
        make_uow, DemoMarketData().name, admin, maria, start, end, firm="Lima & Reis Investimentos"
    )
    pdf = render_statement(data, PT)
    found = pdf_text(pdf, tmp_path)
    s = data.summary
    assert s is not None

    assert pdf.startswith(b"%PDF")
    assert "Lima & Reis Investimentos" in found
    # The stored name is text, never markup: its tags are printed, not applied
    assert "Maria <b>Souza</b>" in found
    assert "529.982.247-25" in found
    assert "Período: 01/03/2025 a 31/03/2025" in found
    for amount in (s.value_start, s.value_end, s.result):
        assert format_brl(amount, "pt_BR") in found
    assert format_percent(s.twr, "pt_BR") in found
    assert format_percent(s.percent_of_cdi, "pt_BR") in found
    assert format_percent(s.benchmarks["CDI"].cumulative, "pt_BR") in found
    assert "PETR4.SA" in found
    assert "VALE3.SA" in found
    assert PT("statement.demo") in found.replace("\n", " ")
    pages = found.count("\f") + (0 if found.endswith("\f") else 1)
    assert found.count(PT("statement.demo")) >= pages - 1  # on every page
    # Rendered as images: every page draws
    (tmp_path / "s.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", str(tmp_path / "s.pdf"), str(tmp_path / "page")],
        check=True,
    )
    images = sorted(tmp_path.glob("page*.png"))
    assert images
    assert all(image.stat().st_size > 5_000 for image in images)


def test_a_period_before_any_figures_says_so(
    make_uow: MakeUow, maria: int, admin: Principal, tmp_path: Path
) -> None:
    start, end = month_period(2024, 12)
    data = statement_data(make_uow, DemoMarketData().name, admin, maria, start, end, firm="Anka")

    assert data.summary is None
    assert data.as_of is None
    if shutil.which("pdftotext"):
        assert PT("statement.no_figures") in pdf_text(render_statement(data, PT), tmp_path)
