"""The scheduler's jobs (daily close, backfill, gap repair) on the real PostgreSQL with real
commits (``committed_engine``: tables truncated after each test), the demo adapter on a fixed
clock, and lots created through the real allocations service.

The book: Ana holds PETR4 since 2026-11-03 and VALE3 bought on 2026-11-20 (a B3 holiday);
Bruno holds ITUB4 since 2026-11-10 and PETR4 since 2026-11-23; Carla holds nothing.

Figures are compared exactly: a day hands MV and growth to the next at the stored scales, so
a run resumed from stored rows, a rerun and a one-shot backfill all store the same numbers.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
import pytest
import redis
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from core import calendars
from core.db import UnitOfWork, uow_factory
from core.errors import PermissionDenied
from core.market.cache import PREFIX, CachedMarketData
from core.market.catalogue import Listing
from core.market.demo import DemoMarketData
from core.market.port import HistoryBatch, QuoteBatch, SearchResult
from core.models import JobStatus
from core.redis_client import redis_for
from core.repositories import figures
from core.services import closes, closing, recompute
from core.services.allocations import add_allocation
from core.services.clients import create_client
from core.services.job_runs import RunOut, RunReport, latest_runs, locked
from core.services.principal import SYSTEM, Principal

D = Decimal
CLOCK = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)  # Friday, 19:00 in São Paulo
FRIDAY = date(2026, 11, 27)
THURSDAY = date(2026, 11, 26)
HOLIDAY = date(2026, 11, 20)  # Consciência Negra: B3 closed
FIRST_BUY = date(2026, 11, 3)
RANGE_START = date(2026, 11, 2)  # Finados, also a B3 holiday
SYMBOLS = ("ITUB4.SA", "PETR4.SA", "VALE3.SA")


def fixed_clock() -> datetime:
    return CLOCK


def nov(day: int) -> date:
    return date(2026, 11, day)


def new_uow(engine: Engine) -> UnitOfWork:
    return UnitOfWork(uow_factory(engine))


@dataclass(frozen=True)
class Book:
    ana: int
    bruno: int
    carla: int


def add_lot(
    engine: Engine,
    market: Any,
    admin: Principal,
    client_id: int,
    symbol: str,
    quantity: str,
    buy_price: str,
    buy_date: date,
) -> None:
    add_allocation(
        new_uow(engine),
        market,
        admin,
        client_id,
        {"symbol": symbol},
        {"quantity": D(quantity), "buy_price": D(buy_price), "buy_date": buy_date},
    )


@pytest.fixture
def demo() -> DemoMarketData:
    return DemoMarketData(clock=fixed_clock)


@pytest.fixture
def book(committed_engine: Engine, demo: DemoMarketData, admin: Principal) -> Book:
    def client(name: str) -> int:
        email = f"{name.lower()}@example.com"
        return create_client(new_uow(committed_engine), admin, {"name": name, "email": email}).id

    ana, bruno, carla = client("Ana"), client("Bruno"), client("Carla")
    add_lot(committed_engine, demo, admin, ana, "PETR4.SA", "100", "30.00", FIRST_BUY)
    add_lot(committed_engine, demo, admin, ana, "VALE3.SA", "10", "60.00", HOLIDAY)
    add_lot(committed_engine, demo, admin, bruno, "ITUB4.SA", "200", "36.00", date(2026, 11, 10))
    add_lot(committed_engine, demo, admin, bruno, "PETR4.SA", "50", "35.00", date(2026, 11, 23))
    return Book(ana, bruno, carla)


# -- reading back --------------------------------------------------------------------------
def rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def prices(engine: Engine, *, since: date | None = None) -> list[tuple[Any, ...]]:
    """(symbol, date, close, source), optionally from ``since`` on."""
    return rows(
        engine,
        "SELECT a.symbol, p.date, p.close, p.source FROM prices p JOIN assets a ON a.id = "
        "p.asset_id WHERE p.date >= :since ORDER BY a.symbol, p.date",
        since=since or date(1900, 1, 1),
    )


def prices_with_fetch_time(engine: Engine, symbol: str) -> list[tuple[Any, ...]]:
    return rows(
        engine,
        "SELECT p.date, p.close, p.source, p.fetched_at FROM prices p JOIN assets a "
        "ON a.id = p.asset_id WHERE a.symbol = :symbol ORDER BY p.date",
        symbol=symbol,
    )


def daily(engine: Engine, *, day: date | None = None) -> list[tuple[Any, ...]]:
    """(client_id, date, market_value, flow_in, daily_return, cumulative_twr)."""
    where = "WHERE date = :day" if day else ""
    return rows(
        engine,
        "SELECT client_id, date, market_value, flow_in, daily_return, cumulative_twr "
        f"FROM daily_returns {where} ORDER BY client_id, date",
        day=day,
    )


def metrics(engine: Engine, *, as_of: date | None = None) -> list[tuple[Any, ...]]:
    """(client_id, as_of, market_value, invested, accumulated_return, twr, irr)."""
    where = "WHERE as_of = :as_of" if as_of else ""
    return rows(
        engine,
        "SELECT client_id, as_of, market_value, invested, accumulated_return, twr, irr "
        f"FROM portfolio_metrics {where} ORDER BY client_id, as_of",
        as_of=as_of,
    )


def runs(engine: Engine) -> list[RunOut]:
    """Job runs, oldest first."""
    return list(reversed(latest_runs(engine, limit=100)))


def clear(engine: Engine) -> None:
    """Forget every stored close, figure and run (the lots stay): a fresh start for the book."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE daily_returns, portfolio_metrics, job_runs, prices"))


