"""Allocation (buy) use cases and the client portfolio against the real PostgreSQL (rolled back).

Market data is the real demo adapter on a fixed clock, or, where a test needs a failure or
hand-picked prices, a tiny adapter implementing the port's ``quotes()`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import UnitOfWork
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.market.demo import DemoMarketData
from core.market.port import HistoryBatch, Quote, QuoteBatch, SearchResult
from core.models import Asset, AuditEntry, Movement
from core.schemas import ClientOut
from core.services.allocations import add_allocation, delete_allocation, update_allocation
from core.services.clients import create_client
from core.services.portfolio import AllocationRow, client_portfolio
from core.services.principal import Principal
from core.trade_schemas import AllocationOut

MakeUow = Callable[[], UnitOfWork]
D = Decimal
CLOCK = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday, B3 open
PETROBRAS = "Petróleo Brasileiro S.A. - Petrobras"
DEMO_FIRST_TRADE = date(2015, 1, 2)


def fixed_clock() -> datetime:
    return CLOCK


class FakeMarket:
    """Answers ``quotes()`` from fixed prices and failures; counts every call."""

    name = "fake"

    def __init__(
        self,
        prices: dict[str, tuple[str, str | None, str]] | None = None,
        failed: dict[str, str] | None = None,
    ) -> None:
        # symbol -> (price, previous close, currency)
        self.prices = dict(prices or {})
        self.failed = dict(failed or {})
        self.calls: list[list[str]] = []

    def search(self, query: str, limit: int = 10) -> SearchResult:
        raise AssertionError("search() is not expected here")

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        raise AssertionError("history() is not expected here")

    def quotes(self, symbols: list[str]) -> QuoteBatch:
        self.calls.append(list(symbols))
        batch = QuoteBatch()
        for symbol in symbols:
            if symbol in self.failed:
                batch.failed[symbol] = self.failed[symbol]
            elif symbol in self.prices:
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


@pytest.fixture
def demo() -> DemoMarketData:
    return DemoMarketData(clock=fixed_clock)


@pytest.fixture
def client(make_uow: MakeUow, admin: Principal) -> ClientOut:
    return create_client(make_uow(), admin, {"name": "Maria Souza", "email": "maria@example.com"})


def new_client(make_uow: MakeUow, admin: Principal, name: str) -> ClientOut:
    email = f"{name.lower().replace(' ', '.')}@example.com"
    return create_client(make_uow(), admin, {"name": name, "email": email})


def lot(quantity: str = "100", buy_price: str = "30,00", buy_date: str = "2025-03-10") -> dict:
    return {"quantity": quantity, "buy_price": buy_price, "buy_date": buy_date}


def count(make_uow: MakeUow, model: type[Any], **where: Any) -> int:
    stmt = select(func.count()).select_from(model).filter_by(**where)
    with make_uow() as uow:
        return int(uow.session.scalar(stmt) or 0)


def nothing_stored(make_uow: MakeUow) -> bool:
    return (
        count(make_uow, Asset) == 0
        and count(make_uow, Movement) == 0
        and count(make_uow, AuditEntry, entity="allocation") == 0
    )


def stored_asset(make_uow: MakeUow, symbol: str) -> dict[str, Any]:
    with make_uow() as uow:
        asset = uow.assets.by_symbol(symbol)
        assert asset is not None
        return {
            "name": asset.name,
            "exchange": asset.exchange,
            "currency": asset.currency,
            "asset_type": asset.asset_type,
            "first_trade_date": asset.first_trade_date,
        }


def stored_lot(make_uow: MakeUow, allocation_id: int) -> tuple[Decimal, Decimal, date] | None:
    with make_uow() as uow:
        found = uow.allocations.get(allocation_id)
        return None if found is None else (found.quantity, found.price, found.date)


def allocation_audit(make_uow: MakeUow) -> list[tuple[str, str, str, Any, Any]]:
    stmt = select(AuditEntry).where(AuditEntry.entity == "allocation").order_by(AuditEntry.id)
    with make_uow() as uow:
        return [
            (e.action, e.entity_id, e.actor_email, e.before, e.after)
            for e in uow.session.scalars(stmt)
        ]


def field_errors(caught: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, Any]:
    return caught.value.field_errors


# -- add ------------------------------------------------------------------------------------


def test_first_lot_creates_the_asset_from_the_demo_quote(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    added = add_allocation(
        make_uow(), demo, admin, client.id, {"symbol": " petr4.sa "}, lot("100", "30,50")
    )

    assert added == AllocationOut(
        id=added.id,
        client_id=client.id,
        symbol="PETR4.SA",
        name=PETROBRAS,
        currency="BRL",
        quantity=D("100"),
        buy_price=D("30.5"),
        buy_date=date(2025, 3, 10),
    )
    assert stored_asset(make_uow, "PETR4.SA") == {
        "name": PETROBRAS,
        "exchange": "São Paulo",
        "currency": "BRL",
        "asset_type": None,
        "first_trade_date": DEMO_FIRST_TRADE,
    }
    assert stored_lot(make_uow, added.id) == (D("100"), D("30.5"), date(2025, 3, 10))
    assert demo.calls["quotes"] == 1


def test_search_result_labels_are_kept_and_the_quote_currency_wins(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    picked = {
        "symbol": "AAPL",
        "name": "Apple (from search)",
        "exchange": "NMS",
        "asset_type": "EQUITY",
        "currency": "BRL",  # wrong on purpose: the quote's currency is the truth
    }
    added = add_allocation(make_uow(), demo, admin, client.id, picked, lot("2", "180.25"))

    assert (added.symbol, added.name, added.currency) == ("AAPL", "Apple (from search)", "USD")
    assert stored_asset(make_uow, "AAPL") == {
        "name": "Apple (from search)",
        "exchange": "NMS",
        "currency": "USD",
        "asset_type": "EQUITY",
        "first_trade_date": DEMO_FIRST_TRADE,
    }


def test_overlong_market_labels_are_clipped_to_the_columns(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    picked = {"symbol": "VALE3.SA", "name": "N" * 200, "exchange": "E" * 80, "asset_type": "T" * 40}
    add_allocation(make_uow(), demo, admin, client.id, picked, lot())

    asset = stored_asset(make_uow, "VALE3.SA")
    assert asset["name"] == "N" * 200
    assert asset["exchange"] == "E" * 64
    assert asset["asset_type"] == "T" * 32


def test_second_lot_of_a_ticker_reuses_the_asset_without_asking_the_market(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    first = add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot())
    second = add_allocation(
        make_uow(), demo, admin, client.id, {"symbol": "petr4.sa"}, lot("50", "31,00")
    )
    # The very same lot again is allowed too: a client may buy twice on one day.
    third = add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot())

    assert count(make_uow, Asset) == 1
    assert count(make_uow, Movement, client_id=client.id) == 3
    assert len({first.id, second.id, third.id}) == 3
    assert {first.symbol, second.symbol, third.symbol} == {"PETR4.SA"}
    assert demo.calls["quotes"] == 1  # only the first use checks the ticker


@pytest.mark.parametrize("typed", ["petr4", "PETR4", " Petr4 ", "PETR4F"])
def test_a_bare_b3_code_is_stored_on_its_b3_listing(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut, typed: str
) -> None:
    added = add_allocation(make_uow(), demo, admin, client.id, {"symbol": typed}, lot())

    assert (added.symbol, added.name, added.currency) == ("PETR4.SA", PETROBRAS, "BRL")
    with make_uow() as uow:
        assert [asset.symbol for asset in uow.session.scalars(select(Asset))] == ["PETR4.SA"]
    assert demo.calls["quotes"] == 1


def test_a_code_and_its_listing_are_one_asset(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot("100"))
    add_allocation(make_uow(), demo, admin, client.id, {"symbol": "petr4"}, lot("50"))

    assert count(make_uow, Asset) == 1
    rows = client_portfolio(make_uow(), demo, client.id).rows
    assert sorted((row.symbol, row.quantity) for row in rows) == [
        ("PETR4.SA", D("50")),
        ("PETR4.SA", D("100")),
    ]
    assert demo.calls["quotes"] == 2  # the first lot's check, then the portfolio's quotes


def test_an_unknown_bare_code_is_refused_under_the_listing_it_was_looked_up_as(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        add_allocation(make_uow(), demo, admin, client.id, {"symbol": "nope3"}, lot())

    assert field_errors(caught) == {"symbol": ("validation.symbol_unknown", {"symbol": "NOPE3.SA"})}
    assert nothing_stored(make_uow)


def test_an_asset_is_shared_between_clients(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    other = new_client(make_uow, admin, "João Lima")
    add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot())
    add_allocation(make_uow(), demo, admin, other.id, {"symbol": "PETR4.SA"}, lot("7"))

    assert count(make_uow, Asset) == 1
    assert count(make_uow, Movement, client_id=other.id) == 1


def test_add_is_audited(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    added = add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot())

    ((action, entity_id, actor, before, after),) = allocation_audit(make_uow)
    assert (action, entity_id, actor, before) == ("create", str(added.id), admin.email, None)
    assert after["symbol"] == "PETR4.SA"
    assert after["client_id"] == client.id
    assert D(after["quantity"]) == D("100")
    assert D(after["buy_price"]) == D("30")
    assert after["buy_date"] == "2025-03-10"


def test_unknown_ticker_is_refused_and_nothing_is_stored(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        add_allocation(make_uow(), demo, admin, client.id, {"symbol": "nope3.sa"}, lot())

    assert field_errors(caught) == {"symbol": ("validation.symbol_unknown", {"symbol": "NOPE3.SA"})}
    assert nothing_stored(make_uow)


@pytest.mark.parametrize(
    ("failed", "expected"),
    [
        ({"NEW3.SA": "not_found"}, ("validation.symbol_unknown", {"symbol": "NEW3.SA"})),
        ({"NEW3.SA": "no_data"}, ("validation.symbol_unknown", {"symbol": "NEW3.SA"})),
        ({}, ("validation.symbol_unknown", {"symbol": "NEW3.SA"})),  # silently missing
        ({"NEW3.SA": "rate_limited"}, ("market.failed.rate_limited", {})),
        ({"NEW3.SA": "unavailable"}, ("market.failed.unavailable", {})),
        ({"NEW3.SA": "malformed"}, ("market.failed.malformed", {})),
    ],
    ids=["not-found", "no-data", "missing", "rate-limited", "unavailable", "malformed"],
)
def test_a_market_failure_is_not_called_an_unknown_ticker(
    make_uow: MakeUow,
    admin: Principal,
    client: ClientOut,
    failed: dict[str, str],
    expected: tuple[str, dict[str, Any]],
) -> None:
    market = FakeMarket(failed=failed)
    with pytest.raises(ValidationFailed) as caught:
        add_allocation(make_uow(), market, admin, client.id, {"symbol": "NEW3.SA"}, lot())

    assert field_errors(caught) == {"symbol": expected}
    assert market.calls == [["NEW3.SA"]]
    assert nothing_stored(make_uow)


def test_buy_date_before_the_first_trading_day_is_refused(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        add_allocation(
            make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot(buy_date="2014-12-31")
        )

    assert field_errors(caught) == {
        "buy_date": ("validation.before_first_trade", {"date": "2015-01-02"})
    }
    assert nothing_stored(make_uow)  # not even the asset

    # The first trading day itself is fine.
    added = add_allocation(
        make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot(buy_date="2015-01-02")
    )
    assert added.buy_date == DEMO_FIRST_TRADE


def test_buy_date_rule_also_applies_once_the_asset_exists(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot())
    with pytest.raises(ValidationFailed) as caught:
        add_allocation(
            make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot(buy_date="2010-06-01")
        )
    assert field_errors(caught) == {
        "buy_date": ("validation.before_first_trade", {"date": "2015-01-02"})
    }
    assert count(make_uow, Movement) == 1


def test_unknown_client_is_not_found_before_any_market_call(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData
) -> None:
    with pytest.raises(NotFound):
        add_allocation(make_uow(), demo, admin, 999_999, {"symbol": "PETR4.SA"}, lot())
    assert demo.calls["quotes"] == 0
    assert nothing_stored(make_uow)


def test_invalid_lot_is_refused_before_any_market_call(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        add_allocation(
            make_uow(),
            demo,
            admin,
            client.id,
            {"symbol": "PETR4.SA"},
            {"quantity": "abc", "buy_price": "0", "buy_date": "2025-03-10"},
        )
    assert field_errors(caught) == {
        "quantity": ("validation.number", {}),
        "buy_price": ("validation.positive", {}),
    }
    with pytest.raises(ValidationFailed) as caught:
        add_allocation(make_uow(), demo, admin, client.id, {"symbol": "<script>"}, lot())
    assert field_errors(caught) == {"symbol": ("validation.symbol", {})}
    assert demo.calls["quotes"] == 0
    assert nothing_stored(make_uow)


# -- roles ----------------------------------------------------------------------------------


def test_read_only_can_neither_add_nor_update_nor_delete(
    make_uow: MakeUow,
    admin: Principal,
    reader: Principal,
    demo: DemoMarketData,
    client: ClientOut,
) -> None:
    added = add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot())
    audit_before = allocation_audit(make_uow)

    with pytest.raises(PermissionDenied):
        add_allocation(make_uow(), demo, reader, client.id, {"symbol": "VALE3.SA"}, lot())
    with pytest.raises(PermissionDenied):
        update_allocation(make_uow(), reader, added.id, lot("1", "1,00"))
    with pytest.raises(PermissionDenied):
        delete_allocation(make_uow(), reader, added.id)

    assert demo.calls["quotes"] == 1  # the admin's add only
    assert count(make_uow, Asset) == 1
    assert count(make_uow, Movement) == 1
    assert stored_lot(make_uow, added.id) == (D("100"), D("30"), date(2025, 3, 10))
    assert allocation_audit(make_uow) == audit_before


# -- update and delete ----------------------------------------------------------------------


def test_update_changes_the_lot_and_is_audited(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    added = add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot())

    updated = update_allocation(make_uow(), admin, added.id, lot("1.234,5", "28,75", "2024-07-01"))

    assert updated == added.model_copy(
        update={"quantity": D("1234.5"), "buy_price": D("28.75"), "buy_date": date(2024, 7, 1)}
    )
    assert stored_lot(make_uow, added.id) == (D("1234.5"), D("28.75"), date(2024, 7, 1))
    _, (action, entity_id, actor, before, after) = allocation_audit(make_uow)
    assert (action, entity_id, actor) == ("update", str(added.id), admin.email)
    assert (D(before["quantity"]), D(before["buy_price"]), before["buy_date"]) == (
        D("100"),
        D("30"),
        "2025-03-10",
    )
    assert (D(after["quantity"]), D(after["buy_price"]), after["buy_date"]) == (
        D("1234.5"),
        D("28.75"),
        "2024-07-01",
    )
    assert before["symbol"] == after["symbol"] == "PETR4.SA"


def test_update_refuses_bad_input_and_keeps_the_lot(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    added = add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot())

    with pytest.raises(ValidationFailed) as caught:
        update_allocation(make_uow(), admin, added.id, lot("-5"))
    assert field_errors(caught) == {"quantity": ("validation.positive", {})}
    with pytest.raises(ValidationFailed) as caught:
        update_allocation(make_uow(), admin, added.id, lot(buy_date="2014-12-31"))
    assert field_errors(caught) == {
        "buy_date": ("validation.before_first_trade", {"date": "2015-01-02"})
    }

    assert stored_lot(make_uow, added.id) == (D("100"), D("30"), date(2025, 3, 10))
    assert [entry[0] for entry in allocation_audit(make_uow)] == ["create"]


def test_delete_removes_the_lot_keeps_the_asset_and_is_audited(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    added = add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot())

    delete_allocation(make_uow(), admin, added.id)

    assert stored_lot(make_uow, added.id) is None
    assert count(make_uow, Asset) == 1
    _, (action, entity_id, actor, before, after) = allocation_audit(make_uow)
    assert (action, entity_id, actor, after) == ("delete", str(added.id), admin.email, None)
    assert before["symbol"] == "PETR4.SA"
    assert D(before["quantity"]) == D("100")


def test_update_or_delete_of_a_missing_lot_is_not_found(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    added = add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot())
    delete_allocation(make_uow(), admin, added.id)

    with pytest.raises(NotFound):
        update_allocation(make_uow(), admin, added.id, lot())
    with pytest.raises(NotFound):
        delete_allocation(make_uow(), admin, added.id)
    assert [entry[0] for entry in allocation_audit(make_uow)] == ["create", "delete"]


# -- portfolio ------------------------------------------------------------------------------


def only(rows: list[AllocationRow], symbol: str) -> AllocationRow:
    (row,) = [row for row in rows if row.symbol == symbol]
    return row


def test_portfolio_row_matches_the_demo_quote_by_hand(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot("100", "30"))
    quote = DemoMarketData(clock=fixed_clock).quotes(["PETR4.SA"]).quotes["PETR4.SA"]
    price, previous = quote.price, quote.previous_close
    assert previous is not None

    view = client_portfolio(make_uow(), demo, client.id)

    assert view.client == client
    assert view.source == "demo"
    (row,) = view.rows
    assert row.symbol == "PETR4.SA"
    assert row.name == PETROBRAS
    assert row.currency == "BRL"
    assert (row.quantity, row.buy_price, row.buy_date) == (D(100), D(30), date(2025, 3, 10))
    assert row.price == price
    assert row.previous_close == previous
    assert row.invested == D(3000)
    assert row.market_value == 100 * price
    assert row.gain == 100 * price - 3000
    assert row.accumulated_return == (price - 30) / 30
    assert row.daily_change == price / previous - 1
    assert row.weight == 1
    assert (row.failure, row.stale, row.source) == (None, False, "demo")
    (totals,) = view.totals
    assert totals.currency == "BRL"
    assert (totals.invested, totals.invested_priced) == (D(3000), D(3000))
    assert totals.market_value == 100 * price
    assert totals.gain == 100 * price - 3000
    assert totals.accumulated_return == (100 * price - 3000) / 3000
    assert totals.unpriced == 0


def test_portfolio_figures_from_fixed_prices(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    market = FakeMarket({"PETR4.SA": ("33.00", "32.00", "BRL")})
    add_allocation(make_uow(), market, admin, client.id, {"symbol": "PETR4.SA"}, lot("100", "30"))

    view = client_portfolio(make_uow(), market, client.id)

    (row,) = view.rows
    assert (row.invested, row.market_value, row.gain) == (D(3000), D(3300), D(300))
    assert row.accumulated_return == D("0.10")
    assert row.daily_change == D("0.03125")
    assert row.weight == 1
    assert (row.price, row.previous_close, row.source) == (D(33), D(32), "fake")
    (totals,) = view.totals
    assert (totals.currency, totals.invested, totals.market_value, totals.gain) == (
        "BRL",
        D(3000),
        D(3300),
        D(300),
    )
    assert totals.accumulated_return == D("0.1")
    assert totals.unpriced == 0


def test_a_failed_ticker_keeps_its_row_and_stays_out_of_the_totals(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    market = FakeMarket(
        {
            "PETR4.SA": ("33.00", "32.00", "BRL"),
            "VALE3.SA": ("60.00", None, "BRL"),
            "ITUB4.SA": ("35.00", "35.00", "BRL"),
        }
    )
    for symbol, quantity, price in (
        ("PETR4.SA", "100", "30"),
        ("VALE3.SA", "10", "50"),
        ("ITUB4.SA", "20", "40"),
    ):
        add_allocation(
            make_uow(), market, admin, client.id, {"symbol": symbol}, lot(quantity, price)
        )
    market.failed = {"VALE3.SA": "rate_limited"}
    del market.prices["ITUB4.SA"]  # not even reported as failed

    view = client_portfolio(make_uow(), market, client.id)

    assert [row.symbol for row in view.rows] == ["ITUB4.SA", "PETR4.SA", "VALE3.SA"]
    vale = only(view.rows, "VALE3.SA")
    assert vale.failure == "rate_limited"
    assert vale.invested == D(500)
    assert (vale.price, vale.market_value, vale.gain, vale.weight) == (None, None, None, None)
    assert (vale.accumulated_return, vale.daily_change) == (None, None)
    itub = only(view.rows, "ITUB4.SA")
    assert (itub.failure, itub.price, itub.weight) == ("no_data", None, None)
    petr = only(view.rows, "PETR4.SA")
    assert (petr.failure, petr.market_value, petr.weight) == (None, D(3300), D(1))
    (totals,) = view.totals
    assert totals.invested == D(3000 + 500 + 800)
    assert totals.invested_priced == D(3000)
    assert totals.market_value == D(3300)
    assert totals.gain == D(300)
    assert totals.accumulated_return == D("0.1")
    assert totals.unpriced == 2


def test_brl_and_usd_lots_give_two_totals_with_weights_per_currency(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    market = FakeMarket(
        {
            "PETR4.SA": ("33.00", "32.00", "BRL"),
            "VALE3.SA": ("50.00", "49.00", "BRL"),
            "AAPL": ("200.00", "198.00", "USD"),
        }
    )
    for symbol, quantity, price in (
        ("PETR4.SA", "100", "30"),
        ("PETR4.SA", "50", "31"),
        ("VALE3.SA", "1", "40"),
        ("AAPL", "10", "150"),
    ):
        add_allocation(
            make_uow(), market, admin, client.id, {"symbol": symbol}, lot(quantity, price)
        )

    view = client_portfolio(make_uow(), market, client.id)

    brl, usd = view.totals
    assert (brl.currency, brl.invested, brl.market_value, brl.gain) == (
        "BRL",
        D(3000 + 1550 + 40),
        D(3300 + 1650 + 50),
        D(5000 - 4590),
    )
    assert brl.accumulated_return == D(410) / D(4590)
    assert (usd.currency, usd.invested, usd.market_value, usd.gain) == (
        "USD",
        D(1500),
        D(2000),
        D(500),
    )
    assert usd.accumulated_return == D(500) / D(1500)
    weights = {(row.symbol, row.quantity): row.weight for row in view.rows}
    assert weights == {
        ("PETR4.SA", D(100)): D("0.66"),
        ("PETR4.SA", D(50)): D("0.33"),
        ("VALE3.SA", D(1)): D("0.01"),
        ("AAPL", D(10)): D(1),
    }
    for currency in ("BRL", "USD"):
        assert sum(row.weight or 0 for row in view.rows if row.currency == currency) == 1


def test_demo_portfolio_weights_sum_to_one_per_currency(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    for symbol, quantity in (("PETR4.SA", "100"), ("VALE3.SA", "33"), ("AAPL", "3"), ("SPY", "2")):
        add_allocation(make_uow(), demo, admin, client.id, {"symbol": symbol}, lot(quantity, "10"))

    view = client_portfolio(make_uow(), demo, client.id)

    assert [t.currency for t in view.totals] == ["BRL", "USD"]
    for totals in view.totals:
        mine = [row for row in view.rows if row.currency == totals.currency]
        assert sum(row.market_value or 0 for row in mine) == totals.market_value
        assert abs(sum(row.weight or 0 for row in mine) - 1) < D("1e-25")


def test_quotes_are_fetched_with_one_batched_call(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    prices = {s: ("10", "10", "BRL") for s in ("PETR4.SA", "VALE3.SA", "ITUB4.SA", "BBDC4.SA")}
    market = FakeMarket(prices)
    for symbol in ("VALE3.SA", "PETR4.SA", "BBDC4.SA", "PETR4.SA", "ITUB4.SA", "VALE3.SA"):
        add_allocation(make_uow(), market, admin, client.id, {"symbol": symbol}, lot())
    market.calls.clear()

    view = client_portfolio(make_uow(), market, client.id)

    assert market.calls == [["BBDC4.SA", "ITUB4.SA", "PETR4.SA", "VALE3.SA"]]
    assert len(view.rows) == 6

    # The demo adapter counts its upstream-style calls the same way.
    for symbol in ("PETR4.SA", "VALE3.SA", "AAPL"):
        add_allocation(make_uow(), demo, admin, client.id, {"symbol": symbol}, lot())
    before = demo.calls["quotes"]
    client_portfolio(make_uow(), demo, client.id)
    assert demo.calls["quotes"] == before + 1


def test_portfolio_shows_only_this_clients_lots(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    other = new_client(make_uow, admin, "João Lima")
    add_allocation(make_uow(), demo, admin, client.id, {"symbol": "PETR4.SA"}, lot())
    add_allocation(make_uow(), demo, admin, other.id, {"symbol": "AAPL"}, lot())

    view = client_portfolio(make_uow(), demo, client.id)

    assert [row.symbol for row in view.rows] == ["PETR4.SA"]
    assert [t.currency for t in view.totals] == ["BRL"]


def test_empty_portfolio_asks_the_market_nothing(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    market = FakeMarket()
    view = client_portfolio(make_uow(), market, client.id)
    assert (view.rows, view.totals, view.cache) == ([], [], {})
    assert market.calls == []


def test_portfolio_of_an_unknown_client_is_not_found(make_uow: MakeUow) -> None:
    with pytest.raises(NotFound):
        client_portfolio(make_uow(), FakeMarket(), 999_999)


def test_portfolio_in_reais_at_the_live_rate(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    market = FakeMarket(
        {
            "PETR4.SA": ("33.00", "32.00", "BRL"),
            "AAPL": ("200.00", "190.00", "USD"),
            "USDBRL=X": ("5.50", "5.40", "BRL"),
        }
    )
    add_allocation(make_uow(), market, admin, client.id, {"symbol": "PETR4.SA"}, lot("100", "30"))
    add_allocation(make_uow(), market, admin, client.id, {"symbol": "AAPL"}, lot("2", "150"))
    market.calls.clear()

    view = client_portfolio(make_uow(), market, client.id)

    # One batched call with the rate; 100 x 33 + 2 x 200 x 5.50 = 3,300 + 2,200.
    assert market.calls == [["AAPL", "PETR4.SA", "USDBRL=X"]]
    assert view.rates == {"USD": D("5.50")}
    assert view.market_value_brl == D(5500)
    assert [t.currency for t in view.totals] == ["BRL", "USD"]  # per currency, unchanged


def test_portfolio_in_reais_is_not_summed_without_a_rate(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    market = FakeMarket(
        {"PETR4.SA": ("33.00", "32.00", "BRL"), "AAPL": ("200.00", "190.00", "USD")},
        failed={"USDBRL=X": "rate_limited"},
    )
    add_allocation(make_uow(), market, admin, client.id, {"symbol": "PETR4.SA"}, lot("100", "30"))
    add_allocation(make_uow(), market, admin, client.id, {"symbol": "AAPL"}, lot("2", "150"))

    view = client_portfolio(make_uow(), market, client.id)

    assert view.rates == {}
    assert view.market_value_brl is None  # never a partial sum


def test_an_all_brl_portfolio_asks_for_no_rate(
    make_uow: MakeUow, admin: Principal, client: ClientOut
) -> None:
    market = FakeMarket({"PETR4.SA": ("33.00", "32.00", "BRL")})
    add_allocation(make_uow(), market, admin, client.id, {"symbol": "PETR4.SA"}, lot("100", "30"))
    market.calls.clear()

    view = client_portfolio(make_uow(), market, client.id)

    assert market.calls == [["PETR4.SA"]]
    assert (view.rates, view.market_value_brl) == ({}, None)
