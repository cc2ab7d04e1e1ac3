"""Forms save exactly what the user sees, and every attempt shows its own outcome.

Issue 10, item 5, driven as a browser user drives the forms (typing text, clicking) and
checked in the real database:

1. Dates are typed and read strictly: a future buy date or a day that does not exist is
   refused with the catalogue's message, and nothing is stored.
2. A refused attempt after a successful one keeps its panel open, with its messages.
3. After an edit, the edited record is still the selected one.
4. After a success the form starts afresh: a second click does not store it again.
5. Each attempt's outcome replaces the previous one, whichever form it came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Selectbox

from core.config import get_settings
from core.db import UnitOfWork
from core.i18n import translate
from core.models import JobRun
from core.schemas import ClientOut
from core.trade_schemas import today_in_brazil
from tests.app.conftest import (
    ADMIN_EMAIL,
    READER_EMAIL,
    all_clients,
    assert_no_exception,
    button,
    create_client,
    expander,
    hold,
    pt,
    selectbox,
    sign_in,
    sign_in_to_clients,
    text_input,
    user_by_email,
    values,
)

Make = Callable[[], UnitOfWork]
Lot = tuple[str, Decimal, Decimal, date]
BUY = date(2025, 3, 10)
FUTURE = today_in_brazil() + timedelta(days=200)  # "15/06/2027" when the issue was filed


def pt_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def plain(texts: list[str]) -> list[str]:
    """Messages as read on screen: stored text in them is Markdown-escaped (``\\.``, and a
    word joiner after an e-mail's domain), which the reader never sees."""
    return [re.sub(r"\\(.)", r"\1", text).replace("\u2060", "") for text in texts]


@pytest.fixture
def maria(demo_env: Make) -> ClientOut:
    return create_client(demo_env, name="Maria Souza", email="maria@example.com")


def open_page(page: str, email: str = ADMIN_EMAIL, **params: str) -> AppTest:
    at = sign_in(email)
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(page).run()
    assert_no_exception(at)
    return at


def open_detail(client_id: int) -> AppTest:
    return open_page("app_pages/client_detail.py", client=str(client_id))


def stored_lots(make: Make, client_id: int) -> list[Lot]:
    with make() as uow:
        return [
            (asset.symbol, lot.quantity, lot.price, lot.date)
            for lot, asset in uow.allocations.for_client(client_id)
        ]


def lot_ids(make: Make, client_id: int) -> dict[str, int]:
    """Each stored lot's id by its symbol (one lot per symbol in these tests)."""
    with make() as uow:
        return {asset.symbol: lot.id for lot, asset in uow.allocations.for_client(client_id)}


def click(block: Block | AppTest, label_key: str) -> None:
    button(block, label_key).click().run()


def fill(block: Block | AppTest, **fields: str) -> None:
    for field, value in fields.items():
        text_input(block, f"field.{field}").input(value)


def add_on_detail(at: AppTest, **fields: str) -> None:
    add = expander(at, "detail.add")
    fill(add, **fields)
    click(add, "detail.save")
    assert_no_exception(at)


def summary_has(at: AppTest, field: str, message: str) -> None:
    """The refusal is summed up above the form and drawn under its field."""
    (summary,) = values(at.error)
    assert f"**{pt('field.' + field)}:** {message}" in summary
    assert f":red[{message}]" in values(at.caption)


def expander_path(at: AppTest, label_key: str) -> list[int]:
    """Where the expander sits in the page (the browser keeps a panel open by its place)."""
    label = pt(label_key)

    def walk(node: Any, path: list[int]) -> list[int] | None:
        for index, child in getattr(node, "children", {}).items():
            if getattr(child, "type", None) == "expander" and child.label == label:
                return [*path, index]
            found = walk(child, [*path, index])
            if found:
                return found
        return None

    found = walk(at.main, [])
    assert found is not None, f"no expander {label!r}"
    return found


class _HeldSelectbox(Selectbox[Any]):
    """A select box that sends back a given label, as the browser's does (see below)."""

    def __init__(self, original: Selectbox[Any], label: str) -> None:
        self.__dict__.update(original.__dict__)
        self._held = label

    @property
    def _widget_state(self) -> WidgetState:
        state = WidgetState()
        state.id = self.id
        state.string_value = self._held
        return state


def browser_holds(at: AppTest, label_key: str, label: str) -> None:
    """Make the select box labelled ``label_key`` send ``label`` with the next interaction.

    Streamlit's browser side keeps a select box's value as the text of the option the user
    picked, and sends that text back with every later interaction until the server sets
    another. AppTest sends the current label of the remembered value instead, so without
    this an edit that changes the picked option's label could not go wrong here.
    """
    wanted = pt(label_key)

    def swap(node: Any) -> bool:
        for index, child in getattr(node, "children", {}).items():
            if isinstance(child, Selectbox) and child.label == wanted:
                node.children[index] = _HeldSelectbox(child, label)
                return True
            if swap(child):
                return True
        return False

    assert swap(at._tree), f"no select box {wanted!r}"


def picked_label(block: Block, label_key: str) -> str:
    """The text of the option the select box shows (what the browser holds)."""
    pick = selectbox(block, label_key)
    assert pick.index is not None
    return pick.options[pick.index]


# -- 1. dates: typed, read strictly, refused in our words --------------------------------


def test_a_future_buy_date_is_refused_in_portuguese_and_nothing_is_saved(
    demo_env: Make, maria: ClientOut
) -> None:
    at = open_detail(maria.id)
    field = text_input(expander(at, "detail.add"), "field.buy_date")
    assert field.placeholder == "dd/mm/aaaa"
    assert field.value == pt_date(today_in_brazil())  # a new lot defaults to today

    add_on_detail(at, symbol="PETR4.SA", quantity="10", buy_price="30", buy_date=pt_date(FUTURE))

    summary_has(at, "buy_date", pt("validation.future_date"))
    assert not at.success
    assert "outside allowed range" not in " ".join(values(at.error) + values(at.caption))
    assert stored_lots(demo_env, maria.id) == []
    # What was typed is still there to be corrected, not replaced by another date.
    assert text_input(expander(at, "detail.add"), "field.buy_date").value == pt_date(FUTURE)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("31/02/2025", "validation.no_such_date"),
        ("29/02/2025", "validation.no_such_date"),
        ("10/03/25", "validation.date_year"),
        ("2025-13-01", "validation.no_such_date"),
        ("10 de março", "validation.date"),
        ("", "validation.required"),
    ],
    ids=["31-feb", "29-feb-2025", "two-digit-year", "month-13", "words", "blank"],
)
def test_a_date_that_is_not_a_real_date_is_refused(
    demo_env: Make, maria: ClientOut, typed: str, key: str
) -> None:
    at = open_detail(maria.id)

    add_on_detail(at, symbol="PETR4.SA", quantity="10", buy_price="30", buy_date=typed)

    summary_has(at, "buy_date", pt(key))
    assert not at.success
    assert stored_lots(demo_env, maria.id) == []


