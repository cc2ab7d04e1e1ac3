"""The assets page on demo market data: search, the demo label, adding a lot to a client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from streamlit.testing.v1 import AppTest

from core.db import UnitOfWork
from core.trade_schemas import today_in_brazil
from dashboard.components.markdown import escape_markdown
from tests.app.conftest import (
    ADMIN_EMAIL,
    READER_EMAIL,
    assert_no_exception,
    button,
    create_client,
    pt,
    selectbox,
    sign_in,
    text_input,
    values,
)

Make = Callable[[], UnitOfWork]
Lot = tuple[str, Decimal, Decimal, date]


def open_assets(email: str) -> AppTest:
    at = sign_in(email)
    at.switch_page("app_pages/assets.py").run()
    assert_no_exception(at)
    assert values(at.title) == [pt("assets.title")]
    return at


def search(at: AppTest, query: str) -> AppTest:
    text_input(at, "assets.search").input(query).run()
    assert_no_exception(at)
    return at


def tickers_shown(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value[pt("col.ticker")]) if at.dataframe else []


def stored_lots(make: Make, client_id: int) -> list[Lot]:
    with make() as uow:
        return [
            (asset.symbol, lot.quantity, lot.price, lot.date)
            for lot, asset in uow.allocations.for_client(client_id)
        ]


def fill_lot(at: AppTest, quantity: str, buy_price: str) -> None:
    text_input(at, "field.quantity").input(quantity)
    text_input(at, "field.buy_price").input(buy_price)


def test_short_query_asks_for_more_characters(demo_env: Make) -> None:
    at = open_assets(ADMIN_EMAIL)
    assert pt("assets.min_chars") in values(at.caption)
    assert pt("market.source.demo") in values(at.warning)

    search(at, "p")

    assert pt("assets.min_chars") in values(at.caption)
    assert not at.dataframe
    assert not at.selectbox


def test_petro_lists_both_petrobras_tickers_as_demo_data(demo_env: Make) -> None:
    at = search(open_assets(ADMIN_EMAIL), "petro")

    assert tickers_shown(at) == ["PETR3.SA", "PETR4.SA"]
    table = at.dataframe[0].value
    assert set(table[pt("assets.currency")]) == {"BRL"}
    assert set(table[pt("assets.exchange")]) == {"São Paulo"}
    assert pt("market.source.demo") in values(at.warning)
    assert pt("assets.min_chars") not in values(at.caption)


def test_accents_and_case_do_not_matter(demo_env: Make) -> None:
    at = search(open_assets(ADMIN_EMAIL), "PETRÓLEO")
    assert tickers_shown(at) == ["PETR3.SA", "PETR4.SA"]


@pytest.mark.parametrize("query", ["petr4", "PETR4F"])
def test_a_bare_b3_code_finds_its_listing(demo_env: Make, query: str) -> None:
    at = search(open_assets(ADMIN_EMAIL), query)
    assert tickers_shown(at) == ["PETR4.SA"]


def test_a_lot_added_from_a_bare_code_search_is_stored_on_the_listing(demo_env: Make) -> None:
    client = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    at = search(open_assets(ADMIN_EMAIL), "petr4f")
    assert selectbox(at, "assets.pick").value == "PETR4.SA"

    fill_lot(at, "3", "31")
    button(at, "detail.save").click().run()

    assert_no_exception(at)
    assert values(at.success) == [
        pt("assets.added", quantity="3", symbol=escape_markdown("PETR4.SA"), client="Maria Souza")
    ]
    assert stored_lots(demo_env, client.id) == [
        ("PETR4.SA", Decimal("3"), Decimal("31"), today_in_brazil())
    ]


def test_a_query_without_matches_says_so(demo_env: Make) -> None:
    at = search(open_assets(ADMIN_EMAIL), "zzqq")
    assert values(at.info) == [pt("assets.no_results", query="zzqq")]
    assert not at.dataframe


def test_admin_adds_a_lot_to_a_client(demo_env: Make) -> None:
    client = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    at = search(open_assets(ADMIN_EMAIL), "petro")
    assert values(at.subheader) == [pt("assets.add")]

    selectbox(at, "assets.pick").select("PETR4.SA").run()
    assert selectbox(at, "assets.client").value == client.id
    fill_lot(at, "10", "30,50")
    button(at, "detail.save").click().run()

    assert_no_exception(at)
    assert not at.error
    assert values(at.success) == [
        pt("assets.added", quantity="10", symbol=escape_markdown("PETR4.SA"), client="Maria Souza")
    ]
    assert stored_lots(demo_env, client.id) == [
        ("PETR4.SA", Decimal("10"), Decimal("30.5"), today_in_brazil())
    ]
    at.run()
    assert not at.success  # the message is shown once


def test_adding_picks_the_chosen_client(demo_env: Make) -> None:
    create_client(demo_env, name="Ana Lima", email="ana@example.com")
    joao = create_client(demo_env, name="João Gonçalves", email="joao@example.com")
    at = search(open_assets(ADMIN_EMAIL), "vale3")
    text_input(at, "assets.client_search").input("joao").run()
    assert selectbox(at, "assets.client").options == ["João Gonçalves · joao@example.com"]

    fill_lot(at, "1.500,5", "62,10")
    button(at, "detail.save").click().run()

    assert_no_exception(at)
    assert values(at.success) == [
        pt(
            "assets.added",
            quantity=escape_markdown("1.500,5"),
            symbol=escape_markdown("VALE3.SA"),
            client="João Gonçalves",
        )
    ]
    assert stored_lots(demo_env, joao.id) == [
        ("VALE3.SA", Decimal("1500.5"), Decimal("62.1"), today_in_brazil())
    ]


@pytest.mark.parametrize(
    ("quantity", "buy_price", "field", "key"),
    [
        ("abc", "30,50", "quantity", "validation.number"),
        ("", "30,50", "quantity", "validation.required"),
        ("10", "0", "buy_price", "validation.positive"),
        ("10", "30,123456789", "buy_price", "validation.decimals"),
    ],
    ids=["quantity-abc", "quantity-empty", "price-zero", "price-decimals"],
)
def test_bad_lot_shows_the_message_and_stores_nothing(
    demo_env: Make, quantity: str, buy_price: str, field: str, key: str
) -> None:
    client = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    at = search(open_assets(ADMIN_EMAIL), "petro")
    fill_lot(at, quantity, buy_price)
    button(at, "detail.save").click().run()

    assert_no_exception(at)
    message = pt(key, max=8)
    (summary,) = values(at.error)
    assert summary.startswith(pt("clients.fix_fields"))
    assert f"**{pt('field.' + field)}:** {message}" in summary
    assert f":red[{message}]" in values(at.caption)  # under the field, in the same run
    assert not at.success
    assert stored_lots(demo_env, client.id) == []


def test_without_active_clients_there_is_nothing_to_add_to(demo_env: Make) -> None:
    create_client(demo_env, name="Inativa", email="inativa@example.com", status="inactive")
    at = search(open_assets(ADMIN_EMAIL), "petro")
    assert values(at.info) == [pt("assets.no_clients")]
    assert not [b for b in at.button if b.label == pt("detail.save")]


def test_read_only_sees_results_but_no_add_form(demo_env: Make) -> None:
    create_client(demo_env, name="Maria Souza", email="maria@example.com")
    at = search(open_assets(READER_EMAIL), "petro")

    assert tickers_shown(at) == ["PETR3.SA", "PETR4.SA"]
    assert pt("market.source.demo") in values(at.warning)
    assert pt("assets.add") not in values(at.subheader)
    assert not at.selectbox
    assert [w.label for w in at.text_input] == [pt("assets.search")]
    assert pt("detail.save") not in [b.label for b in at.button]
