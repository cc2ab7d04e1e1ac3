"""How the scheduler's runs end when prices fail, are odd, or change; and one client whose
figures cannot be stored never stops the others (issue 11 §1-§3).

Through the real jobs on the real PostgreSQL. Yahoo faults are injected at yfinance's
``YfData.get`` seam (``tests.yahoo_replay``); the other cases wrap the demo adapter at the
market port (what the adapter answered is what is under test there, not its parsing).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from core.market.demo import DemoMarketData
from core.market.port import HistoryBatch
from core.market.retry import RetryPolicy
from core.market.yahoo import YahooMarketData
from core.models import JobStatus
from core.services import closing
from core.services.clients import create_client
from core.services.principal import SYSTEM, Principal
from jobs import status
from tests.integration.test_closing_jobs import (
    CLOCK,
    FRIDAY,
    RANGE_START,
    THURSDAY,
    Book,
    FailingMarket,
    OddClosesMarket,
    add_lot,
    book,
    clear,
    daily,
    demo,
    metrics,
    new_uow,
    nov,
    prices,
    rows,
    runs,
)
from tests.yahoo_replay import Fault, YahooReplay, yahoo_replay

__all__ = ["book", "demo"]  # fixtures used by the tests below

D = Decimal
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")


@pytest.fixture
def yahoo(tmp_path: Path) -> Iterator[YahooReplay]:
    with yahoo_replay(tmp_path / "replay") as replay:
        yield replay


@pytest.fixture
def yahoo_market(tmp_path: Path) -> YahooMarketData:
    """The real Yahoo adapter over the replay seam; its back-offs are recorded, not slept."""
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=3, max_total_s=60, wait_base_s=0.5, wait_max_s=8)
    return YahooMarketData(cache_dir=tmp_path / "yf", policy=policy, sleep=sleeps.append)


def details(engine: Engine) -> dict[str, Any] | None:
    """The newest run's ``job_runs.details``."""
    return rows(engine, "SELECT details FROM job_runs ORDER BY id DESC LIMIT 1")[0][0]


def health(engine: Engine) -> int:
    return status.assess(engine, CLOCK).code


# -- §1 outcomes -------------------------------------------------------------------------
def test_a_rate_limit_storm_fails_the_daily_close_writes_nothing_and_turns_status_red(
    committed_engine: Engine,
    demo: DemoMarketData,
    book: Book,
    yahoo: YahooReplay,
    yahoo_market: YahooMarketData,
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, THURSDAY, actor=SYSTEM)
    before = (prices(committed_engine), daily(committed_engine), metrics(committed_engine))
    yahoo.inject(Fault.rate_limit(), "chart", times=None)
    yahoo.inject(Fault.rate_limit(), "quote", times=None)

    report = closing.daily_close(committed_engine, yahoo_market, FRIDAY, actor=SYSTEM)

    # Before: partial, 0 of 3 priced, and Friday's rows written at Thursday's closes.
    assert report.status == JobStatus.FAILED
    assert report.tickers_ok == 0
    assert set(report.failed.values()) <= {"rate_limited", "not_fetched"}
    assert str(report.error).startswith("no ticker priced: all 3 failed")
    assert (prices(committed_engine), daily(committed_engine), metrics(committed_engine)) == (
        before
    )
    assert runs(committed_engine)[-1].status == JobStatus.FAILED
    assert health(committed_engine) == status.FAILED  # exit code 1 (it was 0, "OK")


def test_a_backfill_in_a_rate_limit_storm_fails_and_writes_no_figures(
    committed_engine: Engine, book: Book, yahoo: YahooReplay, yahoo_market: YahooMarketData
) -> None:
    yahoo.inject(Fault.rate_limit(), "chart", times=None)

    report = closing.backfill(committed_engine, yahoo_market, RANGE_START, FRIDAY, actor=SYSTEM)

    # Before: partial, 0/3 priced, and every client's daily returns valued at cost.
    assert report.status == JobStatus.FAILED
    assert report.rows_written == 0
    assert daily(committed_engine) == []
    assert metrics(committed_engine) == []
    stored = (details(committed_engine) or {})["failed"]
    assert sorted(stored) == ["ITUB4.SA", "PETR4.SA", "VALE3.SA"]
    assert set(stored.values()) <= {"rate_limited", "not_fetched"}


class SilentMarket(FailingMarket):
    """The demo adapter, except that some tickers have no bar at all (no error)."""

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        batch = self.inner.history(symbols, start, end)
        for symbol in self.failing:
            batch.closes.pop(symbol, None)
        return batch


def test_no_bar_on_a_day_its_market_was_closed_is_not_a_failure(
    committed_engine: Engine, demo: DemoMarketData, admin: Principal
) -> None:
    client = create_client(
        new_uow(committed_engine), admin, {"name": "Dora", "email": "dora@example.com"}
    ).id
    add_lot(committed_engine, demo, admin, client, "AAPL", "1", "100", nov(20))
    closing.backfill(committed_engine, demo, nov(20), nov(25), actor=SYSTEM)

    # Thanksgiving (the 26th): B3 trades, NYSE does not, and Yahoo has no AAPL bar.
    report = closing.daily_close(
        committed_engine, SilentMarket(demo, {"AAPL": ""}), THURSDAY, actor=SYSTEM
    )

    assert report.status != JobStatus.FAILED
    assert "AAPL" not in report.failed
    assert [r[1] for r in daily(committed_engine)][-1] == THURSDAY