def close_of(demo: DemoMarketData, symbol: str, day: date) -> Decimal:
    return demo.history([symbol], day, day).closes[symbol][day]


def sessions_held_since(first: date, through: date = FRIDAY) -> list[date]:
    return calendars.sessions(first, through)


# -- daily close ---------------------------------------------------------------------------
def test_daily_close_writes_the_days_closes_returns_metrics_and_its_run(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    report = closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM)

    assert report.status == JobStatus.SUCCESS
    assert report.failed == {}
    assert report.tickers_ok == 3
    close = {s: close_of(demo, s, FRIDAY) for s in SYMBOLS}
    assert prices(committed_engine, since=FRIDAY) == [
        (s, FRIDAY, close[s], "market") for s in SYMBOLS
    ]

    # One row per holding client (Carla holds nothing): MV = sum q * C.
    friday = daily(committed_engine, day=FRIDAY)
    assert [r[0] for r in friday] == [book.ana, book.bruno]
    ana_mv = 100 * close["PETR4.SA"] + 10 * close["VALE3.SA"]
    bruno_mv = 50 * close["PETR4.SA"] + 200 * close["ITUB4.SA"]
    assert [r[2] for r in friday] == [ana_mv, bruno_mv]
    assert [r[3] for r in friday] == [0, 0]  # nobody bought on the 27th
    # r = MV_27 / (MV_26 + 0) - 1, from the stored Thursday values.
    thursday = {r[0]: r[2] for r in daily(committed_engine, day=THURSDAY)}
    assert abs(friday[0][4] - (ana_mv / thursday[book.ana] - 1)) < D("1e-11")
    assert abs(friday[1][4] - (bruno_mv / thursday[book.bruno] - 1)) < D("1e-11")

    # Metrics as of the day: invested = sum q * p0, accumulated = MV / invested - 1.
    stored = metrics(committed_engine)
    assert [(r[0], r[1], r[2], r[3]) for r in stored] == [
        (book.ana, FRIDAY, ana_mv, D("3600")),
        (book.bruno, FRIDAY, bruno_mv, D("8950")),
    ]
    for (_, _, mv, invested, accumulated, twr, irr), day_row in zip(stored, friday, strict=True):
        assert abs(accumulated - (mv / invested - 1)) < D("1e-11")
        assert twr == day_row[5]  # the cumulative TWR of the day
        assert irr is not None

    (run,) = runs(committed_engine)
    assert run.job_name == closing.DAILY_CLOSE
    assert (run.target_from, run.target_to) == (FRIDAY, FRIDAY)
    assert run.status == JobStatus.SUCCESS
    assert (run.tickers_ok, run.tickers_failed, run.failed_tickers) == (3, 0, None)
    assert run.rows_written == report.rows_written > 0
    assert run.error is None
    assert run.finished_at is not None
    assert run.triggered_by == "scheduler"
    assert report.run_id == run.id


def test_a_lot_bought_on_a_holiday_joins_on_the_next_session(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM)

    ana = {r[1]: r for r in daily(committed_engine) if r[0] == book.ana}
    assert HOLIDAY not in ana
    # VALE3 (10 x 60.00 on the 20th) is money in on Monday the 23rd.
    assert ana[date(2026, 11, 19)][3] == 0
    assert ana[date(2026, 11, 23)][3] == D("600")
    # Ana's first row is her first buy date, with the PETR4 lot as the flow.
    assert min(ana) == FIRST_BUY
    assert ana[FIRST_BUY][3] == D("3000")


def test_daily_close_twice_leaves_identical_rows(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    first = closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM)
    snapshot = (prices(committed_engine), daily(committed_engine), metrics(committed_engine))

    second = closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM)

    assert (first.status, second.status) == (JobStatus.SUCCESS, JobStatus.SUCCESS)
    assert (prices(committed_engine), daily(committed_engine), metrics(committed_engine)) == (
        snapshot
    )
    assert [r.status for r in runs(committed_engine)] == [JobStatus.SUCCESS] * 2


