"""The client portfolio page on demo market data: figures, totals, and lot editing (admins)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.exc import OperationalError
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from core.book_limits import MIN_BUY_PRICE
from core.db import UnitOfWork
from core.market.demo import DemoMarketData
from core.schemas import ClientOut, parse
from core.services import allocations as allocation_service
from core.services import positions as positions_service
from core.services.principal import SYSTEM
from core.trade_schemas import AllocationIn
from dashboard.components.lot_form import editable_number
from dashboard.components.markdown import escape_markdown
from tests.app.conftest import (
    ADMIN_EMAIL,
    READER_EMAIL,
    assert_no_exception,
    button,
    create_client,
    expander,
    pt,
    selectbox,
    sign_in,
    text_input,
    values,
)

Make = Callable[[], UnitOfWork]
Lot = tuple[str, Decimal, Decimal, date]
BUY_DATE = date(2025, 3, 10)


@pytest.fixture
def maria(demo_env: Make) -> ClientOut:
    return create_client(demo_env, name="Maria Souza", email="maria@example.com")


def add_lot(make: Make, client_id: int, symbol: str, quantity: str, buy_price: str) -> None:
    lot = {"quantity": quantity, "buy_price": buy_price, "buy_date": BUY_DATE}
    allocation_service.add_allocation(
        make(), DemoMarketData(), SYSTEM, client_id, {"symbol": symbol}, lot
    )


def stored_lots(make: Make, client_id: int) -> list[Lot]:
    with make() as uow:
        return [
            (asset.symbol, lot.quantity, lot.price, lot.date)
            for lot, asset in uow.allocations.for_client(client_id)
        ]


def open_detail(email: str, client_id: int | str) -> AppTest:
    at = sign_in(email)
    at.query_params["client"] = str(client_id)
    at.switch_page("app_pages/client_detail.py").run()
    assert_no_exception(at)
    return at


def table(at: AppTest) -> list[dict[str, str]]:
    """The live allocations table (the one with a ticker column; the returns tables above
    it have none)."""
    for frame in at.dataframe:
        if pt("col.ticker") in frame.value.columns:
            return frame.value.to_dict("records")
    return []


def column(at: AppTest, key: str) -> list[str]:
    return [row[pt(key)] for row in table(at)]


def metrics(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def brl_amount(text: str) -> Decimal:
    """'R$ 1.234,56' / '-R$ 3,00' -> Decimal."""
    sign = -1 if text.startswith("-") else 1
    number = text.lstrip("-").split(" ", 1)[1].replace(".", "").replace(",", ".")
    return sign * Decimal(number)


def save_in(block: Block) -> None:
    (save,) = [b for b in block.button if b.label == pt("detail.save")]
    save.click().run()


# -- what everyone sees ---------------------------------------------------------------------


def test_header_table_and_totals(demo_env: Make, maria: ClientOut) -> None:
    add_lot(demo_env, maria.id, "PETR4.SA", "100", "30")
    add_lot(demo_env, maria.id, "AAPL", "2", "150")

    at = open_detail(ADMIN_EMAIL, maria.id)

    assert values(at.title) == [pt("detail.title", name="Maria Souza")]
    assert f"{escape_markdown('maria@example.com')} · {pt('status.active')}" in values(at.caption)
    assert pt("market.source.demo") in values(at.warning)
    assert column(at, "col.ticker") == ["AAPL", "PETR4.SA"]
    # Numbers stay numbers (the column configuration formats them), so columns sort.
    assert column(at, "col.currency") == ["US$", "R$"]
    assert column(at, "col.quantity") == [2, 100]
    assert column(at, "col.invested") == [300, 3000]
    assert column(at, "col.buy_date") == [BUY_DATE, BUY_DATE]
    assert column(at, "col.weight") == [1, 1]
    assert column(at, "col.note") == ["", ""]
    petr = table(at)[1]
    price = Decimal(str(petr[pt("col.price")]))
    assert petr[pt("col.market_value")] == pytest.approx(float(100 * price), abs=0.005)
    assert petr[pt("col.gain")] == pytest.approx(float(100 * price - 3000), abs=0.005)

    md = values(at.markdown)
    assert f"**{pt('detail.totals_in', currency='BRL')}**" in md
    assert f"**{pt('detail.totals_in', currency='USD')}**" in md
    brl = dict(metrics(at)[:4])
    assert brl[pt("detail.invested")] == "R$ 3.000,00"
    assert brl_amount(brl[pt("detail.market_value")]) == 100 * price
    assert [label for label, _ in metrics(at)] == [
        pt("detail.invested"),
        pt("detail.market_value"),
        pt("detail.gain"),
        pt("detail.return"),
    ] * 2
    assert dict(metrics(at)[4:])[pt("detail.invested")] == "US$ 300,00"
    # Both currencies in reais at the live USD/BRL rate shown beside it.
    (line,) = [m for m in md if m.startswith(pt("detail.total_brl", value="", rates="")[:20])]
    rate = Decimal(line.split("USD/BRL ")[1].rstrip(")").replace(",", "."))
    usd_value = dict(metrics(at)[4:])[pt("detail.market_value")]
    usd = Decimal(usd_value.split(" ")[1].replace(".", "").replace(",", "."))
    total = brl_amount(line.split(": ", 1)[1].split("**")[0])
    assert abs(total - (100 * price + usd * rate)) <= Decimal("0.005")  # shown in cents


def test_client_without_lots_says_so(demo_env: Make, maria: ClientOut) -> None:
    at = open_detail(ADMIN_EMAIL, maria.id)
    assert values(at.title) == [pt("detail.title", name="Maria Souza")]
    assert pt("detail.no_allocations") in values(at.info)
    assert not at.dataframe
    assert pt("detail.edit") not in [e.label for e in at.expander]


def test_unknown_client_shows_not_found(demo_env: Make) -> None:
    at = open_detail(ADMIN_EMAIL, 999_999)
    assert values(at.error) == [pt("error.not_found")]
    assert not at.dataframe


@pytest.mark.parametrize("client_id", ["2147483648", "-2147483649", str(10**30)])
def test_a_client_id_past_the_id_column_is_not_found(demo_env: Make, client_id: str) -> None:
    # A hand-edited link: no client can have the id, so it is an unknown client, not a
    # database error ("integer out of range") shown as "something went wrong".
    at = open_detail(ADMIN_EMAIL, client_id)
    assert values(at.error) == [pt("error.not_found")]
    assert not at.dataframe


def test_live_table_with_the_database_down_says_so_and_recovers(
    demo_env: Make, maria: ClientOut, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The live table is a fragment (rerun alone every interval, outside the page's guard):
    # a PostgreSQL that stops answering shows our message there, not Streamlit's error
    # box, and the next run shows the table again.
    add_lot(demo_env, maria.id, "PETR4.SA", "100", "30")

    def database_down(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT", {}, ConnectionRefusedError("connection refused"))

    at = sign_in(ADMIN_EMAIL)
    at.query_params["client"] = str(maria.id)
    with monkeypatch.context() as patched:
        patched.setattr(positions_service, "ledger_mark", database_down)
        at.switch_page("app_pages/client_detail.py").run()
    assert not at.exception, values(at.exception)
    assert values(at.error) == [pt("error.database_down")]
    assert values(at.title) == [pt("detail.title", name="Maria Souza")], "the page goes on"
    assert not at.dataframe

    at.run()
    assert_no_exception(at)
    assert not at.error
    assert column(at, "col.ticker") == ["PETR4.SA"]


def test_malformed_client_parameter_offers_the_picker(demo_env: Make, maria: ClientOut) -> None:
    at = open_detail(ADMIN_EMAIL, "abc")
    assert values(at.title) == [pt("nav.client_detail")]
    assert pt("detail.choose") in values(at.info)
    assert selectbox(at, "detail.pick").options == ["Maria Souza · maria@example.com"]


def test_read_only_sees_the_portfolio_without_edit_controls(
    demo_env: Make, maria: ClientOut
) -> None:
    add_lot(demo_env, maria.id, "PETR4.SA", "100", "30")

    at = open_detail(READER_EMAIL, maria.id)

    assert column(at, "col.ticker") == ["PETR4.SA"]
    assert len(at.metric) == 4
    assert not at.expander
    assert not at.text_input
    assert not at.date_input
    labels = [b.label for b in at.button]
    assert pt("detail.save") not in labels
    assert pt("detail.delete") not in labels


# -- admins edit ----------------------------------------------------------------------------


def test_admin_edits_a_lot(demo_env: Make, maria: ClientOut) -> None:
    add_lot(demo_env, maria.id, "AAPL", "2.5", "1500")
    add_lot(demo_env, maria.id, "PETR4.SA", "1000", "30")
    at = open_detail(ADMIN_EMAIL, maria.id)
    edit = expander(at, "detail.edit")
    pick = selectbox(edit, "detail.pick_lot")
    assert pick.options == ["AAPL · 2,5 · 10/03/2025", "PETR4.SA · 1.000 · 10/03/2025"]

    pick.select_index(1).run()
    edit = expander(at, "detail.edit")
    # Prefilled so that saving unchanged keeps the lot (no "1.000" read back as 1).
    assert text_input(edit, "field.quantity").value == "1000"
    assert text_input(edit, "field.buy_price").value == "30"
    text_input(edit, "field.buy_price").input("31,5")
    save_in(edit)

    assert_no_exception(at)
    assert values(at.success) == [pt("detail.updated")]
    assert ("PETR4.SA", Decimal("1000"), Decimal("31.5"), BUY_DATE) in stored_lots(
        demo_env, maria.id
    )
    assert column(at, "col.buy_price")[1] == 31.5

    # Saving the other lot untouched changes nothing (the thousands price survives too).
    selectbox(expander(at, "detail.edit"), "detail.pick_lot").select_index(0).run()
    save_in(expander(at, "detail.edit"))
    assert values(at.success) == [pt("detail.updated")]
    assert ("AAPL", Decimal("2.5"), Decimal("1500"), BUY_DATE) in stored_lots(demo_env, maria.id)


def test_bad_edit_shows_the_message_and_keeps_the_lot(demo_env: Make, maria: ClientOut) -> None:
    add_lot(demo_env, maria.id, "PETR4.SA", "100", "30")
    at = open_detail(ADMIN_EMAIL, maria.id)
    edit = expander(at, "detail.edit")
    text_input(edit, "field.quantity").input("0")
    save_in(edit)

    assert_no_exception(at)
    message = pt("validation.positive")
    (summary,) = values(at.error)
    assert f"**{pt('field.quantity')}:** {message}" in summary
    assert f":red[{message}]" in values(at.caption)
    assert not at.success
    assert stored_lots(demo_env, maria.id) == [
        ("PETR4.SA", Decimal("100"), Decimal("30"), BUY_DATE)
    ]


def test_admin_deletes_a_lot_after_confirming(demo_env: Make, maria: ClientOut) -> None:
    add_lot(demo_env, maria.id, "PETR4.SA", "1000", "30")
    at = open_detail(ADMIN_EMAIL, maria.id)

    button(expander(at, "detail.edit"), "detail.delete").click().run()
    confirm = f"{pt('detail.delete')}: {escape_markdown('PETR4.SA')} · 1.000 · 10/03/2025?"
    assert confirm in values(at.warning)
    assert len(stored_lots(demo_env, maria.id)) == 1

    at.button(key="detail_delete_no").click().run()  # cancel keeps it
    assert confirm not in values(at.warning)
    assert len(stored_lots(demo_env, maria.id)) == 1

    button(expander(at, "detail.edit"), "detail.delete").click().run()
    at.button(key="detail_delete_yes").click().run()

    assert_no_exception(at)
    assert values(at.success) == [pt("detail.deleted")]
    assert stored_lots(demo_env, maria.id) == []
    assert pt("detail.no_allocations") in values(at.info)


def test_adding_a_ticker_by_code(demo_env: Make, maria: ClientOut) -> None:
    at = open_detail(ADMIN_EMAIL, maria.id)
    add = expander(at, "detail.add")
    text_input(add, "field.symbol").input("vale3.sa")
    text_input(add, "field.quantity").input("5")
    text_input(add, "field.buy_price").input("62,10")
    text_input(add, "field.buy_date").input("10/03/2025")
    save_in(add)

    assert_no_exception(at)
    assert values(at.success) == [pt("detail.added")]
    assert stored_lots(demo_env, maria.id) == [
        ("VALE3.SA", Decimal("5"), Decimal("62.1"), BUY_DATE)
    ]
    assert column(at, "col.ticker") == ["VALE3.SA"]


def test_adding_a_ticker_as_brazilians_type_it(demo_env: Make, maria: ClientOut) -> None:
    at = open_detail(ADMIN_EMAIL, maria.id)
    add = expander(at, "detail.add")
    text_input(add, "field.symbol").input("petr4")
    text_input(add, "field.quantity").input("10")
    text_input(add, "field.buy_price").input("30,50")
    text_input(add, "field.buy_date").input("10/03/2025")
    save_in(add)

    assert_no_exception(at)
    assert not at.error
    assert values(at.success) == [pt("detail.added")]
    assert stored_lots(demo_env, maria.id) == [
        ("PETR4.SA", Decimal("10"), Decimal("30.5"), BUY_DATE)
    ]
    assert column(at, "col.ticker") == ["PETR4.SA"]


def test_unknown_ticker_in_new_allocation_is_refused(demo_env: Make, maria: ClientOut) -> None:
    at = open_detail(ADMIN_EMAIL, maria.id)
    add = expander(at, "detail.add")
    text_input(add, "field.symbol").input("NOPE3.SA")
    text_input(add, "field.quantity").input("10")
    text_input(add, "field.buy_price").input("10")
    save_in(add)

    assert_no_exception(at)
    message = pt("validation.symbol_unknown", symbol=escape_markdown("NOPE3.SA"))
    (summary,) = values(at.error)
    assert f"**{pt('field.symbol')}:** {message}" in summary
    assert f":red[{message}]" in values(at.caption)
    assert not at.success
    assert stored_lots(demo_env, maria.id) == []


# -- the edit form's prefill round-trips through the schema ---------------------------------


@pytest.mark.parametrize("locale", ["pt_BR", "en"])
@pytest.mark.parametrize(
    "amount", ["1000", "1234567.5", "2.5", "0.00000001", "60000", "999999999999.99999999"]
)
def test_prefilled_amounts_parse_back_to_themselves(locale: str, amount: str) -> None:
    stored = Decimal(amount).quantize(Decimal("0.00000001"))  # as Numeric(20, 8) returns it
    text = editable_number(stored, locale)
    # Each field beside the smallest partner, so the lot's cost stays below its limit.
    smallest_price = editable_number(MIN_BUY_PRICE, locale)
    smallest_quantity = editable_number(Decimal("0.00000001"), locale)
    lot = parse(AllocationIn, {"quantity": text, "buy_price": smallest_price, "buy_date": BUY_DATE})
    assert lot.quantity == Decimal(amount)
    if stored >= MIN_BUY_PRICE:  # a smaller buy price is refused (see core.book_limits)
        lot = parse(
            AllocationIn, {"quantity": smallest_quantity, "buy_price": text, "buy_date": BUY_DATE}
        )
        assert lot.buy_price == Decimal(amount)
