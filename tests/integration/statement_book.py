"""A small book for the statement tests: clients bought in February 2025 and the real jobs
(backfill, benchmarks) run on demo data through March, and the PDF read back as text."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from core.db import UnitOfWork
from core.market.benchmarks import DemoBenchmarks
from core.market.demo import DemoMarketData
from core.models import JobStatus
from core.services import closing
from core.services.allocations import add_allocation
from core.services.benchmarks import update_benchmarks
from core.services.clients import create_client
from core.services.principal import SYSTEM, Principal

MakeUow = Callable[[], UnitOfWork]
BUY = date(2025, 2, 10)
AS_OF = date(2025, 3, 31)
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) is not installed",
)


def book_client(
    make_uow: MakeUow,
    admin: Principal,
    fields: dict[str, str],
    buys: tuple[tuple[str, str, str], ...] = (("PETR4.SA", "100", "30"), ("VALE3.SA", "50", "60")),
) -> int:
    """A client with ``buys`` (symbol, quantity, price) on :data:`BUY`; its id."""
    client = create_client(make_uow(), admin, fields)
    market = DemoMarketData()
    for symbol, quantity, price in buys:
        add_allocation(
            make_uow(),
            market,
            admin,
            client.id,
            {"symbol": symbol},
            {"quantity": quantity, "buy_price": price, "buy_date": BUY},
        )
    return client.id


def close_book(engine: Engine, through: date = AS_OF) -> None:
    """The real backfill from :data:`BUY` and the benchmark job through ``through``."""
    report = closing.backfill(engine, DemoMarketData(), BUY, through, actor=SYSTEM)
    assert report.status == JobStatus.SUCCESS, report
    ran = update_benchmarks(engine, DemoBenchmarks(today=lambda: through), through, actor=SYSTEM)
    assert ran.status == JobStatus.SUCCESS, ran


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as poppler's pdftotext lays it out."""
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    )
    return done.stdout