def test_a_b3_holiday_is_recorded_as_skipped_and_writes_nothing(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    report = closing.daily_close(committed_engine, demo, HOLIDAY, actor=SYSTEM)

    assert report.status == JobStatus.SKIPPED
    assert report.error == "2026-11-20 is not a B3 trading day"
    assert prices(committed_engine) == []
    assert daily(committed_engine) == []
    assert metrics(committed_engine) == []
    (run,) = runs(committed_engine)
    assert (run.status, run.error) == (JobStatus.SKIPPED, report.error)
    assert run.finished_at is not None


# -- backfill and gap repair ---------------------------------------------------------------
def test_backfill_reports_progress_and_equals_daily_closes_run_day_by_day(
    committed_engine: Engine,
    demo: DemoMarketData,
    book: Book,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recompute, "CHUNK_DAYS", 5)  # several chunks, so several progress calls
    seen: list[tuple[int, int]] = []

    report = closing.backfill(
        committed_engine,
        demo,
        RANGE_START,
        FRIDAY,
        progress=lambda d, t: seen.append((d, t)),
        actor=SYSTEM,
    )

    days = calendars.sessions(RANGE_START, FRIDAY)
    assert len(days) == 18  # November without Finados (2nd) and Consciência Negra (20th)
    assert report.status == JobStatus.SUCCESS
    assert seen == [(5, 18), (10, 18), (15, 18), (18, 18)]
    backfilled = (prices(committed_engine, since=RANGE_START), daily(committed_engine))
    backfilled_metrics = metrics(committed_engine, as_of=FRIDAY)
    assert len(backfilled[1]) == len(sessions_held_since(FIRST_BUY)) + len(
        sessions_held_since(date(2026, 11, 10))
    )
    (run,) = runs(committed_engine)
    assert (run.job_name, run.target_from, run.target_to) == ("backfill", RANGE_START, FRIDAY)

    clear(committed_engine)
    for day in days:
        assert (
            closing.daily_close(committed_engine, demo, day, actor=SYSTEM).status
            == JobStatus.SUCCESS
        )

    assert prices(committed_engine, since=RANGE_START) == backfilled[0]
    assert daily(committed_engine) == backfilled[1]
    assert metrics(committed_engine, as_of=FRIDAY) == backfilled_metrics


def test_gap_repair_fills_missing_closes_and_figures_from_the_first_buy(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    # A daily close alone only asks for the last week: older closes are missing, and the
    # figures before them value the lots at their buy price.
    closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM)
    assert {r[1] for r in prices(committed_engine)} >= {FRIDAY}
    assert min(r[1] for r in prices(committed_engine)) == date(2026, 11, 20)
    ana_first = daily(committed_engine, day=FIRST_BUY)
    assert ana_first[0][2] == D("3000")  # 100 x the buy price, no close known yet

    report = closing.repair_gaps(committed_engine, demo, FRIDAY, actor=SYSTEM)

    assert report.status == JobStatus.SUCCESS
    assert report.tickers_ok == 3
    stored = prices(committed_engine)
    first_held = {"PETR4.SA": FIRST_BUY, "ITUB4.SA": date(2026, 11, 10), "VALE3.SA": HOLIDAY}
    for symbol, first in first_held.items():
        have = {r[1] for r in stored if r[0] == symbol}
        assert set(calendars.sessions(first, FRIDAY)) <= have, symbol
    repaired = daily(committed_engine)
    repaired_metrics = metrics(committed_engine, as_of=FRIDAY)
    petr4_first = close_of(demo, "PETR4.SA", FIRST_BUY)
    assert repaired[0][:4] == (book.ana, FIRST_BUY, 100 * petr4_first, D("3000"))
    assert abs(repaired[0][4] - (petr4_first / D("30") - 1)) < D("1e-11")

    # The same figures as a fresh full backfill.
    clear(committed_engine)
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    assert repaired == daily(committed_engine)
    assert repaired_metrics == metrics(committed_engine, as_of=FRIDAY)

    # Nothing left to repair: a second run changes nothing.
    snapshot = (prices(committed_engine), daily(committed_engine))
    assert (
        closing.repair_gaps(committed_engine, demo, FRIDAY, actor=SYSTEM).status
        == JobStatus.SUCCESS
    )
    assert (prices(committed_engine), daily(committed_engine)) == snapshot


def test_missing_closes_are_the_sessions_since_the_first_buy_without_a_close() -> None:
    from core.repositories.ledger import HeldAsset

    held = [HeldAsset(1, "PETR4.SA", HOLIDAY), HeldAsset(2, "SPY", HOLIDAY)]
    existing = {1: {date(2026, 11, 23), date(2026, 11, 25)}, 2: set()}

    missing = closes.missing_closes(held, existing, date(2026, 11, 26))

    # B3: 20th is a holiday; NYSE: open on the 20th, closed on Thanksgiving (26th).
    assert missing == {
        "PETR4.SA": [date(2026, 11, 24), date(2026, 11, 26)],
        "SPY": [HOLIDAY, date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)],
    }