def test_missing_closes_are_counted_and_make_the_run_partial(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    class HoleyMarket(FailingMarket):
        """PETR4 comes back with 6 of its sessions left out, 2 of them sent empty."""

        def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
            batch = self.inner.history(symbols, start, end)
            series = batch.closes["PETR4.SA"]
            for day in sorted(series)[1:7]:
                del series[day]
            batch.dropped["PETR4.SA"] = 2
            return batch

    report = closing.backfill(
        committed_engine, HoleyMarket(demo, {}), RANGE_START, FRIDAY, actor=SYSTEM
    )

    # Before: success, nothing reported.
    assert report.status == JobStatus.PARTIAL
    assert report.failed == {}
    assert report.missing == {"PETR4.SA": 6}
    assert details(committed_engine) == {
        "missing_closes": {"PETR4.SA": 6},
        "dropped_closes": {"PETR4.SA": 2},
    }
    assert health(committed_engine) in {status.OVERDUE, status.HEALTHY}  # not a failure


# -- §2 one client's figures that cannot be stored -----------------------------------------
def insert_lot(engine: Engine, client_id: int, symbol: str, quantity: str, price: str) -> None:
    """A lot stored before forms refused such amounts (straight into the table)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO movements (client_id, asset_id, quantity, price, date) "
                "SELECT :client, id, :quantity, :price, :day FROM assets WHERE symbol = :symbol"
            ),
            {
                "client": client_id,
                "quantity": quantity,
                "price": price,
                "day": nov(3),
                "symbol": symbol,
            },
        )


def test_a_client_whose_value_overflows_is_named_and_everyone_else_is_written(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    clean = (daily(committed_engine), metrics(committed_engine, as_of=FRIDAY))
    clear(committed_engine)
    insert_lot(committed_engine, book.carla, "PETR4.SA", "1000000", "2000000")

    report = closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)

    # Before: failed with a numeric overflow, 0 rows for every client.
    assert report.status == JobStatus.PARTIAL
    assert (daily(committed_engine), metrics(committed_engine, as_of=FRIDAY)) == clean
    (carla,) = report.unstored
    assert (carla.client_id, carla.name, carla.since, carla.column) == (
        book.carla,
        "Carla",
        nov(3),
        "flow_in",  # R$ 2·10^12 paid in; PETR4 at about R$ 30 is worth R$ 3·10^7
    )
    (stored,) = (details(committed_engine) or {})["unstored_clients"]
    assert stored["name"] == "Carla"
    assert stored["column"] == "flow_in"
    assert stored["value"] > 1e12

    # The next close still writes everyone else, and names Carla again.
    again = closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM)
    assert again.status == JobStatus.PARTIAL
    assert [c.client_id for c in again.unstored] == [book.carla]
    assert {r[0] for r in daily(committed_engine, day=FRIDAY)} == {book.ana, book.bruno}
    verdict = status.assess(committed_engine, CLOCK)
    assert verdict.code == status.HEALTHY
    assert verdict.message.endswith("partial: 1 client(s) whose figures could not be stored)")


def test_a_client_whose_return_overflows_is_isolated(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    # 1 share at R$ 0.00000001 of a ticker at R$ 50,000: a return of 5·10^12.
    insert_lot(committed_engine, book.carla, "ITUB4.SA", "1", "0.00000001")
    pricey = OddClosesMarket(demo, {"ITUB4.SA": D("50000")})

    report = closing.backfill(committed_engine, pricey, RANGE_START, FRIDAY, actor=SYSTEM)

    assert report.status == JobStatus.PARTIAL
    assert [(c.client_id, c.column) for c in report.unstored] == [(book.carla, "daily_return")]
    written = {r[0] for r in daily(committed_engine)}
    assert written == {book.ana, book.bruno}
    assert {r[0] for r in metrics(committed_engine, as_of=FRIDAY)} == {book.ana, book.bruno}


# -- §3 revised closes ---------------------------------------------------------------------
class RevisedMarket(FailingMarket):
    """The demo adapter, with some closes changed upstream."""

    def __init__(self, inner: DemoMarketData, revised: dict[tuple[str, date], Decimal]) -> None:
        super().__init__(inner, {})
        self.revised = revised

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        batch = self.inner.history(symbols, start, end)
        for (symbol, day), price in self.revised.items():
            if symbol in batch.closes and start <= day <= end:
                batch.closes[symbol][day] = price
        return batch


def test_a_revised_close_in_the_last_week_replaces_the_stored_one_and_recomputes(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    wednesday = nov(25)
    closing.backfill(committed_engine, demo, RANGE_START, THURSDAY, actor=SYSTEM)
    revised = RevisedMarket(demo, {("PETR4.SA", wednesday): D("10.50")})

    report = closing.daily_close(committed_engine, revised, FRIDAY, actor=SYSTEM)

    # Before: Wednesday's stored close stayed, and so did its figures.
    assert report.status == JobStatus.SUCCESS
    assert report.revised == {"PETR4.SA": [wednesday]}
    assert (details(committed_engine) or {})["revised_closes"] == {
        "PETR4.SA": [wednesday.isoformat()]
    }
    assert ("PETR4.SA", wednesday, D("10.50000000"), "market") in prices(committed_engine)
    after = (daily(committed_engine), metrics(committed_engine, as_of=FRIDAY))
    clear(committed_engine)
    closing.backfill(committed_engine, revised, RANGE_START, FRIDAY, actor=SYSTEM)
    assert after == (daily(committed_engine), metrics(committed_engine, as_of=FRIDAY))


def test_an_unchanged_week_is_not_rewritten(
    committed_engine: Engine, demo: DemoMarketData, book: Book
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, THURSDAY, actor=SYSTEM)

    report = closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM)

    assert report.revised == {}
    assert details(committed_engine) is None
    # Friday's 3 closes, and Friday's rows for the two clients holding lots, plus metrics.
    assert report.rows_written == 3 + 2 + 2
