"""Asset classes on the pages: the client page's allocation by class and by asset, the
Assets page's classes table, and an admin's correction that the client page follows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.db import UnitOfWork
from core.schemas import ClientOut
from dashboard.components.markdown import escape_markdown
from tests.app.conftest import (
    ADMIN_EMAIL,
    READER_EMAIL,
    assert_no_exception,
    button,
    button_labels,
    create_client,
    hold,
    pt,
    selectbox,
    sign_in,
    values,
)

Make = Callable[[], UnitOfWork]
BOUGHT = date(2025, 3, 10)


@pytest.fixture
def maria(demo_env: Make) -> ClientOut:
    """A client holding a stock, an FII and a US stock of the demo catalogue."""
    client = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    hold(demo_env, client.id, "PETR4.SA", "100", "30", BOUGHT)
    hold(demo_env, client.id, "MXRF11.SA", "100", "10", BOUGHT)
    hold(demo_env, client.id, "AAPL", "2", "200", BOUGHT)
    return client


def open_page(email: str, page: str, client_id: int | None = None) -> AppTest:
    at = sign_in(email)
    if client_id is not None:
        at.query_params["client"] = str(client_id)
    at.switch_page(page).run()
    assert_no_exception(at)
    return at


def frame_with(at: AppTest, *keys: str, without: str | None = None) -> pd.DataFrame:
    """The first table having the columns ``keys`` (and not ``without``)."""
    for element in at.dataframe:
        columns = set(element.value.columns)
        if {pt(k) for k in keys} <= columns and (without is None or pt(without) not in columns):
            return element.value
    raise AssertionError(f"no table with {keys}")


def class_table(at: AppTest) -> pd.DataFrame:
    return frame_with(at, "allocation.col.class", "allocation.col.weight", without="col.ticker")


def asset_id(make: Make, symbol: str) -> int:
    with make() as uow:
        asset = uow.assets.by_symbol(symbol)
        assert asset is not None
        return asset.id


def test_the_client_page_shows_the_allocation_by_class_and_by_asset(maria: ClientOut) -> None:
    at = open_page(ADMIN_EMAIL, "app_pages/client_detail.py", maria.id)

    assert pt("allocation.title") in values(at.subheader)
    classes = class_table(at)
    labels = set(classes[pt("allocation.col.class")])
    assert labels == {pt("asset_class.acoes"), pt("asset_class.fiis"), pt("asset_class.exterior")}
    assert abs(classes[pt("allocation.col.weight")].sum() - 1) < 1e-9
    assert list(classes[pt("allocation.col.assets")]) == [1, 1, 1]
    assets = frame_with(at, "col.ticker", "allocation.col.weight_in_class")
    assert set(assets[pt("col.ticker")]) == {"PETR4.SA", "MXRF11.SA", "AAPL"}
    assert set(assets[pt("allocation.col.weight_in_class")]) == {1.0}
    by_class = dict(
        zip(
            classes[pt("allocation.col.class")],
            classes[pt("allocation.col.value_brl")],
            strict=True,
        )
    )
    by_asset = dict(
        zip(assets[pt("col.ticker")], assets[pt("allocation.col.value_brl")], strict=True)
    )
    assert by_class[pt("asset_class.fiis")] == by_asset["MXRF11.SA"] > 0
    positions = frame_with(at, "col.asset_class", "col.weight_brl")
    assert dict(
        zip(positions[pt("col.ticker")], positions[pt("col.asset_class")], strict=True)
    ) == {
        "AAPL": pt("asset_class.exterior"),
        "MXRF11.SA": pt("asset_class.fiis"),
        "PETR4.SA": pt("asset_class.acoes"),
    }


def test_an_admin_corrects_a_class_and_the_client_page_follows(
    demo_env: Make, maria: ClientOut
) -> None:
    mxrf = asset_id(demo_env, "MXRF11.SA")
    at = open_page(ADMIN_EMAIL, "app_pages/assets.py")
    table = frame_with(at, "assets.col.derived", "assets.col.class")
    assert list(table[pt("col.ticker")]) == ["AAPL", "MXRF11.SA", "PETR4.SA"]
    assert list(table[pt("assets.col.class")]) == [
        pt("asset_class.exterior"),
        pt("asset_class.fiis"),
        pt("asset_class.acoes"),
    ]

    selectbox(at, "assets.class_asset").select(mxrf).run()
    selectbox(at, "assets.class_pick").select("renda_fixa").run()
    button(at, "assets.class_fix").click().run()

    assert_no_exception(at)
    label = pt("asset_class.renda_fixa")
    assert values(at.success) == [
        pt("assets.class_saved", symbol=escape_markdown("MXRF11.SA"), label=label)
    ]
    table = frame_with(at, "assets.col.derived", "assets.col.class")
    row = table[table[pt("col.ticker")] == "MXRF11.SA"].iloc[0]
    assert (row[pt("assets.col.derived")], row[pt("assets.col.class")]) == (
        pt("asset_class.fiis"),
        label,
    )
    assert selectbox(at, "assets.class_pick").value == "renda_fixa"

    detail = open_page(ADMIN_EMAIL, "app_pages/client_detail.py", maria.id)
    labels = set(class_table(detail)[pt("allocation.col.class")])
    assert labels == {pt("asset_class.acoes"), label, pt("asset_class.exterior")}

    selectbox(at, "assets.class_pick").select("").run()  # back to the derived class
    button(at, "assets.class_fix").click().run()
    assert values(at.success) == [
        pt("assets.class_reset", symbol=escape_markdown("MXRF11.SA"), label=pt("asset_class.fiis"))
    ]
    detail = open_page(ADMIN_EMAIL, "app_pages/client_detail.py", maria.id)
    assert pt("asset_class.fiis") in set(class_table(detail)[pt("allocation.col.class")])


def test_a_reader_sees_the_classes_but_cannot_correct_them(maria: ClientOut) -> None:
    at = open_page(READER_EMAIL, "app_pages/assets.py")
    table = frame_with(at, "assets.col.derived", "assets.col.class")
    assert len(table) == 3
    assert pt("assets.class_fix") not in button_labels(at)
    assert not [s for s in at.selectbox if s.label == pt("assets.class_asset")]