# -- lot changes ---------------------------------------------------------------------------
def test_a_lot_with_an_old_buy_date_recomputes_its_client_at_once(
    committed_engine: Engine, demo: DemoMarketData, book: Book, admin: Principal
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    before = daily(committed_engine)
    since = date(2026, 11, 12)

    # Ana buys more of a ticker the book already holds, dated back to the 12th.
    add_lot(committed_engine, demo, admin, book.ana, "ITUB4.SA", "40", "35.50", since)

    # Before: Ana's rows from the 12th and her metrics were gone until the next run.
    recomputed = daily(committed_engine)
    assert [r for r in recomputed if r[0] != book.ana] == [r for r in before if r[0] != book.ana]
    ana = {r[1]: r for r in recomputed if r[0] == book.ana}
    assert set(ana) == set(sessions_held_since(FIRST_BUY))
    assert ana[since][3] == D("1420")  # 40 x 35.50 is money in on the 12th
    recomputed_metrics = metrics(committed_engine, as_of=FRIDAY)
    assert [r[0] for r in recomputed_metrics] == [book.ana, book.bruno]

    # The same figures as the scheduler computes from scratch; its next close changes nothing.
    assert closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM).ok
    assert daily(committed_engine) == recomputed
    clear(committed_engine)
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    assert recomputed == daily(committed_engine)
    assert recomputed_metrics == metrics(committed_engine, as_of=FRIDAY)


def test_a_new_ticker_with_an_old_buy_date_is_repaired_by_the_next_gap_repair(
    committed_engine: Engine, demo: DemoMarketData, book: Book, admin: Principal
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    add_lot(committed_engine, demo, admin, book.bruno, "WEGE3.SA", "30", "44.00", FIRST_BUY)
    # Recomputed at once, the new ticker valued at its buy price: none of its closes yet.
    bruno = [r for r in daily(committed_engine) if r[0] == book.bruno]
    assert [r[1] for r in bruno] == sessions_held_since(FIRST_BUY)
    assert bruno[0][2] == D("1320")  # 30 x 44.00 on the 3rd

    report = closing.repair_gaps(committed_engine, demo, FRIDAY, actor=SYSTEM)

    assert report.status == JobStatus.SUCCESS
    have = {r[1] for r in prices(committed_engine) if r[0] == "WEGE3.SA"}
    assert set(calendars.sessions(FIRST_BUY, FRIDAY)) <= have
    repaired = daily(committed_engine)
    repaired_metrics = metrics(committed_engine, as_of=FRIDAY)
    clear(committed_engine)
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    assert repaired == daily(committed_engine)
    assert repaired_metrics == metrics(committed_engine, as_of=FRIDAY)


def test_a_lot_change_during_a_run_is_read_again_and_the_run_finishes(
    committed_engine: Engine,
    demo: DemoMarketData,
    book: Book,
    admin: Principal,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recompute, "CHUNK_DAYS", 5)
    changed: list[int] = []

    def change_a_lot_after_the_first_chunk(done: int, _total: int) -> None:
        if not changed:
            changed.append(done)
            add_lot(committed_engine, demo, admin, book.ana, "ITUB4.SA", "40", "35.50", nov(4))

    report = closing.backfill(
        committed_engine,
        demo,
        RANGE_START,
        FRIDAY,
        progress=change_a_lot_after_the_first_chunk,
        actor=SYSTEM,
    )

    # Before: the run failed with LotsChanged after its first chunk and the rest waited for
    # the next gap repair. Rows computed from the old lots are still never written: the run
    # reads the changed ledger and computes the rest from it.
    assert changed == [5]
    assert report.status == JobStatus.SUCCESS
    finished = (daily(committed_engine), metrics(committed_engine, as_of=FRIDAY))
    clear(committed_engine)
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    assert finished == (daily(committed_engine), metrics(committed_engine, as_of=FRIDAY))


def test_a_ledger_that_keeps_changing_fails_the_run_after_its_retries(
    committed_engine: Engine,
    demo: DemoMarketData,
    book: Book,
    admin: Principal,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recompute, "CHUNK_DAYS", 5)
    changes: list[int] = []

    def change_a_lot_every_chunk(done: int, _total: int) -> None:
        changes.append(done)
        day = nov(4 + len(changes))
        add_lot(committed_engine, demo, admin, book.ana, "ITUB4.SA", "1", "35.50", day)

    report = closing.backfill(
        committed_engine, demo, RANGE_START, FRIDAY, progress=change_a_lot_every_chunk, actor=SYSTEM
    )

    assert len(changes) == recompute.LEDGER_RETRIES
    assert report.status == JobStatus.FAILED
    assert report.error == "LotsChanged: lots changed during the run; the next run recomputes"


def test_an_edit_stamped_earlier_than_the_latest_change_still_changes_the_lots_version(
    committed_engine: Engine, book: Book
) -> None:
    # An edit whose transaction began before another edit that committed first carries the
    # earlier time: the latest change time stays the same, the version must not.
    with committed_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        uow = UnitOfWork(sessionmaker(bind=conn))
        uow.__enter__()
        version = uow.ledger.book_snapshot().version
        with committed_engine.begin() as other:
            other.execute(
                text(
                    "UPDATE movements SET quantity = quantity + 1, "
                    "updated_at = (SELECT min(updated_at) FROM movements) - interval '1 hour' "
                    "WHERE id = (SELECT min(id) FROM movements)"
                )
            )
        with pytest.raises(figures.LotsChanged), uow.transaction():
            uow.figures.write_days(version, prices=[], daily=EMPTY_DAILY, days=[FRIDAY])
        uow.__exit__(None, None, None)


EMPTY_DAILY = {name: np.zeros(0) for name in figures.DAILY_COLUMNS}


def test_a_close_that_arrives_late_is_picked_up_by_the_next_daily_close(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    wednesday = nov(25)
    closing.backfill(committed_engine, demo, RANGE_START, wednesday, actor=SYSTEM)
    late = FailingMarket(demo, {"ITUB4.SA": "no_data"})
    assert (
        closing.daily_close(committed_engine, late, THURSDAY, actor=SYSTEM).status
        == JobStatus.PARTIAL
    )
    assert "ITUB4.SA" not in {r[0] for r in prices(committed_engine, since=THURSDAY)}

    # Friday's run re-asks the last week: Thursday's ITUB4 close is stored and Thursday's
    # figures are recomputed with it.
    assert (
        closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM).status
        == JobStatus.SUCCESS
    )

    assert ("ITUB4.SA", THURSDAY, close_of(demo, "ITUB4.SA", THURSDAY), "market") in prices(
        committed_engine
    )
    caught_up = (daily(committed_engine), metrics(committed_engine, as_of=FRIDAY))
    clear(committed_engine)
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    assert caught_up == (daily(committed_engine), metrics(committed_engine, as_of=FRIDAY))


def test_runs_without_any_lots_succeed_and_write_no_figures(
    committed_engine: Engine, demo: DemoMarketData
) -> None:
    for report in (
        closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM),
        closing.repair_gaps(committed_engine, demo, FRIDAY, actor=SYSTEM),
        closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM),
    ):
        assert report.status == JobStatus.SUCCESS, report
        assert (report.tickers_ok, report.failed, report.rows_written) == (0, {}, 0)
    assert (prices(committed_engine), daily(committed_engine), metrics(committed_engine)) == (
        [],
        [],
        [],
    )
    assert closing.held_symbols(committed_engine, actor=SYSTEM) == []


