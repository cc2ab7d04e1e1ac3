"""Lots the stored figures could not hold, typed in the forms or uploaded on the import page:
the refusal is shown in the user's language, under the buy price, and nothing is saved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from core.config import get_settings
from core.db import UnitOfWork
from core.i18n import translate
from core.models import Asset, Movement
from core.schemas import ClientOut
from tests.app.conftest import (
    ADMIN_EMAIL,
    assert_no_exception,
    button,
    create_client,
    expander,
    hold,
    pt,
    selectbox,
    sign_in,
    text_input,
    values,
)

Make = Callable[[], UnitOfWork]
BUY = date(2025, 3, 10)


@pytest.fixture
def maria(demo_env: Make) -> ClientOut:
    return create_client(demo_env, name="Maria Souza", email="maria@example.com")


def open_detail(client_id: int) -> AppTest:
    at = sign_in(ADMIN_EMAIL)
    at.query_params["client"] = str(client_id)
    at.switch_page("app_pages/client_detail.py").run()
    assert_no_exception(at)
    return at


def fill_and_save(block: Block, **fields: str) -> None:
    for field, value in fields.items():
        text_input(block, f"field.{field}").input(value)
    button(block, "detail.save").click().run()


def stored_lots(make: Make, client_id: int) -> list[tuple[str, Decimal, Decimal]]:
    with make() as uow:
        return [
            (asset.symbol, lot.quantity, lot.price)
            for lot, asset in uow.allocations.for_client(client_id)
        ]


def count(make: Make, model: type[Any]) -> int:
    with make() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def refused_on_buy_price(at: AppTest, message: str, label: str | None = None) -> None:
    """The refusal is summed up above the form and drawn under the buy price."""
    assert_no_exception(at)
    (summary,) = values(at.error)
    assert f"**{label or pt('field.buy_price')}:** {message}" in summary
    assert f":red[{message}]" in values(at.caption)
    assert not at.success


def test_a_million_shares_at_two_million_are_refused_and_nothing_is_saved(
    demo_env: Make, maria: ClientOut
) -> None:
    at = open_detail(maria.id)

    fill_and_save(
        expander(at, "detail.add"),
        symbol="PETR4.SA",
        quantity="1.000.000",
        buy_price="2.000.000,00",
        buy_date="10/03/2025",
    )

    refused_on_buy_price(at, pt("validation.lot_too_large"))
    assert "100 bilhões" in pt("validation.lot_too_large")
    assert stored_lots(demo_env, maria.id) == []
    assert count(demo_env, Asset) == 0


def test_a_lot_that_would_take_the_clients_book_past_the_limit_is_refused(
    demo_env: Make, maria: ClientOut
) -> None:
    hold(demo_env, maria.id, "PETR4.SA", "60000", "1000000", BUY)  # 6·10^10
    at = open_detail(maria.id)

    fill_and_save(
        expander(at, "detail.add"),
        symbol="VALE3.SA",
        quantity="60000",
        buy_price="1000000",
        buy_date="10/03/2025",
    )

    refused_on_buy_price(at, pt("validation.client_invested_too_large"))
    assert stored_lots(demo_env, maria.id) == [("PETR4.SA", Decimal("60000"), Decimal("1000000"))]
    assert count(demo_env, Asset) == 1  # VALE3.SA was not created


def test_an_edit_up_past_the_limit_is_refused_and_the_lot_is_kept(
    demo_env: Make, maria: ClientOut
) -> None:
    hold(demo_env, maria.id, "PETR4.SA", "60000", "1000000", BUY)
    hold(demo_env, maria.id, "VALE3.SA", "30000", "1000000", BUY)
    at = open_detail(maria.id)
    selectbox(expander(at, "detail.edit"), "detail.pick_lot").select_index(1).run()

    fill_and_save(expander(at, "detail.edit"), quantity="50000")

    refused_on_buy_price(at, pt("validation.client_invested_too_large"))
    assert expander(at, "detail.edit").proto.expanded
    assert stored_lots(demo_env, maria.id) == [
        ("PETR4.SA", Decimal("60000"), Decimal("1000000")),
        ("VALE3.SA", Decimal("30000"), Decimal("1000000")),
    ]


def test_the_refusal_is_in_english_for_an_english_session(
    demo_env: Make, maria: ClientOut, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANKA_LOCALE", "en")
    get_settings.cache_clear()
    at = open_detail(maria.id)
    (add,) = [e for e in at.expander if e.label == translate("detail.add", "en")]
    for key, value in (
        ("field.symbol", "PETR4.SA"),
        ("field.quantity", "1"),
        ("field.buy_price", "0.00000001"),
    ):
        (field,) = [w for w in add.text_input if w.label == translate(key, "en")]
        field.input(value)
    (save,) = [b for b in add.button if b.label == translate("detail.save", "en")]
    save.click().run()

    message = translate("validation.price_too_small", "en")
    refused_on_buy_price(at, message, translate("field.buy_price", "en"))
    assert "0.000001" in message
    assert stored_lots(demo_env, maria.id) == []


def test_the_import_page_shows_the_row_past_the_clients_limit(
    demo_env: Make, maria: ClientOut
) -> None:
    hold(demo_env, maria.id, "PETR4.SA", "60000", "1000000", BUY)
    at = sign_in(ADMIN_EMAIL)
    at.switch_page("app_pages/imports.py").run()
    at.radio(key="import_kind").set_value("allocations").run()
    data = (
        "Cliente;Ativo;Quantidade;Preço de compra;Data de compra\n"
        "maria@example.com;VALE3.SA;30000;1.000.000;10/03/2025\n"
        "maria@example.com;VALE3.SA;20000;1.000.000;11/03/2025\n"
    ).encode()

    at.file_uploader[0].set_value(("lotes.csv", data, "text/csv")).run()

    assert_no_exception(at)
    frame = at.dataframe[0].value  # only the refused rows, at first
    assert list(frame[pt("import.col.row")]) == [3]
    assert list(frame[pt("import.col.reasons")]) == [
        f"{pt('field.buy_price')}: {pt('validation.client_invested_too_large')}"
    ]
    assert button(at, "import.commit").disabled
    assert count(demo_env, Movement) == 1
