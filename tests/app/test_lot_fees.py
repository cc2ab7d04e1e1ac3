"""The lot form's fees field (admins): typed on a new lot, prefilled and edited on a stored
one, refused when negative."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from core.db import UnitOfWork
from core.market.demo import DemoMarketData
from core.schemas import ClientOut
from core.services import allocations as allocation_service
from core.services.principal import SYSTEM
from tests.app.conftest import (
    ADMIN_EMAIL,
    assert_no_exception,
    create_client,
    expander,
    pt,
    selectbox,
    text_input,
    values,
)
from tests.app.test_client_detail_page import open_detail, save_in

Make = Callable[[], UnitOfWork]
BUY_DATE = date(2025, 3, 10)


@pytest.fixture
def maria(demo_env: Make) -> ClientOut:
    return create_client(demo_env, name="Maria Souza", email="maria@example.com")


def stored(make: Make, client_id: int) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(symbol, quantity, price, fees) of the client's buys."""
    with make() as uow:
        return [
            (asset.symbol, lot.quantity, lot.price, lot.fees)
            for lot, asset in uow.allocations.for_client(client_id)
        ]


def fill_new_lot(at: object, symbol: str, fees: str) -> None:
    add = expander(at, "detail.add")  # type: ignore[arg-type]
    text_input(add, "field.symbol").input(symbol)
    text_input(add, "field.quantity").input("5")
    text_input(add, "field.buy_price").input("62,10")
    text_input(add, "field.buy_date").input("10/03/2025")
    text_input(add, "field.fees").input(fees)
    save_in(add)


def test_a_new_lot_takes_its_fees(demo_env: Make, maria: ClientOut) -> None:
    at = open_detail(ADMIN_EMAIL, maria.id)
    assert text_input(expander(at, "detail.add"), "field.fees").value == ""  # blank is zero

    fill_new_lot(at, "vale3.sa", "4,90")

    assert_no_exception(at)
    assert values(at.success) == [pt("detail.added")]
    assert stored(demo_env, maria.id) == [
        ("VALE3.SA", Decimal("5"), Decimal("62.1"), Decimal("4.90"))
    ]


def test_editing_a_lot_shows_its_fees_and_changes_them(demo_env: Make, maria: ClientOut) -> None:
    lot = {"quantity": "1000", "buy_price": "30", "buy_date": BUY_DATE, "fees": "12,5"}
    allocation_service.add_allocation(
        demo_env(), DemoMarketData(), SYSTEM, maria.id, {"symbol": "PETR4.SA"}, lot
    )
    at = open_detail(ADMIN_EMAIL, maria.id)
    edit = expander(at, "detail.edit")
    assert selectbox(edit, "detail.pick_lot").options == ["PETR4.SA · 1.000 · 10/03/2025"]
    assert text_input(edit, "field.fees").value == "12,5"  # as typed back in pt-BR

    # Saving untouched keeps the fees (an imported buy's fees are not zeroed by an edit).
    save_in(edit)
    assert values(at.success) == [pt("detail.updated")]
    assert stored(demo_env, maria.id) == [
        ("PETR4.SA", Decimal("1000"), Decimal("30"), Decimal("12.5"))
    ]

    edit = expander(at, "detail.edit")
    text_input(edit, "field.fees").input("-1")
    save_in(edit)
    assert_no_exception(at)
    message = pt("validation.non_negative")
    assert message == "Informe zero ou um valor positivo."
    (summary,) = values(at.error)
    assert f"**{pt('field.fees')}:** {message}" in summary
    assert stored(demo_env, maria.id)[0][3] == Decimal("12.5")

    edit = expander(at, "detail.edit")
    text_input(edit, "field.fees").input("7")
    save_in(edit)
    assert values(at.success) == [pt("detail.updated")]
    assert stored(demo_env, maria.id)[0][3] == Decimal("7")