def test_a_read_only_user_runs_no_job_and_writes_nothing(
    committed_engine: Engine, demo: DemoMarketData, book: Book, reader: Principal
) -> None:
    # Every job refuses a reader itself (not only the Jobs page): nothing is fetched,
    # recorded or written, not even the exchange-rate rows held_symbols creates.
    jobs = (
        lambda: closing.daily_close(committed_engine, demo, FRIDAY, actor=reader),
        lambda: closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=reader),
        lambda: closing.repair_gaps(committed_engine, demo, FRIDAY, actor=reader),
        lambda: closing.held_symbols(committed_engine, actor=reader),
    )
    for job in jobs:
        with pytest.raises(PermissionDenied):
            job()
    assert (runs(committed_engine), prices(committed_engine), daily(committed_engine)) == (
        [],
        [],
        [],
    )


# -- failures ------------------------------------------------------------------------------
class FailingMarket:
    """The demo adapter, except that some tickers fail (history and quotes)."""

    def __init__(self, inner: DemoMarketData, failing: dict[str, str]) -> None:
        self.inner = inner
        self.name = inner.name
        self.failing = failing

    def search(self, query: str, limit: int = 10) -> SearchResult:
        return self.inner.search(query, limit)

    def quotes(self, symbols: list[str]) -> QuoteBatch:
        batch = self.inner.quotes([s for s in symbols if s not in self.failing])
        batch.failed.update({s: self.failing[s] for s in symbols if s in self.failing})
        return batch

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        batch = self.inner.history([s for s in symbols if s not in self.failing], start, end)
        batch.failed.update({s: self.failing[s] for s in symbols if s in self.failing})
        return batch


