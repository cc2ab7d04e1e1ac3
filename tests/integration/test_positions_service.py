"""Positions from the ledger through the services, on the real PostgreSQL (rolled back),
checked by hand: preço médio with fees, realised gain after a partial sell, income typed and
per share, total return, weights in reais with a USD position, a closed position."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.db import UnitOfWork
from core.errors import NotFound
from core.market.demo import DemoMarketData
from core.market.port import HistoryBatch, Quote, QuoteBatch, SearchResult
from core.models import AssetEvent
from core.schemas import ClientOut
from core.services.allocations import add_allocation
from core.services.clients import create_client
from core.services.movements import add_income, add_sell, update_movement
from core.services.portfolio import client_portfolio
from core.services.positions import PositionRow, PositionsView, client_positions
from core.services.principal import Principal

MakeUow = Callable[[], UnitOfWork]
D = Decimal
CLOCK = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


class FakeMarket:
    """Answers ``quotes()`` from fixed (price, previous close, currency); records calls."""

    name = "fake"

    def __init__(self, prices: dict[str, tuple[str, str | None, str]]) -> None:
        self.prices = prices
        self.calls: list[list[str]] = []

    def search(self, query: str, limit: int = 10) -> SearchResult:
        raise AssertionError("search() is not expected here")

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        raise AssertionError("history() is not expected here")

    def quotes(self, symbols: list[str]) -> QuoteBatch:
        self.calls.append(list(symbols))
        batch = QuoteBatch()
        for symbol in symbols:
            if symbol not in self.prices:
                batch.failed[symbol] = "not_found"
                continue
            price, previous, currency = self.prices[symbol]
            batch.quotes[symbol] = Quote(
                symbol=symbol,
                price=D(price),
                previous_close=None if previous is None else D(previous),
                currency=currency,
                market_time=CLOCK,
                source="fake",
                name=f"{symbol} name",
                exchange="FAKE",
                first_trade_date=date(2000, 1, 3),
            )
        return batch


PRICES = {
    "PETR4.SA": ("40", "38", "BRL"),
    "VALE3.SA": ("65", "64", "BRL"),
    "AAPL": ("200", None, "USD"),
    "USDBRL=X": ("5", "5.1", "BRL"),
}


@pytest.fixture
def client(make_uow: MakeUow, admin: Principal) -> ClientOut:
    return create_client(make_uow(), admin, {"name": "Maria Souza", "email": "maria@example.com"})


def buy(
    make_uow: MakeUow,
    market: object,
    admin: Principal,
    client: ClientOut,
    symbol: str,
    quantity: str,
    price: str,
    day: str,
) -> int:
    lot = {"quantity": quantity, "buy_price": price, "buy_date": day}
    return add_allocation(make_uow(), market, admin, client.id, {"symbol": symbol}, lot).id  # type: ignore[arg-type]


def sell(
    make_uow: MakeUow,
    admin: Principal,
    client: ClientOut,
    symbol: str,
    quantity: str,
    price: str,
    day: str,
    fees: str = "0",
) -> None:
    trade = {"quantity": quantity, "price": price, "fees": fees, "date": day}
    add_sell(make_uow(), admin, client.id, symbol, trade)


def income(
    make_uow: MakeUow,
    admin: Principal,
    client: ClientOut,
    symbol: str,
    kind: str,
    amount: str,
    tax: str,
    day: str,
) -> None:
    typed = {"income_type": kind, "amount": amount, "tax": tax, "date": day}
    add_income(make_uow(), admin, client.id, symbol, typed)


def dividend_event(make_uow: MakeUow, symbol: str, day: date, per_share: str) -> None:
    with make_uow() as uow:
        asset = uow.assets.by_symbol(symbol)
        assert asset is not None
        uow.session.add(
            AssetEvent(
                asset_id=asset.id, kind="dividend", ex_date=day, value=D(per_share), source="admin"
            )
        )
        uow.commit()


def book(make_uow: MakeUow, admin: Principal, client: ClientOut) -> None:
    """PETR4 (open, with fees, a partial sell, JCP and a dividend per share), VALE3 (closed)
    and AAPL (in dollars, with a dividend)."""
    market = FakeMarket(PRICES)
    first = buy(make_uow, market, admin, client, "PETR4.SA", "100", "30", "2025-03-10")
    update_movement(  # the buy's fees: 100 x 30 + 10 = 3010
        make_uow(),
        admin,
        first,
        {"quantity": "100", "price": "30", "fees": "10", "date": "2025-03-10"},
    )
    buy(make_uow, market, admin, client, "PETR4.SA", "100", "40", "2025-03-20")
    sell(make_uow, admin, client, "PETR4.SA", "50", "45", "2025-04-01", fees="5")
    income(make_uow, admin, client, "PETR4.SA", "jcp", "100", "15", "2025-05-15")
    dividend_event(make_uow, "PETR4.SA", date(2025, 6, 2), "1")  # on the 150 held: 150
    buy(make_uow, market, admin, client, "VALE3.SA", "10", "60", "2025-03-10")
    income(make_uow, admin, client, "VALE3.SA", "dividend", "20", "0", "2025-05-10")
    sell(make_uow, admin, client, "VALE3.SA", "10", "70", "2025-06-02")
    buy(make_uow, market, admin, client, "AAPL", "10", "100", "2025-03-10")
    income(make_uow, admin, client, "AAPL", "dividend", "3", "0,90", "2025-05-20")


def rows_by_symbol(view: PositionsView) -> dict[str, PositionRow]:
    return {row.symbol: row for row in view.rows}


def test_positions_are_hand_checked_with_weights_in_reais(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    book(make_uow, admin, client)
    market = FakeMarket(PRICES)

    view = client_positions(make_uow(), market, client.id)
    rows = rows_by_symbol(view)

    # Closed VALE3 asks for no quote; AAPL needs the dollar.
    assert market.calls == [["AAPL", "PETR4.SA", "USDBRL=X"]]
    petr = rows["PETR4.SA"]
    # Bought 3010 + 4000 = 7010 for 200: preço médio 35.05. Sold 50 at 45 less 5 of fees:
    # realised 50 x (45 - 35.05) - 5 = 492.5, received 2245; 150 left at cost 5257.5.
    assert (petr.quantity, petr.average_cost, petr.cost) == (D(150), D("35.05"), D("5257.5"))
    assert (petr.bought, petr.sold, petr.realised) == (D(7010), D(2245), D("492.5"))
    # Income: JCP 100 less 15 withheld, plus R$ 1 per share on 150 shares.
    assert petr.income == D(235)
    assert (petr.price, petr.market_value, petr.unrealised) == (D(40), D(6000), D("742.5"))
    assert petr.daily_change == D(40) / D(38) - 1
    # 6000 + 2245 + 235 - 7010 = 1470 = realised + unrealised + income.
    assert petr.total_return == D(1470) == petr.realised + petr.unrealised + petr.income
    assert petr.total_return_pct == D(1470) / D(7010)

    aapl = rows["AAPL"]
    assert (aapl.average_cost, aapl.market_value, aapl.income) == (D(100), D(2000), D("2.1"))
    assert aapl.total_return == D("1002.1")
    assert aapl.daily_change is None
    # In reais: 6000 and 2000 x 5 = 10000 of 16000.
    assert view.rates == {"USD": D(5)}
    assert (petr.market_value_brl, aapl.market_value_brl) == (D(6000), D(10000))
    assert view.market_value_brl == D(16000)
    assert (petr.weight, aapl.weight) == (D("0.375"), D("0.625"))

    vale = rows["VALE3.SA"]
    assert vale.closed
    assert (vale.quantity, vale.average_cost, vale.market_value) == (D(0), None, D(0))
    # Sold 10 at 70 after buying at 60: 100 realised; 20 of dividends; 700 + 20 - 600.
    assert (vale.realised, vale.income, vale.total_return) == (D(100), D(20), D(120))
    assert vale.total_return_pct == D("0.2")
    assert (vale.price, vale.weight) == (None, D(0))

    assert view.income_by_month == {
        "BRL": {"2025-05": D(105), "2025-06": D(150)},
        "USD": {"2025-05": D("2.1")},
    }
    totals = {t.currency: t for t in view.totals}
    assert (totals["BRL"].realised, totals["BRL"].income) == (D("592.5"), D(255))
    assert (totals["BRL"].market_value, totals["BRL"].total_return) == (D(6000), D(1590))
    assert (totals["USD"].market_value, totals["USD"].unpriced) == (D(2000), 0)


def test_without_the_rate_no_weight_is_given(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    book(make_uow, admin, client)
    prices = {k: v for k, v in PRICES.items() if k != "USDBRL=X"}

    view = client_positions(make_uow(), FakeMarket(prices), client.id)
    rows = rows_by_symbol(view)

    assert view.market_value_brl is None
    assert view.rates == {}
    assert rows["AAPL"].market_value == D(2000)
    assert rows["AAPL"].market_value_brl is None
    assert [row.weight for row in view.rows] == [None, None, None]


def test_a_failed_quote_keeps_its_row_with_the_ledger_figures(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    book(make_uow, admin, client)
    prices = {k: v for k, v in PRICES.items() if k != "AAPL"}

    view = client_positions(make_uow(), FakeMarket(prices), client.id)
    aapl = rows_by_symbol(view)["AAPL"]

    assert (aapl.failure, aapl.price, aapl.market_value, aapl.weight) == (
        "not_found",
        None,
        None,
        None,
    )
    assert (aapl.quantity, aapl.average_cost, aapl.income) == (D(10), D(100), D("2.1"))
    assert rows_by_symbol(view)["PETR4.SA"].weight == D(1)  # of what is priced
    assert {t.currency: t.unpriced for t in view.totals}["USD"] == 1


def test_weights_use_the_demo_dollar_quote(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    demo = DemoMarketData(clock=lambda: CLOCK)
    buy(make_uow, demo, admin, client, "PETR4.SA", "100", "30", "2025-03-10")
    buy(make_uow, demo, admin, client, "AAPL", "10", "100", "2025-03-10")
    live = DemoMarketData(clock=lambda: CLOCK).quotes(["AAPL", "PETR4.SA", "USDBRL=X"]).quotes
    petr_brl = 100 * live["PETR4.SA"].price
    aapl_brl = 10 * live["AAPL"].price * live["USDBRL=X"].price

    view = client_positions(make_uow(), demo, client.id)
    rows = rows_by_symbol(view)

    assert view.rates == {"USD": live["USDBRL=X"].price}
    assert view.market_value_brl == petr_brl + aapl_brl
    assert rows["AAPL"].weight == aapl_brl / (petr_brl + aapl_brl)
    assert rows["PETR4.SA"].weight == petr_brl / (petr_brl + aapl_brl)
    assert rows["AAPL"].weight < 1  # not "100 %" of its own currency


def test_an_empty_client_asks_nothing_and_an_unknown_one_is_not_found(
    make_uow: MakeUow, client: ClientOut
) -> None:
    market = FakeMarket(PRICES)

    view = client_positions(make_uow(), market, client.id)

    assert (view.rows, view.totals, view.income_by_month, market.calls) == ([], [], {}, [])
    with pytest.raises(NotFound):
        client_positions(make_uow(), market, 999_999)


def test_a_ledger_an_event_made_oversold_is_marked_without_figures(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    market = FakeMarket(PRICES)
    buy(make_uow, market, admin, client, "PETR4.SA", "100", "30", "2025-03-10")
    sell(make_uow, admin, client, "PETR4.SA", "100", "35", "2025-06-02")
    with make_uow() as uow:
        asset = uow.assets.by_symbol("PETR4.SA")
        assert asset is not None
        uow.session.add(
            AssetEvent(
                asset_id=asset.id,
                kind="split",
                ex_date=date(2025, 5, 2),
                ratio=D("0.5"),
                source="admin",
            )
        )
        uow.commit()
    market.calls.clear()

    view = client_positions(make_uow(), market, client.id)

    assert [(row.symbol, row.failure, row.closed, row.total_return) for row in view.rows] == [
        ("PETR4.SA", "oversold", False, None)
    ]
    assert market.calls == []
    assert view.totals[0].unpriced == 0


def test_the_lots_quotes_price_the_positions_without_asking_again(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    book(make_uow, admin, client)
    market = FakeMarket(PRICES)
    lots = client_portfolio(make_uow(), market, client.id)

    view = client_positions(make_uow(), market, client.id, quotes=lots.quotes)

    # Before: the client page asked for the same quotes twice on every refresh.
    assert len(market.calls) == 1
    assert view == client_positions(make_uow(), FakeMarket(PRICES), client.id)