def test_a_typed_date_is_stored_as_typed(demo_env: Make, maria: ClientOut) -> None:
    at = open_detail(maria.id)

    add_on_detail(at, symbol="PETR4.SA", quantity="10", buy_price="30", buy_date="28/02/2025")

    assert values(at.success) == [pt("detail.added")]
    assert stored_lots(demo_env, maria.id) == [
        ("PETR4.SA", Decimal("10"), Decimal("30"), date(2025, 2, 28))
    ]


def test_an_edit_keeps_the_stored_date_and_refuses_a_future_one(
    demo_env: Make, maria: ClientOut
) -> None:
    hold(demo_env, maria.id, "PETR4.SA", "100", "30", BUY)
    at = open_detail(maria.id)
    edit = expander(at, "detail.edit")
    assert text_input(edit, "field.buy_date").value == "10/03/2025"

    fill(edit, quantity="200", buy_date=pt_date(FUTURE))
    click(edit, "detail.save")

    assert_no_exception(at)
    summary_has(at, "buy_date", pt("validation.future_date"))
    assert not at.success
    assert stored_lots(demo_env, maria.id) == [("PETR4.SA", Decimal("100"), Decimal("30"), BUY)]


def test_every_refused_field_is_named_at_once(demo_env: Make, maria: ClientOut) -> None:
    hold(demo_env, maria.id, "PETR4.SA", "100", "30", BUY)
    at = open_detail(maria.id)
    edit = expander(at, "detail.edit")

    fill(edit, quantity="0", buy_date="31/02/2025")
    click(edit, "detail.save")

    (summary,) = values(at.error)
    assert f"**{pt('field.quantity')}:** {pt('validation.positive')}" in summary
    assert f"**{pt('field.buy_date')}:** {pt('validation.no_such_date')}" in summary
    assert stored_lots(demo_env, maria.id) == [("PETR4.SA", Decimal("100"), Decimal("30"), BUY)]