def test_a_failing_ticker_makes_a_partial_run_that_keeps_its_stored_closes(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, THURSDAY, actor=SYSTEM)
    itub4_before = prices_with_fetch_time(committed_engine, "ITUB4.SA")
    assert itub4_before[-1][0] == THURSDAY

    report = closing.daily_close(
        committed_engine, FailingMarket(demo, {"ITUB4.SA": "unavailable"}), FRIDAY, actor=SYSTEM
    )

    assert report.status == JobStatus.PARTIAL
    assert report.failed == {"ITUB4.SA": "unavailable"}
    assert report.tickers_ok == 2
    run = runs(committed_engine)[-1]
    assert (run.status, run.tickers_ok, run.tickers_failed) == (JobStatus.PARTIAL, 2, 1)
    assert run.failed_tickers == ["ITUB4.SA"]
    # Good data of the other tickers is written; the failing one's closes are untouched.
    assert prices(committed_engine, since=FRIDAY) == [
        ("PETR4.SA", FRIDAY, close_of(demo, "PETR4.SA", FRIDAY), "market"),
        ("VALE3.SA", FRIDAY, close_of(demo, "VALE3.SA", FRIDAY), "market"),
    ]
    assert prices_with_fetch_time(committed_engine, "ITUB4.SA") == itub4_before
    # Bruno's figures carry ITUB4's latest stored close (Thursday's, not an older one), and
    # never invent one.
    (bruno,) = [r for r in daily(committed_engine, day=FRIDAY) if r[0] == book.bruno]
    itub4_thursday = itub4_before[-1][1]
    assert bruno[2] == 50 * close_of(demo, "PETR4.SA", FRIDAY) + 200 * itub4_thursday


class OddClosesMarket(FailingMarket):
    """The demo adapter, except that some tickers' closes come back as the given values."""

    def __init__(self, inner: DemoMarketData, odd: dict[str, Decimal]) -> None:
        super().__init__(inner, {})
        self.odd = odd

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        batch = self.inner.history(symbols, start, end)
        for symbol, value in self.odd.items():
            batch.closes[symbol] = {day: value for day in batch.closes.get(symbol, {})}
        return batch


@pytest.mark.parametrize(
    "odd",
    [D("1E-9"), D("0"), D("NaN"), D("1E+13"), D("-3.5")],
    ids=["tiny", "0", "nan", "huge", "neg"],
)
def test_a_close_the_database_cannot_hold_fails_its_ticker_not_the_run(
    committed_engine: Engine, demo: DemoMarketData, book: Book, odd: Decimal
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, THURSDAY, actor=SYSTEM)
    itub4_before = prices_with_fetch_time(committed_engine, "ITUB4.SA")

    report = closing.daily_close(
        committed_engine, OddClosesMarket(demo, {"ITUB4.SA": odd}), FRIDAY, actor=SYSTEM
    )

    assert report.status == JobStatus.PARTIAL
    assert report.failed == {"ITUB4.SA": "invalid_value"}
    assert "outside what prices can hold" in report.failed_details["ITUB4.SA"]
    assert [r[0] for r in prices(committed_engine, since=FRIDAY)] == ["PETR4.SA", "VALE3.SA"]
    assert prices_with_fetch_time(committed_engine, "ITUB4.SA") == itub4_before
    assert {r[0] for r in daily(committed_engine, day=FRIDAY)} == {book.ana, book.bruno}


def test_a_database_error_inside_the_pipeline_rolls_the_day_back(
    committed_engine: Engine,
    demo: DemoMarketData,
    through_thursday: tuple,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_upsert = figures.send_upsert

    def upsert_with_a_zero_close(conn: Any, rows: Any) -> None:
        # A close of 0 breaks the CHECK inside the pipeline, after the lock and version check.
        asset_id, day, _ = rows[0]
        real_upsert(conn, [*rows[1:], (asset_id, day, D(0))])

    monkeypatch.setattr(figures, "send_upsert", upsert_with_a_zero_close)
    report = closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM)

    assert report.status == JobStatus.FAILED
    assert str(report.error).startswith("CheckViolation")
    assert (prices(committed_engine), daily(committed_engine), metrics(committed_engine)) == (
        through_thursday
    )
    monkeypatch.undo()
    assert (
        closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM).status
        == JobStatus.SUCCESS
    )


