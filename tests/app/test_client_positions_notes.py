"""The client page's notes on positions: a ledger an event made oversold is marked, without
figures, and still takes the deletion that fixes it."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from core.db import UnitOfWork
from core.models import AssetEvent
from core.services.movements import add_sell
from core.services.principal import SYSTEM
from tests.app.conftest import ADMIN_EMAIL, create_client, expander, hold, pt, values
from tests.app.test_client_ledger_page import ledger, open_detail, positions

Make = Callable[[], UnitOfWork]


def test_a_ledger_an_event_made_oversold_is_marked(demo_env: Make) -> None:
    maria = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    hold(demo_env, maria.id, "PETR4.SA", "100", "30", date(2025, 3, 10))
    hold(demo_env, maria.id, "VALE3.SA", "10", "60", date(2025, 3, 10))
    sell = {"quantity": "80", "price": "31", "date": date(2025, 3, 20)}
    add_sell(demo_env(), SYSTEM, maria.id, "PETR4.SA", sell)
    with demo_env() as uow:  # a grupamento 1 for 2 before the sell: 50 held, 80 sold
        asset = uow.assets.by_symbol("PETR4.SA")
        assert asset is not None
        uow.session.add(
            AssetEvent(
                asset_id=asset.id,
                kind="split",
                ex_date=date(2025, 3, 14),
                ratio=Decimal("0.5"),
                value=Decimal(0),
                source="demo",
            )
        )
        uow.commit()

    at = open_detail(ADMIN_EMAIL, maria.id)

    petr = positions(at)["PETR4.SA"]
    assert petr[pt("col.note")] == pt("positions.oversold")
    for column in ("col.quantity", "col.average_cost", "col.realised", "col.weight_brl"):
        assert math.isnan(petr[pt(column)])  # an empty cell, drawn as "—"
    assert f":orange[{pt('positions.oversold_note', count=1)}]" in values(at.caption)
    assert positions(at)["VALE3.SA"][pt("col.weight_brl")] == 1.0
    assert pt("ledger.event", kind=pt("event_kind.split_down")) in [
        row[pt("col.kind")] for row in ledger(at)
    ]

    # Deleting the sell fixes the ledger (a deletion of a sell is never refused).
    edit = expander(at, "movement.edit")
    (delete,) = [b for b in edit.button if b.label == pt("movement.delete")]
    delete.click().run()
    at.button(key="detail_movement_delete_yes").click().run()
    assert values(at.success) == [pt("movement.deleted")]
    assert positions(at)["PETR4.SA"][pt("col.quantity")] == 50
