"""The events page (admins): the assets' events table, the correction form, dismissing, and a
reader's denied notice; stored text (an asset's name) is never rendered as markup."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from core.config import get_settings
from core.db import UnitOfWork
from core.i18n import translate
from tests.app.conftest import (
    ADMIN_EMAIL,
    READER_EMAIL,
    assert_no_exception,
    button,
    create_client,
    hold,
    landing_title,
    pt,
    sign_in,
    values,
)

Make = Callable[[], UnitOfWork]
BUY = date(2025, 3, 10)
EX_DATE = date(2025, 3, 14)
EVIL_NAME = "**Evil** [click](http://evil.example) ![x](http://evil.example/p.png) :red[x]"


def stored(make: Make, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with make() as uow:
        result = uow.session.execute(text(sql), params)
        found = [tuple(r) for r in result] if result.returns_rows else []
        uow.commit()
        return found


@pytest.fixture
def paid(demo_env: Make) -> int:
    """Maria holds PETR4 and Yahoo reported a dividend of 1.00 on it; the event's id."""
    maria = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    hold(demo_env, maria.id, "PETR4.SA", "100", "30", BUY)
    (row,) = stored(
        demo_env,
        "INSERT INTO asset_events (asset_id, kind, ex_date, ratio, value, source) "
        "SELECT id, 'dividend', :d, 0, 1, 'yahoo' FROM assets WHERE symbol = 'PETR4.SA' "
        "RETURNING id",
        d=EX_DATE,
    )
    return int(row[0])


def open_events() -> AppTest:
    at = sign_in(ADMIN_EMAIL)
    at.switch_page("app_pages/events.py").run()
    assert_no_exception(at)
    assert values(at.title) == [pt("events.title")]
    return at


def test_the_list_shows_the_events_in_pt_br(paid: int) -> None:
    at = open_events()

    table = at.dataframe[0].value
    row = table.iloc[0].to_dict()
    assert row[pt("events.col.symbol")] == "PETR4.SA"
    assert row[pt("events.col.kind")] == pt("event_kind.dividend")
    assert row[pt("events.col.ex_date")] == "14/03/2025"
    assert row[pt("events.col.value")] == "1,00"
    assert row[pt("events.col.ratio")] == "0,00%"
    assert row[pt("events.col.source")] == pt("event_source.yahoo")
    assert row[pt("events.col.holders")] == 1


def test_the_correction_form_retypes_a_dividend_as_jcp(demo_env: Make, paid: int) -> None:
    at = open_events()
    form = f"events_correct_{paid}_0"  # the form's first round
    at.selectbox(key=f"{form}_kind").set_value("jcp")
    at.text_input(key=f"{form}_value").input("1,20")
    button(at, "events.correct_submit").click().run()

    assert_no_exception(at)
    assert pt("events.corrected_done", symbol="PETR4\\.SA", date="14/03/2025", holders=1) in [
        s.replace("\u2060", "") for s in values(at.success)
    ]
    assert stored(
        demo_env,
        "SELECT kind, ratio, value, corrected FROM asset_events WHERE id = :i",
        i=paid,
    ) == [("jcp", Decimal("0.15"), Decimal("1.2"), True)]
    row = at.dataframe[0].value.iloc[0].to_dict()
    assert row[pt("events.col.kind")] == pt("event_kind.jcp")
    assert row[pt("events.col.ratio")] == "15,00%"
    assert row[pt("events.col.corrected")] == pt("events.yes")


def test_a_refused_correction_says_why_under_the_field(demo_env: Make, paid: int) -> None:
    at = open_events()
    form = f"events_correct_{paid}_0"  # the form's first round
    at.text_input(key=f"{form}_value").input("0")
    button(at, "events.correct_submit").click().run()

    assert_no_exception(at)
    assert any(pt("validation.event_income_value") in e for e in values(at.error))
    assert stored(demo_env, "SELECT value, corrected FROM asset_events") == [(Decimal(1), False)]


def test_dismissing_and_restoring_from_the_page(demo_env: Make, paid: int) -> None:
    at = open_events()
    button(at, "events.dismiss").click().run()
    assert_no_exception(at)
    assert stored(demo_env, "SELECT dismissed FROM asset_events") == [(True,)]
    assert values(at.info) == [pt("events.empty")]  # dismissed events are hidden by default

    at.checkbox(key="events_dismissed").check().run()
    button(at, "events.restore").click().run()
    assert_no_exception(at)
    assert stored(demo_env, "SELECT dismissed FROM asset_events") == [(False,)]


def test_a_reader_gets_the_denied_notice(paid: int) -> None:
    at = sign_in(READER_EMAIL)
    at._page_hash = calc_hash("events")  # the browser asks for /events
    at.run()

    assert_no_exception(at)
    assert values(at.title) == [landing_title()]
    assert pt("nav.no_access") in values(at.warning)
    assert not at.dataframe or pt("events.col.ratio") not in at.dataframe[0].value.columns


def test_an_assets_stored_name_is_shown_as_text(demo_env: Make, paid: int) -> None:
    stored(
        demo_env,
        "UPDATE assets SET name = :n WHERE symbol = 'PETR4.SA'",
        n=EVIL_NAME,
    )
    at = open_events()

    assert at.dataframe[0].value.iloc[0][pt("events.col.name")] == EVIL_NAME
    rendered = [*values(at.markdown), *values(at.caption), *values(at.success)]
    assert not any("](http" in text_ or "**Evil**" in text_ for text_ in rendered)


def test_the_page_in_english(paid: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKA_LOCALE", "en")
    get_settings.cache_clear()
    at = sign_in(ADMIN_EMAIL)
    at.switch_page("app_pages/events.py").run()

    assert_no_exception(at)
    assert values(at.title) == [translate("events.title", "en")]
    row = at.dataframe[0].value.iloc[0].to_dict()
    assert row[translate("events.col.ex_date", "en")] == "2025-03-14"
    assert row[translate("events.col.kind", "en")] == translate("event_kind.dividend", "en")
    get_settings.cache_clear()


def test_the_add_form_records_a_missing_jcp(demo_env: Make, paid: int) -> None:
    at = open_events()
    keys = "events_new_0"
    at.text_input(key=f"{keys}_value").input("0,50")
    at.selectbox(key=f"{keys}_kind").set_value("jcp")
    at.text_input(key=f"{keys}_ex_date").input("17/03/2025")
    [symbol] = [w for w in at.text_input if w.label == pt("field.symbol")]
    symbol.input("petr4")
    button(at, "events.add_submit").click().run()

    assert_no_exception(at)
    assert stored(
        demo_env,
        "SELECT kind, ex_date, ratio, value, source, corrected FROM asset_events "
        "WHERE source = 'admin'",
    ) == [("jcp", date(2025, 3, 17), Decimal("0.15"), Decimal("0.5"), "admin", True)]