def test_a_failing_ticker_does_not_replace_a_close_already_stored_for_the_day(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    itub4_before = prices_with_fetch_time(committed_engine, "ITUB4.SA")
    figures_before = (daily(committed_engine), metrics(committed_engine))

    report = closing.daily_close(
        committed_engine, FailingMarket(demo, {"ITUB4.SA": "rate_limited"}), FRIDAY, actor=SYSTEM
    )

    assert report.status == JobStatus.PARTIAL
    assert prices_with_fetch_time(committed_engine, "ITUB4.SA") == itub4_before
    assert daily(committed_engine) == figures_before[0]
    assert metrics(committed_engine) == figures_before[1]


@pytest.fixture
def through_thursday(committed_engine: Engine, demo: DemoMarketData, book: Book) -> tuple:
    """The book backfilled through Thursday: its closes, daily returns and metrics."""
    closing.backfill(committed_engine, demo, RANGE_START, THURSDAY, actor=SYSTEM)
    return prices(committed_engine), daily(committed_engine), metrics(committed_engine)


def test_an_exception_fails_the_run_with_its_text_and_writes_nothing_of_that_date(
    committed_engine: Engine,
    demo: DemoMarketData,
    through_thursday: tuple,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = through_thursday

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("metrics exploded")

    # The metrics are computed last, once the date's returns are.
    monkeypatch.setattr(recompute, "client_metrics", explode)
    report = closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM)

    assert report.status == JobStatus.FAILED
    assert report.error == "RuntimeError: metrics exploded"
    assert not report.ok
    run = runs(committed_engine)[-1]
    assert (run.status, run.error) == (JobStatus.FAILED, "RuntimeError: metrics exploded")
    assert run.finished_at is not None
    assert (prices(committed_engine), daily(committed_engine), metrics(committed_engine)) == (
        before
    )
    assert prices(committed_engine, since=FRIDAY) == []


def test_a_database_error_in_the_days_write_rolls_all_of_it_back_and_the_next_run_succeeds(
    committed_engine: Engine,
    demo: DemoMarketData,
    book: Book,
    through_thursday: tuple,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = through_thursday
    real_copy = figures.copy_csv

    def copy_metrics_twice(session: Any, table: str, columns: Any, frame: Any, *rest: Any) -> int:
        if table == "portfolio_metrics":  # every client twice: the primary key refuses it
            frame = {name: np.concatenate([values, values]) for name, values in frame.items()}
        return real_copy(session, table, columns, frame, *rest)

    # The metrics are the last COPY of the date's transaction, after its closes were upserted
    # and its returns copied, all on the run's own connection (in autocommit outside it).
    monkeypatch.setattr(figures, "copy_csv", copy_metrics_twice)
    report = closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM)

    assert report.status == JobStatus.FAILED
    assert str(report.error).startswith("UniqueViolation")
    assert runs(committed_engine)[-1].status == JobStatus.FAILED
    assert (prices(committed_engine), daily(committed_engine), metrics(committed_engine)) == (
        before
    )

    # The connection and the lock came back clean: the next run writes the date.
    monkeypatch.undo()
    assert (
        closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM).status
        == JobStatus.SUCCESS
    )
    assert {r[0] for r in daily(committed_engine, day=FRIDAY)} == {book.ana, book.bruno}
    assert [r[0] for r in metrics(committed_engine, as_of=FRIDAY)] != []


def test_an_adapter_that_raises_fails_the_run(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    class Broken(FailingMarket):
        def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
            raise ConnectionError("upstream went away")

    report = closing.backfill(committed_engine, Broken(demo, {}), RANGE_START, FRIDAY, actor=SYSTEM)

    assert report.status == JobStatus.FAILED
    assert report.error == "ConnectionError: upstream went away"
    assert (prices(committed_engine), daily(committed_engine)) == ([], [])


# -- the lock ------------------------------------------------------------------------------
def test_while_the_lock_is_held_a_run_is_skipped_and_writes_nothing(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    with locked(committed_engine) as (got, _):
        assert got
        with locked(committed_engine) as (again, _):
            assert not again  # another connection cannot take it
        report = closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM)

    assert report.status == JobStatus.SKIPPED
    assert report.error == "another run holds the lock"
    assert (prices(committed_engine), daily(committed_engine), metrics(committed_engine)) == (
        [],
        [],
        [],
    )
    (run,) = runs(committed_engine)
    assert run.status == JobStatus.SKIPPED

    # Released at the end of the block: the next run goes ahead.
    assert (
        closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM).status
        == JobStatus.SUCCESS
    )


class GatedMarket(FailingMarket):
    """Demo data whose history waits for ``release``: the lock holder stays busy until the
    other run has finished."""

    def __init__(self, inner: DemoMarketData, release: threading.Event) -> None:
        super().__init__(inner, {})
        self.release = release

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        assert self.release.wait(timeout=20), "the other run never finished"
        return super().history(symbols, start, end)