def test_the_assets_page_refuses_a_future_buy_date(demo_env: Make, maria: ClientOut) -> None:
    at = open_page("app_pages/assets.py")
    text_input(at, "assets.search").input("petro").run()

    fill(at, quantity="10", buy_price="30", buy_date=pt_date(FUTURE))
    click(at, "detail.save")

    assert_no_exception(at)
    summary_has(at, "buy_date", pt("validation.future_date"))
    assert not at.success
    assert stored_lots(demo_env, maria.id) == []


def test_english_dates_are_iso(demo_env: Make, maria: ClientOut, monkeypatch: Any) -> None:
    monkeypatch.setenv("ANKA_LOCALE", "en")
    get_settings.cache_clear()
    hold(demo_env, maria.id, "PETR4.SA", "100", "30", BUY)
    at = open_detail(maria.id)

    def edit_panel() -> Block:
        (found,) = [e for e in at.expander if e.label == translate("detail.edit", "en")]
        return found

    label = translate("field.buy_date", "en")
    (field,) = [w for w in edit_panel().text_input if w.label == label]
    assert (field.placeholder, field.value) == ("yyyy-mm-dd", "2025-03-10")

    # A day-first date is not read in English (03/04 could be either month).
    field.input("03/04/2025")
    (save,) = [b for b in edit_panel().button if b.label == translate("detail.save", "en")]
    save.click().run()

    assert translate("validation.date", "en") in " ".join(values(at.error))
    assert stored_lots(demo_env, maria.id) == [("PETR4.SA", Decimal("100"), Decimal("30"), BUY)]


def job_runs(make: Make) -> int:
    with make() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(JobRun)) or 0)


@pytest.mark.parametrize("key", ["jobs_close_date", "jobs_to"])
def test_jobs_refuse_a_future_date_and_run_nothing(demo_env: Make, key: str) -> None:
    at = open_page("app_pages/jobs.py")

    at.text_input(key=key).input(pt_date(FUTURE))
    submit = "jobs.close_submit" if key == "jobs_close_date" else "jobs.backfill_submit"
    click(at, submit)

    assert_no_exception(at)
    assert pt("validation.future_date") in " ".join(values(at.error))
    assert not at.success
    assert job_runs(demo_env) == 0


def test_jobs_refuse_a_day_that_does_not_exist(demo_env: Make) -> None:
    at = open_page("app_pages/jobs.py")

    at.text_input(key="jobs_from").input("31/02/2025")
    click(at, "jobs.backfill_submit")

    assert_no_exception(at)
    assert pt("validation.no_such_date") in " ".join(values(at.error))
    assert job_runs(demo_env) == 0


def test_reports_refuse_a_day_that_does_not_exist(demo_env: Make, maria: ClientOut) -> None:
    at = open_page("app_pages/reports.py")
    at.selectbox(key="reports_dataset").select("daily_returns").run()

    at.text_input(key="reports_start").input("31/02/2025").run()

    assert_no_exception(at)
    assert pt("validation.no_such_date") in " ".join(values(at.error))
    assert len(at.download_button) == 0


# -- 2. a refusal after a success keeps its panel open -----------------------------------


def test_a_refused_client_edit_after_a_successful_one_stays_open_with_its_message(
    app_env: Make,
) -> None:
    ana = create_client(app_env, name="Ana Lima", email="ana@example.com")
    at = sign_in_to_clients(ADMIN_EMAIL)
    section = expander(at, "clients.edit")
    fill(section, phone="(11) 99999-0000")
    click(section, "clients.save")
    assert plain(values(at.success)) == [pt("clients.updated", name="Ana Lima")]

    section = expander(at, "clients.edit")
    fill(section, email="ana.example.com")
    click(section, "clients.save")

    assert_no_exception(at)
    section = expander(at, "clients.edit")
    assert section.proto.expanded
    assert pt("validation.email") in " ".join(values(section.error))
    assert f":red[{pt('validation.email')}]" in values(section.caption)
    assert [c.email for c in all_clients(app_env)] == [ana.email]


def test_a_refused_lot_edit_after_a_successful_one_stays_open_with_its_message(
    demo_env: Make, maria: ClientOut
) -> None:
    hold(demo_env, maria.id, "PETR4.SA", "100", "30", BUY)
    at = open_detail(maria.id)
    edit = expander(at, "detail.edit")
    fill(edit, buy_price="31")
    click(edit, "detail.save")
    assert values(at.success) == [pt("detail.updated")]

    edit = expander(at, "detail.edit")
    fill(edit, quantity="0")
    click(edit, "detail.save")

    assert_no_exception(at)
    edit = expander(at, "detail.edit")
    assert edit.proto.expanded
    assert f":red[{pt('validation.positive')}]" in values(edit.caption)
    assert stored_lots(demo_env, maria.id) == [("PETR4.SA", Decimal("100"), Decimal("31"), BUY)]


