"""A new ticker's price history fetched right after its first buy (core.services.asset_history)
on the real PostgreSQL, with the demo adapter on the fixed clock of
``tests.integration.test_closing_jobs`` (Friday 2026-11-27).

Hand-checked: a back-dated buy of a ticker nobody held is valued at its buy price by the
recomputation its commit runs (no stored close yet); once its history is fetched, the
client's daily series starts at the buy date and the latest market value is the quantity
times the stored close of the last day, not the buy price.
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from core.errors import NotFound, PermissionDenied
from core.market import port
from core.market.demo import DemoMarketData
from core.market.port import HistoryBatch, QuoteBatch, SearchResult
from core.services import closing
from core.services.asset_history import fetch_new_asset_history, fetch_unpriced_history
from core.services.clients import create_client
from core.services.figures import client_history, client_metrics
from core.services.imports import commit_import
from core.services.principal import SYSTEM, Principal
from tests.integration.test_closing_jobs import (
    FRIDAY,
    RANGE_START,
    Book,
    add_lot,
    book,
    close_of,
    demo,
    new_uow,
    nov,
    prices,
)

__all__ = ["book", "demo"]  # fixtures

D = Decimal
NEW = "WEGE3.SA"  # in the demo catalogue, held by nobody in the book
BUY_PRICE = D("40.00")


class DownMarket:
    """The demo's quotes (the buy's ticker check), but a history that fails or hangs
    (or, ``up``, the demo's history); records what history is asked."""

    name = "yahoo"

    def __init__(self, demo: DemoMarketData, *, hang_s: float = 0.0, up: bool = False) -> None:
        self.demo, self.hang_s, self.up = demo, hang_s, up
        self.asked: list[tuple[list[str], date, date]] = []

    def search(self, query: str, limit: int = 10) -> SearchResult:
        return self.demo.search(query, limit)

    def quotes(self, symbols: list[str]) -> QuoteBatch:
        return self.demo.quotes(symbols)

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        self.asked.append((symbols, start, end))
        if self.up:
            return self.demo.history(symbols, start, end)
        if self.hang_s:
            time.sleep(self.hang_s)
        return HistoryBatch(failed=dict.fromkeys(symbols, port.RATE_LIMITED))


def new_client(engine: Engine, admin: Principal, name: str = "Dora") -> int:
    email = f"{name.lower()}@example.com"
    return create_client(new_uow(engine), admin, {"name": name, "email": email}).id


def latest_value(engine: Engine, client_id: int) -> tuple[date, Decimal]:
    figures = client_metrics(new_uow(engine), client_id)
    assert figures is not None
    return figures.as_of, figures.market_value


def test_the_history_of_a_new_ticker_values_the_buy_at_its_closes_at_once(
    committed_engine: Engine, demo: DemoMarketData, book: Book, admin: Principal
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    dora = new_client(committed_engine, admin)
    add_lot(committed_engine, demo, admin, dora, NEW, "20", str(BUY_PRICE), nov(4))
    # The gap: recomputed at once, but with no close of the new ticker, at its buy price.
    assert latest_value(committed_engine, dora) == (FRIDAY, 20 * BUY_PRICE)

    outcome = fetch_new_asset_history(new_uow(committed_engine), demo, admin, NEW, nov(4))

    assert outcome.status == "stored"
    assert not outcome.pending
    stored = [row for row in prices(committed_engine) if row[0] == NEW]
    assert stored[0][1] == nov(4)
    assert stored[-1][1] == FRIDAY
    assert outcome.closes == len(stored)
    close = close_of(demo, NEW, FRIDAY)
    assert close != BUY_PRICE
    assert latest_value(committed_engine, dora) == (FRIDAY, 20 * close)
    history = client_history(new_uow(committed_engine), dora)
    assert history[0].date == nov(4)
    assert history[0].market_value == 20 * close_of(demo, NEW, nov(4))
    assert history[-1].date == FRIDAY
    # Asked again, nothing is missing any more: no second fetch.
    again = fetch_new_asset_history(new_uow(committed_engine), demo, admin, NEW, nov(4))
    assert again.status == "not_needed"


def test_a_first_buy_in_an_empty_office_gets_its_whole_series(
    committed_engine: Engine, demo: DemoMarketData, admin: Principal
) -> None:
    dora = new_client(committed_engine, admin)
    add_lot(committed_engine, demo, admin, dora, NEW, "20", str(BUY_PRICE), nov(4))
    assert client_metrics(new_uow(committed_engine), dora) is None  # no close anywhere yet

    outcome = fetch_new_asset_history(new_uow(committed_engine), demo, admin, NEW, nov(4))

    assert outcome.status == "stored"
    history = client_history(new_uow(committed_engine), dora)
    assert (history[0].date, history[0].flow_in) == (nov(4), 20 * BUY_PRICE)
    assert latest_value(committed_engine, dora) == (FRIDAY, 20 * close_of(demo, NEW, FRIDAY))


@pytest.mark.parametrize("hang_s", [0.0, 2.0], ids=["refused", "no-answer"])
def test_a_failing_market_leaves_the_buy_saved_and_the_history_pending(
    committed_engine: Engine, demo: DemoMarketData, book: Book, admin: Principal, hang_s: float
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    dora = new_client(committed_engine, admin)
    market = DownMarket(demo, hang_s=hang_s)
    add_lot(committed_engine, market, admin, dora, NEW, "20", str(BUY_PRICE), nov(4))

    started = time.monotonic()
    outcome = fetch_new_asset_history(
        new_uow(committed_engine), market, admin, NEW, nov(4), deadline_s=0.5
    )

    assert time.monotonic() - started < 1.5  # bounded by the deadline, not by the source
    assert outcome.status == "pending"
    assert outcome.pending
    expected = port.NOT_FETCHED if hang_s else port.RATE_LIMITED
    assert outcome.failed == {NEW: expected}
    assert [symbols for symbols, _start, _end in market.asked] == [[NEW]]
    assert not [row for row in prices(committed_engine) if row[0] == NEW]
    # The buy stays, valued at its buy price until the scheduler's gap repair.
    assert latest_value(committed_engine, dora) == (FRIDAY, 20 * BUY_PRICE)
    report = closing.repair_gaps(committed_engine, demo, FRIDAY, actor=SYSTEM)
    assert report.ok
    assert latest_value(committed_engine, dora) == (FRIDAY, 20 * close_of(demo, NEW, FRIDAY))


def test_only_admins_fetch_and_an_unknown_ticker_is_not_found(
    committed_engine: Engine, demo: DemoMarketData, book: Book, reader: Principal, admin: Principal
) -> None:
    with pytest.raises(PermissionDenied):
        fetch_new_asset_history(new_uow(committed_engine), demo, reader, "PETR4.SA", nov(4))
    with pytest.raises(NotFound):
        fetch_new_asset_history(new_uow(committed_engine), demo, admin, "WEGE3.SA", nov(4))
    assert prices(committed_engine) == []  # nothing asked, nothing stored


def test_an_import_of_new_tickers_gets_their_histories_in_one_fetch(
    committed_engine: Engine, demo: DemoMarketData, book: Book, admin: Principal
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    dora = new_client(committed_engine, admin)
    data = (
        "Cliente;Ativo;Tipo;Data;Quantidade;Preço;Taxas\r\n"
        f"dora@example.com;{NEW};compra;04/11/2026;20;40,00;0\r\n"
        "dora@example.com;ABEV3.SA;compra;10/11/2026;100;12,00;5\r\n"
        "dora@example.com;PETR4.SA;compra;10/11/2026;10;30,00;0\r\n"  # already priced
    ).encode()
    commit_import(new_uow(committed_engine), demo, admin, "movements", "m.csv", data, "pt_BR")
    market = DownMarket(demo, up=True)  # records what is asked, then asks the demo

    outcome = fetch_unpriced_history(new_uow(committed_engine), market, admin)

    assert outcome.status == "stored"
    assert sorted(outcome.symbols) == ["ABEV3.SA", NEW]
    assert [(sorted(symbols), start) for symbols, start, _end in market.asked] == [
        (["ABEV3.SA", NEW], nov(4))
    ]
    value = (
        20 * close_of(demo, NEW, FRIDAY)
        + 100 * close_of(demo, "ABEV3.SA", FRIDAY)
        + 10 * close_of(demo, "PETR4.SA", FRIDAY)
    )
    assert latest_value(committed_engine, dora) == (FRIDAY, value)
    assert fetch_unpriced_history(new_uow(committed_engine), demo, admin).status == "not_needed"