def test_concurrent_daily_closes_run_once_and_skip_once(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    release = threading.Event()
    market = GatedMarket(demo, release)
    barrier = threading.Barrier(2)
    reports: list[RunReport | BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            reports.append(closing.daily_close(committed_engine, market, FRIDAY, actor=SYSTEM))
        except BaseException as exc:  # asserted on below
            reports.append(exc)
        finally:
            release.set()  # whoever finishes first lets the other one go on

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a run hung"

    assert all(isinstance(r, RunReport) for r in reports), reports
    assert sorted(r.status for r in reports if isinstance(r, RunReport)) == [
        JobStatus.SKIPPED,
        JobStatus.SUCCESS,
    ]
    assert sorted(r.status for r in runs(committed_engine)) == [
        JobStatus.SKIPPED,
        JobStatus.SUCCESS,
    ]
    stored = daily(committed_engine)
    keys = [(r[0], r[1]) for r in stored]
    assert len(keys) == len(set(keys))
    assert len(stored) == len(sessions_held_since(FIRST_BUY)) + len(
        sessions_held_since(date(2026, 11, 10))
    )
    assert len(metrics(committed_engine)) == 2
    price_keys = [(r[0], r[1]) for r in prices(committed_engine)]
    assert len(price_keys) == len(set(price_keys))


# -- the live-quote refresh ----------------------------------------------------------------
class TickingClock:
    """One clock for the demo adapter (datetime) and the cache (epoch seconds)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def moment(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()


@pytest.fixture
def live_redis(redis_url: str) -> Iterator[tuple[redis.Redis, str]]:
    """The real Redis and an adapter name unique to this test; its keys go afterwards."""
    client = redis_for(redis_url)
    name = f"test-refresh-{uuid.uuid4().hex[:12]}"
    yield client, name
    for key in client.scan_iter(f"{PREFIX}:{name}:*"):
        client.delete(key)


def test_refresh_quotes_asks_upstream_once_per_100_tickers_every_time(
    live_redis: tuple[redis.Redis, str],
) -> None:
    client, name = live_redis
    clock = TickingClock(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    listings = [
        Listing(f"T{i:03d}.SA", f"Ticker {i}", "São Paulo", "Equity", "BRL", 10.0 + i, 0.3)
        for i in range(250)
    ]
    upstream = DemoMarketData(clock=clock.moment, listings=listings)
    upstream.name = name
    cache = CachedMarketData(upstream, client, ttl_s=600, clock=clock.epoch)
    symbols = [listing.symbol for listing in listings]

    def envelope(symbol: str) -> dict[str, Any]:
        raw = client.get(cache.key("quote", symbol))
        assert raw is not None, symbol
        return orjson.loads(raw)

    first = cache.refresh_quotes(symbols)
    assert upstream.calls["quotes"] == 3  # 100 + 100 + 50
    assert sorted(first.quotes) == symbols
    assert first.failed == {}
    assert {info.status for info in first.cache.values()} == {"miss"}

    # Everything is fresh in the cache now; the poller still asks upstream, and stores anew.
    clock.now = datetime(2026, 11, 27, 15, 0, 30, tzinfo=UTC)
    second = cache.refresh_quotes(symbols)
    assert upstream.calls["quotes"] == 6
    for symbol in symbols:
        stored = envelope(symbol)
        assert stored["stored_at"] == clock.epoch()
        assert stored["fresh_until"] == clock.epoch() + 600
        assert stored["data"]["price"] == str(second.quotes[symbol].price)
    changed = [s for s in symbols if second.quotes[s].price != first.quotes[s].price]
    assert changed, "30 s later the demo quotes moved"

    # Readers are then served from the cache without going upstream.
    read = cache.quotes(symbols[:120])
    assert upstream.calls["quotes"] == 6
    assert {info.status for info in read.cache.values()} == {"hit"}
    assert {s: q.price for s, q in read.quotes.items()} == {
        s: second.quotes[s].price for s in symbols[:120]
    }


def test_a_lot_bought_on_a_day_without_its_close_yet_is_valued_at_its_buy_price(
    committed_engine: Engine, demo: DemoMarketData, book: Book, admin: Principal
) -> None:
    wednesday = nov(25)
    closing.backfill(committed_engine, demo, RANGE_START, wednesday, actor=SYSTEM)
    # Carla buys ITUB4 on Thursday, far from Wednesday's close, and Thursday's ITUB4 close
    # does not arrive: she is valued at what she paid, not at Wednesday's close.
    add_lot(committed_engine, demo, admin, book.carla, "ITUB4.SA", "100", "10.00", THURSDAY)
    late = FailingMarket(demo, {"ITUB4.SA": "no_data"})
    closing.daily_close(committed_engine, late, THURSDAY, actor=SYSTEM)

    [(_, _, value, flow, day_return, twr)] = [
        r for r in daily(committed_engine, day=THURSDAY) if r[0] == book.carla
    ]
    assert (value, flow, day_return, twr) == (D("1000"), D("1000"), D("0"), D("0"))
    # Friday's close arrives: valued at it from then on.
    closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM)
    [(_, _, value, *_rest)] = [r for r in daily(committed_engine, day=FRIDAY) if r[0] == book.carla]
    assert value == 100 * close_of(demo, "ITUB4.SA", FRIDAY)
