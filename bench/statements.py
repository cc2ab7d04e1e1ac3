"""Monthly statements at scale (issue 13's targets), on the scheduler bench's book.

* 1,000 clients, 10,000 movements (buys, sells, typed income) over two years, 100 tickers
  with splits and dividends on some (bench/closing_book.py), their figures stored by the
  real backfill on the demo adapter and the benchmarks by the real benchmark job;
* one client's statement of October 2026 (gathered from the stored data, then drawn as a
  PDF), median of several: target <= 1 s;
* the statements job for the whole month, drawn in parallel on the machine's cores and
  stored: target <= 1 s a statement; then the same run again with nothing changed (the
  fingerprints alone), and after one client's ledger edit (one statement drawn again).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date

from sqlalchemy import Engine, func, select

from bench.closing_book import CLOSE_DAY, market, seed
from bench.db import throwaway_database
from core.db import UnitOfWork, engine_for, uow_factory
from core.i18n import Translator
from core.market.benchmarks import DemoBenchmarks
from core.models import DailyReturn, Movement, Statement
from core.reports.statement_pdf import render_statement
from core.services import closing
from core.services.allocations import update_allocation
from core.services.benchmarks import update_benchmarks
from core.services.job_runs import RunReport
from core.services.principal import SYSTEM
from core.services.statement_batch import generate_statements
from core.services.statements import month_period, statement_data

CLIENTS, MOVEMENTS, TICKERS = 1_000, 10_000, 100
SINCE = date(2024, 11, 26)
MONTH = date(2026, 10, 1)
TODAY = date(2026, 11, 3)  # a B3 session after November's first: October is due
TARGET_ONE_S = 1.0
ONE_RUNS = 5
FIRM = "Bench Investimentos"


def _one_statement(engine: Engine, client_id: int) -> tuple[list[float], list[float], int]:
    """Gather and draw one client's October statement ONE_RUNS times: the gathering's and
    the drawing's seconds, and the PDF's size."""
    factory = uow_factory(engine)
    start, end = month_period(MONTH.year, MONTH.month)
    t = Translator("pt-BR")
    gathered, drawn, size = [], [], 0
    for _ in range(ONE_RUNS):
        began = time.perf_counter()
        data = statement_data(
            lambda: UnitOfWork(factory), "demo", SYSTEM, client_id, start, end, firm=FIRM
        )
        middle = time.perf_counter()
        pdf = render_statement(data, t)
        gathered.append(middle - began)
        drawn.append(time.perf_counter() - middle)
        size = len(pdf)
    return gathered, drawn, size


def _busiest_client(engine: Engine) -> tuple[int, int, int]:
    """The client with the most movements: its id, movements and stored days."""
    with UnitOfWork(uow_factory(engine)) as uow:
        client_id, moves = uow.session.execute(
            select(Movement.client_id, func.count())
            .group_by(Movement.client_id)
            .order_by(func.count().desc(), Movement.client_id)
            .limit(1)
        ).one()
        days = uow.session.scalar(
            select(func.count()).select_from(DailyReturn).where(DailyReturn.client_id == client_id)
        )
    return client_id, moves, int(days or 0)


def _stored(engine: Engine) -> tuple[int, int]:
    with UnitOfWork(uow_factory(engine)) as uow:
        count, size = uow.session.execute(
            select(func.count(), func.coalesce(func.sum(Statement.size), 0)).where(
                Statement.period_start == MONTH
            )
        ).one()
    return int(count), int(size)


def _edit_one(engine: Engine, client_id: int) -> None:
    """An admin's edit of the client's last buy through October (its price): the client's
    figures are recomputed from its date, so October's statement changes."""
    _start, end = month_period(MONTH.year, MONTH.month)
    with UnitOfWork(uow_factory(engine)) as uow:
        buy = uow.session.scalars(
            select(Movement)
            .where(Movement.client_id == client_id, Movement.kind == "buy", Movement.date <= end)
            .order_by(Movement.date.desc())
            .limit(1)
        ).one()
        lot_id, quantity, price, on = buy.id, buy.quantity, buy.price, buy.date
    update_allocation(
        UnitOfWork(uow_factory(engine)),
        SYSTEM,
        lot_id,
        {"quantity": quantity, "buy_price": price + 1, "buy_date": on},
    )


def _timed_run(engine: Engine, workers: int) -> tuple[float, RunReport]:
    began = time.perf_counter()
    report = generate_statements(
        engine, "demo", TODAY, actor=SYSTEM, firm=FIRM, month=MONTH, workers=workers
    )
    return time.perf_counter() - began, report


def run() -> bool:
    """Build the book, time one statement and the month's batch; print every figure."""
    cores = os.cpu_count() or 1
    print(
        f"\n== statements: {CLIENTS:,} clients, {MOVEMENTS:,} movements, {TICKERS} tickers,"
        f" figures since {SINCE}; {cores} core(s) =="
    )
    with throwaway_database() as url:
        counts = seed(url, CLIENTS, MOVEMENTS, TICKERS, SINCE)
        engine = engine_for(url)
        began = time.perf_counter()
        filled = closing.backfill(engine, market(TICKERS), SINCE, CLOSE_DAY, actor=SYSTEM)
        benchmarks = update_benchmarks(
            engine, DemoBenchmarks(today=lambda: CLOSE_DAY), CLOSE_DAY, actor=SYSTEM
        )
        print(
            f"book: {counts}; backfill {filled.status} and benchmarks {benchmarks.status}"
            f" in {time.perf_counter() - began:.1f} s (setup, not a target)"
        )
        client_id, moves, days = _busiest_client(engine)
        gathered, drawn, size = _one_statement(engine, client_id)
        one = [g + d for g, d in zip(gathered, drawn, strict=True)]
        one_ok = statistics.median(one) <= TARGET_ONE_S
        print(
            f"one statement (client #{client_id}: {moves} movements, {days} stored days),"
            f" October 2026, median of {ONE_RUNS}: {statistics.median(one):.3f} s"
            f" (gathered {statistics.median(gathered):.3f} s, drawn"
            f" {statistics.median(drawn):.3f} s; {size / 1024:.0f} KiB)"
            f" — target <= {TARGET_ONE_S:.0f} s: {'OK' if one_ok else 'MISSED'}"
        )
        seconds, report = _timed_run(engine, cores)
        stored, total = _stored(engine)
        each = seconds / stored if stored else float("inf")
        batch_ok = stored == CLIENTS and each <= TARGET_ONE_S
        print(
            f"the month's statements job, {cores} worker process(es): {stored:,} stored"
            f" ({total / 1024 / 1024:.1f} MiB) in {seconds:.1f} s = {each:.3f} s a statement"
            f" ({each * cores:.3f} s of a core each); outcome {report.status}"
            f" — target <= {TARGET_ONE_S:.0f} s each: {'OK' if batch_ok else 'MISSED'}"
        )
        again, report = _timed_run(engine, cores)
        print(
            f"the same run again, nothing changed: {again:.2f} s, "
            f"{report.rows_written} drawn (fingerprints of {CLIENTS:,} clients' months)"
        )
        _edit_one(engine, client_id)
        edited, report = _timed_run(engine, cores)
        print(
            f"after one client's edit of an October buy: {edited:.2f} s,"
            f" {report.rows_written} drawn again"
        )
    return one_ok and batch_ok