def test_a_success_message_does_not_move_the_panels(app_env: Make) -> None:
    # The browser keeps a panel open or closed by its place on the page: a success message
    # drawn above it must not push it down (it would come back closed on the next run).
    create_client(app_env, name="Ana Lima", email="ana@example.com")
    at = sign_in_to_clients(ADMIN_EMAIL)
    before = expander_path(at, "clients.edit")

    click(expander(at, "clients.edit"), "clients.save")
    assert plain(values(at.success)) == [pt("clients.updated", name="Ana Lima")]
    with_message = expander_path(at, "clients.edit")
    at.run()
    assert not at.success

    assert before == with_message == expander_path(at, "clients.edit")


# -- 3. the edited record stays selected -------------------------------------------------


def test_after_saving_a_lot_it_stays_selected_and_delete_names_it(
    demo_env: Make, maria: ClientOut
) -> None:
    hold(demo_env, maria.id, "AAPL", "2", "150", BUY)
    hold(demo_env, maria.id, "PETR4.SA", "100", "30", BUY)
    petr = lot_ids(demo_env, maria.id)["PETR4.SA"]
    at = open_detail(maria.id)
    selectbox(expander(at, "detail.edit"), "detail.pick_lot").select(petr).run()
    shown = picked_label(expander(at, "detail.edit"), "detail.pick_lot")
    assert shown == "PETR4.SA · 100 · 10/03/2025"

    edit = expander(at, "detail.edit")
    fill(edit, quantity="250")
    click(edit, "detail.save")
    assert values(at.success) == [pt("detail.updated")]
    edit = expander(at, "detail.edit")
    assert text_input(edit, "field.quantity").value == "250"

    browser_holds(at, "detail.pick_lot", shown)  # the label before the edit
    click(expander(at, "detail.edit"), "detail.delete")

    assert_no_exception(at)
    assert selectbox(expander(at, "detail.edit"), "detail.pick_lot").value == petr
    assert f"{pt('detail.delete')}: PETR4.SA · 250 · 10/03/2025?" in plain(values(at.warning))


def test_after_saving_a_client_it_stays_selected(app_env: Make) -> None:
    create_client(app_env, name="Ana Lima", email="ana@example.com")
    bruno = create_client(app_env, name="Bruno Costa", email="bruno@example.com")
    at = sign_in_to_clients(ADMIN_EMAIL)
    selectbox(expander(at, "clients.edit"), "clients.select").select(bruno.id).run()
    shown = picked_label(expander(at, "clients.edit"), "clients.select")

    section = expander(at, "clients.edit")
    fill(section, name="Bruno Costa Filho")
    click(section, "clients.save")
    assert plain(values(at.success)) == [pt("clients.updated", name="Bruno Costa Filho")]

    browser_holds(at, "clients.select", shown)
    click(expander(at, "clients.edit"), "clients.delete")

    assert_no_exception(at)
    section = expander(at, "clients.edit")
    assert selectbox(section, "clients.select").value == bruno.id
    assert text_input(section, "field.name").value == "Bruno Costa Filho"
    assert pt("clients.delete_confirm", name="Bruno Costa Filho") in plain(values(at.warning))


def test_after_changing_a_role_the_user_stays_selected(app_env: Make) -> None:
    reader = user_by_email(app_env, READER_EMAIL)
    at = open_page("app_pages/users.py")
    section = expander(at, "users.manage")
    selectbox(section, "users.select").select(reader.id).run()
    shown = picked_label(expander(at, "users.manage"), "users.select")
    expander(at, "users.manage").selectbox(key=f"users_role_{reader.id}").select("admin")
    click(expander(at, "users.manage"), "users.change_role")
    assert plain(values(at.success)) == [pt("users.role_changed", email=READER_EMAIL)]

    # "Deactivate" acts on the user just changed, not on the first of the list (the admin).
    browser_holds(at, "users.select", shown)
    click(expander(at, "users.manage"), "users.deactivate")

    assert_no_exception(at)
    assert plain(values(at.success)) == [pt("users.deactivated", email=READER_EMAIL)]
    assert user_by_email(app_env, READER_EMAIL).is_active is False
    assert user_by_email(app_env, ADMIN_EMAIL).is_active is True


# -- 4. a second click does not store it again -------------------------------------------


