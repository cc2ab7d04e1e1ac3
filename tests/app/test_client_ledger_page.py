"""The client page's positions, ledger and income per month, on demo market data: admins
sell, type income, edit and delete; read-only users see everything but no form."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from core.config import get_settings
from core.db import UnitOfWork
from core.i18n import translate
from core.market.demo import DemoMarketData
from core.models import AssetEvent, JobStatus
from core.schemas import ClientOut
from core.services import closing
from core.services.figures import client_metrics
from core.services.movements import add_sell, client_ledger
from core.services.principal import SYSTEM
from dashboard.components.markdown import escape_markdown
from tests.app.conftest import (
    ADMIN_EMAIL,
    READER_EMAIL,
    assert_no_exception,
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
AS_OF = date(2025, 3, 31)
SELL_DAY = "20/03/2025"
SELL_DATE = date(2025, 3, 20)


@pytest.fixture
def maria(demo_env: Make) -> ClientOut:
    client = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    hold(demo_env, client.id, "PETR4.SA", "100", "30", BUY)
    return client


def open_detail(email: str, client_id: int) -> AppTest:
    at = sign_in(email)
    at.query_params["client"] = str(client_id)
    at.switch_page("app_pages/client_detail.py").run()
    assert_no_exception(at)
    return at


def frame(at: AppTest, column_key: str) -> list[dict[str, Any]]:
    """The rows of the one table that has the column ``column_key``."""
    found = [d.value for d in at.dataframe if pt(column_key) in d.value.columns]
    assert len(found) == 1, f"{len(found)} tables with {pt(column_key)!r}"
    return list(found[0].to_dict("records"))


def positions(at: AppTest) -> dict[str, dict[str, Any]]:
    return {row[pt("col.ticker")]: row for row in frame(at, "col.weight_brl")}


def ledger(at: AppTest) -> list[dict[str, Any]]:
    return frame(at, "col.unit_price")


def save(block: Block, label_key: str) -> None:
    (found,) = [b for b in block.button if b.label == pt(label_key)]
    found.click().run()


def sell(at: AppTest, quantity: str, price: str, fees: str = "", day: str = SELL_DAY) -> None:
    form = expander(at, "movement.sell")
    text_input(form, "field.quantity").input(quantity)
    text_input(form, "field.price").input(price)
    text_input(form, "field.fees").input(fees)
    text_input(form, "field.date").input(day)
    save(form, "movement.sell_save")


def stored_movements(make: Make, client_id: int) -> list[tuple[str, Decimal]]:
    lines = client_ledger(make(), SYSTEM, client_id)
    return [(line.movement.kind, line.movement.quantity) for line in lines if line.movement]


def test_admin_sells_part_of_a_lot(
    demo_env: Make, committed_engine: Engine, maria: ClientOut
) -> None:
    report = closing.backfill(
        committed_engine, DemoMarketData(), BUY, AS_OF, triggered_by="test", actor=SYSTEM
    )
    assert report.status == JobStatus.SUCCESS, report
    at = open_detail(ADMIN_EMAIL, maria.id)
    assert positions(at)["PETR4.SA"][pt("col.quantity")] == 100
    assert selectbox(expander(at, "movement.sell"), "field.symbol").options == ["PETR4.SA"]

    sell(at, "40", "35,50", "10")

    assert_no_exception(at)
    assert values(at.success) == [pt("movement.sold")]
    row = positions(at)["PETR4.SA"]
    assert row[pt("col.quantity")] == 60
    assert row[pt("col.average_cost")] == 30
    assert row[pt("col.realised")] == 210  # 40 x (35,50 - 30) - 10
    newest = ledger(at)[0]
    assert newest[pt("col.date")] == SELL_DATE  # values, formatted by the column config
    assert newest[pt("col.kind")] == pt("ledger.kind.sell")
    assert newest[pt("col.ticker")] == "PETR4.SA"
    assert newest[pt("col.currency")] == "R$"
    assert newest[pt("col.quantity")] == 40
    assert newest[pt("col.unit_price")] == 35.5
    assert newest[pt("col.fees")] == 10
    assert [r[pt("col.kind")] for r in ledger(at)] == [
        pt("ledger.kind.sell"),
        pt("ledger.kind.buy"),
    ]
    # The stored figures were recomputed with the sell, not dropped.
    assert client_metrics(demo_env(), maria.id) is not None
    assert pt("detail.no_figures") not in values(at.info)
    assert pt("detail.twr") in [m.label for m in at.metric]
    # The form starts empty again: a second click cannot store the sell twice.
    assert text_input(expander(at, "movement.sell"), "field.quantity").value == ""
    save(expander(at, "movement.sell"), "movement.sell_save")
    assert stored_movements(demo_env, maria.id) == [("sell", 40), ("buy", 100)]


def test_selling_more_than_held_is_refused_in_portuguese(demo_env: Make, maria: ClientOut) -> None:
    at = open_detail(ADMIN_EMAIL, maria.id)

    sell(at, "150", "35")

    assert_no_exception(at)
    message = pt("validation.oversold", quantity="150", held="100", date=escape_markdown(SELL_DAY))
    (summary,) = values(at.error)
    assert f"**{pt('field.quantity')}:** {message}" in summary
    assert f":red[{message}]" in values(at.caption)
    assert not at.success
    assert text_input(expander(at, "movement.sell"), "field.quantity").value == "150"
    assert stored_movements(demo_env, maria.id) == [("buy", 100)]
    assert positions(at)["PETR4.SA"][pt("col.quantity")] == 100


def test_typed_income_appears_per_month(demo_env: Make, maria: ClientOut) -> None:
    at = open_detail(ADMIN_EMAIL, maria.id)
    assert not at.get("plotly_chart") or all(
        pt("income.in", currency="BRL") not in c.proto.spec for c in at.get("plotly_chart")
    )
    form = expander(at, "movement.income")
    selectbox(form, "field.income_type").select("jcp")
    text_input(form, "field.amount").input("100")
    text_input(form, "field.tax").input("15")
    text_input(form, "field.date").input("15/04/2025")
    save(form, "movement.income_save")

    assert_no_exception(at)
    assert values(at.success) == [pt("movement.income_added")]
    assert frame(at, "col.month") == [
        {pt("col.month"): "04/2025", pt("income.in", currency="BRL"): "R$ 85,00"}
    ]
    (chart,) = [
        json.loads(c.proto.spec)
        for c in at.get("plotly_chart")
        if pt("income.in", currency="BRL") in c.proto.spec
    ]
    assert chart["data"][0]["x"] == ["04/2025"]
    assert chart["data"][0]["y"] == [85.0]
    assert positions(at)["PETR4.SA"][pt("col.income")] == 85
    (line,) = [r for r in ledger(at) if r[pt("col.kind")] == pt("ledger.kind.income")]
    assert line[pt("col.amount")] == 100
    assert line[pt("col.tax")] == 15
    assert line[pt("col.detail")] == pt("income_type.jcp")


def test_tax_above_the_amount_keeps_the_form_open(demo_env: Make, maria: ClientOut) -> None:
    at = open_detail(ADMIN_EMAIL, maria.id)
    form = expander(at, "movement.income")
    text_input(form, "field.amount").input("10")
    text_input(form, "field.tax").input("15")
    save(form, "movement.income_save")

    assert_no_exception(at)
    assert f":red[{pt('validation.tax_over_amount')}]" in values(at.caption)
    assert text_input(expander(at, "movement.income"), "field.tax").value == "15"
    assert stored_movements(demo_env, maria.id) == [("buy", 100)]


def test_ledger_filters_by_kind_and_ticker(demo_env: Make, maria: ClientOut) -> None:
    hold(demo_env, maria.id, "VALE3.SA", "10", "60", BUY)
    add_sell(
        demo_env(),
        SYSTEM,
        maria.id,
        "PETR4.SA",
        {"quantity": "5", "price": "31", "date": date(2025, 3, 20)},
    )
    at = open_detail(READER_EMAIL, maria.id)
    assert len(ledger(at)) == 3

    at.selectbox(key="detail_ledger_kind").select("sell").run()
    assert [r[pt("col.kind")] for r in ledger(at)] == [pt("ledger.kind.sell")]

    at.selectbox(key="detail_ledger_kind").select("buy").run()
    at.selectbox(key="detail_ledger_symbol").select("VALE3.SA").run()
    assert [(r[pt("col.ticker")], r[pt("col.quantity")]) for r in ledger(at)] == [("VALE3.SA", 10)]

    at.selectbox(key="detail_ledger_kind").select("event").run()
    assert pt("ledger.empty") in values(at.info)


def test_read_only_sees_positions_and_ledger_without_forms(
    demo_env: Make, maria: ClientOut
) -> None:
    add_sell(
        demo_env(),
        SYSTEM,
        maria.id,
        "PETR4.SA",
        {"quantity": "100", "price": "31", "date": date(2025, 3, 20)},
    )
    at = open_detail(READER_EMAIL, maria.id)

    row = positions(at)["PETR4.SA"]
    assert row[pt("col.quantity")] == 0
    assert row[pt("col.note")] == pt("positions.closed")
    assert row[pt("col.realised")] == 100
    assert len(ledger(at)) == 2
    assert not at.expander
    assert not at.text_input
    labels = [b.label for b in at.button]
    for key in ("movement.sell_save", "movement.income_save", "movement.save", "movement.delete"):
        assert pt(key) not in labels


def test_admin_edits_then_deletes_a_sell(demo_env: Make, maria: ClientOut) -> None:
    add_sell(
        demo_env(),
        SYSTEM,
        maria.id,
        "PETR4.SA",
        {"quantity": "10", "price": "31", "date": date(2025, 3, 20)},
    )
    at = open_detail(ADMIN_EMAIL, maria.id)
    edit = expander(at, "movement.edit")
    assert selectbox(edit, "movement.pick").options == [f"{SELL_DAY} · Venda · PETR4.SA · 10"]
    assert text_input(edit, "field.quantity").value == "10"
    text_input(edit, "field.quantity").input("120")
    save(edit, "movement.save")
    message = pt("validation.oversold", quantity="120", held="100", date=escape_markdown(SELL_DAY))
    assert f":red[{message}]" in values(at.caption)
    assert stored_movements(demo_env, maria.id) == [("sell", 10), ("buy", 100)]

    edit = expander(at, "movement.edit")
    text_input(edit, "field.quantity").input("25")
    save(edit, "movement.save")
    assert values(at.success) == [pt("movement.updated")]
    assert positions(at)["PETR4.SA"][pt("col.quantity")] == 75

    (delete,) = [
        b for b in expander(at, "movement.edit").button if b.label == pt("movement.delete")
    ]
    delete.click().run()
    label = f"{SELL_DAY} · Venda · PETR4.SA · 25"
    assert pt("movement.delete_confirm", line=escape_markdown(label)) in values(at.warning)
    at.button(key="detail_movement_delete_yes").click().run()
    assert_no_exception(at)
    assert values(at.success) == [pt("movement.deleted")]
    assert stored_movements(demo_env, maria.id) == [("buy", 100)]
    assert pt("movement.edit") not in [e.label for e in at.expander]


def test_markdown_in_the_client_name_is_text(demo_env: Make) -> None:
    name = "**Ana** [x](http://evil.example) :red[y]"
    ana = create_client(demo_env, name=name, email="ana@example.com")
    hold(demo_env, ana.id, "PETR4.SA", "10", "30", BUY)
    at = open_detail(READER_EMAIL, ana.id)

    assert values(at.title) == [pt("detail.title", name=escape_markdown(name))]
    assert list(positions(at)) == ["PETR4.SA"]  # a table cell: the ticker as it is
    assert [r[pt("col.ticker")] for r in ledger(at)] == ["PETR4.SA"]
    assert all(name not in v for v in values(at.markdown) + values(at.caption))


def test_weight_of_a_us_position_is_in_reais(demo_env: Make, maria: ClientOut) -> None:
    hold(demo_env, maria.id, "AAPL", "2", "150", BUY)
    at = open_detail(READER_EMAIL, maria.id)

    rows = positions(at)
    weights = {s: r[pt("col.weight_brl")] for s, r in rows.items()}  # ratios, as numbers
    in_reais = {s: r[pt("col.value_brl")] for s, r in rows.items()}
    assert 1.0 not in weights.values()
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-9)
    total = sum(in_reais.values())
    for symbol, weight in weights.items():
        assert weight == pytest.approx(in_reais[symbol] / total, abs=1e-6)
    assert rows["AAPL"][pt("col.currency")] == "US$"  # its value in dollars, beside reais
    assert rows["AAPL"][pt("col.value_brl")] > rows["AAPL"][pt("col.market_value")]


def test_events_that_applied_are_marked_in_the_ledger(demo_env: Make, maria: ClientOut) -> None:
    with demo_env() as uow:
        asset = uow.assets.by_symbol("PETR4.SA")
        assert asset is not None
        for kind, day, ratio, value in (
            ("split", date(2025, 3, 14), Decimal(2), Decimal(0)),
            ("dividend", date(2025, 3, 21), Decimal(0), Decimal("0.5")),
            ("split", date(2025, 1, 6), Decimal("0.5"), Decimal(0)),  # before the buy
        ):
            uow.session.add(
                AssetEvent(
                    asset_id=asset.id,
                    kind=kind,
                    ex_date=day,
                    ratio=ratio,
                    value=value,
                    source="demo",
                )
            )
        uow.commit()
    at = open_detail(READER_EMAIL, maria.id)

    rows = [(r[pt("col.date")], r[pt("col.kind")], r[pt("col.detail")]) for r in ledger(at)]
    split = pt("event_kind.split_up")
    assert rows == [
        (
            date(2025, 3, 21),
            pt("ledger.event", kind=pt("event_kind.dividend")),
            " · ".join(
                [
                    pt("ledger.ratio", ratio="0,00%"),
                    pt("ledger.value", value="0,50"),
                    pt("ledger.held", held="200"),
                ]
            ),
        ),
        (
            date(2025, 3, 14),
            pt("ledger.event", kind=split),
            " · ".join([pt("events.split_ratio", ratio="2"), pt("ledger.held", held="100")]),
        ),
        (BUY, pt("ledger.kind.buy"), ""),
    ]
    row = positions(at)["PETR4.SA"]
    assert row[pt("col.quantity")] == 200
    assert row[pt("col.average_cost")] == 15
    assert row[pt("col.income")] == 100  # 200 x 0,50, nothing withheld

    at.selectbox(key="detail_ledger_kind").select("event").run()
    assert len(ledger(at)) == 2


def test_english_page_sells_with_an_iso_date(
    demo_env: Make, maria: ClientOut, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANKA_LOCALE", "en")
    get_settings.cache_clear()
    at = open_detail(ADMIN_EMAIL, maria.id)

    (form,) = [e for e in at.expander if e.label == translate("movement.sell", "en")]
    for field, typed in (("quantity", "1,000"), ("price", "35.5"), ("date", "2025-03-20")):
        label = translate(f"field.{field}", "en")
        (box,) = [w for w in form.text_input if w.label == label]
        box.input(typed)
    (save,) = [b for b in form.button if b.label == translate("movement.sell_save", "en")]
    save.click().run()

    assert_no_exception(at)
    message = translate(
        "validation.oversold",
        "en",
        quantity_en=escape_markdown("1,000"),
        held_en="100",
        date_iso=escape_markdown("2025-03-20"),
    )
    assert message in " ".join(values(at.error))
    assert stored_movements(demo_env, maria.id) == [("buy", 100)]
    found = [d.value for d in at.dataframe if translate("col.weight_brl", "en") in d.value.columns]
    (frame_en,) = found
    assert list(frame_en[translate("col.quantity", "en")]) == [100]
