"""Sells, typed income and the ledger list through the services, on the real PostgreSQL
(each test rolled back). The buys are added through the lot API, as the pages do."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from core import calendars
from core.db import UnitOfWork, uow_factory
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.i18n import translate
from core.market.demo import DemoMarketData
from core.models import AssetEvent, AuditEntry, DailyReturn, Movement
from core.schemas import ClientOut
from core.services.allocations import add_allocation, delete_allocation, update_allocation
from core.services.clients import create_client
from core.services.movements import (
    add_income,
    add_sell,
    client_ledger,
    delete_movement,
    update_movement,
)
from core.services.principal import Principal
from core.trade_schemas import MovementOut

MakeUow = Callable[[], UnitOfWork]
D = Decimal
CLOCK = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
SYMBOL = "PETR4.SA"


@pytest.fixture
def demo() -> DemoMarketData:
    return DemoMarketData(clock=lambda: CLOCK)


@pytest.fixture
def client(make_uow: MakeUow, admin: Principal) -> ClientOut:
    return create_client(make_uow(), admin, {"name": "Maria Souza", "email": "maria@example.com"})


def buy(
    make_uow: MakeUow,
    demo: DemoMarketData,
    admin: Principal,
    client: ClientOut,
    quantity: str = "100",
    day: str = "2025-03-10",
    symbol: str = SYMBOL,
) -> int:
    lot = {"quantity": quantity, "buy_price": "30,00", "buy_date": day}
    return add_allocation(make_uow(), demo, admin, client.id, {"symbol": symbol}, lot).id


def sell(quantity: str, day: str, price: str = "35,00", fees: str = "") -> dict[str, str]:
    return {"quantity": quantity, "price": price, "fees": fees, "date": day}


def refusal(caught: pytest.ExceptionInfo[ValidationFailed], field: str) -> tuple[str, str]:
    key, params = caught.value.field_errors[field]
    return key, translate(key, **params)


def stored(make_uow: MakeUow, **where: Any) -> list[tuple[str, Decimal, date]]:
    stmt = select(Movement).filter_by(**where).order_by(Movement.id)
    with make_uow() as uow:
        return [(m.kind, m.quantity, m.date) for m in uow.session.scalars(stmt)]


def audit(make_uow: MakeUow) -> list[tuple[str, str, Any, Any]]:
    stmt = select(AuditEntry).where(AuditEntry.entity == "movement").order_by(AuditEntry.id)
    with make_uow() as uow:
        return [(e.action, e.entity_id, e.before, e.after) for e in uow.session.scalars(stmt)]


def add_split(make_uow: MakeUow, day: date, ratio: str, dismissed: bool = False) -> None:
    with make_uow() as uow:
        asset = uow.assets.by_symbol(SYMBOL)
        assert asset is not None
        uow.session.add(
            AssetEvent(
                asset_id=asset.id,
                kind="split",
                ex_date=day,
                ratio=D(ratio),
                source="admin",
                dismissed=dismissed,
            )
        )
        uow.commit()


# -- sells ----------------------------------------------------------------------------------


def test_a_partial_sell_is_stored_with_its_fees_and_audited(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    buy(make_uow, demo, admin, client)

    out = add_sell(
        make_uow(), admin, client.id, " petr4.sa ", sell("40", "2025-04-01", fees="4,90")
    )

    assert out == MovementOut(
        id=out.id,
        client_id=client.id,
        symbol=SYMBOL,
        name=out.name,
        currency="BRL",
        kind="sell",
        date=date(2025, 4, 1),
        quantity=D("40"),
        price=D("35"),
        fees=D("4.9"),
        income_type=None,
        amount=D("0"),
        tax=D("0"),
    )
    assert stored(make_uow, kind="sell") == [("sell", D("40"), date(2025, 4, 1))]
    assert audit(make_uow) == [("create", str(out.id), None, out.model_dump(mode="json"))]


def test_selling_more_than_held_is_refused_in_portuguese_and_nothing_is_stored(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    buy(make_uow, demo, admin, client)

    with pytest.raises(ValidationFailed) as caught:
        add_sell(make_uow(), admin, client.id, SYMBOL, sell("150", "2025-03-10"))

    assert refusal(caught, "quantity") == (
        "validation.oversold",
        "Venda de 150 maior que a posição de 100 em 10/03/2025.",
    )
    key, params = caught.value.field_errors["quantity"]
    assert translate(key, "en", **params) == (
        "Sell of 150 exceeds the position of 100 on 2025-03-10."
    )
    assert stored(make_uow, kind="sell") == []
    assert audit(make_uow) == []


def test_a_sell_on_the_buy_day_is_allowed_and_closes_the_position(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    buy(make_uow, demo, admin, client)

    add_sell(make_uow(), admin, client.id, SYMBOL, sell("100", "2025-03-10"))

    assert stored(make_uow, kind="sell") == [("sell", D("100"), date(2025, 3, 10))]


def test_a_second_sell_counts_the_first(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    buy(make_uow, demo, admin, client)
    add_sell(make_uow(), admin, client.id, SYMBOL, sell("60", "2025-04-01"))

    with pytest.raises(ValidationFailed) as caught:
        add_sell(make_uow(), admin, client.id, SYMBOL, sell("40,5", "2025-03-20"))

    # Sold before the first sell: 100 held then, but the first sell then lacks 0.5.
    assert refusal(caught, "quantity")[1] == (
        "Esta alteração deixaria a venda de 60 em 01/04/2025 maior que a posição de 59,5 "
        "naquela data."
    )
    assert stored(make_uow, kind="sell") == [("sell", D("60"), date(2025, 4, 1))]


def test_a_sell_needs_an_asset_the_client_holds(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    other = create_client(make_uow(), admin, {"name": "João", "email": "joao@example.com"})
    buy(make_uow, demo, admin, other)

    for symbol in (SYMBOL, "NOPE3.SA"):
        with pytest.raises(ValidationFailed) as caught:
            add_sell(make_uow(), admin, client.id, symbol, sell("1", "2025-04-01"))
        assert caught.value.field_errors["symbol"] == (
            "validation.asset_not_held",
            {"symbol": symbol},
        )
    with pytest.raises(NotFound):
        add_sell(make_uow(), admin, 999_999, SYMBOL, sell("1", "2025-04-01"))


def test_bad_sell_input_is_refused_with_keys_per_field(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    buy(make_uow, demo, admin, client)

    with pytest.raises(ValidationFailed) as caught:
        add_sell(
            make_uow(), admin, client.id, SYMBOL, sell("0", "2999-01-01", price="x", fees="-1")
        )

    assert {f: key for f, (key, _) in caught.value.field_errors.items()} == {
        "quantity": "validation.positive",
        "price": "validation.number",
        "fees": "validation.non_negative",
        "date": "validation.future_date",
    }
    assert stored(make_uow, kind="sell") == []


# -- edits and deletions judged on the whole ledger -----------------------------------------


def test_deleting_or_shrinking_a_buy_a_later_sell_needs_is_refused(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    first = buy(make_uow, demo, admin, client, "100", "2025-03-10")
    buy(make_uow, demo, admin, client, "50", "2025-03-12")
    add_sell(make_uow(), admin, client.id, SYMBOL, sell("120", "2025-04-01"))
    expected = (
        "validation.oversold_later",
        "Esta alteração deixaria a venda de 120 em 01/04/2025 maior que a posição de 50 "
        "naquela data.",
    )

    for delete in (delete_allocation, delete_movement):
        with pytest.raises(ValidationFailed) as caught:
            delete(make_uow(), admin, first)
        assert refusal(caught, "__root__") == expected
    with pytest.raises(ValidationFailed) as caught:
        update_allocation(
            make_uow(),
            admin,
            first,
            {"quantity": "60", "buy_price": "30", "buy_date": "2025-03-10"},
        )
    assert refusal(caught, "quantity")[1].startswith("Esta alteração deixaria a venda de 120")
    # A later buy date is a smaller position on the sell's date too.
    with pytest.raises(ValidationFailed):
        update_allocation(
            make_uow(),
            admin,
            first,
            {"quantity": "100", "buy_price": "30", "buy_date": "2025-04-02"},
        )

    assert stored(make_uow, kind="buy") == [
        ("buy", D("100"), date(2025, 3, 10)),
        ("buy", D("50"), date(2025, 3, 12)),
    ]
    # Shrinking to what the sell still leaves covered is fine.
    update_allocation(
        make_uow(), admin, first, {"quantity": "70", "buy_price": "30", "buy_date": "2025-03-10"}
    )
    assert stored(make_uow, kind="buy")[0] == ("buy", D("70"), date(2025, 3, 10))


def test_moving_a_sell_before_its_buy_is_refused(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    buy(make_uow, demo, admin, client)
    sold = add_sell(make_uow(), admin, client.id, SYMBOL, sell("50", "2025-04-01"))

    with pytest.raises(ValidationFailed) as caught:
        update_movement(make_uow(), admin, sold.id, sell("50", "2025-03-05"))

    assert refusal(caught, "quantity") == (
        "validation.oversold",
        "Venda de 50 maior que a posição de 0 em 05/03/2025.",
    )
    assert stored(make_uow, kind="sell") == [("sell", D("50"), date(2025, 4, 1))]
    assert [row[0] for row in audit(make_uow)] == ["create"]


def test_editing_and_deleting_a_sell_are_audited_and_refresh_the_figures(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    buy(make_uow, demo, admin, client)
    sold = add_sell(make_uow(), admin, client.id, SYMBOL, sell("50", "2025-04-01"))
    with make_uow() as uow:
        for day in (date(2025, 3, 14), date(2025, 3, 20), date(2025, 4, 2)):
            uow.session.add(
                DailyReturn(
                    client_id=client.id,
                    date=day,
                    market_value=D(3000),
                    daily_return=D(0),
                    cumulative_twr=D(0),
                )
            )
        uow.commit()

    edited = update_movement(make_uow(), admin, sold.id, sell("30", "2025-03-20", fees="1"))
    delete_movement(make_uow(), admin, sold.id)

    assert (edited.quantity, edited.fees, edited.date) == (D("30"), D("1"), date(2025, 3, 20))
    assert stored(make_uow, kind="sell") == []
    assert [
        (action, before and D(before["quantity"]), after and D(after["quantity"]))
        for action, _, before, after in audit(make_uow)
    ] == [
        ("create", None, D(50)),
        ("update", D(50), D(30)),
        ("delete", D(30), None),
    ]
    with make_uow() as uow:
        days = select(DailyReturn.date).order_by(DailyReturn.date)
        stored_days = list(uow.session.scalars(days))
    # The planted day before the edit's earliest date stays; from that date on the figures
    # were recomputed at once, every B3 session up to the latest stored day (02/04).
    assert stored_days[0] == date(2025, 3, 14)
    assert stored_days[1:] == calendars.sessions(date(2025, 3, 20), date(2025, 4, 2))


def test_a_buy_edited_as_a_trade_keeps_its_fees(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    first = buy(make_uow, demo, admin, client)

    edited = update_movement(
        make_uow(),
        admin,
        first,
        {"quantity": "100", "price": "30", "fees": "10", "date": "2025-03-10"},
    )

    assert (edited.kind, edited.fees) == ("buy", D("10"))
    with pytest.raises(ValidationFailed) as caught:
        update_movement(
            make_uow(), admin, first, {"quantity": "1", "price": "1", "date": "2014-01-02"}
        )
    assert caught.value.field_errors["buy_date"][0] == "validation.before_first_trade"


# -- income and splits ----------------------------------------------------------------------


def test_typed_income_with_tax_is_stored_and_tax_above_gross_refused(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    buy(make_uow, demo, admin, client)

    out = add_income(
        make_uow(),
        admin,
        client.id,
        SYMBOL,
        {"income_type": "jcp", "amount": "1.000,00", "tax": "150,00", "date": "2025-05-15"},
    )

    assert (out.kind, out.income_type, out.amount, out.tax) == ("income", "jcp", D(1000), D(150))
    assert (out.quantity, out.price, out.fees) == (D(0), D(0), D(0))
    with pytest.raises(ValidationFailed) as caught:
        add_income(
            make_uow(),
            admin,
            client.id,
            SYMBOL,
            {"income_type": "dividend", "amount": "10", "tax": "11", "date": "2025-05-15"},
        )
    assert caught.value.field_errors["tax"][0] == "validation.tax_over_amount"
    edited = update_movement(
        make_uow(),
        admin,
        out.id,
        {"income_type": "dividend", "amount": "900", "date": "2025-05-16"},
    )
    assert (edited.income_type, edited.amount, edited.tax) == ("dividend", D(900), D(0))
    assert [row[0] for row in audit(make_uow)] == ["create", "update"]


def test_a_split_makes_a_later_sell_of_the_new_quantity_valid(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    buy(make_uow, demo, admin, client)
    add_split(make_uow, date(2025, 5, 2), "2")
    add_split(make_uow, date(2025, 5, 20), "10", dismissed=True)  # ignored

    with pytest.raises(ValidationFailed) as caught:
        add_sell(make_uow(), admin, client.id, SYMBOL, sell("150", "2025-05-01"))
    assert (
        refusal(caught, "quantity")[1] == "Venda de 150 maior que a posição de 100 em 01/05/2025."
    )
    with pytest.raises(ValidationFailed) as caught:
        add_sell(make_uow(), admin, client.id, SYMBOL, sell("201", "2025-06-02"))
    assert (
        refusal(caught, "quantity")[1] == "Venda de 201 maior que a posição de 200 em 02/06/2025."
    )

    add_sell(make_uow(), admin, client.id, SYMBOL, sell("150", "2025-05-02", price="17,50"))
    add_sell(make_uow(), admin, client.id, SYMBOL, sell("50", "2025-06-02", price="17,50"))

    assert [q for _, q, _ in stored(make_uow, kind="sell")] == [D(150), D(50)]


def test_a_ledger_an_event_made_oversold_still_takes_income_and_the_fixing_deletion(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    buy(make_uow, demo, admin, client)
    sold = add_sell(make_uow(), admin, client.id, SYMBOL, sell("100", "2025-06-02"))
    add_split(make_uow, date(2025, 5, 2), "0.5")  # arrives later: 50 held when 100 were sold
    income = {"income_type": "dividend", "amount": "10", "date": "2025-05-15"}

    add_income(make_uow(), admin, client.id, SYMBOL, income)
    with pytest.raises(ValidationFailed) as caught:
        add_sell(make_uow(), admin, client.id, SYMBOL, sell("1", "2025-05-03"))
    assert refusal(caught, "quantity")[0] == "validation.oversold_later"
    delete_movement(make_uow(), admin, sold.id)

    assert stored(make_uow, kind="sell") == []


# -- roles and the list ---------------------------------------------------------------------


def test_read_only_users_cannot_write_but_can_read_the_ledger(
    make_uow: MakeUow,
    admin: Principal,
    reader: Principal,
    demo: DemoMarketData,
    client: ClientOut,
) -> None:
    first = buy(make_uow, demo, admin, client)
    income = {"income_type": "dividend", "amount": "10", "date": "2025-05-15"}

    with pytest.raises(PermissionDenied):
        add_sell(make_uow(), reader, client.id, SYMBOL, sell("1", "2025-04-01"))
    with pytest.raises(PermissionDenied):
        add_income(make_uow(), reader, client.id, SYMBOL, income)
    with pytest.raises(PermissionDenied):
        update_movement(make_uow(), reader, first, sell("1", "2025-04-01"))
    with pytest.raises(PermissionDenied):
        delete_movement(make_uow(), reader, first)

    assert len(stored(make_uow)) == 1
    assert audit(make_uow) == []
    assert [
        line.movement.id for line in client_ledger(make_uow(), reader, client.id) if line.movement
    ] == [first]


def test_the_ledger_lists_movements_and_applied_events_newest_first_with_filters(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    first = buy(make_uow, demo, admin, client, "100", "2025-03-10")
    add_split(make_uow, date(2025, 1, 2), "3")  # before the client held any: not listed
    add_split(make_uow, date(2025, 5, 2), "2")
    sold = add_sell(make_uow(), admin, client.id, SYMBOL, sell("50", "2025-05-02"))
    paid = add_income(
        make_uow(),
        admin,
        client.id,
        SYMBOL,
        {"income_type": "rendimento", "amount": "12,34", "date": "2025-05-02"},
    )
    apple = buy(make_uow, demo, admin, client, "2", "2025-04-01", symbol="AAPL")

    lines = client_ledger(make_uow(), admin, client.id)

    assert [
        (
            line.date,
            line.symbol,
            line.is_event,
            line.event_kind,
            line.movement.id if line.movement else None,
        )
        for line in lines
    ] == [
        (date(2025, 5, 2), SYMBOL, False, None, paid.id),
        (date(2025, 5, 2), SYMBOL, False, None, sold.id),
        (date(2025, 5, 2), SYMBOL, True, "split", None),
        (date(2025, 4, 1), "AAPL", False, None, apple),
        (date(2025, 3, 10), SYMBOL, False, None, first),
    ]
    assert (lines[2].ratio, lines[2].held) == (D(2), D(100))
    sells = client_ledger(make_uow(), admin, client.id, kind="sell")
    assert [line.movement.id for line in sells if line.movement] == [sold.id]
    events = client_ledger(make_uow(), admin, client.id, kind="event", asset="petr4.sa")
    assert [(line.is_event, line.date) for line in events] == [(True, date(2025, 5, 2))]
    assert client_ledger(make_uow(), admin, client.id, asset="AAPL")[0].movement.id == apple  # type: ignore[union-attr]
    with pytest.raises(ValidationFailed):
        client_ledger(make_uow(), admin, client.id, kind="split")
    with pytest.raises(NotFound):
        client_ledger(make_uow(), admin, 999_999)


def test_unknown_movement_ids_are_not_found(make_uow: MakeUow, admin: Principal) -> None:
    with pytest.raises(NotFound):
        update_movement(make_uow(), admin, 2**40, sell("1", "2025-04-01"))
    with pytest.raises(NotFound):
        delete_movement(make_uow(), admin, 123456)
    with make_uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Movement)) == 0


# -- two writes at once (real commits) ------------------------------------------------------


def test_two_sells_at_the_same_moment_are_judged_one_after_the_other(
    committed_engine: Engine, admin: Principal, demo: DemoMarketData
) -> None:
    factory = uow_factory(committed_engine)
    owner = create_client(UnitOfWork(factory), admin, {"name": "Ana", "email": "ana@example.com"})
    lot = {"quantity": "100", "buy_price": "30", "buy_date": "2025-03-10"}
    add_allocation(UnitOfWork(factory), demo, admin, owner.id, {"symbol": SYMBOL}, lot)
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = add_sell(
                UnitOfWork(factory), admin, owner.id, SYMBOL, sell("60", "2025-04-01")
            )
        except Exception as exc:  # collected and asserted on below
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    sold = [r for r in results if isinstance(r, MovementOut)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert (len(sold), len(refused)) == (1, 1), results
    assert refused[0].field_errors["quantity"][0] == "validation.oversold"
    with committed_engine.connect() as conn:
        kinds = conn.execute(text("SELECT kind FROM movements ORDER BY id")).scalars().all()
    assert kinds == ["buy", "sell"]


def test_a_sell_typed_as_brazilians_type_the_ticker_finds_the_b3_listing(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, client: ClientOut
) -> None:
    buy(make_uow, demo, admin, client)

    out = add_sell(make_uow(), admin, client.id, "petr4", sell("10", "2025-04-01"))

    assert out.symbol == "PETR4.SA"
    assert [line.symbol for line in client_ledger(make_uow(), admin, client.id, asset="petr4")]