def test_a_second_click_after_adding_a_lot_stores_nothing_more(
    demo_env: Make, maria: ClientOut
) -> None:
    at = open_detail(maria.id)
    add_on_detail(at, symbol="PETR4.SA", quantity="10", buy_price="30")
    assert values(at.success) == [pt("detail.added")]
    add = expander(at, "detail.add")
    assert text_input(add, "field.symbol").value == ""
    assert text_input(add, "field.quantity").value == ""

    click(add, "detail.save")

    assert_no_exception(at)
    assert not at.success
    assert stored_lots(demo_env, maria.id) == [
        ("PETR4.SA", Decimal("10"), Decimal("30"), today_in_brazil())
    ]


def test_a_second_click_on_the_assets_page_stores_nothing_more(
    demo_env: Make, maria: ClientOut
) -> None:
    at = open_page("app_pages/assets.py")
    text_input(at, "assets.search").input("petro").run()
    fill(at, quantity="10", buy_price="30")
    click(at, "detail.save")
    assert len(at.success) == 1

    click(at, "detail.save")

    assert_no_exception(at)
    assert not at.success
    assert len(stored_lots(demo_env, maria.id)) == 1


def test_the_new_client_and_new_user_forms_start_empty_after_a_success(app_env: Make) -> None:
    at = sign_in_to_clients(ADMIN_EMAIL)
    form = expander(at, "clients.new")
    fill(form, name="José da Silva", email="jose@example.com")
    click(form, "clients.create")
    assert plain(values(at.success)) == [pt("clients.created", name="José da Silva")]
    assert text_input(expander(at, "clients.new"), "field.name").value == ""
    assert text_input(expander(at, "clients.new"), "field.email").value == ""

    at.switch_page("app_pages/users.py").run()
    form = expander(at, "users.new")
    fill(form, email="nova@example.com", name="Nova Pessoa", password="another-long-secret")
    click(form, "users.create")
    assert plain(values(at.success)) == [pt("users.created", email="nova@example.com")]
    assert text_input(expander(at, "users.new"), "field.email").value == ""


# -- 5. each attempt's outcome replaces the previous one ---------------------------------


def test_an_earlier_refusal_does_not_stay_beside_a_later_success(
    demo_env: Make, maria: ClientOut
) -> None:
    hold(demo_env, maria.id, "PETR4.SA", "100", "30", BUY)
    at = open_detail(maria.id)
    add_on_detail(at, symbol="NOPE3.SA", quantity="10", buy_price="10")
    assert at.error

    edit = expander(at, "detail.edit")
    fill(edit, buy_price="31")
    click(edit, "detail.save")

    assert values(at.success) == [pt("detail.updated")]
    assert not at.error
    assert not [c for c in values(at.caption) if c.startswith(":red[")]


def test_a_refused_new_client_does_not_stay_beside_an_edit_saved_later(app_env: Make) -> None:
    create_client(app_env, name="Ana Lima", email="ana@example.com")
    at = sign_in_to_clients(ADMIN_EMAIL)
    form = expander(at, "clients.new")
    fill(form, name="", email="x@")
    click(form, "clients.create")
    assert at.error

    click(expander(at, "clients.edit"), "clients.save")

    assert plain(values(at.success)) == [pt("clients.updated", name="Ana Lima")]
    assert not at.error
    assert not expander(at, "clients.new").proto.expanded


def test_a_refused_new_user_does_not_stay_beside_a_role_changed_later(app_env: Make) -> None:
    reader = user_by_email(app_env, READER_EMAIL)
    at = open_page("app_pages/users.py")
    form = expander(at, "users.new")
    fill(form, email="nova@example.com", name="Nova", password="curta")
    click(form, "users.create")
    assert at.error

    selectbox(expander(at, "users.manage"), "users.select").select(reader.id).run()
    expander(at, "users.manage").selectbox(key=f"users_role_{reader.id}").select("admin")
    click(expander(at, "users.manage"), "users.change_role")

    assert plain(values(at.success)) == [pt("users.role_changed", email=READER_EMAIL)]
    assert not at.error


def test_a_refused_password_reset_keeps_the_panel_open_with_its_message(app_env: Make) -> None:
    reader = user_by_email(app_env, READER_EMAIL)
    at = open_page("app_pages/users.py")
    selectbox(expander(at, "users.manage"), "users.select").select(reader.id).run()
    click(expander(at, "users.manage"), "users.deactivate")
    assert len(at.success) == 1

    section = expander(at, "users.manage")
    text_input(section, "users.new_password").input("curta")
    click(section, "users.reset_password")

    assert_no_exception(at)
    section = expander(at, "users.manage")
    assert section.proto.expanded
    assert at.error
    assert not at.success
